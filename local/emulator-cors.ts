/**
 * The uploads bucket's CORS rule (contract UPLOADS_BUCKET_CORS), answered by
 * the local emulator as S3 answers it in AWS, where infra sets the rule on the
 * bucket. fauxqs has no CORS, and a web page PUTs upload parts straight to the
 * bucket through presigned URLs, so without this a browser could not upload
 * locally. Only what that rule needs: preflights (`OPTIONS`) and the headers
 * on actual answers, for the one bucket (S3 user guide, "How does Amazon S3
 * evaluate the CORS configuration on a bucket?").
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { UPLOADS_BUCKET_CORS } from '@vod/contract';

const rule = UPLOADS_BUCKET_CORS;
const allowedHeaders = new Set(rule.allowedHeaders.map((h) => h.toLowerCase()));

/** The `Access-Control-Allow-Origin` value for `origin`, or undefined when the rule does not allow it. */
function allowOrigin(origin: string): string | undefined {
  const origins = rule.allowedOrigins as readonly string[];
  return origins.includes('*') ? '*' : origins.includes(origin) ? origin : undefined;
}

/** True when the request's path is in `bucket` (path-style addressing, as the emulator is used). */
function inBucket(req: IncomingMessage, bucket: string): boolean {
  const path = (req.url ?? '').split('?')[0]!;
  return path.startsWith(`/${bucket}/`);
}

/**
 * Wraps the emulator's request handler: answers CORS preflights for `bucket`
 * itself (200 with the rule's headers, or 403 as S3 does when no rule
 * matches), and adds the rule's headers to answers of cross-origin requests
 * the rule allows. Every other request reaches `handler` untouched.
 */
export function withBucketCors(bucket: string, handler: RequestListener): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    if (!origin || !inBucket(req, bucket)) return handler(req, res);
    const allowedOrigin = allowOrigin(origin);
    if (req.method === 'OPTIONS') {
      const method = String(req.headers['access-control-request-method'] ?? '');
      const asked = String(req.headers['access-control-request-headers'] ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean);
      const allowed = allowedOrigin !== undefined && (rule.allowedMethods as readonly string[]).includes(method) && asked.every((h) => allowedHeaders.has(h));
      if (!allowed) {
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessForbidden</Code><Message>CORSResponse: This CORS request is not allowed.</Message></Error>');
        return;
      }
      res.writeHead(200, {
        'access-control-allow-origin': allowedOrigin,
        'access-control-allow-methods': rule.allowedMethods.join(', '),
        ...(asked.length ? { 'access-control-allow-headers': asked.join(', ') } : {}),
        'access-control-max-age': String(rule.maxAgeSeconds),
        'content-length': '0',
      });
      res.end();
      return;
    }
    if (allowedOrigin !== undefined && (rule.allowedMethods as readonly string[]).includes(req.method ?? '')) {
      res.setHeader('access-control-allow-origin', allowedOrigin);
      res.setHeader('access-control-expose-headers', rule.exposeHeaders.join(', '));
    }
    handler(req, res);
  };
}
