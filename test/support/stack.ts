/**
 * The whole local platform for end-to-end tests: the same processes as
 * `npm start` (emulator, upload, stream, transcode, edge), on free ports,
 * with a fresh temporary data directory that is removed on stop.
 */
import { startTemporaryStack, type RunningStack } from '../../local/stack.js';

export interface TestStack extends RunningStack {}

export const startStack = startTemporaryStack;

/** A JSON API call on a stack with its token; throws with the status and body unless 2xx. */
export function stackApi(stack: RunningStack) {
  return async <T = Record<string, any>>(p: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(stack.baseUrl + p, { ...init, headers: { authorization: `Bearer ${stack.token}`, ...init?.headers } });
    const body = await res.json();
    if (!res.ok) throw new Error(`${p}: ${res.status} ${JSON.stringify(body)}`);
    return body as T;
  };
}

/**
 * Polls `read` until `done` holds (every `intervalMs`), and returns that value.
 * @throws Error naming `what` and the last value once `timeoutMs` has passed.
 */
export async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 240_000, intervalMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
