/**
 * The transcode worker process: two sqs-consumer loops.
 *
 * - Jobs queue, one task at a time: plan, chunk, audio or an extra (tasks.ts). The
 *   message's visibility is extended by a heartbeat while the task runs, the
 *   task has a time limit that really stops ffmpeg, and the task holds ECS
 *   scale-in protection. Outcomes:
 *     done → message deleted;
 *     the worker is stopping (SIGTERM, spot interruption notice) → ffmpeg is
 *       stopped at once and the message handed back (visible now) — not
 *       counted against the task;
 *     the media is bad → the video fails with the reason;
 *     any other error → counted; retried after a short pause, and after
 *       `maxFailures` errors the video fails with the last reason.
 *   A worker that vanishes (kill -9) records nothing: its task comes back
 *   after the visibility timeout, and a task that took `maxCrashes` workers
 *   down fails its video instead of looping.
 * - Control queue (FIFO, group = video): the coordinator (coordinator.ts).
 */
import { ChangeMessageVisibilityCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { TASK_ATTEMPTS, controlMessageSchema, workMessageSchema, type WorkMessage } from '@vod/contract';
import type { StatusStore } from '@vod/service-kit';
import { Consumer } from 'sqs-consumer';
import { coordinate } from './coordinator.js';
import { backOffOnErrors } from '@vod/service-kit';
import { InvalidMediaError } from './errors.js';
import {
  runAudioTask,
  runCaptionsTask,
  runChunkTask,
  runDownloadTask,
  runPlanTask,
  runPosterTask,
  runStoryboardTask,
  sendWork,
  unavailablePoster,
  type TaskDeps,
} from './tasks.js';
import { taskName } from './run-store.js';
import type { TaskProtection } from './task-protection.js';

export interface QueueTiming {
  /** Seconds; the queue's visibility timeout the heartbeat keeps renewing. */
  visibilityTimeoutSeconds: number;
  /** Seconds between visibility extensions (< the visibility timeout). */
  heartbeatSeconds: number;
  /** Seconds one ReceiveMessage long poll waits (0–20). */
  pollWaitSeconds: number;
}

export interface WorkerDeps extends TaskDeps {
  controlQueueUrl: string;
  jobsTiming: QueueTiming;
  controlTiming: QueueTiming & { maxReceiveCount: number };
  /** Seconds before a failed task is visible again (≥ 1: sqs-consumer reads 0 as "leave the full visibility timeout"). */
  retryDelaySeconds?: number;
  /** Milliseconds a task may run before it is stopped and counted as failed. */
  taskTimeLimitMs: number;
  attempts?: { maxFailures: number; maxCrashes: number };
  records: StatusStore;
  /** US dollars per vCPU-hour (for the record's cost estimate). */
  pricePerVcpuHour: number;
  protection: TaskProtection;
}

export interface Worker {
  start(): void;
  /** Stops polling, hands the running task back at once, and waits up to `graceMs` for a coordinator step to finish. */
  stop(graceMs: number): Promise<void>;
  /** What the worker is doing, for /healthz. */
  current(): string | undefined;
}

class TimeLimitError extends Error {}

export function createWorker(deps: WorkerDeps): Worker {
  const log = deps.logger;
  const limits = deps.attempts ?? TASK_ATTEMPTS;
  const stopping = new AbortController();
  let running: { what: string; done: Promise<unknown> } | undefined;
  let coordinating: Promise<unknown> | undefined;

  // Visible again in a second, for another worker. (Not 0: fauxqs 2.4.1 with
  // persistence throws on a 0 visibility change after taking the message out
  // of flight, losing it; 1 s is the same for a task that takes minutes.)
  const release = (message: Message) =>
    deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: deps.jobsQueueUrl, ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 1 }));

  /**
   * A task cannot be done: its video fails with `reason` — except the
   * extras (poster, download, storyboard, captions), which only say there is
   * none (the video plays without them).
   */
  async function giveUp(work: WorkMessage, attempt: number, reason: string): Promise<void> {
    const { videoId, run } = work;
    const noCost = { cpuSeconds: 0, wallSeconds: 0 };
    if (work.type === 'poster') {
      await deps.sendControl({ type: 'poster-done', videoId, run, poster: unavailablePoster('failed', reason), cost: noCost, attempt });
      return;
    }
    if (work.type === 'download') {
      await deps.sendControl({ type: 'download-done', videoId, run, download: { available: false, message: `The MP4 download could not be made: ${reason}` }, cost: noCost, attempt });
      return;
    }
    if (work.type === 'storyboard') {
      await deps.sendControl({ type: 'storyboard-done', videoId, run, storyboard: { available: false, message: `The seek previews could not be made: ${reason}` }, cost: noCost, attempt });
      return;
    }
    if (work.type === 'captions') {
      log.warn({ videoId, run, reason }, 'the text tracks could not be extracted; the video goes on without them');
      await deps.sendControl({ type: 'captions-done', videoId, run, tracks: [], cost: noCost, attempt });
      return;
    }
    await deps.sendControl({ type: 'failed', videoId, run, reason });
  }

  async function handleWork(message: Message): Promise<Message | undefined> {
    let work: WorkMessage;
    try {
      work = workMessageSchema.parse(JSON.parse(message.Body ?? ''));
    } catch (err) {
      // Retried until maxReceiveCount, then it rests in the dead-letter queue for a person to see.
      log.error({ err, messageId: message.MessageId }, 'malformed job message');
      throw err;
    }
    const { videoId, run } = work;
    const task = taskName(work);
    const what = describe(work);
    const tlog = log.child({ videoId, run, task });
    if (stopping.signal.aborted) {
      // Received by the last poll of a worker that is leaving: hand it straight back.
      await release(message);
      return undefined;
    }
    const attempts = await deps.store.attempts(videoId, run, task);
    const vanished = attempts.starts - attempts.failures - attempts.releases - (attempts.completions ?? 0);
    if (vanished >= limits.maxCrashes) {
      await giveUp(work, attempts.starts, `Transcoding stopped: the worker was lost ${vanished} times while ${what}`);
      tlog.error({ attempts }, 'task took its workers down too often; video failed');
      return message;
    }
    attempts.starts += 1;
    await deps.store.saveAttempts(videoId, run, task, attempts);

    const abort = new AbortController();
    const onStop = () => abort.abort(stopping.signal.reason);
    // stop() may have come while the attempt was being recorded (after the check above): an aborted
    // signal does not fire again, so the task must see it now, or it would run to the end.
    if (stopping.signal.aborted) onStop();
    else stopping.signal.addEventListener('abort', onStop, { once: true });
    const timer = setTimeout(() => abort.abort(new TimeLimitError()), deps.taskTimeLimitMs);
    const done = (async () => {
      if (work.type === 'transcode') return runPlanTask(deps, work);
      if (work.type === 'chunk') return runChunkTask(deps, work, attempts.starts, abort.signal);
      if (work.type === 'poster') return runPosterTask(deps, work, attempts.starts, abort.signal);
      if (work.type === 'download') return runDownloadTask(deps, work, attempts.starts, abort.signal);
      if (work.type === 'storyboard') return runStoryboardTask(deps, work, attempts.starts, abort.signal);
      if (work.type === 'captions') return runCaptionsTask(deps, work, attempts.starts, abort.signal);
      if (work.type === 'audio') return runAudioTask(deps, work, attempts.starts, abort.signal);
      throw new Error(`Unknown task type ${(work as { type: string }).type}`);
    })();
    running = { what: `${videoId}: ${what}`, done };
    await deps.protection.hold(deps.taskTimeLimitMs / 60_000);
    try {
      await done;
      attempts.completions = (attempts.completions ?? 0) + 1;
      await deps.store.saveAttempts(videoId, run, task, attempts).catch((err) => tlog.warn({ err }, 'could not record completion'));
      return message;
    } catch (err) {
      if (stopping.signal.aborted) {
        attempts.releases += 1;
        await deps.store.saveAttempts(videoId, run, task, attempts).catch(() => {});
        await release(message);
        tlog.warn('worker stopping: task handed back');
        return undefined; // not acknowledged: visible again in a second, for another worker
      }
      if (err instanceof InvalidMediaError) {
        await giveUp(work, attempts.starts, err.message);
        tlog.info({ reason: err.message }, 'video failed: the source cannot be used');
        return message;
      }
      const reason = abort.signal.reason instanceof TimeLimitError ? `it took longer than ${duration(deps.taskTimeLimitMs / 1000)}` : (err as Error).message;
      attempts.failures += 1;
      attempts.lastError = reason;
      await deps.store.saveAttempts(videoId, run, task, attempts);
      if (attempts.failures >= limits.maxFailures) {
        await giveUp(work, attempts.starts, `Transcoding failed ${attempts.failures === 1 ? 'once' : `${attempts.failures} times`} while ${what}: ${reason}`);
        tlog.error({ err, attempts }, 'task failed too often; video failed');
        return message;
      }
      tlog.warn({ err, failures: attempts.failures }, 'task failed; it will be retried');
      throw err;
    } finally {
      clearTimeout(timer);
      stopping.signal.removeEventListener('abort', onStop);
      running = undefined;
      await deps.protection.release();
    }
  }

  async function handleControl(message: Message): Promise<Message> {
    const msg = controlMessageSchema.parse(JSON.parse(message.Body ?? ''));
    const step = coordinate(
      { ...deps, s3: deps.s3, store: deps.store, records: deps.records, pricePerVcpuHour: deps.pricePerVcpuHour, sendWork: (m) => sendWork(deps, [m]) },
      msg,
    );
    coordinating = step;
    try {
      await step;
      return message;
    } catch (err) {
      const receives = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
      if (receives >= deps.controlTiming.maxReceiveCount) {
        // The message goes to the dead-letter queue: do not leave the video processing forever.
        await deps.records
          .transition(msg.videoId, 'failed', { error: `Internal error while updating the video: ${(err as Error).message}` })
          .catch((e) => log.error({ err: e, videoId: msg.videoId }, 'could not mark the video failed'));
      }
      throw err;
    } finally {
      coordinating = undefined;
    }
  }

  /** Messages being handled now: stop() waits for them (a task's hand-back is part of its handling). */
  const inFlight = new Set<Promise<unknown>>();
  function track<T>(handling: Promise<T>): Promise<T> {
    const settled = handling.then(() => {}, () => {});
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
    return handling;
  }

  const common = {
    sqs: deps.sqs,
    batchSize: 1,
    // On stop, let the last long poll finish and its message be handled (a
    // task is handed straight back) rather than abort it: a message SQS
    // already gave to an aborted request would stay hidden for the whole
    // visibility timeout.
    pollingCompleteWaitTimeMs: (Math.max(deps.jobsTiming.pollWaitSeconds, deps.controlTiming.pollWaitSeconds) + 10) * 1000,
    // A failed attempt becomes visible again after a short pause, not the full timeout.
    terminateVisibilityTimeout: Math.max(1, deps.retryDelaySeconds ?? 10),
    messageSystemAttributeNames: ['ApproximateReceiveCount' as const],
  };
  const jobs = Consumer.create({
    ...common,
    queueUrl: deps.jobsQueueUrl,
    waitTimeSeconds: deps.jobsTiming.pollWaitSeconds,
    visibilityTimeout: deps.jobsTiming.visibilityTimeoutSeconds,
    heartbeatInterval: deps.jobsTiming.heartbeatSeconds,
    handleMessage: (message) => track(handleWork(message)),
  });
  const control = Consumer.create({
    ...common,
    // One message at a time (batchSize 1) keeps each group's order, which is what FIFO is for here.
    suppressFifoWarning: true,
    terminateVisibilityTimeout: 1,
    queueUrl: deps.controlQueueUrl,
    waitTimeSeconds: deps.controlTiming.pollWaitSeconds,
    visibilityTimeout: deps.controlTiming.visibilityTimeoutSeconds,
    heartbeatInterval: deps.controlTiming.heartbeatSeconds,
    handleMessage: (message) => track(handleControl(message)),
  });
  for (const [name, c] of [['jobs', jobs], ['control', control]] as const) {
    backOffOnErrors(c, log, name);
    c.on('processing_error', (err) => log.warn({ err: err.message, queue: name }, 'message not completed'));
  }

  return {
    start() {
      jobs.start();
      control.start();
      log.info({ jobsQueueUrl: deps.jobsQueueUrl, controlQueueUrl: deps.controlQueueUrl }, 'transcode worker polling');
    },
    async stop(graceMs) {
      // The running task stops now (ffmpeg killed) and is handed back; the
      // consumers finish their last poll, handling what it brought.
      stopping.abort(new Error('worker stopping'));
      const stopped = [jobs, control].map((c) => new Promise((resolve) => c.once('stopped', resolve)));
      jobs.stop();
      control.stop();
      // sqs-consumer stops waiting for the message in hand after its pollingCompleteWaitTimeMs (poll wait
      // + 10 s), which can be shorter than the grace: the handling itself is waited for too, within the grace.
      await Promise.race([Promise.all([...stopped, ...inFlight]), new Promise((r) => setTimeout(r, graceMs).unref())]);
    },
    current: () => running?.what,
  };
}

/** 90 → "1.5 min", 1.5 → "1.5 s". */
function duration(seconds: number): string {
  return seconds >= 60 ? `${Math.round(seconds / 6) / 10} min` : `${Math.round(seconds * 10) / 10} s`;
}

/** What a task is doing, for people: "encoding 1:00–2:00", "encoding the audio", "reading the upload". */
function describe(work: WorkMessage): string {
  if (work.type === 'transcode') return 'reading the upload';
  if (work.type === 'audio') return 'encoding the audio';
  if (work.type === 'poster') return 'making the poster';
  if (work.type === 'download') return 'making the MP4 download';
  if (work.type === 'storyboard') return 'making the seek previews';
  if (work.type === 'captions') return 'extracting the text tracks';
  const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  return `encoding ${clock(work.chunk.startSeconds)}–${work.chunk.last ? 'the end' : clock(work.chunk.endSeconds)}`;
}
