/** The real recordings in ../shared/media (see its README), and ffprobe helpers. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SAMPLE_MEDIA_DIR, sampleMedia } from '../../local/sample-media.js';

export const MEDIA_DIR = SAMPLE_MEDIA_DIR;
export const media = sampleMedia;

const run = promisify(execFile);

/** ffprobe's streams for a file or URL; rejects if ffprobe cannot decode it. */
export async function probeStreams(input: string): Promise<Array<{ codec_type: string; codec_name: string; width?: number; height?: number }>> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,width,height', '-of', 'json', input]);
  return JSON.parse(stdout).streams;
}

/** Decodes every frame of `input` (ffmpeg -f null); rejects on any decode error. */
export async function decodeAll(input: string): Promise<void> {
  await run('ffmpeg', ['-v', 'error', '-xerror', '-i', input, '-f', 'null', '-']);
}
