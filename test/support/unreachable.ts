/** What tests of "the queue is unreachable" share: an endpoint that refuses at once, and a logger whose lines are kept. */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** `http://127.0.0.1:{port}` of a port nothing listens on: every request is refused at once. */
export async function refusedEndpoint(): Promise<string> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  await new Promise((r) => probe.close(r));
  return `http://127.0.0.1:${port}`;
}

/** An info-level pino logger and the JSON lines it wrote. */
export function capturingLogger<T = Record<string, unknown>>(): { logger: Logger; lines: T[] } {
  const lines: T[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as T);
        cb();
      },
    }),
  );
  return { logger, lines };
}
