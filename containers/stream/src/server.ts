/**
 * Stream service entry point: the only file that reads the environment.
 *
 * Environment (validated once at start; a bad value stops the process with exit 1):
 *   AWS_REGION, UPLOADS_BUCKET, MEDIA_BUCKET, S3_FORCE_PATH_STYLE, LOG_LEVEL  (shared awsEnv)
 *   PORT                    listen port (default 8082)
 *   PUBLIC_BASE_URL         the CDN's origin, e.g. https://d111111abcdef8.cloudfront.net (locally http://127.0.0.1:8080)
 *   CLOUDFRONT_KEY_PAIR_ID  CloudFront public key id (Key-Pair-Id)
 *   CLOUDFRONT_PRIVATE_KEY  PEM text of the matching RSA private key (literal "\n" sequences are accepted)
 *   SIGNED_URL_TTL_SECONDS  minimum life of signed URLs, seconds (default 14400 = 4 h)
 *   ORIGIN_VERIFY_SECRET    optional; when set, only requests carrying `x-origin-verify: <secret>` are served
 *   VOD_API_TOKEN           bearer token every /api/* request must carry
 * S3 endpoint and credentials come from the SDK's standard chain (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, …).
 */
import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import { createS3Client } from '../../shared/src/aws.js';
import { awsEnv, loadConfigOrExit, port } from '../../shared/src/config.js';
import { shutdownOnSignals } from '../../shared/src/http.js';
import { createLogger } from '../../shared/src/logger.js';
import { createApp } from './app.js';
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
const KEY_ID_HELP = 'set CLOUDFRONT_KEY_PAIR_ID to the CloudFront public key id (e.g. K2JCJMDEHXQW5F)';
const PRIVATE_KEY_HELP = 'set CLOUDFRONT_PRIVATE_KEY to the PEM text of the RSA private key matching CLOUDFRONT_KEY_PAIR_ID';

export const streamEnv = z.object({
  ...awsEnv,
  PORT: port(8082),
  PUBLIC_BASE_URL: z
    .string({ error: BASE_URL_HELP })
    .refine(isOrigin, BASE_URL_HELP)
    .transform(normalizeBaseUrl),
  CLOUDFRONT_KEY_PAIR_ID: z.string({ error: KEY_ID_HELP }).min(1, KEY_ID_HELP),
  CLOUDFRONT_PRIVATE_KEY: z
    .string({ error: PRIVATE_KEY_HELP })
    .transform((v) => v.replace(/\\n/g, '\n').trim())
    .refine(isRsaPrivateKey, PRIVATE_KEY_HELP),
  SIGNED_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(14_400),
  ORIGIN_VERIFY_SECRET: z.string().min(1).optional(),
  VOD_API_TOKEN: z.string({ error: 'set VOD_API_TOKEN to the API token (at least 16 characters)' }).min(16, 'set VOD_API_TOKEN to the API token (at least 16 characters)'),
});

function main(): void {
  const config = loadConfigOrExit('stream', streamEnv);

  const logger = createLogger('stream', config.LOG_LEVEL);
  const s3 = createS3Client({ region: config.AWS_REGION, forcePathStyle: config.S3_FORCE_PATH_STYLE });
  const signer = createVideoUrlSigner({
    publicBaseUrl: config.PUBLIC_BASE_URL,
    keyPairId: config.CLOUDFRONT_KEY_PAIR_ID,
    privateKey: config.CLOUDFRONT_PRIVATE_KEY,
    ttlSeconds: config.SIGNED_URL_TTL_SECONDS,
  });
  const app = createApp({
    s3,
    mediaBucket: config.MEDIA_BUCKET,
    uploadsBucket: config.UPLOADS_BUCKET,
    signer,
    logger,
    originVerifySecret: config.ORIGIN_VERIFY_SECRET,
    apiToken: config.VOD_API_TOKEN,
  });

  const server = app.listen(config.PORT, () => {
    logger.info({ port: config.PORT, publicBaseUrl: config.PUBLIC_BASE_URL }, 'stream service listening');
  });
  server.on('error', (err) => {
    logger.fatal({ err }, 'cannot listen');
    process.exit(1);
  });
  shutdownOnSignals(server, logger, async () => s3.destroy());
}

main();
