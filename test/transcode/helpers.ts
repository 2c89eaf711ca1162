/** Shared helpers for the transcode tests: sample media paths and raw ffprobe/ffmpeg calls. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A file from the shared sample media directory (see ../shared/media/README.md). */
export const media = (name: string) => path.resolve(repoRoot, '../shared/media', name);

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
