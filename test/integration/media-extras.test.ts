/**
 * What comes with a video besides its ladder (issue 10), end to end on the
 * local stack (emulator, services, workers, the signed edge), with the real
 * phone recording and the audio-only sample:
 *
 * - I-frame playlists: one EXT-X-I-FRAME-STREAM-INF per rendition in the
 *   master; every URI signed; every byte range, fetched through the edge
 *   with a Range request, is one keyframe that decodes alone;
 * - the poster: JPEG and WebP at each width, signed, not a dark frame;
 *   audio-only says "no picture";
 * - the storyboard: signed sprite sheets, WebVTT (#xywh) and JSON;
 * - the MP4 download: a signed URL, served as an attachment under the
 *   upload's name, H.264 + AAC with the 720p rendition's every frame,
 *   decoding start to end; none for audio-only (404 no_download), not
 *   before ready (409);
 * - thumbnails at any time: a redirect to a signed JPEG through the edge, as
 *   wide as asked and shaped like the picture, the source's picture at that
 *   time (the visualizer clip, whose every second looks different, tells a
 *   wrong time apart; the phone recording barely moves), made once and then
 *   served from the bucket; 400/404/409 refusals.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist } from 'hls-parser/types.js';
import { keys } from '@vod/contract';
import { RunStore } from '../../containers/transcode/src/run-store.js';
import { media } from '../support/media.js';
import { startStack, type TestStack } from '../support/stack.js';

const run = promisify(execFile);
type Json = Record<string, any>;

describe('poster, I-frame playlists, storyboard and MP4 download on the local stack', function () {
  this.timeout(600_000);
  let stack: TestStack;
  let tmp: string;
  let store: RunStore;
  let s3: S3Client;
  const ids: Record<string, string> = {};
  const auth = () => ({ authorization: `Bearer ${stack.token}` });
  const call = (p: string, init?: RequestInit) => fetch(stack.baseUrl + p, { ...init, headers: { ...auth(), ...init?.headers } });
  const api = async (p: string, init?: RequestInit): Promise<Json> => {
    const res = await call(p, init);
    const body = await res.json();
    if (!res.ok) throw new Error(`${p}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
  const upload = async (file: string) => {
    const form = new FormData();
    form.append('file', new Blob([readFileSync(file)]), path.basename(file));
    return (await api('/api/videos', { method: 'POST', body: form })).videoId as string;
  };
  async function ready(videoId: string): Promise<Json> {
    const deadline = Date.now() + 400_000;
    for (;;) {
      const r = await api(`/api/videos/${videoId}`);
      if (r.status === 'ready' || r.status === 'failed') return r;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${videoId}: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }
  const signed = (url: string) => new URL(url).searchParams.has('Signature');
  async function fetchOk(url: string, headers: Record<string, string> = {}): Promise<Response> {
    expect(signed(url), `signed: ${url}`).to.equal(true);
    const res = await fetch(url, { headers });
    expect(res.status, url).to.be.oneOf([200, 206]);
    return res;
  }
  const save = async (res: Response, name: string) => {
    const file = path.join(tmp, name);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    return file;
  };
  const ffprobe = async (file: string, args: string[]) => JSON.parse((await run('ffprobe', ['-v', 'error', '-of', 'json', ...args, file], { maxBuffer: 64 << 20 })).stdout);

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'vod-extras-'));
    stack = await startStack({ env: { POLL_WAIT_SECONDS: '1' } });
    const env = stack.serviceEnv;
    s3 = new S3Client({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    store = new RunStore(s3, env.MEDIA_BUCKET!);
    ids.hello = await upload(media('hello-720p-h264-aac.mp4'));
    ids.audio = await upload(media('audio-only-opus.mkv'));
    ids.visualizer = await upload(media('visualizer-180p-h264-noaudio.mp4'));
  });
  after(async () => {
    await stack?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('no download before the video is ready (409 not_ready)', async () => {
    const res = await call(`/api/videos/${ids.hello}/download`);
    const rec = await api(`/api/videos/${ids.hello}`);
    // Unless the whole pipeline already finished in between (it takes tens of seconds here).
    if (rec.status !== 'ready') {
      expect(res.status).to.equal(409);
      expect((await res.json()).error.code).to.equal('not_ready');
    }
  });

  it('no thumbnail before the video is ready (409 not_ready)', async () => {
    const res = await call(`/api/videos/${ids.visualizer}/thumbnail?time=1`, { redirect: 'manual' });
    const rec = await api(`/api/videos/${ids.visualizer}`);
    if (rec.status !== 'ready') {
      expect(res.status).to.equal(409);
      expect((await res.json()).error.code).to.equal('not_ready');
    }
  });

  it('I-frame playlists: one per rendition in the master, every URI signed, every byte range one keyframe that decodes alone', async () => {
    const rec = await ready(ids.hello);
    expect(rec.status, rec.error).to.equal('ready');
    const { url } = await api(`/api/videos/${ids.hello}/playback`);
    const masterText = await (await fetchOk(url)).text();
    const master = HLS.parse(masterText) as MasterPlaylist;
    const iframes = master.variants.filter((v) => v.isIFrameOnly);
    const streams = master.variants.filter((v) => !v.isIFrameOnly);
    expect(iframes.map((v) => v.resolution!.height).sort()).to.deep.equal(streams.map((v) => v.resolution!.height).sort());
    expect(iframes.length).to.equal(rec.renditions.length);
    for (const v of iframes) {
      expect(v.bandwidth).to.be.greaterThan(0);
      expect(v.codecs).to.match(/^avc1\.[0-9a-f]{6}$/);
      const playlist = HLS.parse(await (await fetchOk(v.uri)).text()) as MediaPlaylist;
      expect(playlist.isIFrame, v.uri).to.equal(true);
      expect(playlist.endlist).to.equal(true);
      expect(playlist.segments).to.have.length(5); // keyframes at 0 2 4 | 6 8 of 8.3 s
      let at = 0;
      for (const [i, entry] of playlist.segments.entries()) {
        const { offset, length } = entry.byterange!;
        const res = await fetchOk(entry.uri, { range: `bytes=${offset}-${offset + length - 1}` });
        expect(res.status).to.equal(206);
        const piece = await save(res, `kf-${v.resolution!.height}-${i}.ts`);
        expect(readFileSync(piece).length).to.equal(length);
        const { frames } = await ffprobe(piece, ['-show_entries', 'frame=key_frame,pict_type,pts_time']);
        expect(frames, `${v.uri} entry ${i}`).to.have.length(1);
        expect(frames[0]).to.include({ key_frame: 1, pict_type: 'I' });
        at += entry.duration;
      }
      expect(at).to.be.closeTo(rec.durationSeconds, 0.1);
    }
  });

  it('poster: JPEG and WebP at 320/640/1280 through signed URLs, not a dark frame; `vod status --json` carries the URLs', async () => {
    const rec = await ready(ids.hello);
    expect(rec.poster.available).to.equal(true);
    expect(rec.poster.images.map((i: Json) => `${i.format}@${i.width}`).sort()).to.deep.equal(['jpeg@1280', 'jpeg@320', 'jpeg@640', 'webp@1280', 'webp@320', 'webp@640']);
    for (const image of rec.poster.images) {
      const res = await fetchOk(image.url);
      expect(res.headers.get('content-type')).to.equal(image.format === 'jpeg' ? 'image/jpeg' : 'image/webp');
      const file = await save(res, path.basename(image.path));
      const { streams } = await ffprobe(file, ['-show_streams']);
      expect([streams[0].width, streams[0].height]).to.deep.equal([image.width, image.height]);
    }
    const jpeg = await save(await fetchOk(rec.poster.images.find((i: Json) => i.format === 'jpeg' && i.width === 640).url), 'poster.jpg');
    const { stderr } = await run('ffmpeg', ['-hide_banner', '-i', jpeg, '-vf', 'format=yuv420p,signalstats,metadata=mode=print', '-f', 'null', '-']);
    const luma = Number(/YAVG=([\d.]+)/.exec(stderr)![1]);
    console.log(`      poster at ${rec.poster.atSeconds} s, mean luma ${luma.toFixed(1)}`);
    expect(luma).to.be.above(40);

    const { stdout } = await run(path.resolve('node_modules/.bin/tsx'), ['cli/vod.ts', 'status', ids.hello, '--json', '--url', stack.baseUrl, '--token', stack.token]);
    const cli = JSON.parse(stdout);
    expect(cli.poster.images.every((i: Json) => signed(i.url))).to.equal(true);
  });

  it('MP4 download: a signed attachment under the upload\'s name, H.264 + AAC with every frame of the 720p rendition, decoding to the end', async () => {
    const rec = await ready(ids.hello);
    expect(rec.download).to.include({ available: true, rendition: '720p', width: 1280, height: 720, filename: 'hello-720p-h264-aac.mp4' });
    const { url, expiresAt } = await api(`/api/videos/${ids.hello}/download`);
    expect(Date.parse(expiresAt)).to.be.greaterThan(Date.now());
    const res = await fetchOk(url);
    expect(res.headers.get('content-type')).to.equal('video/mp4');
    expect(res.headers.get('content-disposition')).to.equal(`attachment; filename="hello-720p-h264-aac.mp4"; filename*=UTF-8''hello-720p-h264-aac.mp4`);
    const file = await save(res, 'download.mp4');
    expect(readFileSync(file).length).to.equal(rec.download.bytes);
    const probe = await ffprobe(file, ['-count_frames', '-show_streams', '-show_format']);
    const v = probe.streams.find((s: Json) => s.codec_type === 'video');
    const a = probe.streams.find((s: Json) => s.codec_type === 'audio');
    expect(v).to.include({ codec_name: 'h264', width: 1280, height: 720 });
    expect(a).to.include({ codec_name: 'aac' });
    // The rendition's frames, counted in its published segments.
    const { url: masterUrl } = await api(`/api/videos/${ids.hello}/playback`);
    const master = HLS.parse(await (await fetchOk(masterUrl)).text()) as MasterPlaylist;
    const top = master.variants.find((x) => !x.isIFrameOnly && x.resolution!.height === 720)!;
    let frames = 0;
    for (const [i, seg] of (HLS.parse(await (await fetchOk(top.uri)).text()) as MediaPlaylist).segments.entries()) {
      const s = await save(await fetchOk(seg.uri), `720-${i}.ts`);
      frames += Number((await ffprobe(s, ['-count_frames', '-select_streams', 'v:0', '-show_streams'])).streams[0].nb_read_frames);
    }
    expect(Number(v.nb_read_frames)).to.equal(frames);
    const { stderr } = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', file, '-f', 'null', '-']);
    expect(stderr.trim(), 'decodes without an error').to.equal('');
    expect(Number(probe.format.duration)).to.be.closeTo(rec.durationSeconds, 0.2);
  });

  it('storyboard: signed sheets, a WebVTT thumbnails track and JSON whose tiles match the record', async () => {
    const rec = await ready(ids.hello);
    const sb = rec.storyboard;
    expect(sb).to.deep.include({ available: true, intervalSeconds: 2, count: 5, tileWidth: 160, tileHeight: 90, columns: 10, rows: 10 });
    expect(sb.sheets).to.have.length(1);
    const sheet = await fetchOk(sb.sheets[0].url);
    expect(sheet.headers.get('content-type')).to.equal('image/jpeg');
    const { streams } = await ffprobe(await save(sheet, 'sheet.jpg'), ['-show_streams']);
    expect([streams[0].width, streams[0].height]).to.deep.equal([1600, 900]);
    const vttRes = await fetchOk(sb.vtt.url);
    expect(vttRes.headers.get('content-type')).to.match(/^text\/vtt/);
    const vtt = await vttRes.text();
    expect(vtt.startsWith('WEBVTT')).to.equal(true);
    expect(vtt.match(/#xywh=\d+,\d+,160,90/g)).to.have.length(5);
    const jsonRes = await fetchOk(sb.json.url);
    expect(jsonRes.headers.get('content-type')).to.match(/^application\/json/);
    const json = await jsonRes.json();
    expect(json.tiles.map((t: Json) => t.start)).to.deep.equal([0, 2, 4, 6, 8]);
  });

  it('audio only: the record says "no picture"; no download (404 no_download); no I-frame playlist', async () => {
    const rec = await ready(ids.audio);
    expect(rec.status, rec.error).to.equal('ready');
    expect(rec.poster).to.deep.include({ available: false, reason: 'no_picture' });
    expect(rec.download).to.equal(undefined);
    expect(rec.storyboard).to.equal(undefined);
    const res = await call(`/api/videos/${ids.audio}/download`);
    expect(res.status).to.equal(404);
    expect((await res.json()).error.code).to.equal('no_download');
    const { url } = await api(`/api/videos/${ids.audio}/playback`);
    expect(await (await fetchOk(url)).text()).not.to.contain('I-FRAME');
  });

  describe('thumbnails at any time (GET /api/videos/:id/thumbnail)', () => {
    /** 64×36 grayscale pixels of `input`'s first frame (after an input seek to `at` seconds, if given). */
    const gray = async (input: string, at?: number) =>
      (await run('ffmpeg', ['-v', 'error', ...(at === undefined ? [] : ['-ss', String(at)]), '-i', input, '-frames:v', '1', '-vf', 'scale=64:36:flags=area,format=gray', '-f', 'rawvideo', '-'], { encoding: 'buffer', maxBuffer: 1 << 20 })).stdout;
    /** Mean absolute difference of two equal-sized grayscale pictures, 0–255. */
    const mad = (a: Buffer, b: Buffer) => {
      expect(a.length).to.equal(b.length);
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
      return sum / a.length;
    };
    /** The thumbnail's redirect target (signed, through the edge), and the image it serves saved to a file. */
    async function thumbnail(videoId: string, query: string): Promise<{ location: string; file: string }> {
      const res = await call(`/api/videos/${videoId}/thumbnail?${query}`, { redirect: 'manual' });
      expect(res.status, `${query}: ${res.status} ${await res.clone().text()}`).to.equal(302);
      const location = res.headers.get('location')!;
      expect(new URL(location).origin).to.equal(stack.baseUrl);
      const image = await fetchOk(location);
      expect(image.headers.get('content-type')).to.equal('image/jpeg');
      return { location, file: await save(image, `thumb-${videoId}-${query.replace(/\W/g, '_')}.jpg`) };
    }

    it('a JPEG as wide as asked, shaped like the picture, showing the source at that time', async () => {
      const rec = await ready(ids.visualizer);
      expect(rec.status, rec.error).to.equal('ready');
      const { location, file } = await thumbnail(ids.visualizer, 'time=3.3&width=200');
      expect(new URL(location).pathname).to.equal(`/${keys.videoFile(ids.visualizer, 'thumbnails/3300-200.jpg')}`);
      const { streams } = await ffprobe(file, ['-show_streams']);
      expect(streams[0]).to.include({ codec_name: 'mjpeg', width: 200, height: 112 }); // 320×180 → 200×112.5 → even
      const source = media('visualizer-180p-h264-noaudio.mp4');
      const same = mad(await gray(file), await gray(source, 3.3));
      const off = mad(await gray(file), await gray(source, 1.3));
      console.log(`      visualizer at 3.3 s: mean abs difference ${same.toFixed(2)} to the source at 3.3 s, ${off.toFixed(2)} at 1.3 s`);
      expect(same).to.be.below(6);
      expect(off).to.be.above(2 * same);

      const hello = await ready(ids.hello);
      const shot = await thumbnail(ids.hello, 'time=5.3&width=320');
      const probe = await ffprobe(shot.file, ['-show_streams']);
      expect([probe.streams[0].width, probe.streams[0].height]).to.deep.equal([320, 180]);
      expect(mad(await gray(shot.file), await gray(media('hello-720p-h264-aac.mp4'), 5.3))).to.be.below(6);
      // The very end is a picture too (the last frame).
      const end = await thumbnail(ids.hello, `time=${hello.durationSeconds}&width=64`);
      expect((await ffprobe(end.file, ['-show_streams'])).streams[0]).to.include({ width: 64, height: 36 });
    });

    it('the second request for a time and width is served from the bucket: nothing is made again', async () => {
      const key = keys.videoFile(ids.visualizer, 'thumbnails/3300-200.jpg');
      // Replace the stored image with a marker: a second run would overwrite it with a real picture.
      const marker = Buffer.from('stored thumbnail, not made again');
      await s3.send(new PutObjectCommand({ Bucket: stack.serviceEnv.MEDIA_BUCKET!, Key: key, Body: marker, ContentType: 'image/jpeg' }));
      const res = await call(`/api/videos/${ids.visualizer}/thumbnail?time=3.34&width=200`, { redirect: 'manual' }); // rounds to 3.3 s
      expect(res.status).to.equal(302);
      expect(Buffer.from(await (await fetchOk(res.headers.get('location')!)).arrayBuffer()).toString()).to.equal(marker.toString());
      const stored = await s3.send(new GetObjectCommand({ Bucket: stack.serviceEnv.MEDIA_BUCKET!, Key: key }));
      expect(await stored.Body!.transformToString()).to.equal(marker.toString());
    });

    it('400 invalid_query for a bad time or width, 404 for an unknown video, 404 no_picture for audio only', async () => {
      const rec = await ready(ids.hello);
      for (const q of ['time=abc', 'width=320', `time=${rec.durationSeconds + 1}`, 'time=1&width=16', 'time=1&width=5000']) {
        const res = await call(`/api/videos/${ids.hello}/thumbnail?${q}`, { redirect: 'manual' });
        expect(res.status, q).to.equal(400);
        expect((await res.json()).error.code, q).to.equal('invalid_query');
      }
      const unknown = await call(`/api/videos/${'0'.repeat(20)}/thumbnail?time=1`, { redirect: 'manual' });
      expect([unknown.status, (await unknown.json()).error.code]).to.deep.equal([404, 'not_found']);
      await ready(ids.audio);
      const audio = await call(`/api/videos/${ids.audio}/thumbnail?time=1`, { redirect: 'manual' });
      expect([audio.status, (await audio.json()).error.code]).to.deep.equal([404, 'no_picture']);
    });

    it('`vod thumbnail ID --time S --width W` prints the signed URL', async () => {
      const { stdout } = await run(path.resolve('node_modules/.bin/tsx'), ['cli/vod.ts', 'thumbnail', ids.hello, '--time', '2', '--width', '160', '--url', stack.baseUrl, '--token', stack.token]);
      const url = stdout.trim();
      expect(new URL(url).pathname).to.equal(`/${keys.videoFile(ids.hello, 'thumbnails/2000-160.jpg')}`);
      const { streams } = await ffprobe(await save(await fetchOk(url), 'cli-thumb.jpg'), ['-show_streams']);
      expect([streams[0].width, streams[0].height]).to.deep.equal([160, 90]);
    });

    it('DELETE of the video removes its thumbnails', async () => {
      const key = keys.videoFile(ids.visualizer, 'thumbnails/3300-200.jpg');
      expect((await call(`/api/videos/${ids.visualizer}`, { method: 'DELETE' })).status).to.equal(204);
      const gone = await s3.send(new GetObjectCommand({ Bucket: stack.serviceEnv.MEDIA_BUCKET!, Key: key })).then(() => false, (err: { name?: string }) => err.name === 'NoSuchKey');
      expect(gone).to.equal(true);
    });
  });

  it('what each extra costs (CPU-seconds and wall seconds of its task), for the record', async () => {
    const rec = await ready(ids.hello);
    const state = await store.state(ids.hello, 1);
    const chunks = Object.values(state.chunks).reduce((s, c) => ({ cpu: s.cpu + c.cost.cpuSeconds, wall: s.wall + c.cost.wallSeconds }), { cpu: 0, wall: 0 });
    const line = (name: string, c?: { cpuSeconds: number; wallSeconds: number }) => `${name} ${c ? `${c.cpuSeconds.toFixed(2)} CPU-s / ${c.wallSeconds.toFixed(2)} s` : '–'}`;
    console.log(
      `      ${ids.hello}: ${line('chunks', { cpuSeconds: chunks.cpu, wallSeconds: chunks.wall })}; ${line('audio', state.audio?.cost)}; ` +
        `${line('poster', state.poster?.cost)}; ${line('download', state.download?.cost)}; ${line('storyboard', state.storyboard?.cost)}; ` +
        `record ${rec.cpuSeconds} CPU-s`,
    );
    expect(state.poster!.cost.cpuSeconds).to.be.greaterThan(0);
    expect(state.download!.cost.wallSeconds).to.be.greaterThan(0);
    const total = chunks.cpu + state.audio!.cost.cpuSeconds + state.poster!.cost.cpuSeconds + state.download!.cost.cpuSeconds + state.storyboard!.cost.cpuSeconds;
    expect(rec.cpuSeconds).to.be.closeTo(total, 0.01);
  });
});
