/**
 * The producer side of webhooks: turns each stored change of a status record
 * into `event` messages on the webhooks queue (contract/webhooks.ts), one per
 * event the change stands for. The delivery worker does the rest.
 *
 * Never blocks the pipeline: a failed send is logged (with the event, so a
 * person can replay it) and swallowed — a video must not stop transcoding, or
 * an upload fail, because the notification queue is unreachable. The SDK
 * already retried the send (3 attempts, its standard retry strategy).
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { newId, publicRecord, webhookEvent, webhookEventsFor, type WebhookQueueMessage } from '@vod/contract';
import type { Logger } from 'pino';
import type { RecordChangeListener } from './status-store.js';

/** A listener for `StatusStore` that queues the webhook events of each change. */
export function videoEventQueue(sqs: SQSClient, queueUrl: string, logger: Logger): RecordChangeListener {
  return async ({ previous, next, at }) => {
    const record = next ?? previous;
    if (!record) return;
    for (const type of webhookEventsFor(previous, next)) {
      const message: WebhookQueueMessage = { kind: 'event', id: `evt_${newId(at.getTime())}`, event: webhookEvent(type, publicRecord(record), at) };
      try {
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
        logger.debug({ videoId: record.videoId, event: type, eventId: message.id }, 'webhook event queued');
      } catch (err) {
        logger.error({ err, videoId: record.videoId, event: type, message }, 'could not queue webhook event; it is lost');
      }
    }
  };
}

/** The listener for a service's `WEBHOOKS_QUEUE_URL`, or none when webhooks are not configured. */
export function videoEventsFromEnv(config: { WEBHOOKS_QUEUE_URL?: string }, sqs: SQSClient, logger: Logger): RecordChangeListener | undefined {
  return config.WEBHOOKS_QUEUE_URL ? videoEventQueue(sqs, config.WEBHOOKS_QUEUE_URL, logger) : undefined;
}
