/**
 * Stream service entry point: the only file that reads the environment.
 *
 *   shared: AWS_REGION, UPLOADS_BUCKET, MEDIA_BUCKET, S3_FORCE_PATH_STYLE, LOG_LEVEL, HOST, PORT (8082),
 *           VOD_API_TOKEN, ORIGIN_VERIFY_SECRET, CLOUDFRONT_KEY_PAIR_ID
 *   PUBLIC_BASE_URL         the CDN's origin, e.g. https://d111111abcdef8.cloudfront.net (locally http://127.0.0.1:8080)
 *   CLOUDFRONT_PRIVATE_KEY  PEM text of the RSA private key (literal "\n" sequences are accepted)
 *   SIGNED_URL_TTL_SECONDS  minimum life of signed URLs, seconds (default 14400 = 4 h)
 *   JOBS_QUEUE_URL, JOBS_DLQ_URL  the jobs queue (retry sends a job) and its dead-letter queue (redrive)
 *   CLOUDFRONT_DISTRIBUTION_ID    the CDN whose cached copies of a deleted video are invalidated;
 *                                 unset without CloudFront (the local edge caches nothing): no invalidation
 * S3 endpoint and credentials come from the SDK's standard chain (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, …).
 */
import { createPrivateKey } from 'node:crypto';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { awsFromEnv, createLogger, env, loadConfigOrExit, runService, videoEventsFromEnv } from '@vod/service-kit';
import { z } from 'zod';
import { createApp } from './app.js';
import { cloudFrontInvalidator } from './cdn-invalidation.js';
import { createVideoUrlSigner, normalizeBaseUrl } from './url-signer.js';

const isOrigin = (v: string) => {
  try {
    normalizeBaseUrl(v);
    return true;
  } catch {
    return false;
  }
};

const isRsaPrivateKey = (pem: string) => {
  try {
    return createPrivateKey(pem).asymmetricKeyType === 'rsa';
  } catch {
    return false;
  }
};

const BASE_URL_HELP = 'set PUBLIC_BASE_URL to the CDN origin, e.g. https://d111111abcdef8.cloudfront.net (no path)';
const PRIVATE_KEY_HELP = 'set CLOUDFRONT_PRIVATE_KEY to the PEM text of the RSA private key matching CLOUDFRONT_KEY_PAIR_ID';

const streamEnv = z.object({
  ...env.aws,
  ...env.host,
  PORT: env.port(8082),
  ...env.apiToken,
  ...env.originSecret,
  ...env.keyPairId,
  ...env.jobsQueue,
  ...env.jobsDeadLetterQueue,
  ...env.cdnDistribution,
  ...env.webhooksQueue,
  PUBLIC_BASE_URL: z.string({ error: BASE_URL_HELP }).refine(isOrigin, BASE_URL_HELP).transform(normalizeBaseUrl),
  CLOUDFRONT_PRIVATE_KEY: z
    .string({ error: PRIVATE_KEY_HELP })
    .transform((v) => v.replace(/\\n/g, '\n').trim())
    .refine(isRsaPrivateKey, PRIVATE_KEY_HELP),
  SIGNED_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(14_400),
});

const config = loadConfigOrExit('stream', streamEnv);
const logger = createLogger('stream', config.LOG_LEVEL);
const { s3, sqs, uploadsBucket, mediaBucket } = awsFromEnv(config);
// CloudFront's API is global; the client only needs a region to sign with.
const cloudFront = config.CLOUDFRONT_DISTRIBUTION_ID ? new CloudFrontClient({ region: config.AWS_REGION }) : undefined;
const signer = createVideoUrlSigner({
  publicBaseUrl: config.PUBLIC_BASE_URL,
  keyPairId: config.CLOUDFRONT_KEY_PAIR_ID,
  privateKey: config.CLOUDFRONT_PRIVATE_KEY,
  ttlSeconds: config.SIGNED_URL_TTL_SECONDS,
});
const app = createApp({
  s3,
  mediaBucket,
  uploadsBucket,
  signer,
  logger,
  originVerifySecret: config.ORIGIN_VERIFY_SECRET,
  apiToken: config.VOD_API_TOKEN,
  admin: {
    sqs,
    jobsQueueUrl: config.JOBS_QUEUE_URL,
    jobsDlqUrl: config.JOBS_DLQ_URL,
    invalidate: cloudFront && cloudFrontInvalidator(cloudFront, config.CLOUDFRONT_DISTRIBUTION_ID!),
  },
  onRecordChange: videoEventsFromEnv(config, sqs, logger),
});

runService({
  name: 'stream service',
  app,
  host: config.HOST,
  port: config.PORT,
  logger,
  describe: { publicBaseUrl: config.PUBLIC_BASE_URL, cdnInvalidation: cloudFront ? config.CLOUDFRONT_DISTRIBUTION_ID : 'off (no CloudFront)' },
  // No request here has a body worth waiting for.
  timeouts: { requestMs: 30_000 },
  onShutdown: async () => {
    app.hitLog.close();
    s3.destroy();
    sqs.destroy();
    cloudFront?.destroy();
  },
});
