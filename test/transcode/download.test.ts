/**
 * The MP4 download: which rendition, the saved name, the remux command
 * (pure); and a real one on the S3 emulator — the 720p rendition and the
 * audio of the phone recording, published as segments, remuxed into an MP4
 * that has the rendition's every frame, AAC audio, the index first
 * (+faststart) and `Content-Disposition: attachment` with the name.
 */
import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import type { Rendition } from '@vod/contract';
import { DOWNLOAD_FILE, keys, newId } from '@vod/contract';
import { buildRemuxArgs, chooseDownloadRendition, downloadFilename, makeDownload } from '../../containers/transcode/src/download.js';
import { publishSegments } from '../../containers/transcode/src/publish.js';
import { startTestAws, type TestAws } from '../support/emulator.js';
import { encodeFile, ffmpegRun, ffprobeJson, media } from './helpers.js';

const rung = (name: string, width: number, height: number): Rendition => ({
  name, width, height, frameRate: { num: 30, den: 1 }, videoBitrateKbps: 1000, maxrateKbps: 1500, bufsizeKbits: 2000, profile: 'high',
});

describe('transcode/download', () => {
  describe('pure', () => {
    const ladder = [rung('1080p', 1920, 1080), rung('720p', 1280, 720), rung('540p', 960, 540), rung('360p', 640, 360)];

    it('the largest rendition at most the asked size; the source size when smaller; portrait by its short side', () => {
      expect(chooseDownloadRendition(ladder, 720)!.name).to.equal('720p');
      expect(chooseDownloadRendition(ladder, 1080)!.name).to.equal('1080p');
      expect(chooseDownloadRendition(ladder.slice(2), 720)!.name).to.equal('540p');
      expect(chooseDownloadRendition([rung('720p', 720, 1280), rung('360p', 360, 640)], 720)!.name).to.equal('720p');
      // Asked below every rung: the smallest.
      expect(chooseDownloadRendition(ladder, 200)!.name).to.equal('360p');
      expect(chooseDownloadRendition([], 720)).to.equal(undefined);
    });

    it('the saved name is the upload\'s with .mp4; the video id when there is none', () => {
      expect(downloadFilename('Holiday 2024.MOV', 'abc')).to.equal('Holiday 2024.mp4');
      expect(downloadFilename('clip.mp4', 'abc')).to.equal('clip.mp4');
      expect(downloadFilename('C:\\videos\\café.webm', 'abc')).to.equal('café.mp4');
      expect(downloadFilename(undefined, 'abc')).to.equal('abc.mp4');
      expect(downloadFilename('.mp4', 'abc')).to.equal('abc.mp4');
    });

    it('remux: stream copy of the video and the audio, ADTS to ASC, +faststart, only local files', () => {
      const args = buildRemuxArgs('/w/video.ts', '/w/audio.ts', '/w/download.mp4');
      expect(args.inputOptions).to.include.members(['-protocol_whitelist', 'file']);
      expect(args.extraInputs).to.deep.equal([{ input: '/w/audio.ts', options: ['-protocol_whitelist', 'file', '-f', 'mpegts'] }]);
      const o = args.outputs[0]!.options.join(' ');
      expect(o).to.contain('-map 0:v:0 -map 1:a:0 -c copy -bsf:a aac_adtstoasc -movflags +faststart');
      expect(o).not.to.match(/libx264|-c:v (?!copy)/);
      expect(buildRemuxArgs('/w/video.ts', undefined, '/w/d.mp4').outputs[0]!.options).not.to.include('1:a:0');
    });
  });

  describe('on the S3 emulator', function () {
    this.timeout(180_000);
    let aws: TestAws;
    let enc: Awaited<ReturnType<typeof encodeFile>>;
    before(async () => {
      aws = await startTestAws();
      enc = await encodeFile(media('hello-720p-h264-aac.mp4'), { ladder: [{ name: '720p', shortSide: 720, videoBitrateKbps: 3000, maxrateFactor: 1.5, bufsizeFactor: 2, profile: 'high' }] });
    });
    after(async () => {
      await aws?.stop();
      if (enc) await rm(enc.outDir, { recursive: true, force: true });
    });

    it('remuxes the published segments into a progressive MP4 with every frame, AAC audio and the name to save it under', async () => {
      const videoId = newId();
      await publishSegments(aws.s3, aws.mediaBucket, videoId, enc.outDir, ['720p', 'audio']);
      const video = enc.state.chunks[0]!.renditions['720p']!.segments;
      const audio = enc.state.audio!.segments;
      const out = await makeDownload(
        aws.s3,
        aws.mediaBucket,
        { videoId, rendition: '720p', videoSegments: video.length, audioSegments: audio.length, filename: 'Café "hello".mp4' },
        enc.outDir,
      );
      expect(out.key).to.equal(keys.videoFile(videoId, DOWNLOAD_FILE));

      const got = await aws.s3.send(new GetObjectCommand({ Bucket: aws.mediaBucket, Key: out.key }));
      expect(got.ContentType).to.equal('video/mp4');
      expect(got.ContentDisposition).to.equal(`attachment; filename="Caf_ _hello_.mp4"; filename*=UTF-8''Caf%C3%A9%20%22hello%22.mp4`);
      const file = path.join(enc.outDir, 'fetched.mp4');
      await pipeline(got.Body as Readable, createWriteStream(file));
      expect((await readFile(file)).length).to.equal(out.bytes);

      const probe = await ffprobeJson<{ streams: { codec_type: string; codec_name: string; width?: number; height?: number; nb_read_frames?: string }[]; format: { format_name: string; duration: string } }>(file, [
        '-count_frames', '-show_streams', '-show_format',
      ]);
      expect(probe.format.format_name).to.contain('mp4');
      const v = probe.streams.find((s) => s.codec_type === 'video')!;
      const a = probe.streams.find((s) => s.codec_type === 'audio')!;
      expect(v).to.include({ codec_name: 'h264', width: 1280, height: 720 });
      expect(a).to.include({ codec_name: 'aac' });
      // Every frame of the rendition, as its segments hold them.
      let segmentFrames = 0;
      for (const s of video) {
        const p = await ffprobeJson<{ streams: { nb_read_frames: string }[] }>(path.join(enc.outDir, '720p', `seg_${String(s.n).padStart(5, '0')}.ts`), ['-count_frames', '-select_streams', 'v:0', '-show_streams']);
        segmentFrames += Number(p.streams[0]!.nb_read_frames);
      }
      expect(Number(v.nb_read_frames)).to.equal(segmentFrames);
      expect(segmentFrames).to.be.closeTo(8.3 * 30, 3);
      expect(Number(probe.format.duration)).to.be.closeTo(8.3, 0.2);
      // +faststart: the index (moov) comes before the media (mdat).
      const bytes = await readFile(file);
      expect(bytes.indexOf('moov')).to.be.greaterThan(0).and.below(bytes.indexOf('mdat'));
      // Decodes from start to end.
      await ffprobeJson(file, ['-v', 'error', '-show_entries', 'format=duration']);
    });

    it('an MP4 larger than a part goes up in parts (S3 multipart), byte for byte', async () => {
      // 6 s of 720p noise at 8 Mbit/s: over S3's 5 MiB minimum part size.
      const src = path.join(enc.outDir, 'noise.mp4');
      await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30:duration=6,noise=alls=40:allf=t', '-f', 'lavfi', '-i', 'sine=duration=6', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-shortest', src]);
      const big = await encodeFile(src, { preset: 'ultrafast', ladder: [{ name: '720p', shortSide: 720, videoBitrateKbps: 8000, maxrateFactor: 1.5, bufsizeFactor: 2, profile: 'high' }] });
      try {
        const videoId = newId();
        await publishSegments(aws.s3, aws.mediaBucket, videoId, big.outDir, ['720p', 'audio']);
        const out = await makeDownload(
          aws.s3,
          aws.mediaBucket,
          { videoId, rendition: '720p', videoSegments: big.state.chunks[0]!.renditions['720p']!.segments.length, audioSegments: big.state.audio!.segments.length, filename: 'noise.mp4' },
          big.outDir,
          { partSize: 5 * 1024 * 1024 },
        );
        expect(out.bytes).to.be.greaterThan(5 * 1024 * 1024);
        const body = await (await aws.s3.send(new GetObjectCommand({ Bucket: aws.mediaBucket, Key: out.key }))).Body!.transformToByteArray();
        expect(Buffer.from(body).equals(await readFile(path.join(big.outDir, DOWNLOAD_FILE)))).to.equal(true);
      } finally {
        await rm(big.outDir, { recursive: true, force: true });
      }
    });
  });
});
