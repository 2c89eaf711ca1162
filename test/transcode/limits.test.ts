/**
 * Source limits (limits.ts) on pixels per frame and frame rate. The worker
 * test covers the duration limit end to end; these are the other two checks,
 * as rules on what probeSource returns (no ffprobe): over a limit the source
 * fails with a message the uploader can read, naming the limit and the
 * setting that raises it; exactly at a limit it passes; and the defaults are
 * the ones the README's configuration table promises.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { InvalidMediaError } from '../../containers/transcode/src/errors.js';
import { DEFAULT_SOURCE_LIMITS, checkSourceLimits } from '../../containers/transcode/src/limits.js';
import type { SourceInfo } from '../../containers/transcode/src/probe.js';

/** A probed source as probeSource returns it: a 1080p30 H.264 picture of `durationSeconds`, with stereo AAC. */
const source = ({ width = 1920, height = 1080, frameRate = 30 } = {}, durationSeconds = 60): SourceInfo => ({
  durationSeconds,
  formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
  video: { index: 0, width, height, displayWidth: width, displayHeight: height, rotation: 0, frameRate, codec: 'h264' },
  audio: { index: 1, codec: 'aac', channels: 2, sampleRate: 48_000 },
  textTracks: [],
});

/** The error checkSourceLimits throws for `info` (fails the test if it throws none). */
const refusal = (info: SourceInfo, limits = DEFAULT_SOURCE_LIMITS): InvalidMediaError => {
  try {
    checkSourceLimits(info, limits);
  } catch (err) {
    // InvalidMediaError is what makes the worker fail the video at once (permanent) instead of retrying it.
    expect(err).to.be.instanceOf(InvalidMediaError);
    return err as InvalidMediaError;
  }
  expect.fail(`checkSourceLimits accepted ${JSON.stringify(info.video)}`);
};

describe('transcode/limits: pixels and frame rate', () => {
  it('a source with more pixels per frame than the limit fails, its size and the limit in words', () => {
    // One column wider than 4096 × 2304: 2,304 pixels over.
    const err = refusal(source({ width: 4097, height: 2304 }));
    expect(err.message).to.equal(
      'The video is 4097x2304 (9,439,488 pixels); the limit is 9,437,184 pixels per frame (MAX_SOURCE_PIXELS)',
    );
  });

  it('the pixel limit is on width × height, so a portrait source of the same area is treated alike', () => {
    // 2304 × 4097 is the rotated 4097 × 2304: neither side alone is over anything.
    expect(refusal(source({ width: 2304, height: 4097 })).message).to.equal(
      'The video is 2304x4097 (9,439,488 pixels); the limit is 9,437,184 pixels per frame (MAX_SOURCE_PIXELS)',
    );
  });

  it('a source faster than the frame-rate limit fails, its rate and the limit in words', () => {
    const err = refusal(source({ frameRate: 240 }));
    expect(err.message).to.equal('The video runs at 240 fps; the limit is 120 fps (MAX_SOURCE_FPS)');
    // A fractional rate just over (NTSC-style 120.5) is shown as a person would read it, not 120.49999….
    expect(refusal(source({ frameRate: 241 / 2 })).message).to.equal('The video runs at 120.5 fps; the limit is 120 fps (MAX_SOURCE_FPS)');
  });

  it('a source just over a limit never reads as the limit itself: "more than", and whole minutes rounded once', () => {
    // 120.004 fps shown to two decimals is 120; 12 h 00 min 20 s shown to the minute is 12 h 00 min.
    expect(refusal(source({ frameRate: 120.004 })).message).to.equal('The video runs at more than 120 fps; the limit is 120 fps (MAX_SOURCE_FPS)');
    expect(refusal(source({}, 12 * 3600 + 20)).message).to.equal('The video is more than 12 h 00 min long; the limit is 12 h 00 min (MAX_SOURCE_DURATION_SECONDS)');
    // Clearly over: the value itself. 7199 s rounds to 2 h 00 min, not "1 h 60 min".
    expect(refusal(source({}, 7199), { ...DEFAULT_SOURCE_LIMITS, maxDurationSeconds: 3600 }).message).to.equal(
      'The video is 2 h 00 min long; the limit is 1 h 00 min (MAX_SOURCE_DURATION_SECONDS)',
    );
  });

  it("limits set lower (the worker's MAX_SOURCE_PIXELS, MAX_SOURCE_FPS) refuse what the defaults allow", () => {
    // The same 1080p60 source: fine by default, over MAX_SOURCE_PIXELS = 720p's area and over MAX_SOURCE_FPS = 30.
    const p1080at60 = source({ frameRate: 60 });
    expect(() => checkSourceLimits(p1080at60)).not.to.throw();
    expect(refusal(p1080at60, { ...DEFAULT_SOURCE_LIMITS, maxPixels: 1280 * 720 }).message).to.contain('the limit is 921,600 pixels per frame (MAX_SOURCE_PIXELS)');
    expect(refusal(p1080at60, { ...DEFAULT_SOURCE_LIMITS, maxFrameRate: 30 }).message).to.contain('the limit is 30 fps (MAX_SOURCE_FPS)');
  });

  it('sources exactly at the limits pass: 4096 × 2304, DCI 4K, 4K UHD, 120 fps, 12 h', () => {
    // "Over a limit" fails; at the limit is allowed (> not ≥), for each limit and all of them at once.
    const atEveryLimit = source({ width: 4096, height: 2304, frameRate: 120 }, 12 * 3600);
    expect(() => checkSourceLimits(atEveryLimit)).not.to.throw();
    expect(() => checkSourceLimits(source({ width: 4096, height: 2160, frameRate: 24 }))).not.to.throw();
    expect(() => checkSourceLimits(source({ width: 3840, height: 2160, frameRate: 120 }))).not.to.throw();
    // 119.88 fps (120000/1001) is under 120.
    expect(() => checkSourceLimits(source({ frameRate: 120_000 / 1001 }))).not.to.throw();
    // Custom limits too: exactly at them passes.
    expect(() => checkSourceLimits(source({ width: 1280, height: 720, frameRate: 30 }), { maxDurationSeconds: 60, maxPixels: 1280 * 720, maxFrameRate: 30 })).not.to.throw();
  });

  it('an audio-only source has no picture to limit', () => {
    const audioOnly: SourceInfo = { ...source(), video: undefined };
    expect(() => checkSourceLimits(audioOnly, { ...DEFAULT_SOURCE_LIMITS, maxPixels: 1, maxFrameRate: 1 })).not.to.throw();
  });

  it('the defaults are the README\'s: 12 h, 4096 × 2304 = 9,437,184 pixels, 120 fps', () => {
    expect(DEFAULT_SOURCE_LIMITS).to.deep.equal({ maxDurationSeconds: 12 * 3600, maxPixels: 9_437_184, maxFrameRate: 120 });
    // The configuration table's row for the three settings states the same numbers (a change to either must change both).
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const row = readme.split('\n').find((l) => l.startsWith('| `MAX_SOURCE_DURATION_SECONDS`'));
    expect(row, 'README configuration row for MAX_SOURCE_*').to.be.a('string');
    expect(row).to.contain('`MAX_SOURCE_PIXELS`').and.contain('`MAX_SOURCE_FPS`');
    const m = /\((\d+) h; (\d+) × (\d+) = ([\d,]+) pixels\b.*?; (\d+) fps\)/.exec(row!);
    expect(m, `README row does not state the limits as "(N h; W × H = P pixels…; F fps)": ${row}`).to.not.equal(null);
    const [, h, w, ht, pixels, fps] = m!;
    expect(Number(h) * 3600).to.equal(DEFAULT_SOURCE_LIMITS.maxDurationSeconds);
    expect(Number(w) * Number(ht)).to.equal(DEFAULT_SOURCE_LIMITS.maxPixels);
    expect(Number(pixels!.replace(/,/g, ''))).to.equal(DEFAULT_SOURCE_LIMITS.maxPixels);
    expect(Number(fps)).to.equal(DEFAULT_SOURCE_LIMITS.maxFrameRate);
  });
});
