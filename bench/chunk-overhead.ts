/**
 * What splitting a source in time costs in CPU, the encodes alone: the same
 * source and ladder encoded
 * - as a single pass (the plan with one chunk, run as the worker runs a first
 *   chunk: `encodeChunkInParallel`), and
 * - as the default chunk plan, each chunk its own ffmpeg run as the worker
 *   runs it (the first chunk over two processes, the rest in one),
 * one run after another, nothing else running: no stack, no queue, no
 * concurrent tasks. What differs is only what a chunk costs by being a chunk
 * (an ffmpeg start and five x264 starts, the decode context either side, the
 * decode from the source's keyframe before the chunk's start).
 *
 * CPU-seconds are ffmpeg's own (`-benchmark`: user + system), the figure a
 * chunk records. They vary by several per cent between identical runs on this
 * VM (and by up to ±10 % beside other load), so the two are interleaved
 * (single, segmented, single, …) and every repeat is printed with the spread.
 * `bench/segmented.ts` measures the same through the whole stack, where
 * concurrent tasks on shared cores add to each figure. Figures, not a test.
 *
 *   npm run bench:chunk-overhead -- [FILE] [REPEATS]
 *
 * FILE defaults to 180 s of synthetic 1080p30 (bench/synthetic-source.ts), REPEATS to 2.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CHUNK_PLAN, planChunks } from '../containers/transcode/src/chunk-plan.js';
import { encodeChunk, encodeChunkInParallel, type ChunkOutput } from '../containers/transcode/src/encode.js';
import { planLadder } from '../containers/transcode/src/ladder.js';
import { probeSource } from '../containers/transcode/src/probe.js';
import { DEFAULT_FIRST_CHUNK_PROCESSES, DEFAULT_X264_PRESET, encodeSettings } from '../containers/transcode/src/tasks.js';
import { syntheticSource } from './synthetic-source.js';

const file = path.resolve(process.argv[2] || syntheticSource(180, 1920, 1080, 8000));
const repeats = Number(process.argv[3] ?? 2);

const source = await probeSource(file);
if (!source.video) throw new Error(`${file} has no video`);
const renditions = planLadder(source.video);
const settings = encodeSettings(DEFAULT_CHUNK_PLAN, DEFAULT_X264_PRESET, null); // one preset for every chunk: like for like with the single pass
const picture = { index: source.video.index, interlaced: source.video.interlaced }; // as runPlanTask builds it
const segmented = planChunks(source.durationSeconds, DEFAULT_CHUNK_PLAN);
const single = planChunks(source.durationSeconds, { ...DEFAULT_CHUNK_PLAN, chunkSeconds: 1e9, firstChunkSeconds: 1e9 });

/** Encodes `chunks` one after another as the worker would; CPU-seconds and wall seconds in all. */
async function encodeAll(chunks: typeof segmented): Promise<{ cpu: number; wall: number; perChunk: number[] }> {
  const perChunk: number[] = [];
  let wall = 0;
  for (const chunk of chunks) {
    const outDir = mkdtempSync(path.join(os.tmpdir(), 'vod-chunk-overhead-'));
    try {
      const opts = { input: file, outDir, chunk, picture, renditions, settings };
      const started = performance.now();
      const out: ChunkOutput = chunk.index === 0 ? await encodeChunkInParallel(opts, DEFAULT_FIRST_CHUNK_PROCESSES) : await encodeChunk(opts);
      wall += (performance.now() - started) / 1000;
      perChunk.push(out.cost.cpuSeconds);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  }
  return { cpu: perChunk.reduce((a, b) => a + b, 0), wall, perChunk };
}

const f = (x: number, d = 1) => x.toFixed(d);
console.log(`source: ${file}, ${f(source.durationSeconds)} s, ladder ${renditions.map((r) => r.name).join(' ')}, preset ${settings.preset}, ${os.cpus().length} cores, load ${os.loadavg().map((l) => f(l)).join(' ')}`);
console.log(`chunks: ${segmented.map((c) => `[${c.startSeconds}, ${f(c.endSeconds, 2)})`).join(' ')}`);
const overheads: number[] = [];
for (let i = 1; i <= repeats; i++) {
  const a = await encodeAll(single);
  const b = await encodeAll(segmented);
  overheads.push(b.cpu / a.cpu - 1);
  console.log(
    `repeat ${i}: single pass ${f(a.cpu)} CPU-s (${f(a.wall)} s wall)   segmented ${f(b.cpu)} CPU-s (${f(b.wall)} s wall; per chunk ${b.perChunk.map((c) => f(c, 2)).join(' ')})   overhead ${f(overheads.at(-1)! * 100)} %   load ${f(os.loadavg()[0]!)}`,
  );
}
const mean = overheads.reduce((a, b) => a + b, 0) / overheads.length;
// Identical runs differ by several per cent on this VM, so a mean of a few repeats says little without its
// uncertainty: a 95 % confidence interval of the mean (Student's t, two-sided; n − 1 degrees of freedom).
const sd = Math.sqrt(overheads.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, overheads.length - 1));
const half = overheads.length > 1 ? tQuantile975(overheads.length - 1) * (sd / Math.sqrt(overheads.length)) : NaN;
console.log(
  `overhead of segmenting, ${repeats} interleaved repeat(s): mean ${f(mean * 100)} % ± ${f(half * 100)} (95 % CI), ` +
    `range ${f(Math.min(...overheads) * 100)} … ${f(Math.max(...overheads) * 100)} % (target ≤ 5 %)`,
);

/** The 0.975 quantile of Student's t with `df` degrees of freedom (tables; 1.96 from 30 on). */
function tQuantile975(df: number): number {
  const table = [12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.2, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.1, 2.09, 2.09, 2.08, 2.07, 2.07, 2.06, 2.06, 2.06, 2.05, 2.05, 2.05];
  return table[df - 1] ?? 1.96;
}
