/**
 * Polling that backs off while SQS cannot be reached.
 *
 * sqs-consumer polls again at once after a failed receive; it pauses only
 * for credential and missing-queue errors. With the queue unreachable (a
 * network partition, an endpoint outage, the local emulator restarting) that
 * is a hot loop: a logged error every few milliseconds and a busy CPU. Here a
 * failure doubles the pause before the next poll (250 ms … `maxMs`) and a
 * successful receive, empty or not, goes back to polling at once.
 */
import type { Logger } from 'pino';
import type { Consumer } from 'sqs-consumer';

export const POLL_BACKOFF = { firstMs: 250, maxMs: 5_000 } as const;

/** Logs `consumer`'s errors (one line per failure, with the pause that follows) and backs its polling off while they last. */
export function backOffOnErrors(consumer: Consumer, log: Logger, queue: string, limits: { firstMs: number; maxMs: number } = POLL_BACKOFF): void {
  let pauseMs = 0;
  consumer.on('error', (err) => {
    pauseMs = Math.min(limits.maxMs, pauseMs ? pauseMs * 2 : limits.firstMs);
    consumer.updateOption('pollingWaitTimeMs', pauseMs);
    log.error({ err, queue, nextPollMs: pauseMs }, 'consumer error');
  });
  const recovered = () => {
    if (pauseMs === 0) return;
    pauseMs = 0;
    consumer.updateOption('pollingWaitTimeMs', 0);
    log.info({ queue }, 'queue reachable again');
  };
  consumer.on('empty', recovered);
  consumer.on('message_received', recovered);
}
