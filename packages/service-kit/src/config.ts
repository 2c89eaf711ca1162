/**
 * Config loading: every entry point validates its environment once, at start,
 * with a zod schema assembled from the fragments below, and stops with one
 * clear message listing every bad variable. A variable that several services
 * read is declared here once, with one rule and one message.
 */
import { SHARED_SECRET_PATTERN, SHARED_SECRET_RULE, WEBHOOK_SECRET_PATTERN, WEBHOOK_SECRET_RULE, webhookUrlProblem } from '@vod/contract';
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Parses `env` with `schema`.
 * @throws ConfigError naming each missing or invalid variable.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

/** For entry points: like loadConfig, but prints the problem and exits 1 instead of throwing. */
export function loadConfigOrExit<S extends z.ZodType>(service: string, schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  try {
    return loadConfig(schema, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`${service}: ${err.message}`);
    process.exit(1);
  }
}

/** A required string with one help message for both "missing" and "invalid". */
const required = (help: string) => z.string({ error: help }).min(1, help);

const secret = (name: string, what: string) => {
  const help = `set ${name} to ${what}: ${SHARED_SECRET_RULE}`;
  return z.string({ error: help }).regex(SHARED_SECRET_PATTERN, help);
};

const url = (name: string, example: string) => {
  const help = `set ${name} to an http(s) URL, e.g. ${example}`;
  return z.string({ error: help }).refine((v) => {
    try {
      return /^https?:$/.test(new URL(v).protocol);
    } catch {
      return false;
    }
  }, help);
};

/** Comma-separated http(s) URLs (blanks ignored); any other entry is refused with its position and value. */
const urlList = (name: string, example: string) =>
  z
    .string()
    .default('')
    .transform((v, ctx) => {
      const urls = v.split(',').map((s) => s.trim()).filter(Boolean);
      urls.forEach((u, i) => {
        const problem = webhookUrlProblem(u);
        if (problem) ctx.addIssue({ code: 'custom', message: `entry ${i + 1}: ${problem}; set ${name} to comma-separated http(s) URLs, e.g. ${example}` });
      });
      return [...new Set(urls)];
    });

/** Environment fragments; each service spreads the ones it reads into its schema. */
export const env = {
  /** Where the AWS resources are (endpoint and credentials come from the SDK's standard chain). */
  aws: {
    AWS_REGION: required('set AWS_REGION (e.g. us-east-1)'),
    UPLOADS_BUCKET: required('set UPLOADS_BUCKET to the uploads bucket name'),
    MEDIA_BUCKET: required('set MEDIA_BUCKET to the media bucket name'),
    /** Path-style S3 addressing, for S3-compatible endpoints without wildcard DNS (the local emulator); harmless against AWS. */
    S3_FORCE_PATH_STYLE: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  },
  /** The address to listen on (default all interfaces, as in a container; `npm start` binds to 127.0.0.1). */
  host: {
    HOST: z.string().min(1).default('0.0.0.0'),
  },
  /** A TCP port (0 = any free port). */
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  jobsQueue: {
    JOBS_QUEUE_URL: url('JOBS_QUEUE_URL', 'https://sqs.us-east-1.amazonaws.com/123456789012/vod-jobs'),
  },
  /** The jobs queue's dead-letter queue (redrive moves its messages back). */
  jobsDeadLetterQueue: {
    JOBS_DLQ_URL: url('JOBS_DLQ_URL', 'https://sqs.us-east-1.amazonaws.com/123456789012/vod-jobs-dlq'),
  },
  /**
   * The CloudFront distribution in front of the platform, whose cached copies
   * of a deleted video are invalidated. Unset where there is no CloudFront
   * (the local stack's edge caches nothing): invalidation is skipped.
   */
  cdnDistribution: {
    CLOUDFRONT_DISTRIBUTION_ID: z
      .string()
      .regex(/^[A-Z0-9]{1,64}$/, 'set CLOUDFRONT_DISTRIBUTION_ID to the distribution id (e.g. E2QWRUHAPOMQZL), or leave it unset without CloudFront')
      .optional(),
  },
  /** Where services that change status records queue webhook events; unset = no events. */
  webhooksQueue: {
    WEBHOOKS_QUEUE_URL: url('WEBHOOKS_QUEUE_URL', 'https://sqs.us-east-1.amazonaws.com/123456789012/vod-webhooks').optional(),
  },
  /** The webhook delivery worker's receivers and signing secret (Standard Webhooks). */
  webhookReceivers: {
    VOD_WEBHOOK_URLS: urlList('VOD_WEBHOOK_URLS', 'https://example.com/hooks/vod,https://hooks.example.net/in'),
    VOD_WEBHOOK_SECRET: z
      .string({ error: `set VOD_WEBHOOK_SECRET to the signing secret: ${WEBHOOK_SECRET_RULE}` })
      .regex(WEBHOOK_SECRET_PATTERN, `set VOD_WEBHOOK_SECRET to the signing secret: ${WEBHOOK_SECRET_RULE}`),
  },
  /** Bearer token every `/api/*` request must carry. */
  apiToken: {
    VOD_API_TOKEN: secret('VOD_API_TOKEN', 'the API token'),
  },
  /** When set, only requests carrying it in `x-origin-verify` (added by CloudFront) are served. */
  originSecret: {
    ORIGIN_VERIFY_SECRET: secret('ORIGIN_VERIFY_SECRET', 'the secret CloudFront sends in x-origin-verify').optional(),
  },
  /** The CloudFront public key id signed URLs carry (`Key-Pair-Id`). */
  keyPairId: {
    CLOUDFRONT_KEY_PAIR_ID: required('set CLOUDFRONT_KEY_PAIR_ID to the CloudFront public key id (e.g. K2JCJMDEHXQW5F)'),
  },
  url,
};
