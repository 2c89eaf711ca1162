/**
 * Timing of the jobs queue, shared by infra (the SQS queue), `npm start` (the
 * emulator's queue) and the transcode worker (its heartbeat and attempt count).
 */

export const JOBS_QUEUE_DEFAULTS = {
  /** Seconds a received job stays hidden from other workers; the worker's heartbeat keeps extending it. */
  visibilityTimeoutSeconds: 300,
  /** Receives before a job moves to the dead-letter queue; the worker gives up on its last attempt. */
  maxReceiveCount: 3,
  /** Long-poll wait of ReceiveMessage, seconds (the SQS maximum). */
  receiveWaitTimeSeconds: 20,
  /** How long an unprocessed job is kept, seconds (4 days, the SQS default). */
  messageRetentionSeconds: 345_600,
  /** How long a dead-lettered job is kept, seconds (14 days, the SQS maximum). */
  deadLetterRetentionSeconds: 1_209_600,
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
