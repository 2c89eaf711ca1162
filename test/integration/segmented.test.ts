/**
 * Segmented transcoding on the local stack, with three worker processes: a
 * source several chunks long is split, encoded in parallel, stitched, and
 * played back through signed URLs — frame for frame, with continuous
 * timestamps, as good as one pass; it plays while it encodes; and it survives
 * a worker killed (-9) or stopped (SIGTERM) in the middle of a chunk.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist } from 'hls-parser/types.js';
import { RunStore } from '../../containers/transcode/src/run-store.js';
import { stackApi, startStack, until, type TestStack } from '../support/stack.js';
import { encodeFile, ffmpegRun } from '../transcode/helpers.js';

const run = promisify(execFile);
type Json = Record<string, any>;

describe('segmented transcode on the local stack (3 workers)', function () {
  this.timeout(600_000);
  let stack: TestStack;
  let tmp: string;
  let source: string;
  let store: RunStore;
  const auth = () => ({ authorization: `Bearer ${stack.token}` });
  const api = (p: string, init?: RequestInit): Promise<Json> => stackApi(stack)(p, init);
  const upload = async (file: string) => {
    const form = new FormData();
    form.append('file', new Blob([readFileSync(file)]), path.basename(file));
    return (await api('/api/videos', { method: 'POST', body: form })).videoId as string;
  };
  const record = (videoId: string) => api(`/api/videos/${videoId}`);
  const ended = (videoId: string) => until(`video ${videoId} to end`, () => record(videoId), (r) => r.status === 'ready' || r.status === 'failed');
  const text = async (url: string) => {
    const res = await fetch(url);
    expect(res.status, url).to.equal(200);
    return res.text();
  };
  /** The worker running a chunk whose start is `atLeast` seconds or more, once it has run `forMs`. */
  async function workerInChunk(atLeast: number, forMs: number): Promise<{ worker: string; task: string }> {
    const seen = new Map<string, number>();
    return until(
      'a worker in the middle of a chunk',
      async () => {
        for (const worker of stack.workers) {
          const health = (await (await fetch(stack.healthUrl(worker)).catch(() => undefined))?.json().catch(() => undefined)) as { task?: string } | undefined;
          const m = /encoding (\d+):(\d\d)–/.exec(health?.task ?? '');
          if (!m || Number(m[1]) * 60 + Number(m[2]) < atLeast) continue;
          const key = `${worker} ${health!.task}`;
          if (!seen.has(key)) seen.set(key, Date.now());
          if (Date.now() - seen.get(key)! >= forMs) return { worker, task: health!.task! };
        }
        return undefined;
      },
      (x) => x !== undefined,
    ) as Promise<{ worker: string; task: string }>;
  }
  const chunkTask = (task: string) => {
    const m = /encoding (\d+):(\d\d)–/.exec(task)!;
    return `chunk-${[0, 6, 12, 24].indexOf(Number(m[1]) * 60 + Number(m[2]))}`;
  };

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'vod-seg-'));
    source = path.join(tmp, 'src.mp4');
    // 36 s of 720p30 with a tone: chunks [0,6) [6,12) [12,24) [24,38).
    await ffmpegRun([
      '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '36', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '3M', '-g', '250', '-c:a', 'aac', '-shortest', source,
    ]);
    stack = await startStack({
      keepData: !!process.env.KEEP_DATA,
      transcodeWorkers: 3,
      env: { CHUNK_SECONDS: '12', FIRST_CHUNK_SECONDS: '6', POLL_WAIT_SECONDS: '1', VISIBILITY_TIMEOUT_SECONDS: '20' },
    });
    const env = stack.serviceEnv;
    const s3 = new S3Client({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    store = new RunStore(s3, env.MEDIA_BUCKET!);
  });
  after(async () => {
    await stack?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe('a source four chunks long', () => {
    let videoId: string;
    const versions: string[][] = [];
    let playableBeforeReady = false;

    it('plays while it encodes: playable before ready, its playlist only grows, then becomes VOD', async () => {
      videoId = await upload(source);
      const first = await until('playable', () => record(videoId), (r) => r.playable === true || r.status === 'failed');
      expect(first.status, first.error).to.not.equal('failed');
      const { url } = await api(`/api/videos/${videoId}/playback`);
      const master = HLS.parse(await text(url)) as MasterPlaylist;
      const top = master.variants.find((v) => v.resolution!.height === 720)!;
      const mediaUrl = new URL(top.uri, url).toString();
      let last: MediaPlaylist;
      for (;;) {
        const rec = await record(videoId);
        last = HLS.parse(await text(mediaUrl)) as MediaPlaylist;
        versions.push(last.segments.map((s) => new URL(s.uri).pathname.split('/').pop()!));
        if (rec.status === 'processing') {
          // EVENT while chunks encode; the final VOD playlist once they are all in, while the finishing tasks
          // (storyboard, MP4 download) still run before `ready`.
          if (last.playlistType === 'EVENT') playableBeforeReady = true;
          expect(last.playlistType).to.be.oneOf(['EVENT', 'VOD']);
          expect(last.endlist).to.equal(last.playlistType === 'VOD');
        }
        if (rec.status === 'ready' || rec.status === 'failed') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      last = HLS.parse(await text(mediaUrl)) as MediaPlaylist;
      expect(playableBeforeReady, 'seen playable while processing').to.equal(true);
      expect(last).to.include({ playlistType: 'VOD', endlist: true });
      // Each version extends the one before: nothing removed, reordered or replaced.
      versions.forEach((v, i) => i > 0 && expect(v.slice(0, versions[i - 1]!.length), `version ${i}`).to.deep.equal(versions[i - 1]));
      // The first segments decoded while the video was still encoding.
      expect(versions[0]!.length).to.be.greaterThan(0);
    });

    it('stitched playlists: every segment once, numbers continuous, no discontinuity', async () => {
      const rec = await ended(videoId);
      expect(rec.status, rec.error).to.equal('ready');
      expect(rec.durationSeconds).to.be.closeTo(36, 0.05);
      expect(rec.cpuSeconds).to.be.greaterThan(0);
      const { url } = await api(`/api/videos/${videoId}/playback`);
      const master = HLS.parse(await text(url)) as MasterPlaylist;
      for (const uri of [...master.variants.filter((v) => !v.isIFrameOnly).map((v) => v.uri), master.variants[0]!.audio[0]!.uri!]) {
        const body = await text(new URL(uri, url).toString());
        expect(body).not.to.contain('DISCONTINUITY');
        const p = HLS.parse(body) as MediaPlaylist;
        const names = p.segments.map((s) => new URL(s.uri).pathname.split('/').pop());
        expect(names, uri).to.deep.equal(names.map((_, i) => `seg_${String(i).padStart(5, '0')}.ts`));
        expect(p.mediaSequenceBase ?? 0).to.equal(0);
      }
    });

    it("decoded through the signed URLs: the source's frame count, continuous video and audio timestamps, SSIM as one pass", async () => {
      const { url } = await api(`/api/videos/${videoId}/playback`);
      const master = HLS.parse(await text(url)) as MasterPlaylist;
      const top = new URL(master.variants.find((v) => v.resolution!.height === 720)!.uri, url).toString();
      const audio = new URL(master.variants[0]!.audio[0]!.uri!, url).toString();
      // Every segment through its signed URL, then all of them as one stream (remuxing would move the
      // timestamps, and ffmpeg's HLS demuxer repeats the first packet it probed).
      const download = async (playlistUrl: string, name: string) => {
        const files: string[] = [];
        for (const [i, seg] of (HLS.parse(await text(playlistUrl)) as MediaPlaylist).segments.entries()) {
          const file = path.join(tmp, `${name}-${i}.ts`);
          writeFileSync(file, Buffer.from(await (await fetch(seg.uri)).arrayBuffer()));
          files.push(file);
        }
        return `concat:${files.join('|')}`;
      };
      const local = await download(top, 'video');
      const { stdout: framesOut } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pts_time', '-of', 'json', local], { maxBuffer: 64 << 20 });
      const pts = (JSON.parse(framesOut).frames as { pts_time: string }[]).map((f) => Number(f.pts_time)).sort((a, b) => a - b);
      expect(pts.length, 'frames').to.equal(36 * 30);
      pts.slice(1).forEach((t, i) => expect(t - pts[i]!, `frame ${i + 1}`).to.be.closeTo(1 / 30, 1e-3));

      const audioInput = await download(audio, 'audio');
      const { stdout: audioOut } = await run('ffprobe', ['-v', 'error', '-select_streams', 'a', '-show_entries', 'packet=pts_time', '-of', 'json', audioInput], { maxBuffer: 64 << 20 });
      const packets = (JSON.parse(audioOut).packets as { pts_time: string }[]).map((p) => Number(p.pts_time));
      const aacFrame = 1024 / 48000;
      expect(packets.length).to.be.greaterThan(36 / aacFrame - 2);
      packets.slice(1).forEach((t, i) => expect(t - packets[i]!, `audio packet ${i + 1}`).to.be.closeTo(aacFrame, 1e-3));
      // Audio and video start together: the first audio sample (after the AAC priming packet) with the first frame.
      expect(Math.abs(packets[0]! + aacFrame - pts[0]!)).to.be.below(aacFrame + 1e-3);

      const ssim = async (file: string) => {
        const { stderr } = await run('ffmpeg', [
          '-hide_banner', '-i', file, '-i', source, '-lavfi', '[0:v]setpts=PTS-STARTPTS[a];[1:v]setpts=PTS-STARTPTS[b];[a][b]ssim', '-f', 'null', '-',
        ]);
        return Number(/All:([\d.]+)/.exec(stderr)![1]);
      };
      const single = await encodeFile(source, { chunkSeconds: Infinity, preset: 'veryfast', ladder: [{ name: '720p', shortSide: 720, videoBitrateKbps: 3000, maxrateFactor: 1.5, bufsizeFactor: 2, profile: 'high' }] });
      try {
        const singleSegments = (HLS.parse(readFileSync(path.join(single.outDir, '720p', 'index.m3u8'), 'utf8')) as MediaPlaylist).segments;
        const singleInput = `concat:${singleSegments.map((x) => path.join(single.outDir, '720p', x.uri)).join('|')}`;
        const [a, b] = [await ssim(local), await ssim(singleInput)];
        console.log(`      SSIM vs source: stitched ${a.toFixed(5)}, single pass ${b.toFixed(5)}`);
        expect(Math.abs(a - b)).to.be.at.most(0.002);
      } finally {
        rmSync(single.outDir, { recursive: true, force: true });
      }
    });
  });

  it('kill -9 of a worker in the middle of a chunk: the video still ends ready, and only that chunk was encoded twice', async () => {
    const videoId = await upload(source);
    const { worker, task } = await workerInChunk(12, 1000);
    const killedAt = Date.now();
    const restarted = new Promise<void>((resolve) => stack.events.on('started', (name) => name === worker && resolve()));
    stack.processes.get(worker)!.kill('SIGKILL');
    const rec = await ended(videoId);
    console.log(`      killed ${worker} during "${task}": ready ${((Date.now() - killedAt) / 1000).toFixed(1)} s later`);
    expect(rec.status, rec.error).to.equal('ready');
    const killed = chunkTask(task);
    for (const t of ['plan', 'audio', 'chunk-0', 'chunk-1', 'chunk-2', 'chunk-3']) {
      const a = await store.attempts(videoId, 1, t);
      expect(a, t).to.include(t === killed ? { starts: 2, completions: 1, failures: 0, releases: 0 } : { starts: 1, completions: 1 });
    }
    await restarted; // supervised, as ECS would: the killed worker came back
  });

  it('SIGTERM releases the chunk at once (recorded as a release, not a failure); another worker finishes it', async () => {
    const videoId = await upload(source);
    const { worker, task } = await workerInChunk(12, 500);
    const t = chunkTask(task);
    const stoppedAt = Date.now();
    const exited = new Promise<void>((resolve) => stack.events.on('exit', (name) => name === worker && resolve()));
    stack.processes.get(worker)!.kill('SIGTERM');
    // The worker hands the chunk back as it stops: the release is recorded
    // before it exits (a chunk left to its visibility timeout would show no release).
    await exited;
    expect(await store.attempts(videoId, 1, t)).to.include({ starts: 1, releases: 1, failures: 0 });
    const taken = await until('the chunk taken again', () => store.attempts(videoId, 1, t), (a) => a.starts === 2, 120_000);
    // How soon depends on a free worker, which a loaded machine may not have: printed, not asserted.
    console.log(`      SIGTERM to ${worker} during "${task}": released, taken again ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s later`);
    expect(taken).to.include({ releases: 1, failures: 0 });
    expect((await ended(videoId)).status).to.equal('ready');
  });
});
