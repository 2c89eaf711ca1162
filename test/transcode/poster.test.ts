/**
 * The poster: candidate times, the choice among candidates and the sizes
 * (pure), and real posters of real and synthetic files — not a dark frame,
 * past a fade from black, upright for a rotated source, correctly shaped
 * for an anamorphic one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { POSTER_RULES, candidateTimes, makePoster, pickCandidate, posterSizes, type CandidateStats } from '../../containers/transcode/src/poster.js';
import { probeSource } from '../../containers/transcode/src/probe.js';
import { ffmpegRun, ffprobeJson, media, run } from './helpers.js';

/** Mean luma (0–255) of an image. */
async function meanLuma(file: string): Promise<number> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-i', file, '-vf', 'format=yuv420p,signalstats,metadata=mode=print', '-f', 'null', '-']);
  return Number(/lavfi\.signalstats\.YAVG=([\d.]+)/.exec(stderr)![1]);
}

const stats = (at: number, yavg: number, ylow: number, yhigh: number, entropy: number): CandidateStats => ({ at, yavg, ylow, yhigh, entropy });

describe('transcode/poster', () => {
  describe('pure', () => {
    it('candidate times are spread inside the video, never at its very start or end', () => {
      expect(candidateTimes(12)).to.deep.equal([2, 4, 6, 8, 10]);
      expect(candidateTimes(600)).to.deep.equal([100, 200, 300, 400, 500]);
      // A very short clip: inside [0.5, duration − 1], duplicates merged.
      for (const t of candidateTimes(1.2)) expect(t).to.be.within(0, 0.5);
      expect(() => candidateTimes(0)).to.throw(RangeError);
    });

    it('skips dark, blown-out and flat frames; of the rest, the most detail wins', () => {
      const black = stats(1, 16, 16, 17, 0.01);
      const fade = stats(2, 45, 30, 50, 0.3); // bright enough, but flat
      const white = stats(3, 235, 230, 235, 0.2);
      const plain = stats(4, 110, 60, 160, 0.55);
      const detailed = stats(5, 100, 40, 180, 0.7);
      expect(pickCandidate([black, fade, white, plain, detailed]).at).to.equal(5);
      expect(pickCandidate([black, plain]).at).to.equal(4);
      // Nothing usable: the least flat one, not the first.
      expect(pickCandidate([black, fade, white]).at).to.equal(2);
      expect(POSTER_RULES.minMeanLuma).to.be.greaterThan(16);
      expect(() => pickCandidate([])).to.throw(RangeError);
    });

    it('sizes: every standard width that does not upscale, heights from the display aspect ratio (even)', () => {
      expect(posterSizes(1280, 720)).to.deep.equal([{ width: 320, height: 180 }, { width: 640, height: 360 }, { width: 1280, height: 720 }]);
      expect(posterSizes(1920, 1080).map((s) => s.width)).to.deep.equal([320, 640, 1280]);
      expect(posterSizes(720, 1280)).to.deep.equal([{ width: 320, height: 568 }, { width: 640, height: 1138 }]);
      expect(posterSizes(176, 144)).to.deep.equal([{ width: 176, height: 144 }]);
    });
  });

  describe('real files', function () {
    this.timeout(120_000);
    let dir: string;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'vod-poster-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    const posterOf = async (file: string, name: string) => {
      const source = await probeSource(file);
      const out = path.join(dir, name);
      const poster = await makePoster(
        { input: file, index: source.video!.index, durationSeconds: source.durationSeconds, displayWidth: source.video!.displayWidth, displayHeight: source.video!.displayHeight },
        out,
      );
      return { poster, out };
    };
    const dims = async (file: string) => {
      const { streams } = await ffprobeJson<{ streams: { width: number; height: number; codec_name: string; sample_aspect_ratio?: string }[] }>(file, ['-show_streams']);
      return streams[0]!;
    };

    it('the phone recording: JPEG and WebP at 320/640/1280, not a dark frame', async () => {
      const { poster, out } = await posterOf(media('hello-720p-h264-aac.mp4'), 'hello');
      expect(poster.images.map((i) => `${i.format}@${i.width}x${i.height}`)).to.deep.equal([
        'jpeg@320x180', 'webp@320x180', 'jpeg@640x360', 'webp@640x360', 'jpeg@1280x720', 'webp@1280x720',
      ]);
      for (const image of poster.images) {
        const file = path.join(out, image.path);
        const s = await dims(file);
        expect(s.codec_name).to.equal(image.format === 'jpeg' ? 'mjpeg' : 'webp');
        expect([s.width, s.height]).to.deep.equal([image.width, image.height]);
        expect(await meanLuma(file), image.path).to.be.above(POSTER_RULES.minMeanLuma);
      }
      expect(poster.cpuSeconds).to.be.greaterThan(0);
    });

    it('a video that fades in from black gets a frame with a picture, not the black start', async () => {
      const fade = path.join(dir, 'fade.mp4');
      // 10 s: 4 s of black, a 2 s fade in, then a test pattern.
      await ffmpegRun([
        '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15:duration=10', '-vf', 'fade=in:st=4:d=2',
        '-c:v', 'libx264', '-preset', 'ultrafast', fade,
      ]);
      const { poster, out } = await posterOf(fade, 'fade');
      expect(poster.atSeconds).to.be.at.least(5.5);
      expect(await meanLuma(path.join(out, poster.images[0]!.path))).to.be.above(POSTER_RULES.minMeanLuma);
    });

    it('a rotated source gets an upright (portrait) poster; an anamorphic one its display shape with square pixels', async () => {
      const rotated = path.join(dir, 'rotated.mp4');
      await ffmpegRun(['-i', media('visualizer-180p-h264-noaudio.mp4'), '-t', '3', '-c', 'copy', '-metadata:s:v', 'rotate=90', rotated]);
      const r = await posterOf(rotated, 'rotated');
      expect(r.poster.images.map((i) => [i.width, i.height])).to.deep.equal([[180, 320], [180, 320]]);
      const rs = await dims(path.join(r.out, r.poster.images[0]!.path));
      expect([rs.width, rs.height]).to.deep.equal([180, 320]);

      // 480x360 stored, 16:9 shown (SAR 4:3) → 640x360.
      const anamorphic = path.join(dir, 'anamorphic.mp4');
      await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc2=size=480x360:rate=15:duration=3', '-vf', 'setsar=4/3', '-c:v', 'libx264', '-preset', 'ultrafast', anamorphic]);
      const a = await posterOf(anamorphic, 'anamorphic');
      expect(a.poster.images.map((i) => [i.width, i.height])).to.deep.include([640, 360]);
      const as = await dims(path.join(a.out, a.poster.images.find((i) => i.width === 640)!.path));
      expect([as.width, as.height]).to.deep.equal([640, 360]);
      expect(as.sample_aspect_ratio ?? '1:1').to.be.oneOf(['1:1', '0:1']);
    });
  });
});
