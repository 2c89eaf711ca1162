/**
 * Time limits for HTTP clients: a real upload over a slow link gets through,
 * a client that drips (slowloris: headers or a body trickled a byte at a time)
 * is cut off before it can hold a socket — and, behind it, an S3 upload
 * stream — for long.
 *
 * - Headers: the whole header block within `headersMs` (Node `server.headersTimeout`;
 *   20 s as Apache mod_reqtimeout's `header=20`). An idle keep-alive connection
 *   is not a request yet and is not affected.
 * - Body: a minimum rate, in the spirit of mod_reqtimeout's `body=20,MinRate=500`
 *   but per window, so a fast start buys no time for a drip later: in every
 *   `bodyWindowMs` while a request body is being received the client must
 *   send at least `bodyMinBytes` (default 8 KiB per 20 s ≈ 3.3 kbit/s, far below any real link).
 *   Windows in which the server itself is not reading (backpressure: the
 *   request stream is full or the socket paused, e.g. S3 is slow) do not count.
 * - Whole request: `requestMs` (Node `server.requestTimeout`; 0 for services
 *   that take multi-GiB bodies, which rely on the rate rule instead).
 * - Idle socket: no byte either way for `idleMs` → closed (Node `server.timeout`).
 * - Keep-alive: idle connections are kept `keepAliveMs`, longer than the load
 *   balancer's idle timeout (contract `ORIGIN_IDLE_TIMEOUT_SECONDS`), so the
 *   service never closes a connection the ALB is about to reuse (ELB user
 *   guide, "Connection idle timeout": the target's keep-alive should exceed it).
 */
import http, { type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { ORIGIN_IDLE_TIMEOUT_SECONDS } from '@vod/contract';

export interface ClientTimeouts {
  /** Complete request headers within, ms. Default 20 000. */
  headersMs: number;
  /** Complete request (headers + body) within, ms; 0 = no limit. Default 300 000 (Node's default). */
  requestMs: number;
  /** A socket with no traffic either way for this long is closed, ms. Default the load balancer's idle timeout. */
  idleMs: number;
  /** Idle keep-alive connections are kept this long, ms. Default the load balancer's idle timeout + 5 s. */
  keepAliveMs: number;
  /** Minimum body bytes per window while a body is being received. Default 8 192. */
  bodyMinBytes: number;
  /** The body-rate window, ms. Default 20 000. */
  bodyWindowMs: number;
  /** How often the limits are checked, ms. Default 1 000. */
  checkIntervalMs: number;
}

export const DEFAULT_CLIENT_TIMEOUTS: ClientTimeouts = {
  headersMs: 20_000,
  requestMs: 300_000,
  idleMs: ORIGIN_IDLE_TIMEOUT_SECONDS * 1000,
  keepAliveMs: (ORIGIN_IDLE_TIMEOUT_SECONDS + 5) * 1000,
  bodyMinBytes: 8 * 1024,
  bodyWindowMs: 20_000,
  checkIntervalMs: 1_000,
};

/** A body being received: the socket's byte count at the start of the current window. */
interface Receiving {
  req: IncomingMessage;
  socket: Socket;
  windowStart: number;
  windowBytes: number;
}

/**
 * An HTTP server for `listener` with the limits above (unset fields take the defaults).
 * Not listening yet; the rate checker stops when the server closes.
 */
export function createHttpServer(listener: RequestListener, timeouts: Partial<ClientTimeouts> = {}): Server {
  const t = { ...DEFAULT_CLIENT_TIMEOUTS, ...timeouts };
  const server = http.createServer(
    {
      headersTimeout: t.headersMs,
      requestTimeout: t.requestMs,
      keepAliveTimeout: t.keepAliveMs,
      // Node enforces headersTimeout/requestTimeout on this tick (default 30 s).
      connectionsCheckingInterval: Math.min(t.checkIntervalMs, t.headersMs),
    },
    listener,
  );
  server.timeout = t.idleMs;

  const receiving = new Set<Receiving>();
  server.on('request', (req: IncomingMessage) => {
    if (req.complete || !hasBody(req)) return;
    const entry: Receiving = { req, socket: req.socket, windowStart: Date.now(), windowBytes: req.socket.bytesRead };
    receiving.add(entry);
    const done = () => receiving.delete(entry);
    req.once('end', done);
    req.once('close', done);
  });

  const check = () => {
    const now = Date.now();
    for (const r of receiving) {
      if (r.req.complete || r.socket.destroyed) {
        receiving.delete(r);
        continue;
      }
      const bytes = r.socket.bytesRead;
      // The server is the slow side: nothing is owed for this window.
      if (r.req.readableLength >= r.req.readableHighWaterMark || r.socket.isPaused()) {
        r.windowStart = now;
        r.windowBytes = bytes;
        continue;
      }
      if (now - r.windowStart < t.bodyWindowMs) continue;
      if (bytes - r.windowBytes < t.bodyMinBytes) {
        receiving.delete(r);
        r.socket.destroy();
        continue;
      }
      r.windowStart = now;
      r.windowBytes = bytes;
    }
  };
  const timer = setInterval(check, t.checkIntervalMs);
  timer.unref();
  server.on('close', () => clearInterval(timer));
  return server;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}
