/**
 * Runs the whole platform on one machine, each part in its own process as in
 * production: the S3+SQS emulator, the upload and stream services,
 * `transcodeWorkers` transcode workers, the webhook delivery worker, and the
 * local edge (the stand-in for CloudFront). Used by `npm start`, the integration tests and the benchmarks.
 * Services get only standard configuration (AWS_ENDPOINT_URL, region,
 * credentials, bucket and queue names).
 *
 * Like ECS, the stack supervises its processes: a part that exits without
 * being asked to is started again, after 1 s, then 2, 4 … up to 30 s while
 * it keeps dying (the delay resets once it has stayed up for a minute); see
 * supervisor.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HEALTH_PATH } from '@vod/service-kit';
import { LOCAL_REGION, MEDIA_BUCKET, UPLOADS_BUCKET } from './resources.js';
import { ensureApiToken, ensureKeyPair, ensureWebhookSecret } from './secrets.js';
import { createSupervisor, type StackEvents } from './supervisor.js';

export type { StackEvents } from './supervisor.js';

/**
 * V8 options of the upload service, locally as in its image. Parts stream
 * through it at disk/network speed and every socket read is a new buffer, so
 * garbage, not data, sets its memory: a 4 MiB semi-space (default 16 MiB)
 * keeps its peak RSS well under 150 MiB during a 1 GiB upload, at no
 * measurable cost in CPU (2 MiB measured ~25% more CPU; bench/upload-rss.ts).
 */
export const UPLOAD_NODE_OPTIONS = '--max-semi-space-size=4';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface StackOptions {
  /** State and logs; default `.data`. */
  dataDir: string;
  /** Edge port; 0 picks a free one. */
  port: number;
  /** Fixed ports for the parts (default: free ports). `transcode` is the first worker's health port; the others follow it. */
  ports?: Partial<Record<'emulator' | 'upload' | 'stream' | 'transcode' | 'webhooks', number>>;
  apiToken?: string;
  /** Webhook receivers (`VOD_WEBHOOK_URLS`); none by default. */
  webhookUrls?: string[];
  /** `whsec_…` signing secret (default: made once, kept in the data dir). */
  webhookSecret?: string;
  /** Transcode worker processes (default 2). */
  transcodeWorkers?: number;
  /** Extra environment for every service (e.g. MAX_UPLOAD_BYTES, LOG_LEVEL). */
  env?: Record<string, string>;
  /** Extra environment for one part (`upload`, `stream`, `transcode-1`, `webhooks`, …). */
  partEnv?: Record<string, Record<string, string>>;
  /** Restart parts that die (default true). */
  supervise?: boolean;
}

export interface RunningStack {
  baseUrl: string;
  token: string;
  dataDir: string;
  logDir: string;
  emulatorEndpoint: string;
  jobsQueueUrl: string;
  /** The jobs queue's dead-letter queue. */
  jobsDlqUrl: string;
  controlQueueUrl: string;
  webhooksQueueUrl: string;
  /** The secret webhooks are signed with (`whsec_…`). */
  webhookSecret: string;
  /** Environment the services got (AWS endpoint, buckets, queues), for tests that call S3/SQS directly. */
  serviceEnv: Record<string, string>;
  /** Names of the transcode worker parts: `transcode-1` … */
  workers: string[];
  /** The health URL of a part (`/healthz`; a worker's says which task it runs). */
  healthUrl(name: string): string;
  processes: Map<string, ChildProcess>;
  events: StackEvents;
  /** Stops one part (SIGTERM) and waits for it to exit; it stays stopped. */
  stopPart(name: string): Promise<void>;
  /** Starts a stopped part again and waits until it is healthy. */
  startPart(name: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `count` distinct free TCP ports on 127.0.0.1. All of them are held open
 * until every one is chosen: ports taken one at a time and released at once
 * can repeat (the kernel picks `listen(0)` ports at random from the ephemeral
 * range; about one stack in 500 got a port twice, and its second part died
 * with EADDRINUSE at start).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    for (const srv of servers) {
      srv.listen(0, '127.0.0.1');
      await once(srv, 'listening');
    }
    return servers.map((srv) => (srv.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.filter((srv) => srv.listening).map((srv) => new Promise((r) => srv.close(r))));
  }
}

/** One free TCP port on 127.0.0.1 (for one server; a set of servers takes `freePorts`). */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/** The last `lines` lines of a part's log, for an error that says why the part died. */
function logTail(logFile: string, lines = 15): string {
  try {
    const text = readFileSync(logFile, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Resolves once `url` answers (any status below 500). Throws if the child
 * exits first or `timeoutMs` passes; the error ends with the end of the
 * child's log, read once `logWritten` says all its output is there.
 */
async function waitForHealth(url: string, child: ChildProcess, name: string, logFile: string, logWritten: Promise<unknown>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await logWritten;
      // The log's end goes into the error: in CI the log file is gone by the time anyone reads the failure.
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) during start; see ${logFile}; its log ends:\n${logTail(logFile)}`);
    }
    try {
      // Bounded: whatever holds the port may never answer (another program on it, a part hung at start).
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.status < 500) return; // listening (the emulator answers anonymous requests with an S3 error body)
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${name} did not become healthy at ${url} within ${timeoutMs / 1000}s; see ${logFile}; its log ends:\n${logTail(logFile)}`);
}

interface PartSpec {
  script: string;
  env: Record<string, string>;
  health?: string;
}

export async function startStack(opts: StackOptions): Promise<RunningStack> {
  const dataDir = path.resolve(opts.dataDir);
  const logDir = path.join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const token = ensureApiToken(dataDir, opts.apiToken);
  const keyPair = ensureKeyPair(dataDir);
  const webhookSecret = ensureWebhookSecret(dataDir, opts.webhookSecret);
  const workers = Array.from({ length: Math.max(1, opts.transcodeWorkers ?? 2) }, (_, i) => `transcode-${i + 1}`);
  // Every part's port (emulator, upload, stream, webhooks, edge, each worker), chosen together so no two are the same.
  const free = await freePorts(5 + workers.length);
  const port = (name: keyof NonNullable<StackOptions['ports']>, offset = 0) => (opts.ports?.[name] !== undefined ? opts.ports[name]! + offset : free.pop()!);
  const [emulatorPort, uploadPort, streamPort, webhooksPort] = [port('emulator'), port('upload'), port('stream'), port('webhooks')];
  const workerPorts = workers.map((_, i) => port('transcode', i));
  const edgePort = opts.port || free.pop()!;
  const baseUrl = `http://127.0.0.1:${edgePort}`;
  const specs = new Map<string, PartSpec>();

  const logFileOf = (name: string) => path.join(logDir, `${name}.log`);
  /** Settles once a child's output is all in its log file. */
  const logWritten = new WeakMap<ChildProcess, Promise<unknown>>();

  const { processes, events, launch, startPart, stopPart, shutdown } = createSupervisor({
    spawn: (name) => {
      const spec = specs.get(name)!;
      const log = createWriteStream(logFileOf(name), { flags: 'a' });
      const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--import', 'tsx', path.join(REPO_ROOT, spec.script)], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...spec.env, ...opts.partEnv?.[name] },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Both streams into one file, closed once the child's output has ended (not when the first stream does).
      child.stdout!.pipe(log, { end: false });
      child.stderr!.pipe(log, { end: false });
      child.once('close', () => log.end());
      logWritten.set(child, once(log, 'close'));
      return child;
    },
    ready: async (name, child) => {
      const spec = specs.get(name)!;
      if (spec.health) await waitForHealth(spec.health, child, name, logFileOf(name), logWritten.get(child)!);
    },
    logFileOf,
    supervise: opts.supervise,
  });

  const stop = async () => {
    shutdown();
    await Promise.all(['edge', 'upload', 'stream', ...workers, 'webhooks'].map(stopPart));
    await stopPart('emulator');
  };

  try {
    // 1. The emulator; its ready line gives the endpoint and queue URLs.
    specs.set('emulator', {
      script: 'local/emulator.ts',
      env: { VOD_DATA_DIR: dataDir, EMULATOR_PORT: String(emulatorPort) },
      health: `http://127.0.0.1:${emulatorPort}/${MEDIA_BUCKET}?max-keys=1`,
    });
    const emulator = launch('emulator');
    const ready = await new Promise<{ endpoint: string; jobsQueueUrl: string; jobsDlqUrl: string; controlQueueUrl: string; webhooksQueueUrl: string }>((resolve, reject) => {
      const lines = createInterface({ input: emulator.stdout! });
      lines.on('line', (line) => {
        if (line.startsWith('{"ready"')) resolve(JSON.parse(line));
      });
      emulator.once('exit', (code) => reject(new Error(`emulator exited with code ${code}; see ${logFileOf('emulator')}`)));
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
      WEBHOOKS_QUEUE_URL: ready.webhooksQueueUrl,
      LOG_LEVEL: 'info',
      // Only the edge is the way in, as CloudFront is in AWS: nothing listens beyond this machine.
      HOST: '127.0.0.1',
      ...opts.env,
    };
    const web = path.join(REPO_ROOT, 'web', 'dist');
    specs.set('upload', {
      script: 'containers/upload/src/server.ts',
      // As the image's CMD (containers/upload/Dockerfile): a small young generation.
      env: { ...aws, PORT: String(uploadPort), VOD_API_TOKEN: token, NODE_OPTIONS: UPLOAD_NODE_OPTIONS },
      health: `http://127.0.0.1:${uploadPort}${HEALTH_PATH}`,
    });
    specs.set('stream', {
      script: 'containers/stream/src/server.ts',
      env: {
        ...aws,
        PORT: String(streamPort),
        PUBLIC_BASE_URL: baseUrl,
        JOBS_DLQ_URL: ready.jobsDlqUrl,
        // No CLOUDFRONT_DISTRIBUTION_ID: the edge caches nothing, so a deleted video needs no invalidation.
        VOD_API_TOKEN: token,
        CLOUDFRONT_KEY_PAIR_ID: keyPair.keyPairId,
        CLOUDFRONT_PRIVATE_KEY: keyPair.privateKeyPem,
      },
      health: `http://127.0.0.1:${streamPort}${HEALTH_PATH}`,
    });
    workers.forEach((name, i) =>
      specs.set(name, {
        script: 'containers/transcode/src/server.ts',
        env: { ...aws, CONTROL_QUEUE_URL: ready.controlQueueUrl, HEALTH_PORT: String(workerPorts[i]), WORK_DIR: path.join(dataDir, 'work', name) },
        health: `http://127.0.0.1:${workerPorts[i]}${HEALTH_PATH}`,
      }),
    );
    // The webhook delivery worker: its own process, as its own ECS service in AWS.
    specs.set('webhooks', {
      script: 'containers/upload/src/webhook-server.ts',
      env: {
        ...aws,
        HEALTH_PORT: String(webhooksPort),
        VOD_WEBHOOK_URLS: (opts.webhookUrls ?? []).join(','),
        VOD_WEBHOOK_SECRET: webhookSecret,
      },
      health: `http://127.0.0.1:${webhooksPort}${HEALTH_PATH}`,
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
    await Promise.all(['upload', 'stream', ...workers, 'webhooks', 'edge'].map(startPart));

    return {
      baseUrl,
      token,
      dataDir,
      logDir,
      emulatorEndpoint: ready.endpoint,
      jobsQueueUrl: ready.jobsQueueUrl,
      jobsDlqUrl: ready.jobsDlqUrl,
      controlQueueUrl: ready.controlQueueUrl,
      webhooksQueueUrl: ready.webhooksQueueUrl,
      webhookSecret,
      serviceEnv: { ...aws, CONTROL_QUEUE_URL: ready.controlQueueUrl },
      workers,
      healthUrl: (name) => specs.get(name)!.health!,
      processes,
      events,
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
export async function startTemporaryStack(
  opts: Partial<Pick<StackOptions, 'env' | 'partEnv' | 'transcodeWorkers' | 'supervise' | 'webhookUrls' | 'webhookSecret'>> & { keepData?: boolean } = {},
): Promise<RunningStack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vod-stack-'));
  let stack: RunningStack;
  try {
    stack = await startStack({
      ...opts,
      dataDir,
      port: 0,
      apiToken: `token-${path.basename(dataDir)}`.padEnd(40, '0').replace(/[^A-Za-z0-9_-]/g, '_'),
      env: { LOG_LEVEL: 'info', ...opts.env },
    });
  } catch (err) {
    // startStack stopped what it had started; the error carries the end of the log that says why.
    if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...stack,
    async stop() {
      await stack.stop();
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
