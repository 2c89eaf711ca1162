/** Upload service entry point: the only file that reads the environment. */
import { DEFAULT_UPLOAD_EXPIRY_DAYS } from '@vod/contract';
import { awsFromEnv, createLogger, env, loadConfigOrExit, runService, videoEventsFromEnv } from '@vod/service-kit';
import { z } from 'zod';
import { createApp, type UploadAppDeps } from './app.js';
import { startExpirySweep } from './expiry-sweep.js';
import { UploadService } from './upload-service.js';

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
    /** Days an incomplete chunked upload lives: the same number as the uploads bucket's lifecycle rule (infra vod:abortIncompleteUploadDays). */
    UPLOAD_EXPIRY_DAYS: z.coerce.number().int().min(1).default(DEFAULT_UPLOAD_EXPIRY_DAYS),
  }),
);

const logger = createLogger('upload', config.LOG_LEVEL);
const aws = awsFromEnv(config);
const deps: UploadAppDeps = {
  ...aws,
  logger,
  onRecordChange: videoEventsFromEnv(config, aws.sqs, logger),
  jobsQueueUrl: config.JOBS_QUEUE_URL,
  apiToken: config.VOD_API_TOKEN,
  maxUploadBytes: config.MAX_UPLOAD_BYTES,
  partSize: config.UPLOAD_PART_BYTES,
  uploadExpiryDays: config.UPLOAD_EXPIRY_DAYS,
  originVerifySecret: config.ORIGIN_VERIFY_SECRET,
};
const app = createApp(deps);
// Abandoned uploads are cleaned up even when nobody asks for them again.
const sweep = startExpirySweep(new UploadService(deps), logger);

runService({
  name: 'upload service',
  app,
  host: config.HOST,
  port: config.PORT,
  logger,
  graceMs: 30_000,
  onShutdown: () => sweep.stop(),
  // Uploads of big parts over slow links take a while: no whole-request time
  // limit; the body-rate rule (client-timeouts.ts) cuts off dripping clients.
  timeouts: { requestMs: 0 },
});
