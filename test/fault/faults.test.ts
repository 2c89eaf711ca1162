/**
 * Faults on the local stack (the processes `npm start` runs, supervised as ECS
 * would): kill -9 of the upload service and of the stream service in the
 * middle of a chunked upload, and the S3+SQS emulator killed and restarted
 * while a multipart upload is in progress. In each case the upload goes on
 * from the parts already stored, completes, and the video becomes ready and
 * plays. Then a bounded load test of the playback path through the edge.
 *
 * Uploads go through @vod/client's upload client (the one the CLI and the web
 * app use); a wrapping `fetch` records every request and decides the moment
 * of each kill (when a given part is about to be sent, so it is mid-upload
 * every time).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, openAsBlob, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import autocannon from 'autocannon';
import { expect } from 'chai';
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist } from 'hls-parser/types.js';
import { uploadFile, type UploadProgress } from '@vod/client';
import { keys } from '@vod/contract';
import { startStack, type TestStack } from '../support/stack.js';
import { ffmpegRun } from '../transcode/helpers.js';

const MiB = 1024 * 1024;
type Json = Record<string, any>;

describe('faults on the local stack: kill -9 and emulator restart mid-upload, playback under load', function () {
  this.timeout(600_000);
  let stack: TestStack;
  let tmp: string;
  let source: string;
  let sourceSha: string;
  let s3: S3Client;
  let readyVideo: string | undefined;
  /** Parts that exited without being asked to, in order: only the one each test kills may appear. */
  let exits: string[] = [];

  const auth = () => ({ authorization: `Bearer ${stack.token}` });
  /** GET through the edge; undefined while the answering service is down (edge 502/503, refused). */
  const tryJson = async (p: string): Promise<Json | undefined> => {
    try {
      const res = await fetch(stack.baseUrl + p, { headers: auth() });
      if (res.status >= 500) return undefined;
      const body = await res.json();
      if (!res.ok) throw new Error(`${p}: ${res.status} ${JSON.stringify(body)}`);
      return body;
    } catch (err) {
      if (err instanceof TypeError) return undefined; // connection refused/reset
      throw err;
    }
  };
  async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 240_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await read();
      if (done(v)) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const ended = (videoId: string) =>
    until(`video ${videoId} to end`, () => tryJson(`/api/videos/${videoId}`), (r) => r?.status === 'ready' || r?.status === 'failed') as Promise<Json>;
  const seconds = (from: number) => ((Date.now() - from) / 1000).toFixed(1);

  /** Kills `name` with SIGKILL and resolves once it has exited; `restarted` resolves when the supervisor has it healthy again. */
  function kill9(name: string): { exited: Promise<void>; restarted: Promise<void> } {
    const child = stack.processes.get(name)!;
    const restarted = new Promise<void>((resolve) => {
      const on = (n: string) => {
        if (n !== name) return;
        stack.events.off('started', on);
        resolve();
      };
      stack.events.on('started', on);
    });
    const exited = once(child, 'exit').then(() => undefined);
    child.kill('SIGKILL');
    return { exited, restarted };
  }

  /**
   * A fetch for the upload client that logs the requests recording a part
   * (`POST /api/uploads/:id/parts/:n`, once its bytes are in S3: a 200 means
   * the part counts as stored) and runs `beforePart(n)` before part n is first recorded.
   */
  function instrumentedFetch(beforePart: (n: number) => Promise<void> | void) {
    const log: { part: number; at: number; status: number | 'network' }[] = [];
    const seen = new Set<number>();
    const f: typeof fetch = async (input, init) => {
      const m = /\/parts\/(\d+)$/.exec(new URL(String(input)).pathname);
      const part = m ? Number(m[1]) : undefined;
      if (part !== undefined && !seen.has(part)) {
        seen.add(part);
        await beforePart(part);
      }
      try {
        const res = await fetch(input, init);
        if (part !== undefined) log.push({ part, at: Date.now(), status: res.status });
        return res;
      } catch (err) {
        if (part !== undefined) log.push({ part, at: Date.now(), status: 'network' });
        throw err;
      }
    };
    return { fetch: f, log };
  }

  /** Parts S3 really holds for this upload, by the service's own account (GET /api/uploads/:id). */
  const storedParts = async (uploadId: string) =>
    ((await until('the upload session', () => tryJson(`/api/uploads/${uploadId}`), (s) => s !== undefined)) as Json).parts.map(
      (p: { partNumber: number }) => p.partNumber,
    ) as number[];

  async function sourceMatches(videoId: string): Promise<void> {
    const obj = await s3.send(new GetObjectCommand({ Bucket: stack.serviceEnv.UPLOADS_BUCKET, Key: keys.source(videoId) }));
    const hash = createHash('sha256');
    for await (const chunk of obj.Body as AsyncIterable<Buffer>) hash.update(chunk);
    expect(hash.digest('hex'), 'the assembled source is the file, byte for byte').to.equal(sourceSha);
  }

  /** The video plays: master, one media playlist and its first segment through their signed URLs. */
  async function plays(videoId: string): Promise<string> {
    const { url } = (await until('playback URL', () => tryJson(`/api/videos/${videoId}/playback`), (x) => x !== undefined)) as Json;
    const master = HLS.parse(await (await fetch(url)).text()) as MasterPlaylist;
    const mediaUrl = new URL(master.variants[0]!.uri, url).toString();
    const media = HLS.parse(await (await fetch(mediaUrl)).text()) as MediaPlaylist;
    expect(media.endlist).to.equal(true);
    const seg = await fetch(new URL(media.segments[0]!.uri, mediaUrl));
    expect(seg.status).to.equal(200);
    expect((await seg.arrayBuffer()).byteLength).to.be.greaterThan(0);
    return url;
  }

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'vod-fault-'));
    // 10 s of 360p with a tone, muxed at a constant 20 Mbit/s (MPEG-TS null packets): 25 MB, five 5 MiB parts.
    source = path.join(tmp, 'src.ts');
    await ffmpegRun([
      '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '10', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-c:a', 'aac', '-shortest', '-f', 'mpegts', '-muxrate', '20M', source,
    ]);
    expect(statSync(source).size).to.be.greaterThan(4 * 5 * MiB);
    sourceSha = createHash('sha256').update(readFileSync(source)).digest('hex');
    stack = await startStack({
      keepData: !!process.env.KEEP_DATA,
      transcodeWorkers: 1,
      env: { UPLOAD_PART_BYTES: String(5 * MiB), POLL_WAIT_SECONDS: '1' },
    });
    const env = stack.serviceEnv;
    s3 = new S3Client({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    stack.events.on('exit', (name) => exits.push(name));
  });
  beforeEach(() => {
    exits = [];
  });
  after(async () => {
    s3?.destroy();
    await stack?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const upload = async (opts: { fetch: typeof fetch; resumeUploadId?: string; signal?: AbortSignal; onSession?: Parameters<typeof uploadFile>[0]['onSession'] }) =>
    uploadFile({
      baseUrl: stack.baseUrl,
      token: stack.token,
      file: await openAsBlob(source, { type: 'video/mp2t' }),
      filename: 'fault.ts',
      concurrency: 2,
      // Patient enough to ride out a restart (supervisor: 1 s, then the process's start).
      retry: { attempts: 30, baseDelayMs: 200, maxDelayMs: 2000 },
      ...opts,
    });

  it('kill -9 of the upload service mid-upload: the upload goes on from its stored parts, completes, and the video becomes ready', async () => {
    let kill: ReturnType<typeof kill9> | undefined;
    let killedAt = 0;
    let storedBeforeKill: number[] = [];
    let uploadId = '';
    const { fetch: f, log } = instrumentedFetch(async (n) => {
      if (n !== 3) return;
      storedBeforeKill = log.filter((e) => e.status === 200).map((e) => e.part);
      killedAt = Date.now();
      kill = kill9('upload');
      await kill.exited;
    });
    const result = await upload({ fetch: f, onSession: (s) => (uploadId = s.uploadId) });
    const uploadedAt = Date.now();
    await kill!.restarted;
    expect(storedBeforeKill.length, 'parts stored before the kill').to.be.at.least(1);
    // Nothing stored before the kill was sent again: the restarted service knew them from S3.
    const after = log.filter((e) => e.at > killedAt);
    for (const n of storedBeforeKill) expect(after.map((e) => e.part), `part ${n} re-sent`).not.to.include(n);
    expect(after.some((e) => e.status !== 200), 'requests failed while the service was down').to.equal(true);
    expect(result.uploadId).to.equal(uploadId);
    await sourceMatches(result.videoId);
    const rec = await ended(result.videoId);
    console.log(`      upload service killed at part 3 (parts ${storedBeforeKill.join(',')} stored): upload complete ${((uploadedAt - killedAt) / 1000).toFixed(1)} s later, video ready ${seconds(killedAt)} s after the kill`);
    expect(rec.status, rec.error).to.equal('ready');
    await plays(result.videoId);
    expect(exits, 'processes that died').to.deep.equal(['upload']);
    readyVideo = result.videoId;
  });

  it('kill -9 of the stream service mid-upload: status and playback come back, nothing is lost, the video becomes ready', async () => {
    let kill: ReturnType<typeof kill9> | undefined;
    let killedAt = 0;
    let videoId = '';
    const { fetch: f } = instrumentedFetch(async (n) => {
      if (n !== 2) return;
      killedAt = Date.now();
      kill = kill9('stream');
      await kill.exited;
      // While it is down, the status API is unavailable (the edge answers 5xx), not wrong.
      expect(await tryJson(`/api/videos/${videoId}`)).to.equal(undefined);
    });
    const result = await upload({ fetch: f, onSession: (s) => (videoId = s.videoId) });
    await kill!.restarted;
    const back = seconds(killedAt);
    const rec = await ended(result.videoId);
    console.log(`      stream service killed mid-upload: answering again ${back} s later, video ready ${seconds(killedAt)} s after the kill`);
    expect(rec.status, rec.error).to.equal('ready');
    await sourceMatches(result.videoId);
    await plays(result.videoId);
    expect(exits, 'processes that died').to.deep.equal(['stream']);
  });

  it('the emulator (S3 + SQS) killed and restarted mid-upload: the client resumes from the stored parts and the video becomes ready', async () => {
    let kill: ReturnType<typeof kill9> | undefined;
    let killedAt = 0;
    let uploadId = '';
    const client = new AbortController();
    const first = instrumentedFetch(async (n) => {
      if (n !== 3) return;
      killedAt = Date.now();
      kill = kill9('emulator');
      await kill.exited;
      client.abort(); // the client gives up too (a closed laptop, a killed CLI) and resumes later
    });
    const aborted = await upload({ fetch: first.fetch, signal: client.signal, onSession: (s) => (uploadId = s.uploadId) }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(aborted?.name).to.equal('AbortError');
    await kill!.restarted;
    const stored = await storedParts(uploadId);
    const storedBeforeKill = first.log.filter((e) => e.status === 200 && e.at <= killedAt).map((e) => e.part);
    // Every part acknowledged before the kill survived the emulator's restart.
    expect(stored).to.include.members(storedBeforeKill);
    expect(stored.length).to.be.at.least(1);

    const second = instrumentedFetch(() => {});
    let resumed: { resumed: boolean; storedParts: number } | undefined;
    const result = await upload({ fetch: second.fetch, resumeUploadId: uploadId, onSession: (s) => (resumed = s) });
    expect(resumed).to.include({ resumed: true, storedParts: stored.length });
    expect(result.uploadId).to.equal(uploadId);
    const sent = [...new Set(second.log.map((e) => e.part))].sort();
    expect(sent, 'only the missing parts are sent').to.deep.equal([1, 2, 3, 4, 5].filter((n) => !stored.includes(n)));
    await sourceMatches(result.videoId);
    const rec = await ended(result.videoId);
    console.log(`      emulator killed at part 3 (${stored.length} parts stored): resumed and ready ${seconds(killedAt)} s after the kill`);
    expect(rec.status, rec.error).to.equal('ready');
    await plays(result.videoId);
    // The services and the worker rode out the emulator's absence without crashing.
    expect(exits, 'processes that died').to.deep.equal(['emulator']);
  });

  it('load on the playback path: 64 connections for 3 s on a signed playlist through the edge, no errors, every answer 200', async () => {
    expect(readyVideo, 'a ready video from the first test').to.be.a('string');
    const url = await plays(readyVideo!);
    const master = HLS.parse(await (await fetch(url)).text()) as MasterPlaylist;
    const media = new URL(master.variants[0]!.uri, url).toString();
    for (const [what, target] of [
      ['master playlist', url],
      ['media playlist', media],
    ] as const) {
      const result = await autocannon({ url: target, connections: 64, duration: 3 });
      console.log(
        `      ${what}: ${result.requests.total} requests in ${result.duration} s (${Math.round(result.requests.average)}/s), latency p50 ${result.latency.p50} ms p99 ${result.latency.p99} ms; errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}`,
      );
      expect(result.requests.total, what).to.be.greaterThan(0);
      expect({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, resets: result.resets }, what).to.deep.equal({
        errors: 0,
        timeouts: 0,
        non2xx: 0,
        resets: 0,
      });
      expect(result['2xx'], what).to.equal(result.requests.total);
    }
    expect(exits, 'processes that died under load').to.deep.equal([]);
  });
});
