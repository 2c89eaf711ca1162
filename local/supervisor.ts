/**
 * How the local stack (stack.ts) supervises its processes, as ECS does: a
 * part that exits without being asked to is started again, after 1 s, then
 * 2, 4 … up to 30 s while it keeps dying (the delay resets once it has stayed
 * up for a minute). Separate from the stack so it can be tried on its own
 * with any child process.
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';

/** What the stack tells its owner: `exit` (name, code, signal, logFile) for every unexpected exit, `restart` (name, delayMs) before each restart. */
export type StackEvents = EventEmitter<{
  exit: [name: string, code: number | null, signal: NodeJS.Signals | null, logFile: string];
  restart: [name: string, delayMs: number];
  started: [name: string];
}>;

/** The restart delays: `firstMs`, doubled at each death up to `maxMs`; back to `firstMs` after a run longer than `resetAfterMs`. */
export interface RestartBackoff {
  firstMs: number;
  maxMs: number;
  resetAfterMs: number;
}

export const RESTART_BACKOFF: RestartBackoff = { firstMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };

/** One part's restart state: the delay its next death gets, and when it was last started. */
export interface RestartState {
  delayMs: number;
  startedAt: number;
  timer?: NodeJS.Timeout;
}

/** The delay before restarting a part that died at `now`; advances `state` for its next death. */
export function nextRestartDelay(state: RestartState, now: number, backoff: RestartBackoff = RESTART_BACKOFF): number {
  // Up for longer than resetAfterMs: it was not a crash loop, start over from firstMs.
  if (now - state.startedAt > backoff.resetAfterMs) state.delayMs = backoff.firstMs;
  const delay = state.delayMs;
  state.delayMs = Math.min(backoff.maxMs, state.delayMs * 2);
  return delay;
}

/** What `npm start` prints about its parts: each unexpected exit, and each restart with its delay. */
export function reportSupervision(events: StackEvents, print: (line: string) => void): void {
  events.on('exit', (name, code, signal, logFile) => print(`! ${name} exited (${signal ?? `code ${code}`}); see ${logFile}`));
  events.on('restart', (name, delayMs) => print(`  restarting ${name} in ${delayMs / 1000} s`));
}

export interface SupervisorOptions {
  /** Starts the part's process. */
  spawn(name: string): ChildProcess;
  /** Resolves once a just-started part is ready (healthy); default: at once. */
  ready?(name: string, child: ChildProcess): Promise<void>;
  /** Where the part's output goes, for the `exit` event. */
  logFileOf(name: string): string;
  /** Restart parts that die (default true). */
  supervise?: boolean;
  /** Default RESTART_BACKOFF. */
  backoff?: RestartBackoff;
  /** The clock the reset rule reads (default Date.now). */
  now?: () => number;
}

export interface Supervisor {
  processes: Map<string, ChildProcess>;
  events: StackEvents;
  /** Starts a part and watches it, without waiting for it to be ready. */
  launch(name: string): ChildProcess;
  /** Starts a part (stopped or never started) and waits until it is ready. */
  startPart(name: string): Promise<void>;
  /** Stops one part (SIGTERM, SIGKILL after 20 s) and waits for it to exit; it stays stopped. */
  stopPart(name: string): Promise<void>;
  /** From now on nothing is restarted (pending restarts are cancelled) and exits are not reported. */
  shutdown(): void;
}

export function createSupervisor(opts: SupervisorOptions): Supervisor {
  const processes = new Map<string, ChildProcess>();
  const events: StackEvents = new EventEmitter();
  const held = new Set<string>(); // parts stopped on purpose: not restarted
  const restarts = new Map<string, RestartState>();
  const backoff = opts.backoff ?? RESTART_BACKOFF;
  const now = opts.now ?? Date.now;
  let stopping = false;

  const launch = (name: string): ChildProcess => {
    const child = opts.spawn(name);
    const state = restarts.get(name) ?? { delayMs: backoff.firstMs, startedAt: 0 };
    state.startedAt = now();
    restarts.set(name, state);
    child.on('exit', (code, signal) => {
      if (processes.get(name) === child) processes.delete(name);
      if (stopping || held.has(name)) return;
      events.emit('exit', name, code, signal, opts.logFileOf(name));
      if (opts.supervise === false) return;
      const delay = nextRestartDelay(state, now(), backoff);
      events.emit('restart', name, delay);
      state.timer = setTimeout(() => {
        state.timer = undefined;
        if (stopping || held.has(name)) return;
        startPart(name).catch((err) => events.emit('exit', name, null, null, `${opts.logFileOf(name)} (${(err as Error).message})`));
      }, delay);
    });
    processes.set(name, child);
    return child;
  };

  const startPart = async (name: string) => {
    held.delete(name);
    const child = launch(name);
    await opts.ready?.(name, child);
    events.emit('started', name);
  };

  const stopPart = async (name: string) => {
    held.add(name);
    clearTimeout(restarts.get(name)?.timer);
    const child = processes.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };

  const shutdown = () => {
    stopping = true;
    for (const r of restarts.values()) clearTimeout(r.timer);
  };

  return { processes, events, launch, startPart, stopPart, shutdown };
}
