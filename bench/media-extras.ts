/**
 * What the extras of issue 10 add to a video's job, through the whole local
 * stack: the same source with DOWNLOAD_RENDITION=off … and with the defaults,
 * side by side — time from upload to playable and to ready, and the CPU-
 * and wall-seconds of each task kind (chunks, audio, poster, storyboard,
 * download) from the run's state. The I-frame playlists have no task of
 * their own: their cost is the keyframe scan inside each chunk task.
 * Figures, not a test.
 *
 *   npx tsx bench/media-extras.ts [SECONDS] [FILE]
 *
 * SECONDS (default 30) of synthetic 720p30 (testsrc2 + sine) unless FILE is given.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { RunStore, type RunState } from '../containers/transcode/src/run-store.js';
import { startTemporaryStack } from '../local/stack.js';
import { syntheticSource } from './synthetic-source.js';

const seconds = Number(process.argv[2] ?? 30);
const file = process.argv[3] ?? syntheticSource(seconds, 1280, 720, 4000);


interface Figures {
  label: string;
  playable: number;
  ready: number;
  cpuSeconds: number;
  tasks: Record<string, { cpu: number; wall: number }>;
}

async function measure(label: string, env: Record<string, string>): Promise<Figures> {
  const stack = await startTemporaryStack({ transcodeWorkers: 2, env: { LOG_LEVEL: 'warn', ...env } });
  try {
    const auth = { authorization: `Bearer ${stack.token}` };
    const form = new FormData();
    form.append('file', new Blob([readFileSync(file)]), path.basename(file));
    const { videoId } = (await (await fetch(`${stack.baseUrl}/api/videos`, { method: 'POST', headers: auth, body: form })).json()) as { videoId: string };
    const t0 = performance.now();
    let playable = NaN;
    let rec: Record<string, any>;
    for (;;) {
      rec = (await (await fetch(`${stack.baseUrl}/api/videos/${videoId}`, { headers: auth })).json()) as Record<string, any>;
      if (Number.isNaN(playable) && rec.playable) playable = (performance.now() - t0) / 1000;
      if (rec.status === 'ready' || rec.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (rec.status !== 'ready') throw new Error(`${label}: ${rec.error}`);
    const ready = (performance.now() - t0) / 1000;
    const env2 = stack.serviceEnv;
    const s3 = new S3Client({ region: env2.AWS_REGION, endpoint: env2.AWS_ENDPOINT_URL, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const state: RunState = await new RunStore(s3, env2.MEDIA_BUCKET!).state(videoId, 1);
    const add = (into: Record<string, { cpu: number; wall: number }>, k: string, c?: { cpuSeconds: number; wallSeconds: number }) => {
      if (!c) return;
      into[k] = { cpu: (into[k]?.cpu ?? 0) + c.cpuSeconds, wall: (into[k]?.wall ?? 0) + c.wallSeconds };
    };
    const tasks: Record<string, { cpu: number; wall: number }> = {};
    for (const c of Object.values(state.chunks)) add(tasks, 'chunks', c.cost);
    add(tasks, 'audio', state.audio?.cost);
    add(tasks, 'poster', state.poster?.cost);
    add(tasks, 'storyboard', state.storyboard?.cost);
    add(tasks, 'download', state.download?.cost);
    return { label, playable, ready, cpuSeconds: rec.cpuSeconds, tasks };
  } finally {
    await stack.stop();
  }
}

const without = await measure('download off', { DOWNLOAD_RENDITION: 'off' });
const withAll = await measure('defaults', {});
const f = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(2));
console.log(`source: ${path.basename(file)} (${seconds} s), 2 worker processes, ${os.cpus().length} cores`);
console.log(`${'run'.padEnd(14)} ${'playable s'.padStart(10)} ${'ready s'.padStart(8)} ${'CPU-s'.padStart(7)}`);
for (const r of [without, withAll]) console.log(`${r.label.padEnd(14)} ${f(r.playable).padStart(10)} ${f(r.ready).padStart(8)} ${f(r.cpuSeconds).padStart(7)}`);
console.log(`\n${'task'.padEnd(12)} ${'CPU-s (off)'.padStart(12)} ${'wall s (off)'.padStart(13)} ${'CPU-s (defaults)'.padStart(17)} ${'wall s (defaults)'.padStart(18)}`);
for (const k of ['chunks', 'audio', 'poster', 'storyboard', 'download']) {
  console.log(`${k.padEnd(12)} ${f(without.tasks[k]?.cpu).padStart(12)} ${f(without.tasks[k]?.wall).padStart(13)} ${f(withAll.tasks[k]?.cpu).padStart(17)} ${f(withAll.tasks[k]?.wall).padStart(18)}`);
}
