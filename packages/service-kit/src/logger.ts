/**
 * JSON logs (pino) for every service; one root logger per process.
 *
 * Secrets never reach a log line. Every logger made here (and every child of
 * it, including the access-log logger `baseApp` derives) redacts:
 * - credentials in headers: `Authorization`, `Proxy-Authorization`, `Cookie`,
 *   `Set-Cookie`, and the origin secret `x-origin-verify`;
 * - the signing parameters of signed URLs in logged URLs and parsed queries:
 *   CloudFront's `Policy`, `Signature`, `Key-Pair-Id`, `Expires` (CloudFront
 *   developer guide, "Use signed URLs") and S3 presigned URLs' `X-Amz-*`
 *   credentials (SigV4 query authentication). The rest of the URL is kept, so
 *   a line still says which path was asked for.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

/** Query parameters whose values are credentials (compared case-insensitively). */
export const SECRET_QUERY_PARAMS: readonly string[] = [
  'Policy',
  'Signature',
  'Key-Pair-Id',
  'Expires',
  'X-Amz-Signature',
  'X-Amz-Credential',
  'X-Amz-Security-Token',
];

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

const SECRET_PARAM_SET = new Set(SECRET_QUERY_PARAMS.map((p) => p.toLowerCase()));
/** A query parameter `name=value` (name and value raw, as on the wire). */
const QUERY_PARAM = /([?&])([^=&#]*)=([^&#]*)/g;

/**
 * `url` with the values of its signing parameters replaced by `[redacted]`;
 * path, other parameters and their order untouched. Works on absolute URLs
 * and on request targets (`/path?query`).
 */
export function scrubUrl(url: string): string {
  if (!url.includes('?')) return url;
  return url.replace(QUERY_PARAM, (whole, sep: string, name: string) => {
    let decoded = name;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      // keep the raw name
    }
    return SECRET_PARAM_SET.has(decoded.toLowerCase()) ? `${sep}${name}=${REDACTED}` : whole;
  });
}

/** Header names (lower case, as Node gives them) whose values are credentials. */
const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'x-origin-verify'];

/** pino `redact` paths: headers of logged requests/responses, URLs and parsed queries. */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_HEADERS.map((h) => `req.headers["${h}"]`),
  ...SECRET_HEADERS.map((h) => `headers["${h}"]`),
  'res.headers["set-cookie"]',
  // Express parses the query into `req.query`; the URL itself is scrubbed below.
  ...SECRET_QUERY_PARAMS.map((p) => `req.query["${p}"]`),
  'req.url',
  'url',
];

/** Censor for `REDACT_PATHS`: URLs are scrubbed (keeping the path), everything else replaced. */
function censor(value: unknown, path: string[]): unknown {
  if (path[path.length - 1] === 'url') return typeof value === 'string' ? scrubUrl(value) : value;
  return REDACTED;
}

/** The redaction every logger of the platform applies (exported for loggers made elsewhere, e.g. tests). */
export const LOG_REDACTION: NonNullable<LoggerOptions['redact']> = { paths: [...REDACT_PATHS], censor };

/**
 * The process's root logger: JSON lines on stdout, `{ service }` on every line,
 * secrets redacted as described above.
 * @param destination where lines go (default stdout); tests pass a stream to read them.
 */
export function createLogger(service: string, level = 'info', destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = { name: service, level, base: { service }, redact: LOG_REDACTION };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
