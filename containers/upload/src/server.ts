/** Upload service entry point: the only file that reads the environment. */
import { z } from 'zod';
import { createS3Client, createSqsClient } from '../../shared/src/aws.js';
import { awsEnv, loadConfigOrExit, port } from '../../shared/src/config.js';
import { shutdownOnSignals } from '../../shared/src/http.js';
import { createLogger } from '../../shared/src/logger.js';
import { createApp } from './app.js';

const schema = z.object({
  ...awsEnv,
  PORT: port(8081),
  JOBS_QUEUE_URL: z.string({ error: 'set JOBS_QUEUE_URL to the transcode jobs queue URL' }).url('set JOBS_QUEUE_URL to the transcode jobs queue URL'),
  VOD_API_TOKEN: z.string({ error: 'set VOD_API_TOKEN to a secret of at least 16 characters' }).min(16, 'set VOD_API_TOKEN to a secret of at least 16 characters'),
  MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(50 * 1024 ** 3),
  UPLOAD_PART_BYTES: z.coerce.number().int().min(5 * 1024 ** 2).default(8 * 1024 ** 2),
  ORIGIN_VERIFY_SECRET: z.string().min(16).optional(),
});

const config = loadConfigOrExit('upload', schema);

const logger = createLogger('upload', config.LOG_LEVEL);
const app = createApp({
  s3: createS3Client({ region: config.AWS_REGION, forcePathStyle: config.S3_FORCE_PATH_STYLE }),
  sqs: createSqsClient({ region: config.AWS_REGION }),
  logger,
  uploadsBucket: config.UPLOADS_BUCKET,
  mediaBucket: config.MEDIA_BUCKET,
  jobsQueueUrl: config.JOBS_QUEUE_URL,
  apiToken: config.VOD_API_TOKEN,
  maxUploadBytes: config.MAX_UPLOAD_BYTES,
  partSize: config.UPLOAD_PART_BYTES,
  originVerifySecret: config.ORIGIN_VERIFY_SECRET,
});
const server = app.listen(config.PORT, () => logger.info({ port: config.PORT }, 'upload service listening'));
// Uploads of big parts over slow links take a while: no request timeout.
server.requestTimeout = 0;
shutdownOnSignals(server, logger, async () => {}, 30_000);
