/**
 * The local edge: a dev-only stand-in for the CloudFront distribution, so the
 * platform runs on one machine with the same URLs and the same signed-URL rules
 * as in AWS. It routes with the contract's tables — the same ones infra
 * declares CloudFront and the load balancer from:
 *
 *   CDN_BEHAVIOURS (first match): `/api/*` → services, `/videos/*.m3u8` →
 *   services (signed), `/videos/*` → media bucket (signed), default → web app;
 *   SERVICE_ROUTES (behind `services`): which service answers.
 *
 * A signed behaviour's requests must carry a valid CloudFront signed URL
 * (cloudfront-verify.ts); failures are 403 `{ error: { code, message } }`.
 * Behaviours with CORS answer preflights here (204) and expose
 * `Content-Range, Accept-Ranges, Content-Length, ETag`, as CloudFront's
 * response headers policy and preflight function do.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import { CORS, METHOD_SETS, ORIGIN_VERIFY_HEADER, cdnBehaviourFor, serviceFor, type Service } from '@vod/contract';
import { AppError, baseApp, errorMiddleware, notFoundHandler, sendS3Object } from '@vod/service-kit';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { createProxyMiddleware, type RequestHandler as ProxyHandler } from 'http-proxy-middleware';
import type { Logger } from 'pino';
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
}

export function createEdge(opts: EdgeOptions): Express {
  const { logger } = opts;
  const now = opts.now ?? (() => new Date());
  const keys: TrustedKeys = trustedKeysFromPem(opts.trustedKeys);

  const app = baseApp(logger);
  // The edge is the outermost hop, like CloudFront: scheme and client address
  // come from the connection itself, never from X-Forwarded-* sent by a client.
  app.set('trust proxy', false);

  const proxies: Record<Service, ProxyHandler<Request, Response>> = {
    upload: proxy(opts.uploadOrigin, 'upload', opts.originVerifySecret),
    stream: proxy(opts.streamOrigin, 'stream', opts.originVerifySecret),
  };

  app.use(async (req: Request, res: Response, next: NextFunction) => {
    // Route and verify the path the request line named: an absolute-form
    // target (`GET http://host/videos/…`) is reduced to its path first.
    const target = requestTarget(req.originalUrl);
    const pathname = target.split('?')[0]!;
    const behaviour = cdnBehaviourFor(pathname);
    try {
      if (behaviour.cors) {
        setCorsHeaders(res);
        if (req.method === 'OPTIONS') return void answerPreflight(res);
      }
      if (!(METHOD_SETS[behaviour.methods] as readonly string[]).includes(req.method)) {
        throw new AppError('method_not_allowed', `${req.method} is not allowed on ${behaviour.pathPattern}`);
      }
      if (behaviour.signed) verify(req, target);
      switch (behaviour.origin) {
        case 'services': {
          const service = serviceFor(req.method, pathname);
          if (!service) throw new AppError('not_found', 'No such route');
          // As CloudFront's cache/origin request policies: the query reaches the
          // origin only where the behaviour says so (signed playlists: it carries
          // the grant's expiry, which caps the URIs signed into the answer).
          if (!behaviour.forwardQuery) req.url = req.url.split('?')[0]!;
          return void proxies[service](req, res, next);
        }
        case 'media': {
          const key = mediaKey(pathname);
          if (!key) throw new AppError('not_found', `No object at ${pathname}`);
          return void (await sendS3Object(req, res, opts.s3, { bucket: opts.mediaBucket, key, notFoundMessage: `No object at ${pathname}` }));
        }
        case 'web':
          return next();
      }
    } catch (err) {
      next(err);
    }
  });

  function verify(req: Request, target: string): void {
    const result = verifySignedRequest(
      { scheme: req.protocol, host: req.headers.host ?? '', target, clientIp: req.socket.remoteAddress ?? '', now: now() },
      keys,
    );
    if (!result.ok) throw new AppError(result.code, result.message);
  }

  if (opts.webRoot && existsSync(opts.webRoot) && statSync(opts.webRoot).isDirectory()) {
    const root = path.resolve(opts.webRoot);
    const index = path.join(root, 'index.html');
    app.use(express.static(root, { index: 'index.html' }));
    // SPA fallback: client-side routes get index.html.
    app.use((req, res, next) => {
      if ((req.method !== 'GET' && req.method !== 'HEAD') || !existsSync(index)) return next();
      if (cdnBehaviourFor(req.path).origin !== 'web') return next();
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

/** The request target's path and query, also for an absolute-form request line (RFC 9112 §3.2.2). */
export function requestTarget(originalUrl: string): string {
  if (originalUrl.startsWith('/')) return originalUrl;
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*(.*)$/.exec(originalUrl);
  const rest = m ? m[1]! : originalUrl;
  return rest.startsWith('/') ? rest : `/${rest}`;
}

function setCorsHeaders(res: Response): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Expose-Headers', CORS.exposeHeaders.join(', '));
}

function answerPreflight(res: Response): void {
  res.setHeader('Access-Control-Allow-Methods', CORS.allowMethods.join(', '));
  res.setHeader('Access-Control-Allow-Headers', CORS.allowHeaders.join(', '));
  res.setHeader('Access-Control-Max-Age', String(CORS.maxAgeSeconds));
  res.status(204).end();
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
        if (originSecret) proxyReq.setHeader(ORIGIN_VERIFY_HEADER, originSecret);
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
