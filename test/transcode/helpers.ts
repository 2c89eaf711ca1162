/** Shared helpers for the transcode tests: sample media paths and raw ffprobe/ffmpeg calls. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';


export { media } from '../support/media.js';

export const run = promisify(execFile);

/** ffprobe JSON for a file (`-show_entries` etc. passed through). */
export async function ffprobeJson<T = Record<string, unknown>>(file: string, args: string[]): Promise<T> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-of', 'json', ...args, file]);
  return JSON.parse(stdout) as T;
}

/** ffmpeg with -v error; rejects on failure. */
export async function ffmpegRun(args: string[]): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args]);
}

/** The error a promise rejects with; fails if it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}
