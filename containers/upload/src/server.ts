/** Upload service entry point: the only file that reads the environment. */
import { awsFromEnv, createLogger, env, loadConfigOrExit, runService, videoEventsFromEnv } from '@vod/service-kit';
import { z } from 'zod';
import { createApp } from './app.js';

const config = loadConfigOrExit(
  'upload',
  z.object({
    ...env.aws,
    ...env.host,
    PORT: env.port(8081),
    ...env.jobsQueue,
    ...env.webhooksQueue,
    ...env.apiToken,
    ...env.originSecret,
    /** Largest accepted upload, bytes (50 GiB). */
    MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(50 * 1024 ** 3),
    /** Preferred part size of chunked uploads, bytes (≥ 5 MiB, S3's minimum part). */
    UPLOAD_PART_BYTES: z.coerce.number().int().min(5 * 1024 ** 2).default(8 * 1024 ** 2),
  }),
);

const logger = createLogger('upload', config.LOG_LEVEL);
const aws = awsFromEnv(config);
const app = createApp({
  ...aws,
  logger,
  onRecordChange: videoEventsFromEnv(config, aws.sqs, logger),
  jobsQueueUrl: config.JOBS_QUEUE_URL,
  apiToken: config.VOD_API_TOKEN,
  maxUploadBytes: config.MAX_UPLOAD_BYTES,
  partSize: config.UPLOAD_PART_BYTES,
  originVerifySecret: config.ORIGIN_VERIFY_SECRET,
});

runService({
  name: 'upload service',
  app,
  host: config.HOST,
  port: config.PORT,
  logger,
  graceMs: 30_000,
  // Uploads of big parts over slow links take a while: no whole-request time limit.
  configure: (server) => {
    server.requestTimeout = 0;
  },
});
