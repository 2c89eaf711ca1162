/** HTTP plumbing every service shares: request ids, access logs, /healthz, graceful shutdown. */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import express, { type Express, type Request, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';

/** An Express app with request-id'd JSON access logs (header `x-request-id`, kept if sent) and `GET /healthz`. */
export function baseApp(logger: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const id = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      customProps: (req) => ({ videoId: (req as { videoId?: string }).videoId }),
      autoLogging: { ignore: (req) => req.url === '/healthz' },
    }),
  );
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  return app;
}

/** Puts `videoId` (and any other fields) on the request's logger and its access log line. */
export function logVideoId(req: Request, videoId: string, fields: Record<string, string> = {}): void {
  (req as { videoId?: string }).videoId = videoId;
  req.log = req.log.child({ videoId, ...fields });
}

/** Records the route's videoId on the request so access logs carry it. */
export const tagVideoId: RequestHandler = (req, _res, next) => {
  const id = req.params.videoId;
  if (typeof id === 'string') logVideoId(req, id);
  next();
};

/**
 * Stops accepting connections on SIGTERM/SIGINT, lets in-flight requests
 * finish (up to `graceMs`), runs `onClose`, then exits.
 */
export function shutdownOnSignals(server: Server, logger: Logger, onClose: () => Promise<void> = async () => {}, graceMs = 10_000): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.warn('grace period over, closing remaining connections');
      server.closeAllConnections();
    }, graceMs);
    timer.unref();
    server.close(() => {
      onClose()
        .catch((err) => logger.error({ err }, 'error during shutdown'))
        .finally(() => process.exit(0));
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * In production only CloudFront may reach the services: CloudFront adds a
 * secret origin header (`x-origin-verify`), and requests without it are
 * refused. Unset (local runs), every request passes. `/healthz` is exempt so
 * load balancer health checks work.
 */
export function requireOriginSecret(secret: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (!secret || req.path === '/healthz' || req.headers['x-origin-verify'] === secret) return next();
    res.status(403).json({ error: { code: 'forbidden', message: 'Requests must come through the CDN' } });
  };
}
