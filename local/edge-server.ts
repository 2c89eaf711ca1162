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
import { awsFromEnv, createLogger, env, loadConfigOrExit, runService } from '@vod/service-kit';
import { z } from 'zod';
import { createEdge } from './edge.js';

const KEY_FILE_HELP = 'set CLOUDFRONT_PUBLIC_KEY_FILE to the path of the RSA public key (PEM)';

const edgeEnv = z.object({
  ...env.aws,
  ...env.host,
  PORT: env.port(8080),
  ...env.keyPairId,
  ...env.originSecret,
  UPLOAD_ORIGIN: env.url('UPLOAD_ORIGIN', 'http://127.0.0.1:8081'),
  STREAM_ORIGIN: env.url('STREAM_ORIGIN', 'http://127.0.0.1:8082'),
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
});

function main(): void {
  const config = loadConfigOrExit('edge', edgeEnv);
  const publicKeyPem = config.CLOUDFRONT_PUBLIC_KEY_FILE;
  const logger = createLogger('edge', config.LOG_LEVEL);
  const { s3, mediaBucket } = awsFromEnv(config);
  let app;
  try {
    app = createEdge({
      uploadOrigin: config.UPLOAD_ORIGIN,
      streamOrigin: config.STREAM_ORIGIN,
      s3,
      mediaBucket,
      trustedKeys: { [config.CLOUDFRONT_KEY_PAIR_ID]: publicKeyPem },
      webRoot: config.WEB_ROOT,
      logger,
      originVerifySecret: config.ORIGIN_VERIFY_SECRET,
    });
  } catch (err) {
    console.error(`edge: cannot start: ${(err as Error).message} (is CLOUDFRONT_PUBLIC_KEY_FILE an RSA public key PEM?)`);
    process.exit(1);
  }

  runService({
    name: 'edge',
    app,
    host: config.HOST,
    port: config.PORT,
    logger,
    onShutdown: async () => s3.destroy(),
    // Multi-GiB uploads stream through here: no whole-request time limit
    // (Node's default requestTimeout is 300 s); the body-rate rule still applies.
    timeouts: { requestMs: 0 },
  });
}

main();
