/**
 * Seek previews: interval, tile size, layout, WebVTT (pure); and a real
 * storyboard on the S3 emulator from a published rendition's I-frame
 * playlist, whose tiles match the frame decoded at their time.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { keys, newId } from '@vod/contract';
import { publishFiles, publishSegments } from '../../containers/transcode/src/publish.js';
import {
  MAX_TILES,
  chooseStoryboardRendition,
  makeStoryboard,
  storyboardInterval,
  storyboardLayout,
  storyboardVtt,
  tileSize,
  vttTime,
} from '../../containers/transcode/src/storyboard.js';
import { startTestAws, type TestAws } from '../support/emulator.js';
import { encodeFile, ffmpegRun, run } from './helpers.js';

describe('transcode/storyboard', () => {
  describe('pure', () => {
    it('a tile every keyframe interval, longer for long videos so there are at most MAX_TILES', () => {
      expect(storyboardInterval(8.3, 2)).to.equal(2);
      expect(storyboardInterval(600, 2)).to.equal(2);
      expect(storyboardInterval(601, 2)).to.equal(4);
      expect(storyboardInterval(7200, 2)).to.equal(24);
      expect(7200 / storyboardInterval(7200, 2)).to.be.at.most(MAX_TILES);
    });

    it('tiles 160 px wide with the picture\'s aspect ratio; taken from the smallest rendition at least that wide', () => {
      expect(tileSize({ width: 416, height: 234 })).to.deep.equal({ width: 160, height: 90 });
      expect(tileSize({ width: 202, height: 360 })).to.deep.equal({ width: 160, height: 286 });
      expect(tileSize({ width: 120, height: 90 })).to.deep.equal({ width: 120, height: 90 });
      const r = (name: string, width: number, height: number) => ({ name, width, height, frameRate: { num: 30, den: 1 }, videoBitrateKbps: 1, maxrateKbps: 1, bufsizeKbits: 1, profile: 'high' as const });
      expect(chooseStoryboardRendition([r('720p', 1280, 720), r('234p', 416, 234), r('360p', 640, 360)])!.name).to.equal('234p');
      expect(chooseStoryboardRendition([r('90p', 120, 90)])!.name).to.equal('90p');
    });

    it('layout: row by row, sheet by sheet; the VTT points into the sheets with #xywh', () => {
      const { storyboard, tiles } = storyboardLayout(105, 2, 209.5, { width: 160, height: 90 });
      expect(storyboard).to.deep.include({ count: 105, columns: 10, rows: 10, tileWidth: 160, tileHeight: 90, intervalSeconds: 2 });
      expect(storyboard.sheets.map((s) => s.path)).to.deep.equal(['storyboard/sheet-000.jpg', 'storyboard/sheet-001.jpg']);
      expect(tiles[0]).to.deep.equal({ start: 0, end: 2, sheet: 0, x: 0, y: 0 });
      expect(tiles[13]).to.deep.equal({ start: 26, end: 28, sheet: 0, x: 480, y: 90 });
      expect(tiles[104]).to.deep.equal({ start: 208, end: 209.5, sheet: 1, x: 640, y: 0 });
      const vtt = storyboardVtt(storyboard, tiles);
      expect(vtt.startsWith('WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nsheet-000.jpg#xywh=0,0,160,90\n')).to.equal(true);
      expect(vtt).to.contain('00:03:28.000 --> 00:03:29.500\nsheet-001.jpg#xywh=640,0,160,90');
      expect(vttTime(3725.5)).to.equal('01:02:05.500');
    });
  });

  describe('on the S3 emulator', function () {
    this.timeout(180_000);
    let aws: TestAws;
    let dir: string;
    before(async () => {
      aws = await startTestAws();
      dir = await mkdtemp(path.join(os.tmpdir(), 'vod-storyboard-'));
    });
    after(async () => {
      await aws?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('tiles line up with the frame at their time: each tile is the rendition\'s picture at i·interval', async () => {
      // 11 s with a big running frame counter: every second looks different.
      const src = path.join(dir, 'src.mp4');
      await ffmpegRun([
        '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=11', '-c:v', 'libx264', '-preset', 'ultrafast', src,
      ]);
      const enc = await encodeFile(src, { ladder: [{ name: '234p', shortSide: 234, videoBitrateKbps: 400, maxrateFactor: 1.5, bufsizeFactor: 2, profile: 'high' }] });
      try {
        const videoId = newId();
        await publishSegments(aws.s3, aws.mediaBucket, videoId, enc.outDir, ['234p']);
        await publishFiles(aws.s3, aws.mediaBucket, videoId, enc.outDir, ['234p/iframes.m3u8']);
        const work = await mkdtemp(path.join(dir, 'work-'));
        const out = await makeStoryboard(aws.s3, aws.mediaBucket, { videoId, rendition: { name: '234p', width: 416, height: 234 }, durationSeconds: enc.stitched.durationSeconds, keyframeSeconds: 2 }, work);
        expect(out.storyboard).to.deep.include({ count: 6, intervalSeconds: 2, tileWidth: 160, tileHeight: 90 });
        expect(out.files).to.deep.equal(['storyboard/sheet-000.jpg', 'storyboard/storyboard.vtt', 'storyboard/storyboard.json']);
        const json = JSON.parse(await readFile(path.join(work, 'storyboard/storyboard.json'), 'utf8'));
        expect(json.tiles).to.have.length(6);
        expect(await readFile(path.join(work, 'storyboard/storyboard.vtt'), 'utf8')).to.match(/\n00:00:10\.000 --> 00:00:11\.\d{3}\nsheet-000\.jpg#xywh=800,0,160,90\n/);

        // Each tile against the rendition's frame decoded at its time (ffmpeg starts the joined segments at t = 0),
        // scaled the same way: most like it (SSIM; a 160×90 JPEG of a busy test pattern scores about 0.8 against its own
        // frame), and less like the frame one second off.
        const sheet = path.join(work, 'storyboard/sheet-000.jpg');
        const segments = enc.state.chunks[0]!.renditions['234p']!.segments.map((s) => path.join(enc.outDir, '234p', `seg_${String(s.n).padStart(5, '0')}.ts`));
        const all = `concat:${segments.join('|')}`;
        const scores: number[] = [];
        for (const t of json.tiles as { start: number; x: number; y: number }[]) {
          const tileFile = path.join(dir, `tile-${t.start}.png`);
          const frameFile = path.join(dir, `frame-${t.start}.png`);
          await ffmpegRun(['-i', sheet, '-vf', `crop=160:90:${t.x}:${t.y}`, '-frames:v', '1', tileFile]);
          await ffmpegRun(['-i', all, '-vf', `select='gte(t\\,${t.start - 0.001})',scale=160:90`, '-frames:v', '1', frameFile]);
          const ssimOf = async (a: string, b: string) => {
            const { stderr } = await run('ffmpeg', ['-hide_banner', '-i', a, '-i', b, '-lavfi', 'ssim', '-f', 'null', '-']);
            return Number(/All:([\d.]+)/.exec(stderr)![1]);
          };
          const ssim = await ssimOf(tileFile, frameFile);
          scores.push(ssim);
          expect(ssim, `tile at ${t.start} s`).to.be.above(0.7);
          // …and less like the frame one second off (a tile from the wrong time would be caught).
          const offFile = path.join(dir, `off-${t.start}.png`);
          await ffmpegRun(['-i', all, '-vf', `select='gte(t\\,${(t.start >= 1 ? t.start - 1 : t.start + 1) - 0.001})',scale=160:90:flags=bilinear`, '-frames:v', '1', offFile]);
          expect(await ssimOf(tileFile, offFile), `tile at ${t.start} s vs 1 s off`).to.be.below(ssim);
        }
        console.log(`      tile vs frame SSIM: ${scores.map((x) => x.toFixed(3)).join(' ')}`);
        expect(keys.videoFile(videoId, out.files[0]!)).to.equal(`videos/${videoId}/storyboard/sheet-000.jpg`);
      } finally {
        await rm(enc.outDir, { recursive: true, force: true });
      }
    });
  });
});
