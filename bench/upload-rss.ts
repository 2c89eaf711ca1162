/**
 * Memory of a big chunked upload through the local stack: uploads a file of
 * BENCH_UPLOAD_MIB (default 1024) MiB via the edge with the shared upload
 * client (4 parts in flight), and prints each process's peak RSS (VmHWM) and
 * the throughput. The upload service streams parts to S3, so its peak should
 * stay flat whatever the file size; the emulator holds multipart parts in
 * memory (about 2× the upload).
 *
 *   npx tsx bench/upload-rss.ts
 */
import { openAsBlob, closeSync, mkdtempSync, openSync, ftruncateSync, writeSync, rmSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { uploadFile } from '@vod/client';
import { startTemporaryStack as startStack } from '../local/stack.js';

const MiB = 1024 * 1024;
const sizeMiB = Number(process.env.BENCH_UPLOAD_MIB ?? 1024);

function memory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'vod-bench-'));
const file = path.join(dir, 'big.bin');
// A sparse file with a random head: the bytes' content does not matter for memory.
const fd = openSync(file, 'w');
ftruncateSync(fd, sizeMiB * MiB);
writeSync(fd, randomBytes(MiB), 0, MiB, 0);
closeSync(fd);

const stack = await startStack();
try {
  const pids = Object.fromEntries(['upload', 'edge', 'emulator'].map((n) => [n, stack.processes.get(n)!.pid!]));
  const before = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, memory(pid)]));
  const started = Date.now();
  const samples: Record<string, number> = {};
  const timer = setInterval(() => {
    for (const [n, pid] of Object.entries(pids)) samples[n] = Math.max(samples[n] ?? 0, memory(pid).rssMiB);
  }, 100);
  const blob = await openAsBlob(file);
  const result = await uploadFile({ baseUrl: stack.baseUrl, token: stack.token, file: blob, filename: 'big.bin', concurrency: 4 });
  clearInterval(timer);
  const seconds = (Date.now() - started) / 1000;
  console.log(`uploaded ${sizeMiB} MiB in ${seconds.toFixed(1)} s (${(sizeMiB / seconds).toFixed(1)} MiB/s), videoId ${result.videoId}`);
  console.log('process    RSS before   peak RSS during (VmHWM)');
  for (const [n, pid] of Object.entries(pids)) {
    const m = memory(pid);
    console.log(`${n.padEnd(10)} ${before[n].rssMiB.toFixed(0).padStart(7)} MiB   ${m.peakMiB.toFixed(0).padStart(7)} MiB (sampled max ${samples[n].toFixed(0)} MiB)`);
  }
} finally {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
}
