/**
 * The transcode worker: long-polls the jobs queue with sqs-consumer, one job
 * at a time, extending the message's visibility (heartbeat) while ffmpeg runs.
 * `stop()` (on SIGTERM) stops polling, gives the running job `graceMs` to
 * finish, then aborts it and releases its message for another worker.
 */
import { ChangeMessageVisibilityCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import type { Logger } from 'pino';
import { transcodeJobSchema } from '@vod/contract';
import { runTranscodeJob, type PipelineDeps } from './pipeline.js';

export interface WorkerDeps extends PipelineDeps {
  sqs: SQSClient;
  queueUrl: string;
  /** Seconds; the queue's visibility timeout the heartbeat keeps renewing. */
  visibilityTimeoutSeconds?: number;
  /** Seconds between visibility extensions (must be < the visibility timeout). */
  heartbeatSeconds?: number;
  /** Seconds one ReceiveMessage long poll waits (0–20). */
  pollWaitSeconds?: number;
  /** Seconds before a failed attempt is visible again (default 10; at least 1: sqs-consumer reads 0 as "leave the full visibility timeout"). */
  retryDelaySeconds?: number;
  /** Milliseconds one job may run before it is abandoned. */
  jobTimeoutMs?: number;
}

export interface Worker {
  start(): void;
  /** Stops polling; waits up to `graceMs` for the running job, then aborts and releases it. */
  stop(graceMs: number): Promise<void>;
  /** The video being transcoded, if any. */
  current(): string | undefined;
}

export function createWorker(deps: WorkerDeps): Worker {
  const log = deps.logger;
  let running: { videoId: string; abort: AbortController; done: Promise<unknown>; message: Message } | undefined;

  const consumer = Consumer.create({
    queueUrl: deps.queueUrl,
    sqs: deps.sqs,
    batchSize: 1,
    waitTimeSeconds: deps.pollWaitSeconds ?? 20,
    visibilityTimeout: deps.visibilityTimeoutSeconds ?? 300,
    heartbeatInterval: deps.heartbeatSeconds ?? 60,
    handleMessageTimeout: deps.jobTimeoutMs ?? 4 * 3600 * 1000,
    // A failed attempt becomes visible again after a short pause, not the full timeout.
    terminateVisibilityTimeout: Math.max(1, deps.retryDelaySeconds ?? 10),
    messageSystemAttributeNames: ['ApproximateReceiveCount'],
    handleMessage: async (message) => {
      let job;
      try {
        job = transcodeJobSchema.parse(JSON.parse(message.Body ?? ''));
      } catch (err) {
        // Retried until maxReceiveCount, then it rests in the dead-letter queue for a person to see.
        log.error({ err, messageId: message.MessageId }, 'malformed job message');
        throw err;
      }
      const attempt = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
      const abort = new AbortController();
      const done = runTranscodeJob(deps, job, attempt, abort.signal);
      running = { videoId: job.videoId, abort, done, message };
      try {
        const outcome = await done;
        if (outcome === 'released') {
          await deps.sqs.send(
            new ChangeMessageVisibilityCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0 }),
          );
          return undefined; // not acknowledged: the message stays, visible now to another worker
        }
        return message;
      } finally {
        running = undefined;
      }
    },
  });
  consumer.on('error', (err) => log.error({ err }, 'consumer error'));
  consumer.on('processing_error', (err) => log.warn({ err: err.message }, 'job not completed'));
  consumer.on('timeout_error', (err) => log.error({ err }, 'job timed out'));

  return {
    start() {
      consumer.start();
      log.info({ queueUrl: deps.queueUrl }, 'transcode worker polling');
    },
    async stop(graceMs) {
      consumer.stop({ abort: true }); // also cancels the long poll, so no message is received by a worker that is leaving
      const job = running;
      if (!job) return;
      log.info({ videoId: job.videoId, graceMs }, 'waiting for the running job');
      const finished = await Promise.race([
        job.done.then(() => true, () => true),
        new Promise<false>((r) => setTimeout(() => r(false), graceMs).unref()),
      ]);
      if (!finished) {
        job.abort.abort();
        await job.done.catch(() => {});
      }
      // Let sqs-consumer delete or release the message before the process exits.
      await new Promise((r) => setTimeout(r, 500));
    },
    current: () => running?.videoId,
  };
}
