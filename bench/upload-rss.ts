/**
 * Throughput and memory of a big chunked upload through the local stack,
 * against its floor, in one run:
 * - direct: `@aws-sdk/lib-storage` multipart upload of the file straight to
 *   the S3 emulator (the same endpoint the upload service writes to), with the
 *   session's part size and 4 parts in flight;
 * - API (part URLs): the same file with the shared upload client, as the CLI
 *   and the web app upload: for each part, a presigned URL from the API (via
 *   the edge), the bytes straight to S3, the ETag recorded through the API;
 *   4 parts in flight;
 * - API (through the service): the same file PUT part by part through the
 *   edge and the upload service (`PUT /api/uploads/:id/parts/:n`, the route
 *   for clients that cannot reach storage), 4 parts in flight.
 * Prints the throughputs, each API path's ratio to direct (target ≥ 0.9×),
 * CPU-seconds per process, and each process's peak RSS (VmHWM) and the
 * sampled maximum during the API uploads (target: upload service ≤ 150 MiB).
 * The upload service streams parts to S3, so its peak should stay flat
 * whatever the file size; the emulator holds multipart parts in memory (about
 * 2× the upload). The transcode workers are stopped first: the random file is
 * not media, and their work would compete for the same cores.
 *
 *   npm run bench:upload           (BENCH_UPLOAD_MIB, default 1024; BENCH_ROUNDS, default 3; BENCH_UPLOAD_ENV)
 */
import { openAsBlob, closeSync, mkdtempSync, openSync, ftruncateSync, writeSync, rmSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { createReadStream } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { uploadFile } from '@vod/client';
import { API, apiPath, type CreatedUpload } from '@vod/contract';
import { startTemporaryStack as startStack } from '../local/stack.js';

const MiB = 1024 * 1024;
const sizeMiB = Number(process.env.BENCH_UPLOAD_MIB ?? 1024);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const PARTS_IN_FLIGHT = 4;

function memory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
}

/** CPU-seconds (user + system) a process has used so far (/proc/PID/stat fields 14–15, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'vod-bench-'));
const file = path.join(dir, 'big.bin');
// A sparse file with a random head: the bytes' content does not matter for memory.
const fd = openSync(file, 'w');
ftruncateSync(fd, sizeMiB * MiB);
writeSync(fd, randomBytes(MiB), 0, MiB, 0);
closeSync(fd);

// BENCH_UPLOAD_ENV: extra environment for the upload service, as JSON (to compare settings).
const stack = await startStack({ partEnv: { upload: JSON.parse(process.env.BENCH_UPLOAD_ENV ?? '{}') as Record<string, string> } });
try {
  for (const w of stack.workers) await stack.stopPart(w);
  const env = stack.serviceEnv;
  const s3 = new S3Client({
    region: env.AWS_REGION,
    endpoint: stack.emulatorEndpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
  const pids = Object.fromEntries(['upload', 'edge', 'emulator'].map((n) => [n, stack.processes.get(n)!.pid!]));
  const before = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, memory(pid)]));
  /** Sampled maximum RSS (MiB) by API path, then process. */
  const samples: Record<'urls' | 'service', Record<string, number>> = { urls: {}, service: {} };
  let partSize = 0;

  /** The floor: lib-storage straight to the emulator, same part size and parallelism. */
  const direct = async (round: number): Promise<number> => {
    const started = Date.now();
    await new Upload({
      client: s3,
      params: { Bucket: env.UPLOADS_BUCKET, Key: `bench/direct-${round}`, Body: createReadStream(file) },
      partSize,
      queueSize: PARTS_IN_FLIGHT,
    }).done();
    return sizeMiB / ((Date.now() - started) / 1000);
  };

  const sampled = async (path: 'urls' | 'service', fn: () => Promise<void>): Promise<number> => {
    const timer = setInterval(() => {
      for (const [n, pid] of Object.entries(pids)) samples[path][n] = Math.max(samples[path][n] ?? 0, memory(pid).rssMiB);
    }, 100);
    const started = Date.now();
    try {
      await fn();
    } finally {
      clearInterval(timer);
    }
    return sizeMiB / ((Date.now() - started) / 1000);
  };

  /** The shared client (CLI, web app): part URLs from the API, bytes straight to S3. */
  const viaPartUrls = () =>
    sampled('urls', async () => {
      const blob = await openAsBlob(file);
      await uploadFile({ baseUrl: stack.baseUrl, token: stack.token, file: blob, filename: 'big.bin', concurrency: PARTS_IN_FLIGHT });
    });

  /** Every part's bytes through the edge and the upload service (`PUT …/parts/:n`), then complete. */
  const throughService = () =>
    sampled('service', async () => {
      const auth = { authorization: `Bearer ${stack.token}` };
      const api = (path: string) => `${stack.baseUrl}${path}`;
      const created = (await (
        await fetch(api(apiPath(API.createUpload)), {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ filename: 'big.bin', size: sizeMiB * MiB }),
        })
      ).json()) as CreatedUpload;
      const blob = await openAsBlob(file);
      let next = 1;
      const worker = async () => {
        while (next <= created.partCount) {
          const n = next++;
          const res = await fetch(api(apiPath(API.putPart, { uploadId: created.uploadId, partNumber: n })), {
            method: 'PUT',
            headers: { ...auth, 'content-type': 'application/octet-stream' },
            body: blob.slice((n - 1) * created.partSize, Math.min(n * created.partSize, blob.size)),
          });
          if (!res.ok) throw new Error(`part ${n}: ${res.status} ${await res.text()}`);
          await res.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: PARTS_IN_FLIGHT }, worker));
      const done = await fetch(api(apiPath(API.completeUpload, { uploadId: created.uploadId })), { method: 'POST', headers: auth });
      if (!done.ok) throw new Error(`complete: ${done.status} ${await done.text()}`);
    });

  // The upload service decides the part size: learn it from a session for the same size.
  const probe = await (
    await fetch(`${stack.baseUrl}/api/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'probe.bin', size: sizeMiB * MiB }),
    })
  ).json() as { uploadId: string; partSize: number };
  partSize = probe.partSize;
  await fetch(`${stack.baseUrl}/api/uploads/${probe.uploadId}`, { method: 'DELETE', headers: { authorization: `Bearer ${stack.token}` } });

  console.log(`${sizeMiB} MiB, part size ${partSize / MiB} MiB, ${PARTS_IN_FLIGHT} parts in flight, ${rounds} round(s), each path first in turn; machine load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const ratios = { urls: [] as number[], service: [] as number[] };
  const cpu = { direct: {} as Record<string, number>, urls: {} as Record<string, number>, service: {} as Record<string, number> };
  const measureCpu = async <T>(into: Record<string, number>, fn: () => Promise<T>): Promise<T> => {
    const at = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuSeconds(pid)]));
    const self = process.cpuUsage();
    const out = await fn();
    for (const [n, pid] of Object.entries(pids)) into[n] = (into[n] ?? 0) + cpuSeconds(pid) - at[n]!;
    const used = process.cpuUsage(self);
    into.bench = (into.bench ?? 0) + (used.user + used.system) / 1e6;
    return out;
  };
  // Warm-up, not measured: the first multipart upload a fresh emulator takes runs slower
  // (its JIT and heap), and would count against whichever path went first.
  await new Upload({ client: s3, params: { Bucket: env.UPLOADS_BUCKET, Key: 'bench/warm-up', Body: Buffer.alloc(4 * partSize) }, partSize, queueSize: PARTS_IN_FLIGHT }).done();
  for (let round = 1; round <= rounds; round++) {
    // Each path goes first in turn: the emulator's heap after a 1 GiB upload slows the next one a little.
    const runs = [
      { key: 'd', run: () => measureCpu(cpu.direct, () => direct(round)) },
      { key: 'u', run: () => measureCpu(cpu.urls, () => viaPartUrls()) },
      { key: 't', run: () => measureCpu(cpu.service, () => throughService()) },
    ];
    const order = [...runs.slice((round - 1) % 3), ...runs.slice(0, (round - 1) % 3)];
    const got: Record<string, number> = {};
    for (const r of order) got[r.key] = await r.run();
    const { d, u, t } = got as { d: number; u: number; t: number };
    ratios.urls.push(u / d);
    ratios.service.push(t / d);
    console.log(
      `round ${round}: direct lib-storage ${d.toFixed(1)} MiB/s   API, part URLs ${u.toFixed(1)} MiB/s (${(u / d).toFixed(2)}×, target ≥ 0.90×)   ` +
        `API, through the upload service ${t.toFixed(1)} MiB/s (${(t / d).toFixed(2)}×)`,
    );
  }
  const mean = (xs: number[]) => (xs.reduce((x, y) => x + y, 0) / xs.length).toFixed(2);
  if (rounds > 1) console.log(`mean ratio: part URLs ${mean(ratios.urls)}×, through the upload service ${mean(ratios.service)}×`);
  const cpuLine = (c: Record<string, number>) =>
    ['bench', ...Object.keys(pids)].map((n) => `${n === 'bench' ? 'client (this process)' : n} ${(c[n] ?? 0).toFixed(1)}`).join(', ');
  console.log(`CPU-seconds, direct:                  ${cpuLine(cpu.direct)}`);
  console.log(`CPU-seconds, API part URLs:           ${cpuLine(cpu.urls)}`);
  console.log(`CPU-seconds, through upload service:  ${cpuLine(cpu.service)}`);
  console.log('process    RSS before   peak RSS (VmHWM, whole run)   sampled max: API part URLs / through the upload service');
  for (const [n, pid] of Object.entries(pids)) {
    const m = memory(pid);
    const max = (path: 'urls' | 'service') => `${samples[path][n]!.toFixed(0).padStart(5)} MiB`;
    console.log(
      `${n.padEnd(10)} ${before[n].rssMiB.toFixed(0).padStart(7)} MiB   ${m.peakMiB.toFixed(0).padStart(7)} MiB                     ${max('urls')} / ${max('service')}${n === 'upload' ? '  (target ≤ 150 MiB)' : ''}`,
    );
  }
  s3.destroy();
} finally {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
}
