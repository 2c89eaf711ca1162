/** Transcode worker entry point: the only file that reads the environment. */
import os from 'node:os';
import path from 'node:path';
import {
  CONTROL_QUEUE_DEFAULTS,
  JOBS_QUEUE_DEFAULTS,
  TASK_ATTEMPTS,
  assertVisibilityFitsHeartbeat,
  heartbeatSeconds,
  selectLadder,
} from '@vod/contract';
import {
  StatusStore,
  awsFromEnv,
  baseApp,
  createLogger,
  env,
  errorMiddleware,
  loadConfigOrExit,
  notFoundHandler,
  runService,
  videoEventsFromEnv,
} from '@vod/service-kit';
import { z } from 'zod';
import { DEFAULT_CHUNK_PLAN } from './chunk-plan.js';
import { controlSender } from './control.js';
import { DEFAULT_DOWNLOAD_SHORT_SIDE } from './download.js';
import { DEFAULT_SOURCE_LIMITS } from './limits.js';
import { RunStore } from './run-store.js';
import { DEFAULT_FIRST_CHUNK_PRESET, DEFAULT_X264_PRESET } from './tasks.js';
import { X264_PRESETS } from './ffmpeg-args.js';
import { ecsTaskProtection } from './task-protection.js';
import { createWorker } from './worker.js';

const positive = (fallback: number) => z.coerce.number().positive().default(fallback);
const seconds = (fallback: number) => z.coerce.number().int().min(1).default(fallback);
const visibility = (name: string) => (v: number, ctx: z.RefinementCtx) => {
  try {
    assertVisibilityFitsHeartbeat(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', path: [name], message: (err as Error).message });
  }
};

const config = loadConfigOrExit(
  'transcode',
  z.object({
    ...env.aws,
    ...env.host,
    HEALTH_PORT: env.port(8083),
    ...env.jobsQueue,
    ...env.webhooksQueue,
    CONTROL_QUEUE_URL: env.url('CONTROL_QUEUE_URL', 'https://sqs.us-east-1.amazonaws.com/123456789012/vod-control.fifo'),
    WORK_DIR: z.string().default(path.join(os.tmpdir(), 'vod-transcode')),
    TRANSCODE_PRESET: z.enum(X264_PRESETS).default(DEFAULT_X264_PRESET),
    /** x264 preset of a video's first chunk, if faster than TRANSCODE_PRESET; "same": TRANSCODE_PRESET. */
    FIRST_CHUNK_PRESET: z.enum([...X264_PRESETS, 'same']).default(DEFAULT_FIRST_CHUNK_PRESET),
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
    /** Source seconds per chunk (a source shorter than two chunks is one chunk). */
    CHUNK_SECONDS: seconds(DEFAULT_CHUNK_PLAN.chunkSeconds),
    /** Source seconds of the first chunk, so the start is playable early. */
    FIRST_CHUNK_SECONDS: seconds(DEFAULT_CHUNK_PLAN.firstChunkSeconds),
    /**
     * The MP4 download: short side of the rendition offered (the largest rendition at most this size, e.g. 720;
     * the source's own size when smaller), or "off".
     */
    DOWNLOAD_RENDITION: z
      .string()
      .default(String(DEFAULT_DOWNLOAD_SHORT_SIDE))
      .transform((v, ctx) => {
        if (v.trim().toLowerCase() === 'off') return null;
        const side = Number(v);
        if (!Number.isInteger(side) || side < 2) {
          ctx.addIssue({ code: 'custom', message: `DOWNLOAD_RENDITION must be a short side in pixels (e.g. 720) or "off", got "${v}"` });
          return z.NEVER;
        }
        return side;
      }),
    MAX_SOURCE_DURATION_SECONDS: positive(DEFAULT_SOURCE_LIMITS.maxDurationSeconds),
    MAX_SOURCE_PIXELS: positive(DEFAULT_SOURCE_LIMITS.maxPixels),
    MAX_SOURCE_FPS: positive(DEFAULT_SOURCE_LIMITS.maxFrameRate),
    /** A task running longer is stopped (ffmpeg killed) and counted as failed. */
    TASK_TIME_LIMIT_SECONDS: seconds(30 * 60),
    /** Errors before a task fails its video. */
    MAX_TASK_FAILURES: seconds(TASK_ATTEMPTS.maxFailures),
    /** Workers a task may take down (kill -9, out of memory) before it fails its video. */
    MAX_TASK_CRASHES: seconds(TASK_ATTEMPTS.maxCrashes),
    /** SQS long-poll wait (0–20 s). */
    POLL_WAIT_SECONDS: z.coerce.number().int().min(0).max(20).default(JOBS_QUEUE_DEFAULTS.receiveWaitTimeSeconds),
    /** The jobs queue's visibility timeout; the heartbeat extends it every visibility ÷ 5 s. */
    VISIBILITY_TIMEOUT_SECONDS: seconds(JOBS_QUEUE_DEFAULTS.visibilityTimeoutSeconds).superRefine(visibility('VISIBILITY_TIMEOUT_SECONDS')),
    CONTROL_VISIBILITY_TIMEOUT_SECONDS: seconds(CONTROL_QUEUE_DEFAULTS.visibilityTimeoutSeconds).superRefine(
      visibility('CONTROL_VISIBILITY_TIMEOUT_SECONDS'),
    ),
    /** The control queue's maxReceiveCount: the last receive marks the video failed. */
    CONTROL_MAX_RECEIVE_COUNT: seconds(CONTROL_QUEUE_DEFAULTS.maxReceiveCount),
    /** Seconds a stopping worker waits for a coordinator step; below ECS's stopTimeout (120 s). */
    SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).default(30),
    /** US dollars per vCPU-hour of the transcode instances, for each video's cost estimate. */
    SPOT_PRICE_PER_VCPU_HOUR: z.coerce.number().min(0).default(0.015),
    /** Set by the ECS agent in every task: the task-protection endpoint. */
    ECS_AGENT_URI: z.string().url().optional(),
  }),
);

const logger = createLogger('transcode', config.LOG_LEVEL);
const aws = awsFromEnv(config);
const store = new RunStore(aws.s3, aws.mediaBucket);
const worker = createWorker({
  ...aws,
  logger,
  jobsQueueUrl: config.JOBS_QUEUE_URL,
  controlQueueUrl: config.CONTROL_QUEUE_URL,
  sendControl: controlSender(aws.sqs, config.CONTROL_QUEUE_URL),
  store,
  records: new StatusStore(aws.s3, aws.mediaBucket, undefined, videoEventsFromEnv(config, aws.sqs, logger)),
  workDir: config.WORK_DIR,
  preset: config.TRANSCODE_PRESET,
  firstChunkPreset: config.FIRST_CHUNK_PRESET === 'same' ? null : config.FIRST_CHUNK_PRESET,
  ladder: config.LADDER,
  downloadShortSide: config.DOWNLOAD_RENDITION,
  chunkPlan: { ...DEFAULT_CHUNK_PLAN, chunkSeconds: config.CHUNK_SECONDS, firstChunkSeconds: config.FIRST_CHUNK_SECONDS },
  limits: { maxDurationSeconds: config.MAX_SOURCE_DURATION_SECONDS, maxPixels: config.MAX_SOURCE_PIXELS, maxFrameRate: config.MAX_SOURCE_FPS },
  taskTimeLimitMs: config.TASK_TIME_LIMIT_SECONDS * 1000,
  attempts: { maxFailures: config.MAX_TASK_FAILURES, maxCrashes: config.MAX_TASK_CRASHES },
  jobsTiming: {
    visibilityTimeoutSeconds: config.VISIBILITY_TIMEOUT_SECONDS,
    heartbeatSeconds: heartbeatSeconds(config.VISIBILITY_TIMEOUT_SECONDS),
    pollWaitSeconds: config.POLL_WAIT_SECONDS,
  },
  controlTiming: {
    visibilityTimeoutSeconds: config.CONTROL_VISIBILITY_TIMEOUT_SECONDS,
    heartbeatSeconds: heartbeatSeconds(config.CONTROL_VISIBILITY_TIMEOUT_SECONDS),
    pollWaitSeconds: config.POLL_WAIT_SECONDS,
    maxReceiveCount: config.CONTROL_MAX_RECEIVE_COUNT,
  },
  pricePerVcpuHour: config.SPOT_PRICE_PER_VCPU_HOUR,
  protection: ecsTaskProtection(config.ECS_AGENT_URI, logger),
});

// A worker has no API: its HTTP server is only the container health check.
const health = baseApp(logger, () => ({ task: worker.current() ?? null }));
health.use(notFoundHandler);
health.use(errorMiddleware(logger));

runService({
  name: 'transcode health endpoint',
  app: health,
  host: config.HOST,
  port: config.HEALTH_PORT,
  logger,
  beforeClose: () => worker.stop(config.SHUTDOWN_GRACE_SECONDS * 1000),
});
worker.start();
