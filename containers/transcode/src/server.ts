/** Transcode worker entry point: the only file that reads the environment. */
import os from 'node:os';
import path from 'node:path';
import { JOBS_QUEUE_DEFAULTS, assertVisibilityFitsHeartbeat, heartbeatSeconds, selectLadder } from '@vod/contract';
import { baseApp, awsFromEnv, createLogger, env, errorMiddleware, loadConfigOrExit, notFoundHandler, runService } from '@vod/service-kit';
import { z } from 'zod';
import { createWorker } from './worker.js';

const config = loadConfigOrExit(
  'transcode',
  z
    .object({
      ...env.aws,
      ...env.host,
      HEALTH_PORT: env.port(8083),
      ...env.jobsQueue,
      WORK_DIR: z.string().default(path.join(os.tmpdir(), 'vod-transcode')),
      TRANSCODE_PRESET: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow']).default('veryfast'),
      /** Short sides of the default ladder's rungs to encode, e.g. "1080,720,360" (infra's `vod:ladder`); empty = all. */
      LADDER: z
        .string()
        .default('')
        .transform((v, ctx) => {
          const sides = v.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
          try {
            return selectLadder(sides);
          } catch (err) {
            ctx.addIssue({ code: 'custom', message: (err as Error).message });
            return z.NEVER;
          }
        }),
      /** The queue's redrive maxReceiveCount: the last attempt marks the video failed. */
      MAX_ATTEMPTS: z.coerce.number().int().min(1).default(JOBS_QUEUE_DEFAULTS.maxReceiveCount),
      /** SQS long-poll wait (0–20 s). */
      POLL_WAIT_SECONDS: z.coerce.number().int().min(0).max(20).default(JOBS_QUEUE_DEFAULTS.receiveWaitTimeSeconds),
      /** The queue's visibility timeout; the heartbeat extends it every visibility ÷ 5 s. */
      VISIBILITY_TIMEOUT_SECONDS: z.coerce.number().int().min(30).default(JOBS_QUEUE_DEFAULTS.visibilityTimeoutSeconds),
      /** Below ECS's stopTimeout (120 s), so the message is released before SIGKILL. */
      SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).default(90),
    })
    .superRefine((c, ctx) => {
      try {
        assertVisibilityFitsHeartbeat(c.VISIBILITY_TIMEOUT_SECONDS);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['VISIBILITY_TIMEOUT_SECONDS'], message: (err as Error).message });
      }
    }),
);

const logger = createLogger('transcode', config.LOG_LEVEL);
const worker = createWorker({
  ...awsFromEnv(config),
  logger,
  queueUrl: config.JOBS_QUEUE_URL,
  workDir: config.WORK_DIR,
  preset: config.TRANSCODE_PRESET,
  ladder: config.LADDER,
  maxAttempts: config.MAX_ATTEMPTS,
  visibilityTimeoutSeconds: config.VISIBILITY_TIMEOUT_SECONDS,
  pollWaitSeconds: config.POLL_WAIT_SECONDS,
  heartbeatSeconds: heartbeatSeconds(config.VISIBILITY_TIMEOUT_SECONDS),
});

// A worker has no API: its HTTP server is only the container health check.
const health = baseApp(logger, () => ({ videoId: worker.current() ?? null }));
health.use(notFoundHandler);
health.use(errorMiddleware(logger));

runService({
  name: 'transcode health endpoint',
  app: health,
  host: config.HOST,
  port: config.HEALTH_PORT,
  logger,
  onShutdown: () => worker.stop(config.SHUTDOWN_GRACE_SECONDS * 1000),
});
worker.start();
