/**
 * The whole local platform for end-to-end tests: the same processes as
 * `npm start` (emulator, upload, stream, transcode, edge), on free ports,
 * with a fresh temporary data directory that is removed on stop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack as startLocalStack, type RunningStack } from '../../local/stack.js';

export interface TestStack extends RunningStack {}

export async function startStack(opts: { env?: Record<string, string>; keepData?: boolean } = {}): Promise<TestStack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vod-test-'));
  const stack = await startLocalStack({
    dataDir,
    port: 0,
    apiToken: ('test-token-' + path.basename(dataDir)).padEnd(40, '0'),
    env: { LOG_LEVEL: 'info', ...opts.env },
  });
  return {
    ...stack,
    async stop() {
      await stack.stop();
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
