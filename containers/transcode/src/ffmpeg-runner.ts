/**
 * Runs one ffmpeg process (through fluent-ffmpeg) and watches it: progress
 * from its stderr, the CPU time it used (its own rusage, which `-benchmark`
 * prints as it exits), the last lines of stderr for error reports (URL query
 * strings redacted), and an AbortSignal that stops it at once (SIGKILL: the
 * output of an aborted run is never used, and ffmpeg's SIGTERM handling first
 * flushes every encoder — seconds of x264 work on a loaded machine, which a
 * stopping worker handing its task back must not wait for). The returned promise settles only once the process
 * has exited, so a caller that stops waiting has really stopped the work.
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';
import ffmpeg from 'fluent-ffmpeg';
import { TranscodeError, redactUrls } from './errors.js';
import type { FfmpegArgs } from './ffmpeg-args.js';

export interface RunFfmpegOptions {
  /** Called with the output time reached, seconds. */
  onTime?: (seconds: number) => void;
  /** Aborting kills ffmpeg (SIGKILL) and rejects with `aborted: true` once it has exited. */
  signal?: AbortSignal;
  /** Process niceness (0 normal, up to 19 lowest): bulk work yields the CPU to work someone is waiting for. */
  niceness?: number;
  /** Called once ffmpeg runs, with its process id (e.g. to `renice` it later). */
  onProcess?: (pid: number) => void;
}

/** What one ffmpeg run cost. */
export interface FfmpegRun {
  /** User + system CPU seconds of the ffmpeg process (its rusage, from `-benchmark`); NaN if it did not say. */
  cpuSeconds: number;
  /** Wall-clock seconds from spawn to exit. */
  wallSeconds: number;
}

const STDERR_TAIL_LINES = 40;

export function timemarkSeconds(mark: string): number {
  const m = /^(-)?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(mark);
  if (!m) return NaN;
  const s = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  return m[1] ? -s : s;
}

function isProgressLine(line: string): boolean {
  return /^(frame|size)=/.test(line.trimStart());
}

/**
 * Run ffmpeg through fluent-ffmpeg. Progress is parsed from the same stderr
 * lines fluent-ffmpeg's 'progress' event uses (`time=` ÷ duration); that
 * event is not used because attaching it makes fluent-ffmpeg run an extra
 * ffprobe on the input, i.e. another read of the presigned URL.
 */
export function runFfmpeg(args: FfmpegArgs, opts: RunFfmpegOptions = {}): Promise<FfmpegRun> {
  const { signal } = opts;
  if (signal?.aborted) {
    return Promise.reject(
      new TranscodeError('Transcode aborted before ffmpeg started', { aborted: true, cause: signal.reason }),
    );
  }

  return new Promise<FfmpegRun>((resolve, reject) => {
    const tail: string[] = [];
    const startedAt = performance.now();
    let cpuSeconds = Number.NaN;
    let started = false;
    let aborted = false;

    // Always pass several arguments: with a single array argument fluent-ffmpeg
    // splits any option value that contains one space.
    const command = ffmpeg({ niceness: opts.niceness ?? 0 }).input(args.input).inputOptions(...args.inputOptions);
    for (const extra of args.extraInputs ?? []) {
      command.input(extra.input);
      if (extra.options.length) command.inputOptions(...extra.options);
    }
    for (const out of args.outputs) command.output(out.target).outputOptions(...out.options);

    const kill = () => command.kill('SIGKILL');
    const onAbort = () => {
      aborted = true;
      // Before 'start' fluent-ffmpeg is still checking capabilities; kill on start instead.
      if (started) kill();
    };
    const cleanup = () => {
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const abortedError = () =>
      new TranscodeError('Transcode aborted; ffmpeg was stopped', { aborted: true, stderrTail: tail, cause: signal?.reason });

    command
      .on('start', () => {
        started = true;
        if (aborted) kill();
        // fluent-ffmpeg keeps the child here; `nice` execs ffmpeg, so the pid is ffmpeg's.
        const pid = (command as unknown as { ffmpegProc?: { pid?: number } }).ffmpegProc?.pid;
        if (pid !== undefined) opts.onProcess?.(pid);
      })
      .on('stderr', (line: string) => {
        if (isProgressLine(line)) {
          const mark = /time=\s*(\S+)/.exec(line)?.[1];
          const seconds = mark ? timemarkSeconds(mark) : NaN;
          if (Number.isFinite(seconds)) opts.onTime?.(seconds);
          return;
        }
        const bench = /bench: utime=([\d.]+)s stime=([\d.]+)s/.exec(line);
        if (bench) {
          cpuSeconds = Number(bench[1]) + Number(bench[2]);
          return;
        }
        if (line.trim() === '' || line.startsWith('bench:')) return;
        tail.push(redactUrls(line));
        if (tail.length > STDERR_TAIL_LINES) tail.shift();
      })
      .on('end', () => {
        cleanup();
        // ffmpeg may have ended on its own just as it was killed; the output is still not wanted.
        if (aborted) reject(abortedError());
        else resolve({ cpuSeconds, wallSeconds: (performance.now() - startedAt) / 1000 });
      })
      .on('error', (err: Error) => {
        cleanup();
        if (aborted) {
          reject(abortedError());
          return;
        }
        const exit = /exited with code (\d+)/.exec(err.message);
        const exitCode = exit ? Number(exit[1]) : undefined;
        // e.g. "ffmpeg exited with code 1", "ffmpeg was killed with signal SIGKILL" (OOM), "Cannot find ffmpeg".
        const head = exitCode === undefined ? redactUrls(err.message.split('\n')[0] || 'ffmpeg failed') : `ffmpeg exited with code ${exitCode}`;
        const summary = tail.slice(-3).join(' | ');
        // No `cause`: fluent-ffmpeg's message embeds raw stderr, which may hold the presigned URL.
        reject(new TranscodeError(summary ? `${head}: ${summary}` : head, { stderrTail: tail, exitCode }));
      })
      .run();
  });
}

/**
 * Sets the niceness of a running process and of every thread it has started
 * (on Linux a priority belongs to a thread: setpriority(2) on the pid alone
 * would leave the encoder threads where they were). A process that has
 * already exited is left alone.
 */
export function renice(pid: number, niceness: number): void {
  let threads: number[];
  try {
    threads = readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    threads = [pid]; // no /proc (not Linux), or the process is gone
  }
  for (const tid of threads) {
    try {
      os.setPriority(tid, niceness);
    } catch {
      // exited meanwhile
    }
  }
}
