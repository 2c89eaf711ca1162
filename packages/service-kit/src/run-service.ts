/**
 * One way to run a process that serves HTTP (the upload and stream services,
 * the transcode worker's health endpoint, the local edge): listen, fail fast
 * when the port cannot be bound, and on SIGTERM/SIGINT stop accepting
 * connections, let in-flight requests finish (up to `graceMs`), run
 * `onShutdown`, then exit 0. Slow and dripping clients are cut off by the
 * limits of client-timeouts.ts.
 */
import type { RequestListener, Server } from 'node:http';
import type { Logger } from 'pino';
import { createHttpServer, type ClientTimeouts } from './client-timeouts.js';

export interface RunServiceOptions {
  /** Name in log lines. */
  name: string;
  /** The Express app (or any request listener). */
  app: RequestListener;
  host: string;
  port: number;
  logger: Logger;
  /** Extra fields for the "listening" log line. */
  describe?: Record<string, unknown>;
  /** Runs at once on the signal, before the server closes (a worker stops its work and hands it back). */
  beforeClose?: () => Promise<void>;
  /** Runs once the server has stopped accepting connections and its requests are done (destroy clients). */
  onShutdown?: () => Promise<void>;
  /** Milliseconds in-flight requests get before their connections are closed. Default 10 000. */
  graceMs?: number;
  /** Client time limits (client-timeouts.ts); unset fields take the defaults. */
  timeouts?: Partial<ClientTimeouts>;
  /** Adjusts the server before it listens. */
  configure?: (server: Server) => void;
}

export function runService(opts: RunServiceOptions): Server {
  const { logger } = opts;
  const server = createHttpServer(opts.app, opts.timeouts);
  opts.configure?.(server);
  server.listen(opts.port, opts.host);
  server.on('listening', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : opts.port;
    logger.info({ host: opts.host, port, ...opts.describe }, `${opts.name} listening`);
  });
  server.on('error', (err) => {
    logger.fatal({ err }, `${opts.name} cannot listen`);
    process.exit(1);
  });

  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.warn('grace period over, closing remaining connections');
      server.closeAllConnections();
    }, opts.graceMs ?? 10_000);
    timer.unref();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    (opts.beforeClose ?? (async () => {}))()
      .catch((err) => logger.error({ err }, 'error while stopping'))
      .then(() => closed)
      .then(() => (opts.onShutdown ?? (async () => {}))())
      .catch((err) => logger.error({ err }, 'error during shutdown'))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return server;
}
