/**
 * The local stack's ports, and what it says when a part cannot start. A stack
 * once took the same free port for two of its parts; the second died with
 * EADDRINUSE, and CI showed only "stream exited (1) during start; see <a log
 * that no longer existed>".
 */
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { freePorts, startStack } from '../../local/stack.js';

const listen = async (port: number): Promise<Server> => {
  const srv = createServer();
  srv.listen(port, '127.0.0.1');
  await once(srv, 'listening');
  return srv;
};
const close = (srv: Server) => new Promise((r) => srv.close(r));

/** Pids of this user's processes whose environment mentions `text` (Linux /proc). */
const processesWith = (text: string): number[] =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(text);
      } catch {
        return false; // gone, or not ours
      }
    })
    .map(Number);

describe('local stack: ports and start failures', () => {
  it('freePorts gives distinct ports, every one free to listen on once it returns', async () => {
    // Many rounds of a stack's worth of ports: taken one by one and released at once, about one round in 500 repeated a port.
    for (let round = 0; round < 1000; round++) {
      const ports = await freePorts(7);
      expect(new Set(ports).size, `round ${round}: ${ports.join(', ')}`).to.equal(7);
    }
    const ports = await freePorts(20);
    const servers = await Promise.all(ports.map(listen));
    expect(servers.map((s) => (s.address() as { port: number }).port)).to.deep.equal(ports);
    await Promise.all(servers.map(close));
  });

  it('a part that cannot start fails the stack with the end of its own log in the error, and leaves nothing running', async () => {
    // Another program on the stream's port: it takes connections and drops them.
    const taken = await listen(0);
    taken.on('connection', (socket) => socket.destroy());
    const takenPort = (taken.address() as { port: number }).port;
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vod-stack-test-'));
    try {
      let error: Error | undefined;
      const started = startStack({ dataDir, port: 0, ports: { stream: takenPort }, transcodeWorkers: 1, env: { POLL_WAIT_SECONDS: '1' } }).catch((err: Error) => {
        error = err;
      });
      await started;
      expect(error, 'the stack refused to start').to.be.instanceOf(Error);
      expect(error!.message).to.match(/^stream exited \(1\) during start/);
      // The log's own words: run-service's fatal line with the listen error.
      const logEnd = error!.message.split('its log ends:\n')[1] ?? '';
      expect(logEnd).to.include('stream service cannot listen').and.include('EADDRINUSE');
      // Nothing of the stack is left running: every part it started (the emulator, the worker…) had the data dir in its environment.
      expect(processesWith(dataDir), 'processes of the failed stack').to.deep.equal([]);
    } finally {
      await close(taken);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
