/**
 * Local edge entry point (dev only; `local/start.ts` spawns it as its own process).
 *
 * Environment (validated once; a bad value stops the process with exit 1):
 *   AWS_REGION, UPLOADS_BUCKET, MEDIA_BUCKET, S3_FORCE_PATH_STYLE, LOG_LEVEL  (shared awsEnv)
 *   PORT                        listen port (default 8080)
 *   UPLOAD_ORIGIN               upload service origin, e.g. http://127.0.0.1:8081
 *   STREAM_ORIGIN               stream service origin, e.g. http://127.0.0.1:8082
 *   CLOUDFRONT_KEY_PAIR_ID      the trusted public key's id (the Key-Pair-Id signed URLs carry)
 *   CLOUDFRONT_PUBLIC_KEY_FILE  path of that RSA public key (PEM)
 *   WEB_ROOT                    optional; static web app served at /
 *   ORIGIN_VERIFY_SECRET        optional; sent to the services as x-origin-verify
 * S3 endpoint and credentials come from the SDK's standard chain (AWS_ENDPOINT_URL, …).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { createS3Client } from '../containers/shared/src/aws.js';
import { awsEnv, loadConfigOrExit, port } from '../containers/shared/src/config.js';
import { shutdownOnSignals } from '../containers/shared/src/http.js';
import { createLogger } from '../containers/shared/src/logger.js';
import { createEdge } from './edge.js';

const origin = (name: string, example: string) =>
  z.string({ error: `set ${name} to an http(s) origin, e.g. ${example}` }).refine((v) => {
    try {
      return /^https?:$/.test(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `set ${name} to an http(s) origin, e.g. ${example}`);

const KEY_ID_HELP = 'set CLOUDFRONT_KEY_PAIR_ID to the key pair id the stream service signs with';
const KEY_FILE_HELP = 'set CLOUDFRONT_PUBLIC_KEY_FILE to the path of the RSA public key (PEM)';

const edgeEnv = z.object({
  ...awsEnv,
  PORT: port(8080),
  UPLOAD_ORIGIN: origin('UPLOAD_ORIGIN', 'http://127.0.0.1:8081'),
  STREAM_ORIGIN: origin('STREAM_ORIGIN', 'http://127.0.0.1:8082'),
  CLOUDFRONT_KEY_PAIR_ID: z.string({ error: KEY_ID_HELP }).min(1, KEY_ID_HELP),
  /** Read once at start: the PEM text, not the path, is what the edge keeps. */
  CLOUDFRONT_PUBLIC_KEY_FILE: z
    .string({ error: KEY_FILE_HELP })
    .min(1, KEY_FILE_HELP)
    .transform((file, ctx) => {
      try {
        return readFileSync(file, 'utf8');
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `cannot read ${file} (${(err as Error).message})` });
        return z.NEVER;
      }
    }),
  WEB_ROOT: z.string().min(1).optional(),
  ORIGIN_VERIFY_SECRET: z.string().min(1).optional(),
});

function main(): void {
  const config = loadConfigOrExit('edge', edgeEnv);
  const publicKeyPem = config.CLOUDFRONT_PUBLIC_KEY_FILE;
  const logger = createLogger('edge', config.LOG_LEVEL);
  const s3 = createS3Client({ region: config.AWS_REGION, forcePathStyle: config.S3_FORCE_PATH_STYLE });
  let app;
  try {
    app = createEdge({
      uploadOrigin: config.UPLOAD_ORIGIN,
      streamOrigin: config.STREAM_ORIGIN,
      s3,
      mediaBucket: config.MEDIA_BUCKET,
      trustedKeys: { [config.CLOUDFRONT_KEY_PAIR_ID]: publicKeyPem },
      webRoot: config.WEB_ROOT,
      logger,
      originVerifySecret: config.ORIGIN_VERIFY_SECRET,
    });
  } catch (err) {
    console.error(`edge: cannot start: ${(err as Error).message} (is CLOUDFRONT_PUBLIC_KEY_FILE an RSA public key PEM?)`);
    process.exit(1);
  }

  const server = app.listen(config.PORT, () => {
    logger.info({ port: config.PORT }, 'edge listening');
  });
  // Multi-GiB uploads stream through here: no whole-request time limit
  // (Node's default requestTimeout is 300 s).
  server.requestTimeout = 0;
  server.on('error', (err) => {
    logger.fatal({ err }, 'cannot listen');
    process.exit(1);
  });
  shutdownOnSignals(server, logger, async () => s3.destroy());
}

main();
