/**
 * The local edge: a dev-only stand-in for the CloudFront distribution, so the
 * platform runs on one machine with the same URLs and the same signed-URL rules
 * as in AWS.
 *
 * Routes, in the order CloudFront's cache behaviours apply them:
 *   OPTIONS *                      → CORS preflight, answered here (204)
 *   /api/uploads*, POST /api/videos → upload service (bodies streamed, never buffered)
 *   other /api/*                   → stream service
 *   /videos/*.m3u8                 → stream service, after signature check
 *   other /videos/*                → media bucket via S3 GetObject (like an OAC origin), after signature check
 *   everything else                → static files from `webRoot` (SPA fallback to index.html), if given
 *
 * Every `/videos/*` request must carry a valid CloudFront signed URL
 * (see cloudfront-verify.ts); failures are 403 `{ error: { code, message } }`.
 * Every response carries `Access-Control-Allow-Origin: *` and exposes
 * `Content-Range, Accept-Ranges, Content-Length, ETag`.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { createProxyMiddleware, type RequestHandler as ProxyHandler } from 'http-proxy-middleware';
import type { Logger } from 'pino';
import { AppError, ForbiddenError, NotFoundError, errorMiddleware, notFoundHandler } from '../containers/shared/src/errors.js';
import { baseApp } from '../containers/shared/src/http.js';
import { sendS3Object } from '../containers/stream/src/s3-object.js';
import { trustedKeysFromPem, verifySignedRequest, type TrustedKeys } from './cloudfront-verify.js';

export interface EdgeOptions {
  /** Upload service origin, e.g. `http://127.0.0.1:8081`. */
  uploadOrigin: string;
  /** Stream service origin, e.g. `http://127.0.0.1:8082`. */
  streamOrigin: string;
  /** Client for the media bucket (segments are read straight from it, like CloudFront's S3 origin). */
  s3: S3Client;
  mediaBucket: string;
  /** CloudFront "trusted key group": public key PEM by Key-Pair-Id. */
  trustedKeys: Record<string, string>;
  /** Static web app directory served at `/` (ignored if it does not exist). */
  webRoot?: string;
  /** Clock for signature expiry. Default `() => new Date()`. */
  now?: () => Date;
  logger: Logger;
  /** Sent as `x-origin-verify` to the services, as CloudFront's custom origin header would be. */
  originVerifySecret?: string;
  /** Request headers allowed by CORS preflight. Default `Authorization, Content-Type, Range`. */
  corsAllowHeaders?: string[];
}

const CORS_METHODS = 'GET, HEAD, POST, PUT, DELETE, OPTIONS';
const CORS_EXPOSE = 'Content-Range, Accept-Ranges, Content-Length, ETag';

export function createEdge(opts: EdgeOptions): Express {
  const { logger } = opts;
  const now = opts.now ?? (() => new Date());
  const keys: TrustedKeys = trustedKeysFromPem(opts.trustedKeys);

  const app = baseApp(logger);
  // The edge is the outermost hop, like CloudFront: scheme and client address
  // come from the connection itself, never from X-Forwarded-* sent by a client.
  app.set('trust proxy', false);

  app.use(cors(opts.corsAllowHeaders ?? ['Authorization', 'Content-Type', 'Range']));

  const toUpload = proxy(opts.uploadOrigin, 'upload', opts.originVerifySecret);
  const toStream = proxy(opts.streamOrigin, 'stream', opts.originVerifySecret);

  app.use((req, res, next) => {
    const p = req.path;
    if (p === '/api/uploads' || p.startsWith('/api/uploads/') || (req.method === 'POST' && p === '/api/videos')) {
      return void toUpload(req, res, next);
    }
    if (p === '/api' || p.startsWith('/api/')) return void toStream(req, res, next);
    next();
  });

  app.use(async (req: Request, res: Response, next: NextFunction) => {
    const pathname = req.originalUrl.split('?')[0];
    if (!pathname.startsWith('/videos/')) return next();
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        throw new AppError(405, 'method_not_allowed', `${req.method} is not allowed on /videos/*`);
      }
      const result = verifySignedRequest(
        {
          scheme: req.protocol,
          host: req.headers.host ?? '',
          target: req.originalUrl,
          clientIp: req.socket.remoteAddress ?? '',
          now: now(),
        },
        keys,
      );
      if (!result.ok) throw new ForbiddenError(result.message, result.code);
      // Playlists: the stream service signs them; path and query pass through as sent.
      if (pathname.endsWith('.m3u8')) return void toStream(req, res, next);
      // Segments: straight from the media bucket, like CloudFront's S3 origin.
      const key = mediaKey(pathname);
      if (!key) throw new NotFoundError(`No object at ${pathname}`);
      await sendS3Object(req, res, opts.s3, { bucket: opts.mediaBucket, key, notFoundMessage: `No object at ${pathname}` });
    } catch (err) {
      next(err);
    }
  });

  if (opts.webRoot && existsSync(opts.webRoot) && statSync(opts.webRoot).isDirectory()) {
    const root = path.resolve(opts.webRoot);
    const index = path.join(root, 'index.html');
    app.use(express.static(root, { index: 'index.html' }));
    // SPA fallback: client-side routes get index.html.
    app.use((req, res, next) => {
      if ((req.method !== 'GET' && req.method !== 'HEAD') || !existsSync(index)) return next();
      if (req.path.startsWith('/api/') || req.path.startsWith('/videos/')) return next();
      res.sendFile(index);
    });
  }

  app.use(notFoundHandler);
  app.use(errorMiddleware(logger));
  return app;
}

/**
 * The media-bucket key for a `/videos/…` path: percent-decoded, must stay under
 * `videos/` (no `.`/`..` segments, no empty segments, no backslashes).
 */
export function mediaKey(rawPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  if (!decoded.startsWith('/videos/') || decoded.includes('\\') || decoded.includes('\0')) return undefined;
  const segments = decoded.slice(1).split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  return segments.join('/');
}

function cors(allowHeaders: string[]): RequestHandler {
  const allow = allowHeaders.join(', ');
  return (req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSE);
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', CORS_METHODS);
      res.setHeader('Access-Control-Allow-Headers', allow);
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}

/**
 * A streaming reverse proxy to `target` (http-proxy-middleware v3): path, query
 * and body pass through untouched (bodies are piped, never buffered); adds
 * X-Forwarded-For/Proto/Host, the edge's request id and, if configured, the
 * origin secret. An unreachable origin is 502 JSON.
 */
function proxy(target: string, name: string, originSecret: string | undefined): ProxyHandler<Request, Response> {
  return createProxyMiddleware<Request, Response>({
    target,
    changeOrigin: true,
    xfwd: true,
    // No timeouts on the proxied request: multi-GiB uploads may take a long time.
    proxyTimeout: 0,
    on: {
      proxyReq: (proxyReq, req) => {
        const id = (req as unknown as { id?: unknown }).id;
        if (id !== undefined) proxyReq.setHeader('x-request-id', String(id));
        if (originSecret) proxyReq.setHeader('x-origin-verify', originSecret);
      },
      error: (err, req, res) => {
        const log = (req as unknown as { log?: Logger }).log;
        log?.warn({ err, origin: name }, 'origin request failed');
        const r = res as ServerResponse<IncomingMessage> | Socket;
        if (!('writeHead' in r)) {
          r.destroy();
          return;
        }
        if (r.headersSent) {
          r.destroy();
          return;
        }
        r.writeHead(502, { 'Content-Type': 'application/json; charset=utf-8', 'Access-Control-Allow-Origin': '*' });
        r.end(JSON.stringify({ error: { code: 'bad_gateway', message: `The ${name} service is not reachable` } }));
      },
    },
  });
}
