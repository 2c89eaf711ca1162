/** HTTP plumbing every service shares: request ids, access logs, /healthz, the origin check. */
import { randomUUID } from 'node:crypto';
import { HEALTH_PATH, ORIGIN_VERIFY_HEADER } from '@vod/contract';
import express, { type Express, type Request, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import { secretEquals } from './auth.js';
import { AppError } from './errors.js';
import { LOG_REDACTION } from './logger.js';

export { HEALTH_PATH };

/**
 * An Express app with request-id'd JSON access logs (header `x-request-id`,
 * kept if sent) and `GET /healthz`. The access log redacts credentials
 * (headers, signed-URL query strings; see logger.ts) whatever logger it is given.
 */
export function baseApp(logger: Logger, health: () => Record<string, unknown> = () => ({})): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(
    pinoHttp({
      logger,
      redact: LOG_REDACTION,
      genReqId: (req, res) => {
        const id = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      customProps: (req) => ({ videoId: (req as { videoId?: string }).videoId }),
      autoLogging: { ignore: (req) => req.url === HEALTH_PATH },
    }),
  );
  app.get(HEALTH_PATH, (_req, res) => {
    res.json({ ok: true, ...health() });
  });
  return app;
}

/** Puts `videoId` (and any other fields) on the request's logger and its access log line. */
export function logVideoId(req: Request, videoId: string, fields: Record<string, string> = {}): void {
  (req as { videoId?: string }).videoId = videoId;
  req.log = req.log.child({ videoId, ...fields });
}

/**
 * In production only CloudFront may reach the services: CloudFront adds a
 * secret origin header (`x-origin-verify`), and requests without it are
 * refused with 403 `forbidden` (compared in constant time). Unset (local
 * runs), every request passes. `/healthz` is exempt so load balancer health
 * checks work.
 */
export function requireOriginSecret(secret: string | undefined): RequestHandler {
  return (req, _res, next) => {
    if (!secret || req.path === HEALTH_PATH) return next();
    const sent = req.headers[ORIGIN_VERIFY_HEADER];
    if (typeof sent === 'string' && secretEquals(sent, secret)) return next();
    next(new AppError('forbidden', 'Requests must come through the CDN'));
  };
}

/**
 * A `Content-Disposition` header value with a file name (RFC 6266): an ASCII
 * `filename` fallback plus `filename*` in UTF-8 (RFC 8187). Path parts of
 * `name` are dropped.
 * @param kind `inline` (shown in the browser) or `attachment` (saved).
 */
export function contentDisposition(name: string, kind: 'inline' | 'attachment'): string {
  const base = name.split(/[/\\]/).pop() || 'download';
  const ascii = base.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(base).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
