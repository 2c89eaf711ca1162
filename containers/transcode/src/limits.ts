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
    throw new InvalidMediaError(
      `The video is ${hours(source.durationSeconds)} long; the limit is ${hours(limits.maxDurationSeconds)} (MAX_SOURCE_DURATION_SECONDS)`,
    );
  }
  const v = source.video;
  if (!v) return;
  if (v.width * v.height > limits.maxPixels) {
    throw new InvalidMediaError(
      `The video is ${v.width}x${v.height} (${(v.width * v.height).toLocaleString('en')} pixels); the limit is ${limits.maxPixels.toLocaleString('en')} pixels per frame (MAX_SOURCE_PIXELS)`,
    );
  }
  if (v.frameRate > limits.maxFrameRate) {
    throw new InvalidMediaError(`The video runs at ${Math.round(v.frameRate * 100) / 100} fps; the limit is ${limits.maxFrameRate} fps (MAX_SOURCE_FPS)`);
  }
}

function hours(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min`;
}
