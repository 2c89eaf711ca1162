/**
 * Runs the whole platform on one machine, each part in its own process as in
 * production: the S3+SQS emulator, the upload, stream and transcode services,
 * and the local edge (the stand-in for CloudFront). Used by `npm start` and by
 * the integration tests. Services get only standard configuration
 * (AWS_ENDPOINT_URL, region, credentials, bucket and queue names).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LOCAL_REGION, MEDIA_BUCKET, UPLOADS_BUCKET } from './resources.js';
import { HEALTH_PATH } from '@vod/service-kit';
import { ensureApiToken, ensureKeyPair } from './secrets.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface StackOptions {
  /** State and logs; default `.data`. */
  dataDir: string;
  /** Edge port; 0 picks a free one. */
  port: number;
  /** Fixed ports for the parts (default: free ports). */
  ports?: Partial<Record<'emulator' | 'upload' | 'stream' | 'transcode', number>>;
  apiToken?: string;
  /** Extra environment for every service (e.g. MAX_UPLOAD_BYTES, LOG_LEVEL). */
  env?: Record<string, string>;
  /** Called when a part exits while the stack is running. */
  onExit?: (name: string, code: number | null, logFile: string) => void;
}

export interface RunningStack {
  baseUrl: string;
  token: string;
  dataDir: string;
  logDir: string;
  emulatorEndpoint: string;
  jobsQueueUrl: string;
  /** Environment the services got (AWS endpoint, buckets, queue), for tests that call S3/SQS directly. */
  serviceEnv: Record<string, string>;
  processes: Map<string, ChildProcess>;
  /** Stops one part (SIGTERM) and waits for it to exit. */
  stopPart(name: string): Promise<void>;
  /** Starts a stopped part again. */
  startPart(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  return port;
}

async function waitForHealth(url: string, child: ChildProcess, name: string, logFile: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} during start; see ${logFile}`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return; // listening (the emulator answers anonymous requests with an S3 error body)
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${name} did not become healthy at ${url} within ${timeoutMs / 1000}s; see ${logFile}`);
}

export async function startStack(opts: StackOptions): Promise<RunningStack> {
  const dataDir = path.resolve(opts.dataDir);
  const logDir = path.join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const token = ensureApiToken(dataDir, opts.apiToken);
  const keyPair = ensureKeyPair(dataDir);
  const port = async (name: keyof NonNullable<StackOptions['ports']>) => opts.ports?.[name] ?? (await freePort());
  const [emulatorPort, uploadPort, streamPort, transcodePort] = await Promise.all([
    port('emulator'),
    port('upload'),
    port('stream'),
    port('transcode'),
  ]);
  const edgePort = opts.port || (await freePort());
  const baseUrl = `http://127.0.0.1:${edgePort}`;
  const processes = new Map<string, ChildProcess>();
  const specs = new Map<string, { script: string; env: Record<string, string>; health?: string }>();
  let stopping = false;

  const launch = (name: string): ChildProcess => {
    const spec = specs.get(name)!;
    const logFile = path.join(logDir, `${name}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--import', 'tsx', path.join(REPO_ROOT, spec.script)], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    child.on('exit', (code) => {
      if (processes.get(name) === child) processes.delete(name);
      if (!stopping) opts.onExit?.(name, code, logFile);
    });
    processes.set(name, child);
    return child;
  };

  const startPart = async (name: string) => {
    const child = launch(name);
    const spec = specs.get(name)!;
    if (spec.health) await waitForHealth(spec.health, child, name, path.join(logDir, `${name}.log`));
  };

  const stopPart = async (name: string) => {
    const child = processes.get(name);
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };

  const stop = async () => {
    stopping = true;
    await Promise.all(['edge', 'upload', 'stream', 'transcode'].map(stopPart));
    await stopPart('emulator');
  };

  try {
    // 1. The emulator; its ready line gives the endpoint and queue URL.
    specs.set('emulator', {
      script: 'local/emulator.ts',
      env: { VOD_DATA_DIR: dataDir, EMULATOR_PORT: String(emulatorPort) },
      health: `http://127.0.0.1:${emulatorPort}/${MEDIA_BUCKET}?max-keys=1`,
    });
    const emulator = launch('emulator');
    const ready = await new Promise<{ endpoint: string; jobsQueueUrl: string }>((resolve, reject) => {
      const lines = createInterface({ input: emulator.stdout! });
      lines.on('line', (line) => {
        if (line.startsWith('{"ready"')) resolve(JSON.parse(line));
      });
      emulator.once('exit', (code) => reject(new Error(`emulator exited with code ${code}; see ${path.join(logDir, 'emulator.log')}`)));
    });

    // 2. The services, configured exactly as in AWS but for the endpoint.
    const aws: Record<string, string> = {
      AWS_ENDPOINT_URL: ready.endpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      S3_FORCE_PATH_STYLE: 'true',
      UPLOADS_BUCKET,
      MEDIA_BUCKET,
      JOBS_QUEUE_URL: ready.jobsQueueUrl,
      LOG_LEVEL: 'info',
      // Only the edge is the way in, as CloudFront is in AWS: nothing listens beyond this machine.
      HOST: '127.0.0.1',
      ...opts.env,
    };
    const web = path.join(REPO_ROOT, 'web', 'dist');
    specs.set('upload', {
      script: 'containers/upload/src/server.ts',
      env: { ...aws, PORT: String(uploadPort), VOD_API_TOKEN: token },
      health: `http://127.0.0.1:${uploadPort}${HEALTH_PATH}`,
    });
    specs.set('stream', {
      script: 'containers/stream/src/server.ts',
      env: {
        ...aws,
        PORT: String(streamPort),
        PUBLIC_BASE_URL: baseUrl,
        VOD_API_TOKEN: token,
        CLOUDFRONT_KEY_PAIR_ID: keyPair.keyPairId,
        CLOUDFRONT_PRIVATE_KEY: keyPair.privateKeyPem,
      },
      health: `http://127.0.0.1:${streamPort}${HEALTH_PATH}`,
    });
    specs.set('transcode', {
      script: 'containers/transcode/src/server.ts',
      env: { ...aws, HEALTH_PORT: String(transcodePort), WORK_DIR: path.join(dataDir, 'work') },
      health: `http://127.0.0.1:${transcodePort}${HEALTH_PATH}`,
    });
    specs.set('edge', {
      script: 'local/edge-server.ts',
      env: {
        ...aws,
        PORT: String(edgePort),
        UPLOAD_ORIGIN: `http://127.0.0.1:${uploadPort}`,
        STREAM_ORIGIN: `http://127.0.0.1:${streamPort}`,
        CLOUDFRONT_KEY_PAIR_ID: keyPair.keyPairId,
        CLOUDFRONT_PUBLIC_KEY_FILE: keyPair.publicKeyFile,
        ...(existsSync(web) ? { WEB_ROOT: web } : {}),
      },
      health: `${baseUrl}${HEALTH_PATH}`,
    });
    await Promise.all(['upload', 'stream', 'transcode', 'edge'].map(startPart));

    return {
      baseUrl,
      token,
      dataDir,
      logDir,
      emulatorEndpoint: ready.endpoint,
      jobsQueueUrl: ready.jobsQueueUrl,
      serviceEnv: aws,
      processes,
      stopPart,
      startPart,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A whole stack in a fresh temporary data directory, on free ports, removed on
 * `stop()` (unless `keepData`): for tests and benchmarks.
 */
export async function startTemporaryStack(opts: { env?: Record<string, string>; keepData?: boolean } = {}): Promise<RunningStack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vod-stack-'));
  const stack = await startStack({
    dataDir,
    port: 0,
    apiToken: `token-${path.basename(dataDir)}`.padEnd(40, '0').replace(/[^A-Za-z0-9_-]/g, '_'),
    env: { LOG_LEVEL: 'info', ...opts.env },
  });
  return {
    ...stack,
    async stop() {
      await stack.stop();
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
