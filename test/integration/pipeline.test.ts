/**
 * End to end on the local stack (the same processes `npm start` runs): real
 * files from ../shared/media go in through the edge, real ffmpeg transcodes
 * them, and every playlist and segment comes back out through the edge with
 * its signed URL.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as HLS from 'hls-parser';
import { stackApi, startStack, type TestStack } from '../support/stack.js';
import { decodeAll, media, probeStreams } from '../support/media.js';

type Json = Record<string, any>;

describe('local pipeline end to end: upload → HLS ladder → signed playback', function () {
  this.timeout(300_000);
  let stack: TestStack;
  let tmp: string;
  const ids: Record<string, string> = {};

  const auth = () => ({ authorization: `Bearer ${stack.token}` });
  const api = (p: string, init?: RequestInit): Promise<Json> => stackApi(stack)(p, init);

  async function uploadWhole(file: string, name = path.basename(file)): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([readFileSync(file)]), name);
    const res = await api('/api/videos', { method: 'POST', headers: auth(), body: form });
    expect(res.status).to.equal('queued');
    return res.videoId;
  }

  async function waitForEnd(videoId: string, timeoutMs = 240_000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    const seen: number[] = [];
    while (Date.now() < deadline) {
      const rec = await api(`/api/videos/${videoId}`);
      if (rec.status === 'processing') seen.push(rec.progress);
      if (rec.status === 'ready' || rec.status === 'failed') return { ...rec, seenProgress: seen };
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`video ${videoId} did not finish in time`);
  }

  /** Fetches a signed URL through the edge; returns the body bytes. */
  async function fetchSigned(url: string): Promise<Buffer> {
    const u = new URL(url);
    expect(u.searchParams.get('Signature'), `signed: ${url}`).to.be.a('string');
    const res = await fetch(url);
    expect(res.status, url).to.equal(200);
    return Buffer.from(await res.arrayBuffer());
  }

  /** Walks master → media playlists → segments; decodes every segment. */
  async function checkPlayback(videoId: string): Promise<{ master: HLS.types.MasterPlaylist; segments: number }> {
    const { url } = await api(`/api/videos/${videoId}/playback`);
    const master = HLS.parse((await fetchSigned(url)).toString()) as HLS.types.MasterPlaylist;
    expect(master.isMasterPlaylist).to.equal(true);
    // The I-frame playlists (byte ranges into the same segments) are checked in media-extras.test.ts.
    master.variants = master.variants.filter((v) => !v.isIFrameOnly);
    const mediaUris = new Set<string>([...master.variants.map((v) => v.uri), ...master.variants.flatMap((v) => v.audio.map((a) => a.uri!).filter(Boolean))]);
    let segments = 0;
    for (const uri of mediaUris) {
      const playlistUrl = new URL(uri, url).toString();
      const playlist = HLS.parse((await fetchSigned(playlistUrl)).toString()) as HLS.types.MediaPlaylist;
      expect(playlist.endlist).to.equal(true);
      for (const seg of playlist.segments) {
        const segUrl = new URL(seg.uri, playlistUrl).toString();
        const file = path.join(tmp, `seg-${segments++}.ts`);
        writeFileSync(file, await fetchSigned(segUrl));
        await decodeAll(file);
        expect((await probeStreams(file)).length).to.be.greaterThan(0);
      }
    }
    return { master, segments };
  }

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'vod-it-'));
    // Short long-polls: the restart test stops the workers, which finish their last poll first.
    stack = await startStack({ env: { POLL_WAIT_SECONDS: '1' } });
  });
  after(async () => {
    await stack?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('accepts the four sample files and a non-video', async () => {
    ids.hello = await uploadWhole(media('hello-720p-h264-aac.mp4'));
    ids.visualizer = await uploadWhole(media('visualizer-180p-h264-noaudio.mp4'));
    ids.launch = await uploadWhole(media('launch-360p-vp8-vorbis.webm'));
    ids.audio = await uploadWhole(media('audio-only-opus.mkv'));
    const text = path.join(tmp, 'notes.mp4');
    writeFileSync(text, 'These are meeting notes, not a video.\n'.repeat(200));
    ids.text = await uploadWhole(text);
    const { videos } = await api('/api/videos');
    expect(videos.map((v: Json) => v.videoId)).to.include.members(Object.values(ids));
  });

  it('720p H.264/AAC: a 720p-and-lower ladder with one audio rendition, every segment signed and decodable', async () => {
    const rec = await waitForEnd(ids.hello);
    expect(rec.status, rec.error).to.equal('ready');
    expect(rec.progress).to.equal(100);
    expect(rec.durationSeconds).to.be.closeTo(8.3, 0.5);
    const heights = rec.renditions.map((r: Json) => r.height);
    expect(heights[0]).to.be.at.most(720);
    expect(heights).to.include(720);
    expect(heights.every((h: number) => h <= 720)).to.equal(true);
    const { master, segments } = await checkPlayback(ids.hello);
    expect(master.independentSegments).to.equal(true);
    expect(master.variants.length).to.equal(rec.renditions.length);
    for (const v of master.variants) {
      expect(v.bandwidth).to.be.greaterThan(0);
      expect(v.averageBandwidth).to.be.greaterThan(0);
      expect(v.codecs).to.match(/avc1\..*mp4a\.40\.2|mp4a\.40\.2.*avc1\./);
      expect(v.resolution!.height % 2).to.equal(0);
      expect(v.frameRate).to.be.greaterThan(0);
      expect(v.audio.length).to.equal(1);
    }
    expect(segments).to.be.greaterThan(master.variants.length);
  });

  it('video-only input: video-only renditions', async () => {
    const rec = await waitForEnd(ids.visualizer);
    expect(rec.status, rec.error).to.equal('ready');
    const { master } = await checkPlayback(ids.visualizer);
    expect(master.variants.length).to.be.greaterThan(0);
    for (const v of master.variants) {
      expect(v.audio).to.deep.equal([]);
      expect(v.codecs).to.not.include('mp4a');
      expect(v.resolution!.height).to.be.at.most(180);
    }
  });

  it('VP8/Vorbis WebM input is transcoded to H.264/AAC HLS', async () => {
    const rec = await waitForEnd(ids.launch);
    expect(rec.status, rec.error).to.equal('ready');
    const { master } = await checkPlayback(ids.launch);
    expect(Math.max(...master.variants.map((v) => v.resolution!.height))).to.equal(360);
  });

  it('audio-only input: an audio-only HLS rendition', async () => {
    const rec = await waitForEnd(ids.audio);
    expect(rec.status, rec.error).to.equal('ready');
    const { master } = await checkPlayback(ids.audio);
    expect(master.variants.length).to.be.greaterThan(0);
    for (const v of master.variants) {
      expect(v.resolution).to.equal(undefined);
      expect(v.codecs).to.equal('mp4a.40.2');
    }
  });

  it('a file that is not a video ends failed with a reason a person understands', async () => {
    const rec = await waitForEnd(ids.text);
    expect(rec.status).to.equal('failed');
    expect(rec.error).to.match(/not (a video or audio|an audio or video) file|no video or audio/i);
    const playback = await fetch(`${stack.baseUrl}/api/videos/${ids.text}/playback`, { headers: auth() });
    expect(playback.status).to.equal(409);
  });

  it('refuses unsigned, tampered and cross-video media requests at the edge', async () => {
    const { url } = await api(`/api/videos/${ids.hello}/playback`);
    const bare = url.split('?')[0];
    expect((await fetch(bare)).status).to.equal(403);
    const tampered = url.replace(/Signature=([^&])/, (_m: string, c: string) => `Signature=${c === 'A' ? 'B' : 'A'}`);
    expect((await fetch(tampered)).status).to.equal(403);
    const otherVideo = url.replace(ids.hello, ids.launch);
    expect((await fetch(otherVideo)).status).to.equal(403);
    // Status records are not reachable through media paths.
    const recordPath = url.replace(`videos/${ids.hello}/master.m3u8`, `records/${ids.hello}.json`);
    const leaked = await fetch(recordPath);
    expect(await leaked.text()).to.not.include('"videoId"'); // 404, or the web app's page: never the record
    const encoded = await fetch(`${stack.baseUrl}/videos/${ids.hello}/..%2F..%2Frecords%2F${ids.hello}.json`);
    expect(await encoded.text()).to.not.include('"videoId"');
  });

  // Mocha runs this nested suite after the tests of the outer one; it needs nothing from them but the stack.
  describe('the edge is the only way in', () => {
    // A server on the wildcard address: on Linux all of 127.0.0.0/8 is loopback, so it
    // takes a connection to 127.0.0.2; one bound to 127.0.0.1 alone refuses it.
    let wildcard: net.Server | undefined;
    before(async () => {
      wildcard = net.createServer((c) => c.destroy()).listen(0, '0.0.0.0');
      await once(wildcard, 'listening');
    });
    after(async () => {
      if (wildcard) await new Promise((r) => wildcard!.close(r));
    });

    /** 'connected', or the connect error's code (ECONNREFUSED when nothing listens on that address). */
    const connect = (host: string, port: number) =>
      new Promise<string>((resolve) => {
        const socket = net.connect(port, host);
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });

    it('the upload and stream services listen on 127.0.0.1 only (127.0.0.2 is refused); the edge answers', async () => {
      // Without this, a refusal on 127.0.0.2 would prove nothing about the services' bind address.
      expect(await connect('127.0.0.2', (wildcard!.address() as net.AddressInfo).port), 'a wildcard-bound server is reachable on 127.0.0.2').to.equal('connected');
      for (const name of ['upload', 'stream']) {
        const port = Number(new URL(stack.healthUrl(name)).port);
        expect(await connect('127.0.0.1', port), `${name} on 127.0.0.1:${port}`).to.equal('connected');
        expect(await connect('127.0.0.2', port), `${name} on 127.0.0.2:${port}`).to.equal('ECONNREFUSED');
      }
      const health = await fetch(`${stack.baseUrl}/healthz`);
      expect(health.status).to.equal(200);
      expect(await health.json()).to.deep.equal({ ok: true });
    });
  });

  it('a chunked upload resumed with parts out of order and sent twice gives a byte-identical source', async () => {
    const file = readFileSync(media('hello-720p-h264-aac.mp4'));
    // Pad with a random tail so the file spans several 5 MiB parts.
    const body = Buffer.concat([file, randomBytes(11 * 1024 * 1024 - file.length + 777)]);
    const created = await api('/api/uploads', {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'padded.mp4', size: body.length, contentType: 'video/mp4' }),
    });
    const { uploadId, videoId, partSize, partCount } = created;
    const send = async (n: number) => {
      const form = new FormData();
      form.append('chunk', new Blob([new Uint8Array(body.subarray((n - 1) * partSize, Math.min(n * partSize, body.length)))]), 'c');
      const res = await fetch(`${stack.baseUrl}/api/uploads/${uploadId}/parts/${n}`, { method: 'PUT', headers: auth(), body: form });
      expect(res.status).to.equal(200);
    };
    const order = [partCount, 1, partCount, ...Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => n !== partCount && n !== 1), 1];
    for (const n of order) await send(n);
    const state = await api(`/api/uploads/${uploadId}`, { headers: auth() });
    expect(state.parts.map((p: Json) => p.partNumber)).to.deep.equal(Array.from({ length: partCount }, (_, i) => i + 1));
    const done = await fetch(`${stack.baseUrl}/api/uploads/${uploadId}/complete`, { method: 'POST', headers: auth() });
    expect(done.status).to.equal(202);
    expect((await fetch(`${stack.baseUrl}/api/videos/${videoId}/source`)).status).to.equal(401);
    const source = await fetch(`${stack.baseUrl}/api/videos/${videoId}/source`, { headers: auth() });
    expect(source.status).to.equal(200);
    const got = Buffer.from(await source.arrayBuffer());
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(got)).to.equal(sha(body));
    const ranged = await fetch(`${stack.baseUrl}/api/videos/${videoId}/source`, { headers: { ...auth(), range: 'bytes=100-199' } });
    expect(ranged.status).to.equal(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(body.subarray(100, 200))).to.equal(true);
    const rec = await waitForEnd(videoId);
    expect(rec.status, rec.error).to.equal('ready'); // the padding after the moov'd MP4 is ignored by ffmpeg
  });

  it('keeps objects, records and queued jobs across an emulator restart', async () => {
    // No worker: the next job stays queued. (A stopping worker finishes its
    // last long poll before it exits, so nothing is swallowed on the way.)
    await Promise.all(stack.workers.map((w) => stack.stopPart(w)));
    const queuedId = await uploadWhole(media('visualizer-180p-h264-noaudio.mp4'));
    await stack.stopPart('emulator');
    await stack.startPart('emulator');
    const { videos } = await api('/api/videos');
    expect(videos.find((v: Json) => v.videoId === ids.hello).status).to.equal('ready');
    await checkPlayback(ids.hello);
    await Promise.all(stack.workers.map((w) => stack.startPart(w)));
    const rec = await waitForEnd(queuedId);
    expect(rec.status, rec.error).to.equal('ready');
  });
});
