/**
 * Thumbnails at any time (containers/stream/src/thumbnails.ts): the pure
 * pieces (which segment holds a time, which rendition, what size), and the
 * route against the S3 emulator with real ffmpeg on real MPEG-TS segments —
 * the redirect, the stored JPEG's size and picture, the cache (no second
 * ffmpeg run), one run for identical concurrent requests, and every refusal
 * (400, 404, 404 no_picture, 409 not_ready).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { THUMBNAIL_LIMITS, keys, thumbnailPath, thumbnailQuerySchema, thumbnailTimeMs } from '@vod/contract';
import { StatusStore } from '@vod/service-kit';
import { createApp, type StreamApp } from '../../containers/stream/src/app.js';
import { scanKeyframes } from '../../containers/transcode/src/ts-keyframes.js';
import {
  chooseThumbnailRendition,
  keyframeRange,
  runFfmpegJpeg,
  type RenderFn,
  segmentAt,
  thumbnailArgs,
  thumbnailHeight,
} from '../../containers/stream/src/thumbnails.js';
import { createVideoUrlSigner } from '../../containers/stream/src/url-signer.js';
import { startTestAws, type TestAws } from '../support/emulator.js';
import { listen, silentLogger } from '../support/http.js';
import { makeKeyPair } from './support.js';

const run = promisify(execFile);

describe('thumbnails: pure pieces', () => {
  const segs = [
    { uri: 'seg_00000.ts', duration: 6 },
    { uri: 'seg_00001.ts', duration: 6 },
    { uri: 'seg_00002.ts', duration: 2.3 },
  ];

  it('finds the segment holding a time and the offset into it (EXTINF durations end to end)', () => {
    expect(segmentAt(segs, 0)).to.deep.equal({ index: 0, uri: 'seg_00000.ts', startSeconds: 0, offsetSeconds: 0 });
    expect(segmentAt(segs, 5.999)).to.include({ index: 0 });
    expect(segmentAt(segs, 6)).to.deep.equal({ index: 1, uri: 'seg_00001.ts', startSeconds: 6, offsetSeconds: 0 });
    expect(segmentAt(segs, 13.1)).to.include({ index: 2, startSeconds: 12 });
    expect(segmentAt(segs, 13.1).offsetSeconds).to.be.closeTo(1.1, 1e-9);
  });

  it('puts the end of the video (and past it) at the end of the last segment', () => {
    expect(segmentAt(segs, 14.3)).to.include({ index: 2 });
    expect(segmentAt(segs, 14.3).offsetSeconds).to.be.closeTo(2.3, 1e-9);
    expect(segmentAt(segs, 99)).to.include({ index: 2, offsetSeconds: 2.3 });
    expect(segmentAt([{ uri: 'a.ts', duration: 4 }], 4)).to.include({ index: 0, offsetSeconds: 4 });
  });

  it('refuses a negative time and an empty playlist', () => {
    expect(() => segmentAt(segs, -0.1)).to.throw(RangeError);
    expect(() => segmentAt(segs, Number.NaN)).to.throw(RangeError);
    expect(() => segmentAt([], 0)).to.throw(RangeError);
  });

  it('decodes only the keyframe\'s group of pictures: from the keyframe at or before the time to the next one in the same segment', () => {
    // Keyframes every 2 s; segments of 6 s (3 keyframes each) and a last one of 2.3 s.
    const entries = [
      { uri: 'seg_00000.ts', offset: 0, duration: 2 },
      { uri: 'seg_00000.ts', offset: 188_000, duration: 2 },
      { uri: 'seg_00000.ts', offset: 376_000, duration: 2 },
      { uri: 'seg_00001.ts', offset: 0, duration: 2 },
      { uri: 'seg_00001.ts', offset: 200_000, duration: 0.3 },
    ];
    expect(keyframeRange(entries, 0)).to.deep.equal({ uri: 'seg_00000.ts', firstByte: 0, lastByte: 187_999, offsetSeconds: 0 });
    expect(keyframeRange(entries, 3)).to.deep.equal({ uri: 'seg_00000.ts', firstByte: 188_000, lastByte: 375_999, offsetSeconds: 1 });
    expect(keyframeRange(entries, 5.5)).to.deep.equal({ uri: 'seg_00000.ts', firstByte: 376_000, offsetSeconds: 1.5 }); // to the segment's end
    expect(keyframeRange(entries, 6)).to.deep.equal({ uri: 'seg_00001.ts', firstByte: 0, lastByte: 199_999, offsetSeconds: 0 });
    expect(keyframeRange(entries, 8.3)).to.include({ uri: 'seg_00001.ts', firstByte: 200_000 }).and.not.have.property('lastByte');
    expect(keyframeRange(entries, 8.3).offsetSeconds).to.be.closeTo(0.3, 1e-9);
  });

  it('takes the smallest video rendition at least as wide as asked, else the widest; never the audio', () => {
    const r = [
      { name: '720p', width: 1280, height: 720, bandwidth: 3 },
      { name: '234p', width: 416, height: 234, bandwidth: 1 },
      { name: '360p', width: 640, height: 360, bandwidth: 2 },
      { name: 'audio', width: 0, height: 0, bandwidth: 1 },
    ];
    expect(chooseThumbnailRendition(r, 32)!.name).to.equal('234p');
    expect(chooseThumbnailRendition(r, 417)!.name).to.equal('360p');
    expect(chooseThumbnailRendition(r, 640)!.name).to.equal('360p');
    expect(chooseThumbnailRendition(r, 1920)!.name).to.equal('720p');
    expect(chooseThumbnailRendition([r[3]!], 320)).to.equal(undefined);
    expect(chooseThumbnailRendition(undefined, 320)).to.equal(undefined);
  });

  it('keeps the (upright, square-pixel) rendition\'s shape, with an even height', () => {
    expect(thumbnailHeight({ width: 1280, height: 720 }, 640)).to.equal(360);
    expect(thumbnailHeight({ width: 1280, height: 720 }, 100)).to.equal(56); // 56.25
    expect(thumbnailHeight({ width: 406, height: 720 }, 320)).to.equal(568); // portrait (a rotated phone video): 567.5 → 568
    expect(thumbnailHeight({ width: 1920, height: 200 }, 32)).to.equal(4); // 3.33 → 4 (even)
  });

  it('reads only MPEG-TS from its stdin, and writes one JPEG of the size asked', () => {
    const args = thumbnailArgs(1.25, 320, 180);
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    expect(after('-protocol_whitelist')).to.equal('pipe');
    expect(after('-format_whitelist')).to.equal('mpegts');
    expect(after('-i')).to.equal('pipe:0');
    expect(after('-ss')).to.equal('1.250');
    expect(args.indexOf('-ss')).to.be.greaterThan(args.indexOf('-i')); // after the input: exact, decoded seek
    expect(after('-frames:v')).to.equal('1');
    expect(after('-vf')).to.contain('scale=w=320:h=180');
    expect(args.at(-1)).to.equal('pipe:1');
  });

  it('validates the query: time a plain decimal of seconds, width whole pixels within the bounds (default 640)', () => {
    const ok = (q: Record<string, string>) => thumbnailQuerySchema.safeParse(q);
    expect(ok({ time: '12.5' }).data).to.deep.equal({ time: 12.5, width: THUMBNAIL_LIMITS.defaultWidth });
    expect(ok({ time: '0', width: '32' }).data).to.deep.equal({ time: 0, width: 32 });
    expect(ok({ time: '3', width: '1920' }).success).to.equal(true);
    for (const q of [{}, { time: '' }, { time: '-1' }, { time: '1e3' }, { time: 'NaN' }, { time: '1.2345' }, { time: '0x10' }, { time: '1', width: '31' }, { time: '1', width: '1921' }, { time: '1', width: '320.5' }, { time: '1', width: 'wide' }]) {
      expect(ok(q as Record<string, string>).success, JSON.stringify(q)).to.equal(false);
    }
  });

  it('rounds time to the 0.1 s step for the cache key', () => {
    expect(thumbnailTimeMs(12.34)).to.equal(12300);
    expect(thumbnailTimeMs(12.35)).to.equal(12400);
    expect(thumbnailTimeMs(0.04)).to.equal(0);
    expect(thumbnailPath(thumbnailTimeMs(8.3), 640)).to.equal('thumbnails/8300-640.jpg');
  });

  it('kills an ffmpeg that runs past its time limit', async () => {
    const never = new PassThrough(); // a segment that never ends: ffmpeg waits for input
    const started = Date.now();
    let err: Error | undefined;
    await runFfmpegJpeg(never, thumbnailArgs(0, 64, 36), { timeoutMs: 300 }).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/longer than 300 ms/);
    expect(Date.now() - started).to.be.below(10_000);
  });
});

describe('thumbnails: GET /api/videos/:id/thumbnail (S3 emulator, real ffmpeg)', function () {
  this.timeout(60_000);
  const PUBLIC = 'http://127.0.0.1:8080';
  const READY = 'aaaaaaaaaaaaaaaaaab1';
  const BUSY = 'bbbbbbbbbbbbbbbbbbb2';
  const AUDIO = 'ccccccccccccccccccc3';
  const PORTRAIT = 'ddddddddddddddddddd4';
  const IFRAMES = 'fffffffffffffffffff6';
  /** Bytes each ffmpeg run was given, in order. */
  const fed: number[] = [];
  const countingRender: RenderFn = (segment, args, opts) => {
    let bytes = 0;
    segment.on('data', (c: Buffer) => (bytes += c.length));
    let done = false;
    const record = () => {
      if (!done) fed.push(bytes);
      done = true;
    };
    segment.on('end', record).on('close', record);
    return runFfmpegJpeg(segment, args, opts);
  };
  let iframeSegmentBytes = 0;
  const UNKNOWN = 'eeeeeeeeeeeeeeeeeee5';
  let aws: TestAws;
  let app: StreamApp;
  let server: { url: string; close(): Promise<void> };
  let tmp: string;
  const get = (p: string) => fetch(server.url + p, { redirect: 'manual' });
  const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
  const object = async (key: string) => Buffer.from(await (await aws.s3.send(new GetObjectCommand({ Bucket: aws.mediaBucket, Key: key }))).Body!.transformToByteArray());
  const probe = async (file: string) => JSON.parse((await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file])).stdout).streams[0];
  /** Mean luma of a file's first picture, 0–255. */
  const luma = async (file: string) => Number(/YAVG=([\d.]+)/.exec((await run('ffmpeg', ['-hide_banner', '-i', file, '-vf', 'format=yuv420p,signalstats,metadata=mode=print', '-f', 'null', '-'])).stderr)![1]);

  /** Two 2-second TS segments whose pictures are dark (0–2 s) then bright (2–4 s), as a rendition of `w`×`h`. */
  async function publishRendition(videoId: string, name: string, w: number, h: number) {
    for (const [n, colour] of [[0, 'black'], [1, 'white']] as const) {
      const file = path.join(tmp, `${videoId}-${name}-${n}.ts`);
      await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=${colour}:size=${w}x${h}:rate=25`, '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-output_ts_offset', String(2 * n), '-f', 'mpegts', file]);
      await aws.s3.send(new PutObjectCommand({ Bucket: aws.mediaBucket, Key: keys.segment(videoId, name, n), Body: readFileSync(file) }));
    }
    const playlist = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2.000,\nseg_00000.ts\n#EXTINF:2.000,\nseg_00001.ts\n#EXT-X-ENDLIST\n';
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.mediaBucket, Key: keys.mediaPlaylist(videoId, name), Body: playlist }));
  }

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'vod-thumbs-'));
    aws = await startTestAws();
    const store = new StatusStore(aws.s3, aws.mediaBucket);
    const ready = async (videoId: string, renditions: { name: string; width: number; height: number; bandwidth: number }[]) => {
      await store.create({ videoId, status: 'processing' });
      await store.transition(videoId, 'ready', { progress: 100, durationSeconds: 4, renditions });
    };
    await ready(READY, [
      { name: '360p', width: 640, height: 360, bandwidth: 2 },
      { name: '180p', width: 320, height: 180, bandwidth: 1 },
      { name: 'audio', width: 0, height: 0, bandwidth: 1 },
    ]);
    await ready(PORTRAIT, [{ name: '360p', width: 360, height: 640, bandwidth: 2 }]);
    await ready(AUDIO, [{ name: 'audio', width: 0, height: 0, bandwidth: 1 }]);
    await store.create({ videoId: BUSY, status: 'processing', progress: 40 });
    await publishRendition(READY, '180p', 320, 180);
    await publishRendition(READY, '360p', 640, 360);
    await publishRendition(PORTRAIT, '360p', 360, 640);

    // One 4-second segment, dark then bright from 2 s, keyframes at 0 and 2 s, with its I-frame playlist.
    await ready(IFRAMES, [{ name: '180p', width: 320, height: 180, bandwidth: 1 }]);
    const seg = path.join(tmp, 'iframes.ts');
    await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=black:size=320x180:rate=25:duration=4', '-vf', "drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='gte(t,2)'", '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-f', 'mpegts', seg]);
    const kfs = await scanKeyframes(seg);
    expect(kfs.map((k) => k.at)).to.deep.equal([0, 2]);
    iframeSegmentBytes = readFileSync(seg).length;
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.mediaBucket, Key: keys.segment(IFRAMES, '180p', 0), Body: readFileSync(seg) }));
    const iframes = ['#EXTM3U', '#EXT-X-VERSION:4', '#EXT-X-TARGETDURATION:2', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-I-FRAMES-ONLY',
      ...kfs.flatMap((k, i) => [`#EXTINF:${((kfs[i + 1]?.at ?? 4) - k.at).toFixed(3)},`, `#EXT-X-BYTERANGE:${k.length}@${k.offset}`, 'seg_00000.ts']), '#EXT-X-ENDLIST', ''].join('\n');
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.mediaBucket, Key: keys.iframePlaylist(IFRAMES, '180p'), Body: iframes }));
    // No media playlist: the I-frame playlist alone must do.
    const kp = makeKeyPair();
    const signer = createVideoUrlSigner({ publicBaseUrl: PUBLIC, keyPairId: kp.keyPairId, privateKey: kp.privateKey, ttlSeconds: 3600 });
    app = createApp({ s3: aws.s3, mediaBucket: aws.mediaBucket, uploadsBucket: aws.uploadsBucket, signer, logger: await silentLogger(), thumbnails: { render: countingRender } });
    server = await listen(app);
  });
  after(async () => {
    await server?.close();
    await aws?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('redirects to a signed URL of a stored JPEG of the frame at that time, as wide as asked, shaped like the picture', async () => {
    const res = await get(`/api/videos/${READY}/thumbnail?time=3.04&width=200`);
    expect(res.status).to.equal(302);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).to.equal(`${PUBLIC}/${keys.videoFile(READY, 'thumbnails/3000-200.jpg')}`);
    expect(location.searchParams.has('Signature')).to.equal(true);
    const head = await aws.s3.send(new HeadObjectCommand({ Bucket: aws.mediaBucket, Key: keys.videoFile(READY, 'thumbnails/3000-200.jpg') }));
    expect(head.ContentType).to.equal('image/jpeg');
    const file = path.join(tmp, 'at-3.jpg');
    writeFileSync(file, await object(keys.videoFile(READY, 'thumbnails/3000-200.jpg')));
    expect(await probe(file)).to.include({ codec_name: 'mjpeg', width: 200, height: 112 });
    expect(await luma(file), 'a frame of the bright second segment').to.be.above(200);
    expect(app.thumbnails.made).to.equal(1);
  });

  it('takes the dark first segment at 1 s and the very last frame at the duration', async () => {
    for (const [time, bright] of [['1', false], ['4', true], ['0', false]] as const) {
      const res = await get(`/api/videos/${READY}/thumbnail?time=${time}&width=64`);
      expect(res.status, time).to.equal(302);
      const file = path.join(tmp, `t-${time}.jpg`);
      writeFileSync(file, await object(keys.videoFile(READY, thumbnailPath(Number(time) * 1000, 64))));
      if (bright) expect(await luma(file), time).to.be.above(200);
      else expect(await luma(file), time).to.be.below(40);
    }
  });

  it('with an I-frame playlist, reads only the keyframe\'s group of pictures (a Range), and still the right picture', async () => {
    const kfs = await scanKeyframes(path.join(tmp, 'iframes.ts'));
    for (const [time, bright, bytes] of [['3', true, iframeSegmentBytes - kfs[1]!.offset], ['1.5', false, kfs[1]!.offset], ['4', true, iframeSegmentBytes - kfs[1]!.offset]] as const) {
      fed.length = 0;
      const res = await get(`/api/videos/${IFRAMES}/thumbnail?time=${time}&width=64`);
      expect(res.status, time).to.equal(302);
      expect(fed, `bytes given to ffmpeg at ${time} s`).to.deep.equal([bytes]);
      const file = path.join(tmp, `iframes-${time}.jpg`);
      writeFileSync(file, await object(keys.videoFile(IFRAMES, thumbnailPath(Number(time) * 1000, 64))));
      if (bright) expect(await luma(file), time).to.be.above(200);
      else expect(await luma(file), time).to.be.below(40);
    }
  });

  it('a portrait (rotated) picture stays upright: taller than wide', async () => {
    expect((await get(`/api/videos/${PORTRAIT}/thumbnail?time=2.5&width=90`)).status).to.equal(302);
    const file = path.join(tmp, 'portrait.jpg');
    writeFileSync(file, await object(keys.videoFile(PORTRAIT, 'thumbnails/2500-90.jpg')));
    expect(await probe(file)).to.include({ width: 90, height: 160 });
  });

  it('a second request for the same time (rounded to 0.1 s) and width runs no ffmpeg: the stored image answers', async () => {
    const before = { made: app.thumbnails.made, hits: app.thumbnails.hits };
    const res = await get(`/api/videos/${READY}/thumbnail?time=2.96&width=200`); // 2.96 → 3.0 s, as above
    expect(res.status).to.equal(302);
    expect(new URL(res.headers.get('location')!).pathname).to.equal(`/${keys.videoFile(READY, 'thumbnails/3000-200.jpg')}`);
    expect(app.thumbnails.made).to.equal(before.made);
    expect(app.thumbnails.hits).to.equal(before.hits + 1);
  });

  it('identical requests in flight share one ffmpeg run', async () => {
    const before = app.thumbnails.made;
    const answers = await Promise.all(Array.from({ length: 4 }, () => get(`/api/videos/${READY}/thumbnail?time=1.5&width=320`)));
    expect(answers.map((r) => r.status)).to.deep.equal([302, 302, 302, 302]);
    expect(app.thumbnails.made - before).to.equal(1);
  });

  it('uses the default width (640) when none is asked', async () => {
    const res = await get(`/api/videos/${READY}/thumbnail?time=0.5`);
    expect(res.status).to.equal(302);
    expect(new URL(res.headers.get('location')!).pathname).to.match(/\/thumbnails\/500-640\.jpg$/);
  });

  it('400 invalid_query for a bad or missing time or width, or a time past the duration', async () => {
    for (const q of ['', 'time=abc', 'time=-1', 'time=1e2', 'time=4.1', 'time=1&width=31', 'time=1&width=1921', 'time=1&width=99.5', 'time=1&time=2']) {
      const res = await get(`/api/videos/${READY}/thumbnail?${q}`);
      expect(res.status, q).to.equal(400);
      expect(await errorCode(res), q).to.equal('invalid_query');
    }
  });

  it('404 not_found for an unknown video, 404 no_picture for audio only, 409 not_ready before ready', async () => {
    const unknown = await get(`/api/videos/${UNKNOWN}/thumbnail?time=1`);
    expect([unknown.status, await errorCode(unknown)]).to.deep.equal([404, 'not_found']);
    const audio = await get(`/api/videos/${AUDIO}/thumbnail?time=1`);
    expect([audio.status, await errorCode(audio)]).to.deep.equal([404, 'no_picture']);
    const busy = await get(`/api/videos/${BUSY}/thumbnail?time=1`);
    expect([busy.status, await errorCode(busy)]).to.deep.equal([409, 'not_ready']);
  });

  it('500 internal, with nothing stored, when the segment cannot be decoded', async () => {
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.mediaBucket, Key: keys.segment(PORTRAIT, '360p', 0), Body: Buffer.alloc(188 * 4, 0x47) }));
    const res = await get(`/api/videos/${PORTRAIT}/thumbnail?time=0.5&width=90`);
    expect([res.status, await errorCode(res)]).to.deep.equal([500, 'internal']);
    const stored = await aws.s3.send(new HeadObjectCommand({ Bucket: aws.mediaBucket, Key: keys.videoFile(PORTRAIT, 'thumbnails/500-90.jpg') })).then(() => true, () => false);
    expect(stored).to.equal(false);
  });
});
