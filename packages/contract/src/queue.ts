/**
 * Timing of the queues, shared by infra (the SQS queues), `npm start` (the
 * emulator's queues) and the transcode worker (heartbeat, attempts).
 *
 * The jobs queue carries work (plan, chunk, audio). Its visibility timeout is
 * short so a task whose worker vanished (kill -9, a lost instance) is back on
 * the queue in well under a minute; the worker's heartbeat keeps extending it
 * while the task runs. Failures are counted by the pipeline itself
 * (`TASK_ATTEMPTS`), not by SQS receives: a worker stopped by SIGTERM (spot
 * interruption, scale-in) hands its task back without counting anything, so
 * interruptions never push a healthy video into the dead-letter queue.
 * `maxReceiveCount` is only a backstop for messages that cannot be handled
 * at all.
 */

export const JOBS_QUEUE_DEFAULTS = {
  /** Seconds a received task stays hidden from other workers; the heartbeat keeps extending it. */
  visibilityTimeoutSeconds: 30,
  /** Receives before a message moves to the dead-letter queue (backstop; see TASK_ATTEMPTS). */
  maxReceiveCount: 20,
  /** Long-poll wait of ReceiveMessage, seconds (the SQS maximum). */
  receiveWaitTimeSeconds: 20,
  /** How long an unprocessed job is kept, seconds (4 days, the SQS default). */
  messageRetentionSeconds: 345_600,
  /** How long a dead-lettered job is kept, seconds (14 days, the SQS maximum). */
  deadLetterRetentionSeconds: 1_209_600,
} as const;

/**
 * The control queue: FIFO, one message group per video, so the coordinator
 * handles one video's events one at a time and in order (exactly one
 * finalize, no lost progress updates).
 */
export const CONTROL_QUEUE_DEFAULTS = {
  visibilityTimeoutSeconds: 30,
  maxReceiveCount: 10,
  receiveWaitTimeSeconds: 20,
  messageRetentionSeconds: 345_600,
  deadLetterRetentionSeconds: 1_209_600,
} as const;

/** How often a task may go wrong before its video is marked failed. */
export const TASK_ATTEMPTS = {
  /** Attempts that ended in an error (ffmpeg failed, S3 refused). */
  maxFailures: 3,
  /** Attempts whose worker vanished without a word (kill -9, out of memory, instance lost without notice). */
  maxCrashes: 3,
} as const;

/**
 * The heartbeat rule: the worker extends a message's visibility every
 * visibility ÷ 5 seconds, so at least two heartbeats can be missed before a
 * job that is still running reappears for another worker.
 */
export function heartbeatSeconds(visibilityTimeoutSeconds: number): number {
  return Math.max(1, Math.floor(visibilityTimeoutSeconds / 5));
}

/**
 * @throws Error if the visibility timeout is outside SQS's 0–43200 s (SQS
 *   developer guide, "Visibility timeout") or shorter than three heartbeats.
 */
export function assertVisibilityFitsHeartbeat(visibilitySeconds: number, heartbeat: number = heartbeatSeconds(visibilitySeconds)): void {
  if (!Number.isInteger(visibilitySeconds) || visibilitySeconds < 0 || visibilitySeconds > 43_200) {
    throw new Error(`SQS visibility timeout ${visibilitySeconds}s is outside 0–43200 s.`);
  }
  if (visibilitySeconds < 3 * heartbeat) {
    throw new Error(`Visibility timeout ${visibilitySeconds}s is too short for a ${heartbeat}s heartbeat (needs ≥ ${3 * heartbeat}s).`);
  }
}

/** @throws Error unless 1 ≤ maxReceiveCount ≤ 1000 (SQS redrive policy limits). */
export function assertMaxReceiveCount(maxReceiveCount: number): void {
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
    throw new Error(`maxReceiveCount must be 1–1000 (got ${maxReceiveCount}).`);
  }
}
