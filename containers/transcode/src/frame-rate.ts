/**
 * Exact frame rates. Chunk boundaries, trims and forced keyframes are frame
 * numbers on each rendition's own frame grid (frame n shows at n·den/num s),
 * so they are computed with integers, never with rounded seconds.
 */
import type { FrameRate } from '@vod/contract';

/** 29.97… → 30000/1001, 25 → 25/1, 12.345 → 12345/1000. */
export function toFrameRate(fps: number): FrameRate {
  if (!(fps > 0)) throw new RangeError(`Frame rate must be positive (got ${fps})`);
  if (Math.abs(fps - Math.round(fps)) < 1e-6) return { num: Math.round(fps), den: 1 };
  const ntsc = Math.round(fps * 1.001);
  if (Math.abs(fps - (ntsc * 1000) / 1001) < 1e-6) return { num: ntsc * 1000, den: 1001 };
  return { num: Math.round(fps * 1000), den: 1000 };
}

export function fps(rate: FrameRate): number {
  return rate.num / rate.den;
}

/** The ffmpeg `fps` filter argument, `num/den`. */
export function frameRateArg(rate: FrameRate): string {
  return rate.den === 1 ? String(rate.num) : `${rate.num}/${rate.den}`;
}

/** The first frame at or after `seconds` (a whole number): ceil(seconds · num / den). */
export function firstFrameAtOrAfter(seconds: number, rate: FrameRate): number {
  if (!Number.isInteger(seconds) || seconds < 0) throw new RangeError(`Boundary must be whole seconds ≥ 0 (got ${seconds})`);
  return Math.ceil((seconds * rate.num) / rate.den);
}

/** When frame `n` shows, seconds, with enough digits that ffmpeg rounds it back to frame `n`. */
export function frameTime(n: number, rate: FrameRate): string {
  return ((n * rate.den) / rate.num).toFixed(6);
}
