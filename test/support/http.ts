/** Starts an Express app (or anything that listens like one) on a free loopback port for a test. */
import type { Server } from 'node:http';
import { once } from 'node:events';

export async function listen(app: { listen(port: number, host: string): Server }): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const silentLogger = async () => (await import('pino')).pino({ level: 'silent' });
