/**
 * Signed playlist serving against its floor: the stream service (its real
 * `createApp`, JSON access log on a pipe, origin secret checked) answering a
 * signed master playlist request, next to a bare `node:http` server returning
 * the same bytes, both loaded by autocannon in the same run (64 connections,
 * 127.0.0.1). Each server runs in its own process; this process runs the S3
 * emulator (read only on the first, uncached request) and autocannon. Rounds
 * alternate bare/stream so background load hits both alike. Figures, not a test.
 *
 *   npm run bench:playlist            (or: npx tsx bench/playlist-serving.ts [SECONDS] [ROUNDS])
 *
 * Also printed: each server's CPU per request (from /proc), a capacity ratio
 * that other processes on the machine do not skew.
 *
 * Target (issue 9): stream ≥ 0.7× bare req/s, stream p99 < 10 ms.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import autocannon from 'autocannon';
import { keys } from '@vod/contract';
import { StatusStore, createLogger } from '@vod/service-kit';
import { createApp } from '../containers/stream/src/app.js';
import { createVideoUrlSigner } from '../containers/stream/src/url-signer.js';
import { makeKeyPair } from '../test/stream/support.js';
import { startTestAws } from '../test/support/emulator.js';

const VIDEO = 'abcdefabcdefabcdef01';
const PUBLIC = 'http://127.0.0.1:8080';
const ORIGIN_SECRET = 'bench-origin-secret-0123456789abcdef0123456789';
const CONNECTIONS = 64;

/** A master playlist as the coordinator writes it (three renditions and the audio group). */
const MASTER = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="audio/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=6628000,AVERAGE-BANDWIDTH=6128000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1920x1080,FRAME-RATE=30.000,AUDIO="audio"
1080p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2628000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=30.000,AUDIO="audio"
720p/index.m3u8
`;

type Role = { role: 'stream'; s3Endpoint: string } | { role: 'bare'; body: string; contentType: string };

/** Child process: one server, its port sent to the parent. */
async function serve(role: Role): Promise<void> {
  let server: http.Server;
  if (role.role === 'bare') {
    const body = Buffer.from(role.body);
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': role.contentType, 'Content-Length': body.length });
      res.end(body);
    });
    server.listen(0, '127.0.0.1');
  } else {
    process.env.AWS_ENDPOINT_URL = role.s3Endpoint;
    const { S3Client } = await import('@aws-sdk/client-s3');
    const s3 = new S3Client({ region: 'us-east-1', endpoint: role.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const kp = JSON.parse(process.env.BENCH_KEY_PAIR!) as { keyPairId: string; privateKey: string };
    const signer = createVideoUrlSigner({ publicBaseUrl: PUBLIC, keyPairId: kp.keyPairId, privateKey: kp.privateKey, ttlSeconds: 14_400 });
    const app = createApp({
      s3,
      mediaBucket: 'vod-media',
      uploadsBucket: 'vod-uploads',
      signer,
      logger: createLogger('stream', process.env.BENCH_LOG_LEVEL ?? 'info'),
      originVerifySecret: ORIGIN_SECRET,
    });
    server = app.listen(0, '127.0.0.1');
  }
  await once(server, 'listening');
  process.on('SIGTERM', () => process.exit(0)); // exit normally, so a CPU profile is written
  process.send!({ port: (server.address() as { port: number }).port });
}

/** CPU-seconds (user + system) a process has used so far (/proc/PID/stat fields 14–15, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Figures {
  /** Server CPU per answered request, µs: what the server costs, whatever else runs on the machine. */
  cpuMicros: number;
  reqPerSec: number;
  p99: number;
  p50: number;
  errors: number;
  non2xx: number;
}

async function load(url: string, seconds: number, pid: number): Promise<Figures> {
  const cpuBefore = cpuSeconds(pid);
  const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers: { 'x-origin-verify': ORIGIN_SECRET } });
  const cpuMicros = ((cpuSeconds(pid) - cpuBefore) * 1e6) / Math.max(1, r.requests.total);
  return { cpuMicros, reqPerSec: r.requests.average, p99: r.latency.p99, p50: r.latency.p50, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

async function start(role: Role, env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number; logBytes: () => number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', JSON.stringify(role)], {
    // BENCH_CPU_PROF=DIR: a V8 CPU profile of each server, written when it stops.
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  // The access log goes to a pipe, as a container's stdout does; count it.
  let bytes = 0;
  child.stdout!.on('data', (c: Buffer) => (bytes += c.length));
  const [msg] = (await once(child, 'message')) as [{ port: number }];
  return { child, port: msg.port, logBytes: () => bytes };
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 10);
  const rounds = Number(process.argv[3] ?? 2);
  const aws = await startTestAws();
  const kp = makeKeyPair('KBENCHKEYPAIR1');
  const children: ChildProcess[] = [];
  try {
    const store = new StatusStore(aws.s3, aws.mediaBucket);
    await store.create({ videoId: VIDEO, status: 'processing', filename: 'bench.mp4' });
    await store.transition(VIDEO, 'ready', { progress: 100 });
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.mediaBucket, Key: keys.master(VIDEO), Body: MASTER }));

    const stream = await start({ role: 'stream', s3Endpoint: `http://127.0.0.1:${aws.server.port}` }, { BENCH_KEY_PAIR: JSON.stringify(kp) });
    children.push(stream.child);
    // The viewer's URL: the playback URL the API hands out, sent to the stream service as CloudFront forwards it.
    const playback = (await (await fetch(`http://127.0.0.1:${stream.port}/api/videos/${VIDEO}/playback`, { headers: { 'x-origin-verify': ORIGIN_SECRET } })).json()) as { url: string };
    const target = new URL(playback.url);
    const streamUrl = `http://127.0.0.1:${stream.port}${target.pathname}${target.search}`;
    const first = await fetch(streamUrl, { headers: { 'x-origin-verify': ORIGIN_SECRET } });
    if (first.status !== 200) throw new Error(`stream service answered ${first.status}: ${await first.text()}`);
    const body = await first.text();

    const bare = await start({ role: 'bare', body, contentType: first.headers.get('content-type')! });
    children.push(bare.child);
    const bareUrl = `http://127.0.0.1:${bare.port}${target.pathname}${target.search}`;

    console.log(`signed master playlist: ${Buffer.byteLength(body)} bytes; ${CONNECTIONS} connections, ${seconds} s per run, ${rounds} rounds, after a 3 s warm-up each`);
    console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (other processes share the cores: compare within a round)`);
    const bp = bare.child.pid!;
    const sp = stream.child.pid!;
    await load(bareUrl, 3, bp);
    await load(streamUrl, 3, sp);
    const logBefore = stream.logBytes();
    const rows: { round: number; bare: Figures; stream: Figures }[] = [];
    let streamRequests = 0;
    for (let round = 1; round <= rounds; round++) {
      const b = await load(bareUrl, seconds, bp);
      const s = await load(streamUrl, seconds, sp);
      streamRequests += s.reqPerSec * seconds;
      rows.push({ round, bare: b, stream: s });
    }
    const fmt = (f: Figures) =>
      `${Math.round(f.reqPerSec).toString().padStart(7)} req/s  p50 ${String(f.p50).padStart(3)} ms  p99 ${String(f.p99).padStart(3)} ms  ${f.cpuMicros.toFixed(0).padStart(3)} CPU-µs/request  errors ${f.errors}  non-2xx ${f.non2xx}`;
    for (const r of rows) {
      console.log(`round ${r.round}  bare node:http ${fmt(r.bare)}`);
      console.log(`round ${r.round}  stream service ${fmt(r.stream)}   ratio ${(r.stream.reqPerSec / r.bare.reqPerSec).toFixed(2)}×`);
    }
    const sum = (k: 'bare' | 'stream') => rows.reduce((a, r) => a + r[k].reqPerSec, 0);
    const worstP99 = Math.max(...rows.map((r) => r.stream.p99));
    const bestP99 = Math.min(...rows.map((r) => r.stream.p99));
    const cpu = (k: 'bare' | 'stream') => rows.reduce((a, r) => a + r[k].cpuMicros, 0) / rows.length;
    console.log(`overall  stream/bare req/s ${(sum('stream') / sum('bare')).toFixed(2)}× (target ≥ 0.70×)   stream p99 ${bestP99}–${worstP99} ms (target < 10 ms)`);
    console.log(`         server CPU per request: bare ${cpu('bare').toFixed(0)} µs, stream ${cpu('stream').toFixed(0)} µs → capacity ratio ${(cpu('bare') / cpu('stream')).toFixed(2)}× (independent of other load)`);
    const logged = stream.logBytes() - logBefore;
    console.log(`stream access log: ${(logged / 1024).toFixed(1)} KiB for ~${Math.round(streamRequests)} requests`);
  } finally {
    for (const c of children) c.kill();
    await aws.stop();
  }
}

const serveArg = process.argv.indexOf('--serve');
if (serveArg !== -1) await serve(JSON.parse(process.argv[serveArg + 1]!) as Role);
else await main();
