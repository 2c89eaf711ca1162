/** Shared helpers for the transcode tests: sample media paths, raw ffprobe/ffmpeg calls, a whole-file encode. */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_LADDER, type LadderRung, type RunPlan } from '@vod/contract';
import { DEFAULT_CHUNK_PLAN, planChunks } from '../../containers/transcode/src/chunk-plan.js';
import { runCost } from '../../containers/transcode/src/coordinator.js';
import { encodeAudio, encodeChunk } from '../../containers/transcode/src/encode.js';
import { planLadder } from '../../containers/transcode/src/ladder.js';
import { probeSource } from '../../containers/transcode/src/probe.js';
import type { RunState } from '../../containers/transcode/src/run-store.js';
import { runView, stitch } from '../../containers/transcode/src/stitch.js';


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

/**
 * A whole file through the same pieces the fleet runs, on this machine: probe,
 * ladder, chunk plan, the audio task and every chunk task (one after the
 * other), then the stitched final playlists written next to the segments.
 * `chunkSeconds: Infinity` is the single-pass baseline (one chunk).
 */
export async function encodeFile(file: string, opts: { chunkSeconds?: number; firstChunkSeconds?: number; preset?: string; ladder?: readonly LadderRung[] } = {}) {
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'vod-encode-'));
  const source = await probeSource(file);
  const renditions = source.video ? planLadder(source.video, opts.ladder ?? DEFAULT_LADDER) : [];
  const chunkSeconds = opts.chunkSeconds ?? DEFAULT_CHUNK_PLAN.chunkSeconds;
  const chunkPlan = {
    ...DEFAULT_CHUNK_PLAN,
    chunkSeconds: Number.isFinite(chunkSeconds) ? chunkSeconds : 1e9,
    firstChunkSeconds: opts.firstChunkSeconds ?? DEFAULT_CHUNK_PLAN.firstChunkSeconds,
  };
  const settings = { segmentSeconds: chunkPlan.segmentSeconds, keyframeSeconds: 2, preset: opts.preset ?? 'veryfast' };
  const plan: RunPlan = {
    durationSeconds: source.durationSeconds,
    chunks: source.video ? planChunks(source.durationSeconds, chunkPlan) : [],
    renditions,
    audio: source.audio ? { channels: 2, language: source.audio.language } : undefined,
    settings,
  };
  const state: RunState = { chunks: {}, progress: {}, publishedChunks: 0 };
  const progress: number[] = [];
  const started = Date.now();
  if (source.audio) {
    const a = await encodeAudio({ input: file, outDir, index: source.audio.index, endSeconds: source.durationSeconds + chunkPlan.endMarginSeconds, settings });
    state.audio = { ...a, attempt: 1 };
  }
  for (const chunk of plan.chunks) {
    const out = await encodeChunk({
      input: file,
      outDir,
      chunk,
      picture: { index: source.video!.index, interlaced: source.video!.interlaced },
      renditions,
      settings,
      onProgress: (p) => progress.push(p),
    });
    state.chunks[chunk.index] = { ...out, attempt: 1 };
  }
  const stitched = stitch(plan, state, runView(plan, state).usableChunks, true);
  for (const [rel, text] of stitched.files) await writeFile(path.join(outDir, rel), text);
  const cpuSeconds = runCost(state, 0).cpuSeconds;
  return { outDir, source, renditions, plan, state, stitched, progress, cpuSeconds, ms: Date.now() - started };
}
