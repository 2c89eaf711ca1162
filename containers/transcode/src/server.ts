/** Transcode worker entry point: the only file that reads the environment. */
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { createS3Client, createSqsClient } from '../../shared/src/aws.js';
import { awsEnv, loadConfigOrExit, port } from '../../shared/src/config.js';
import { createLogger } from '../../shared/src/logger.js';
import { createWorker } from './worker.js';

const config = loadConfigOrExit(
  'transcode',
  z.object({
    ...awsEnv,
    JOBS_QUEUE_URL: z.string({ error: 'set JOBS_QUEUE_URL to the transcode jobs queue URL' }).url('set JOBS_QUEUE_URL to the transcode jobs queue URL'),
    HEALTH_PORT: port(8083),
    WORK_DIR: z.string().default(path.join(os.tmpdir(), 'vod-transcode')),
    TRANSCODE_PRESET: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow']).default('veryfast'),
    /** Must match the queue's redrive maxReceiveCount. */
    MAX_ATTEMPTS: z.coerce.number().int().min(1).default(3),
    /** SQS long-poll wait (0–20 s). */
    POLL_WAIT_SECONDS: z.coerce.number().int().min(0).max(20).default(20),
    VISIBILITY_TIMEOUT_SECONDS: z.coerce.number().int().min(30).default(300),
    /** Below ECS's stopTimeout (120 s), so the message is released before SIGKILL. */
    SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).default(90),
  }),
);

const logger = createLogger('transcode', config.LOG_LEVEL);
const worker = createWorker({
  s3: createS3Client({ region: config.AWS_REGION, forcePathStyle: config.S3_FORCE_PATH_STYLE }),
  sqs: createSqsClient({ region: config.AWS_REGION }),
  logger,
  queueUrl: config.JOBS_QUEUE_URL,
  uploadsBucket: config.UPLOADS_BUCKET,
  mediaBucket: config.MEDIA_BUCKET,
  workDir: config.WORK_DIR,
  preset: config.TRANSCODE_PRESET,
  maxAttempts: config.MAX_ATTEMPTS,
  visibilityTimeoutSeconds: config.VISIBILITY_TIMEOUT_SECONDS,
  pollWaitSeconds: config.POLL_WAIT_SECONDS,
  heartbeatSeconds: Math.floor(config.VISIBILITY_TIMEOUT_SECONDS / 5),
});

// A worker has no API; /healthz is for the container health check.
const health = createServer((req, res) => {
  const ok = req.url === '/healthz';
  res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
  res.end(JSON.stringify(ok ? { ok: true, videoId: worker.current() ?? null } : { error: { code: 'not_found', message: 'Not found' } }));
});
health.listen(config.HEALTH_PORT, () => logger.info({ port: config.HEALTH_PORT }, 'health endpoint listening'));
worker.start();

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  await worker.stop(config.SHUTDOWN_GRACE_SECONDS * 1000);
  health.close();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
