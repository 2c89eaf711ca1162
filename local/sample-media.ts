/** The real recordings in ../shared/media beside the checkout (see its README), used by tests, benchmarks and the README's examples. */
import path from 'node:path';
import { REPO_ROOT } from './stack.js';

export const SAMPLE_MEDIA_DIR = path.resolve(REPO_ROOT, '../shared/media');

/** Absolute path of a sample file, e.g. `sampleMedia('hello-720p-h264-aac.mp4')`. */
export const sampleMedia = (name: string) => path.join(SAMPLE_MEDIA_DIR, name);
