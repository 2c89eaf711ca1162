/**
 * Limits on what a source may ask of the encoders. An upload is hostile
 * input: a 4 KB Matroska file can declare ten hours of 1080p60, so what the
 * file declares is checked before any encoding starts, and a source over a
 * limit ends `failed` with the limit named.
 */
import { InvalidMediaError } from './errors.js';
import type { SourceInfo } from './probe.js';

export interface SourceLimits {
  /** Longest source, seconds. */
  maxDurationSeconds: number;
  /** Most pixels per frame (width × height as coded). */
  maxPixels: number;
  /** Highest frame rate, fps. */
  maxFrameRate: number;
}

/** 12 hours; 4096 × 2304 (4K UHD and DCI 4K fit); 120 fps. */
export const DEFAULT_SOURCE_LIMITS: SourceLimits = {
  maxDurationSeconds: 12 * 3600,
  maxPixels: 4096 * 2304,
  maxFrameRate: 120,
};

/** @throws InvalidMediaError naming the first limit the source is over. */
export function checkSourceLimits(source: SourceInfo, limits: SourceLimits = DEFAULT_SOURCE_LIMITS): void {
  if (source.durationSeconds > limits.maxDurationSeconds) {
    const limit = hours(limits.maxDurationSeconds);
    // Rounded to the minute a source just over the limit would read as the limit itself: say "more than".
    const length = hours(source.durationSeconds) === limit ? `more than ${limit}` : hours(source.durationSeconds);
    throw new InvalidMediaError(`The video is ${length} long; the limit is ${limit} (MAX_SOURCE_DURATION_SECONDS)`);
  }
  const v = source.video;
  if (!v) return;
  if (v.width * v.height > limits.maxPixels) {
    throw new InvalidMediaError(
      `The video is ${v.width}x${v.height} (${(v.width * v.height).toLocaleString('en')} pixels); the limit is ${limits.maxPixels.toLocaleString('en')} pixels per frame (MAX_SOURCE_PIXELS)`,
    );
  }
  if (v.frameRate > limits.maxFrameRate) {
    const shown = Math.round(v.frameRate * 100) / 100;
    const rate = shown > limits.maxFrameRate ? `${shown} fps` : `more than ${limits.maxFrameRate} fps`;
    throw new InvalidMediaError(`The video runs at ${rate}; the limit is ${limits.maxFrameRate} fps (MAX_SOURCE_FPS)`);
  }
}

/** A length in whole minutes, e.g. `12 h 00 min` (rounded once, so 7199 s is `2 h 00 min`, never `1 h 60 min`). */
function hours(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min`;
}
