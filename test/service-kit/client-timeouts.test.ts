/**
 * Slow clients against the services' HTTP server (createHttpServer, what
 * runService listens with), over raw sockets on 127.0.0.1: a client that
 * drips its headers or its body is cut off; an upload over a slow but real
 * link, and one the server itself is slow to read, get through. The limits
 * are scaled down (windows of 1 s instead of 20 s) so the test is short; the
 * rules are the production ones.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import { createHttpServer, type ClientTimeouts } from '@vod/service-kit';

const LIMITS: Partial<ClientTimeouts> = {
  headersMs: 1_000,
  requestMs: 0,
  idleMs: 10_000,
  bodyMinBytes: 4_096,
  bodyWindowMs: 1_000,
  checkIntervalMs: 100,
};

/** Answers with the number of body bytes received; `/slow-reader` starts reading only after 2.5 body windows. */
function startServer(): Promise<{ server: Server; port: number }> {
  const server = createHttpServer((req, res) => {
    let bytes = 0;
    const read = () => {
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => res.end(String(bytes)));
    };
    if (req.url === '/slow-reader') setTimeout(read, 2_500);
    else read();
  }, LIMITS);
  server.listen(0, '127.0.0.1');
  return once(server, 'listening').then(() => ({ server, port: (server.address() as net.AddressInfo).port }));
}

interface Outcome {
  /** What the server answered before the socket closed ('' if nothing). */
  answer: string;
  closedAfterMs: number;
}

/** Connects, runs `send(socket)`, resolves when the server closes the connection. */
async function exchange(port: number, send: (s: net.Socket) => void): Promise<Outcome> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const started = Date.now();
  let answer = '';
  socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
  socket.on('error', () => {}); // a reset is one way of being cut off
  const closed = once(socket, 'close');
  send(socket);
  await closed;
  return { answer, closedAfterMs: Date.now() - started };
}

/** Writes `chunk` every `everyMs` until the socket closes or `count` writes were made; then calls `last`. */
function drip(socket: net.Socket, chunk: Buffer | string, everyMs: number, count = Infinity, last?: () => void): void {
  let n = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || socket.writableEnded) return clearInterval(timer);
    if (n++ >= count) {
      clearInterval(timer);
      return last?.();
    }
    socket.write(chunk);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

describe('slow clients (createHttpServer limits)', function () {
  // Bound of every case: a dripping client would otherwise hold its socket for minutes.
  this.timeout(15_000);
  let server: Server;
  let port: number;
  before(async () => {
    ({ server, port } = await startServer());
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
  });

  it('closes a client that drips its headers (slowloris)', async () => {
    const out = await exchange(port, (s) => {
      s.write('GET / HTTP/1.1\r\nHost: x\r\n');
      drip(s, 'X-a: b\r\n', 200);
    });
    expect(out.answer).not.to.match(/^HTTP\/1\.1 200/);
    expect(out.closedAfterMs).to.be.below(5_000);
  });

  it('closes a client that drips its body a byte at a time', async () => {
    const out = await exchange(port, (s) => {
      s.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n');
      drip(s, 'x', 100);
    });
    expect(out.answer).to.equal('');
    expect(out.closedAfterMs).to.be.below(5_000);
  });

  it('closes a client that starts fast and then drips', async () => {
    const out = await exchange(port, (s) => {
      s.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n');
      s.write(Buffer.alloc(100_000, 1));
      drip(s, 'x', 100);
    });
    expect(out.answer).to.equal('');
  });

  it('lets a slow but real upload through (≈ 40 KB/s for 3 s, several windows)', async () => {
    const chunk = Buffer.alloc(4_000, 2);
    const out = await exchange(port, (s) => {
      s.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 120000\r\nConnection: close\r\n\r\n');
      drip(s, chunk, 100, 30);
    });
    expect(out.answer).to.match(/^HTTP\/1\.1 200/);
    expect(out.answer.endsWith('\r\n\r\n120000')).to.equal(true);
  });

  it('does not blame the client while the server is the slow reader', async () => {
    const out = await exchange(port, (s) => {
      s.write('POST /slow-reader HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n');
      s.write(Buffer.alloc(2_000_000, 3));
    });
    expect(out.answer).to.match(/^HTTP\/1\.1 200/);
    expect(out.answer.endsWith('\r\n\r\n2000000')).to.equal(true);
  });
});
