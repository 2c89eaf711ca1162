/**
 * `npm start` supervises its parts as ECS does: a part that dies is started
 * again after a delay that doubles up to a cap while it keeps dying, and
 * starts over once the part has stayed up; the terminal says so. The policy
 * on its own, then the supervisor with trivial child processes (no stack).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once, EventEmitter } from 'node:events';
import { expect } from 'chai';
import {
  RESTART_BACKOFF,
  createSupervisor,
  nextRestartDelay,
  reportSupervision,
  type RestartState,
  type StackEvents,
  type Supervisor,
} from '../../local/supervisor.js';

/** A node child that exits at once with code 3 (a part in a crash loop). */
const dying = () => spawn(process.execPath, ['-e', 'process.exit(3)'], { stdio: 'ignore' });
/** A node child that stays up until it is killed. */
const lasting = () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });

/** Resolves once `events` has emitted `event` `count` times in all (counting from when this was called). */
function times(events: StackEvents, event: 'started' | 'restart' | 'exit', count: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    const on = () => {
      if (++seen < count) return;
      events.off(event, on);
      resolve();
    };
    events.on(event, on);
  });
}

describe('local stack supervision: restart backoff', () => {
  it('the delay doubles from 1 s at each death up to the 30 s cap while the part keeps dying', () => {
    // Each run dies the moment it starts (startedAt = now): a crash loop.
    const state: RestartState = { delayMs: RESTART_BACKOFF.firstMs, startedAt: 0 };
    const delays = Array.from({ length: 8 }, () => nextRestartDelay(state, state.startedAt));
    expect(delays).to.deep.equal([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('the delay starts over from 1 s once the part stayed up longer than a minute, not at exactly a minute', () => {
    const state: RestartState = { delayMs: RESTART_BACKOFF.firstMs, startedAt: 0 };
    for (let i = 0; i < 4; i++) nextRestartDelay(state, 0); // 1, 2, 4, 8 s: next would be 16 s
    // Up exactly a minute: still counted as the crash loop.
    state.startedAt = 1_000_000;
    expect(nextRestartDelay(state, 1_000_000 + 60_000)).to.equal(16_000);
    // Up a minute and a millisecond: a fresh start; the doubling then resumes from there.
    state.startedAt = 2_000_000;
    expect(nextRestartDelay(state, 2_000_000 + 60_001)).to.equal(1000);
    state.startedAt = 2_000_000 + 61_001; // restarted 1 s later, and dies at once
    expect(nextRestartDelay(state, state.startedAt)).to.equal(2000);
  });
});

describe('local stack supervision: the supervisor with real child processes', () => {
  let sup: Supervisor | undefined;
  const children: ChildProcess[] = [];

  afterEach(async () => {
    // No restart may outlive the test; kill whatever child is still up.
    sup?.shutdown();
    sup = undefined;
    await Promise.all(
      children.splice(0).filter((c) => c.exitCode === null && c.signalCode === null).map((c) => {
        const exited = once(c, 'exit');
        c.kill('SIGKILL');
        return exited;
      }),
    );
  });

  /** A supervisor of part `p` on a frozen fake clock (the reset rule reads it), with short delays: 10, 20, 40 ms cap. */
  function supervise(spawnOne: (launch: number) => ChildProcess, clock: { now: number }) {
    let launches = 0;
    const s = createSupervisor({
      spawn: () => {
        const child = spawnOne(++launches);
        children.push(child);
        return child;
      },
      logFileOf: (name) => `/logs/${name}.log`,
      backoff: { firstMs: 10, maxMs: 40, resetAfterMs: 1000 },
      now: () => clock.now,
    });
    sup = s;
    const restarts: number[] = [];
    const exits: Array<[number | null, NodeJS.Signals | null]> = [];
    const printed: string[] = [];
    s.events.on('restart', (_name, delayMs) => restarts.push(delayMs));
    s.events.on('exit', (_name, code, signal) => exits.push([code, signal]));
    reportSupervision(s.events, (line) => printed.push(line));
    return { s, restarts, exits, printed, launches: () => launches };
  }

  it('a part that keeps dying is restarted with growing delays up to the cap, each time a new process, and the terminal says so', async () => {
    const clock = { now: 0 };
    const { s, restarts, exits, printed, launches } = supervise(dying, clock);
    // The first start, then five restarts.
    const started = times(s.events, 'started', 6);
    await s.startPart('p');
    await started;
    expect(launches()).to.equal(6);
    expect(new Set(children.map((c) => c.pid)).size, 'a new process each time').to.equal(6);
    // Five deaths seen so far (the sixth process may not have died yet): each one restarted, with the doubling delay.
    expect(restarts.slice(0, 5)).to.deep.equal([10, 20, 40, 40, 40]);
    expect(exits.slice(0, 5)).to.deep.equal(Array(5).fill([3, null]));
    expect(printed.slice(0, 4)).to.deep.equal(['! p exited (code 3); see /logs/p.log', '  restarting p in 0.01 s', '! p exited (code 3); see /logs/p.log', '  restarting p in 0.02 s']);
  });

  it('after a part has stayed up past the reset time, its next death is restarted after the first delay again', async () => {
    const clock = { now: 0 };
    // Three runs die at once (10, 20, 40 ms); the fourth and later stay up.
    const { s, restarts } = supervise((n) => (n <= 3 ? dying() : lasting()), clock);
    const fourth = times(s.events, 'started', 4);
    await s.startPart('p');
    await fourth;
    expect(restarts).to.deep.equal([10, 20, 40]);
    // The fourth run stays up longer than resetAfterMs (on the fake clock), then is killed (as kill -9 would).
    clock.now += 1001;
    const fifth = times(s.events, 'started', 1);
    s.processes.get('p')!.kill('SIGKILL');
    await fifth;
    expect(restarts).to.deep.equal([10, 20, 40, 10]);
  });

  it('a part stopped on purpose is not restarted', async () => {
    const clock = { now: 0 };
    const { s, restarts, exits } = supervise(lasting, clock);
    await s.startPart('p');
    const child = s.processes.get('p')!;
    await s.stopPart('p');
    // The process is gone and no restart was scheduled for it.
    expect(child.signalCode).to.equal('SIGTERM');
    expect(s.processes.has('p')).to.equal(false);
    expect(restarts).to.deep.equal([]);
    expect(exits).to.deep.equal([]);
  });
});

describe('npm start: what it prints about supervision', () => {
  it('each unexpected exit and each restart with its delay in seconds', () => {
    const events: StackEvents = new EventEmitter();
    const lines: string[] = [];
    reportSupervision(events, (line) => lines.push(line));
    events.emit('exit', 'transcode-1', null, 'SIGKILL', '/data/logs/transcode-1.log');
    events.emit('restart', 'transcode-1', 4000);
    events.emit('exit', 'emulator', 1, null, '/data/logs/emulator.log');
    events.emit('restart', 'emulator', 30_000);
    events.emit('restart', 'edge', 500);
    expect(lines).to.deep.equal([
      '! transcode-1 exited (SIGKILL); see /data/logs/transcode-1.log',
      '  restarting transcode-1 in 4 s',
      '! emulator exited (code 1); see /data/logs/emulator.log',
      '  restarting emulator in 30 s',
      '  restarting edge in 0.5 s',
    ]);
  });
});
