/**
 * Config loading: every service validates its environment once, at start,
 * with a zod schema, and stops with one clear message listing every bad key.
 */
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

/** Environment shared by every service: where its AWS resources are. */
export const awsEnv = {
  AWS_REGION: z.string({ error: 'set AWS_REGION (e.g. us-east-1)' }).min(1, 'set AWS_REGION (e.g. us-east-1)'),
  UPLOADS_BUCKET: z.string({ error: 'set UPLOADS_BUCKET to the uploads bucket name' }).min(3, 'set UPLOADS_BUCKET to the uploads bucket name'),
  MEDIA_BUCKET: z.string({ error: 'set MEDIA_BUCKET to the media bucket name' }).min(3, 'set MEDIA_BUCKET to the media bucket name'),
  /**
   * Path-style S3 addressing. Needed by S3-compatible endpoints without
   * wildcard DNS (the local emulator); harmless against AWS.
   */
  S3_FORCE_PATH_STYLE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

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
