/**
 * What splitting a source in time costs, counted in CPU instructions instead
 * of CPU-seconds: the same source and ladder encoded as a single pass and as
 * the default chunk plan, each ffmpeg run of the chunk tasks (the exact
 * command line `buildChunkArgs` makes) counted by valgrind's callgrind.
 *
 * Why: on this VM identical encodes differ by several per cent in
 * CPU-seconds (±7 % quiet, ±10 % beside other load), which is the size of
 * the overhead to measure (target ≤ 5 %). Instruction counts do not depend
 * on load: the same chunk counted twice differs by at most 0.2 % (measured:
 * 4.2572 / 4.2584 G and 0.8615 / 0.8598 G), so it may run beside other work. They do not weigh an instruction by
 * its cost (a decoder's instructions are slower than x264's vector code), so
 * CPU-seconds (`bench:chunk-overhead`) stay the figure a chunk records; this
 * one says where the difference comes from.
 *
 * Slow: valgrind runs ffmpeg ~50× slower on one core (a 180 s, 320×234 ladder:
 * about 20 minutes for both plans, two runs at a time). Needs `valgrind`
 * (`apt-get install valgrind`). Figures, not a test.
 *
 *   npm run bench:chunk-instructions -- FILE    (BENCH_JOBS=N: N runs at a time; default one per core)
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ChunkSpan } from '@vod/contract';
import { DEFAULT_CHUNK_PLAN, planChunks } from '../containers/transcode/src/chunk-plan.js';
import { buildChunkArgs } from '../containers/transcode/src/ffmpeg-args.js';
import { planLadder } from '../containers/transcode/src/ladder.js';
import { probeSource } from '../containers/transcode/src/probe.js';
import { DEFAULT_X264_PRESET, encodeSettings } from '../containers/transcode/src/tasks.js';

const run = promisify(execFile);
const file = path.resolve(process.argv[2] ?? '');
if (!process.argv[2]) throw new Error('usage: npm run bench:chunk-instructions -- FILE');
const jobs = Number(process.env.BENCH_JOBS ?? os.cpus().length);

const source = await probeSource(file);
if (!source.video) throw new Error(`${file} has no video`);
const renditions = planLadder(source.video);
const settings = encodeSettings(DEFAULT_CHUNK_PLAN, DEFAULT_X264_PRESET, null); // one preset for every chunk: like for like with the single pass
const picture = { index: source.video.index, interlaced: source.video.interlaced };
const segmented = planChunks(source.durationSeconds, DEFAULT_CHUNK_PLAN);
const single = planChunks(source.durationSeconds, { ...DEFAULT_CHUNK_PLAN, chunkSeconds: 1e9, firstChunkSeconds: 1e9 });

/** Instructions ffmpeg executes for `chunk` (all its threads), counted by callgrind. */
async function instructions(chunk: ChunkSpan): Promise<number> {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'vod-chunk-instr-'));
  try {
    for (const r of renditions) mkdirSync(path.join(outDir, r.name));
    const args = buildChunkArgs({ input: file, outDir, chunk, picture, renditions, settings });
    const argv = [...args.inputOptions, '-i', args.input, ...args.outputs.flatMap((o) => [...o.options, o.target])];
    const { stderr } = await run('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', 'ffmpeg', '-v', 'error', ...argv], { maxBuffer: 64 << 20 });
    const collected = /Collected : (\d+)/.exec(stderr);
    if (!collected) throw new Error(`no instruction count from callgrind:\n${stderr.slice(-2000)}`);
    return Number(collected[1]);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/** Runs `fn` over `items`, at most `limit` at a time (callgrind runs one thread; this machine has two cores). */
async function mapLimited<T, R>(items: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

const g = (n: number) => `${(n / 1e9).toFixed(2)} G`;
console.log(`source: ${file}, ${source.durationSeconds.toFixed(1)} s, ladder ${renditions.map((r) => r.name).join(' ')}, preset ${settings.preset}`);
console.log(`chunks: ${segmented.map((c) => `[${c.startSeconds}, ${c.endSeconds.toFixed(2)})`).join(' ')}`);
const counts = await mapLimited([...single, ...segmented], Math.max(1, jobs), instructions);
const one = counts[0]!;
const parts = counts.slice(1);
const total = parts.reduce((a, b) => a + b, 0);
console.log(`single pass: ${g(one)} instructions`);
console.log(`segmented:   ${g(total)} instructions (per chunk ${parts.map(g).join(', ')})`);
console.log(`overhead of segmenting, in instructions: ${((total / one - 1) * 100).toFixed(1)} % (target ≤ 5 %)`);
