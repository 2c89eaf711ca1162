/**
 * Webhooks: the events a deployment POSTs to its receivers, the messages on
 * the `webhooks` queue that carry them, and the delivery timing.
 *
 * Flow: whatever changes a video's status record (the StatusStore) puts one
 * `event` message per state change on the webhooks queue (standard SQS). The
 * delivery worker turns each event into one `delivery` message per receiver
 * URL, and POSTs each delivery on its own: a receiver that is down, slow or
 * answers 500 only delays its own deliveries (retried with backoff through
 * the message's visibility timeout), never another receiver's or another
 * video's. Delivery is at least once: a receiver may see an event twice (same
 * `webhook-id`) and should deduplicate on it. Events are not ordered: order
 * one video's events by `data.updatedAt`.
 *
 * Requests are signed as the Standard Webhooks specification says
 * (https://www.standardwebhooks.com, "Signature scheme"): headers
 * `webhook-id`, `webhook-timestamp` (Unix seconds of this attempt) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, with a
 * `whsec_<base64 key>` secret.
 */
import { z } from 'zod';
import { idSchema } from './ids.js';
import { videoRecordSchema, type StoredVideoRecord, type VideoRecord } from './video.js';

export const WEBHOOK_EVENT_TYPES = [
  'video.created',
  'video.uploaded',
  'video.processing',
  'video.ready',
  'video.failed',
  'video.deleted',
] as const;
export const webhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);
export type WebhookEventType = z.infer<typeof webhookEventTypeSchema>;

/** The JSON body POSTed to every receiver (Standard Webhooks payload shape, plus `videoId`). */
export const webhookEventSchema = z.object({
  type: webhookEventTypeSchema,
  videoId: idSchema,
  /** ISO 8601: when the change happened. */
  timestamp: z.string(),
  /** The video record as the API shows it, after the change (for `video.deleted`: the last record). */
  data: videoRecordSchema,
});
export type WebhookEvent = z.infer<typeof webhookEventSchema>;

/** `webhook-id`: the same for every attempt and every receiver of one event. */
const eventId = z.string().regex(/^evt_[A-Za-z0-9]{1,64}$/);

/** Messages on the webhooks queue. */
export const webhookQueueMessageSchema = z.discriminatedUnion('kind', [
  /** Producer → delivery worker: one event, for every configured receiver. */
  z.object({ kind: z.literal('event'), id: eventId, event: webhookEventSchema }),
  /** Delivery worker → itself: the event for one receiver, retried on its own. */
  z.object({ kind: z.literal('delivery'), id: eventId, event: webhookEventSchema, url: z.string().url() }),
]);
export type WebhookQueueMessage = z.infer<typeof webhookQueueMessageSchema>;

/**
 * The events a record change stands for, in order: `previous` absent for a
 * new record, `next` absent for a deleted one. A record created already
 * `queued` (a one-request upload) is created and uploaded at once; a progress
 * update within a state is no event.
 */
export function webhookEventsFor(previous: StoredVideoRecord | undefined, next: StoredVideoRecord | undefined): WebhookEventType[] {
  if (!next) return previous ? ['video.deleted'] : [];
  const events: WebhookEventType[] = [];
  if (!previous) events.push('video.created');
  const from = previous?.status;
  if (from === next.status) return events;
  if (next.status === 'queued' && (from === undefined || from === 'uploading')) events.push('video.uploaded');
  if (next.status === 'processing') events.push('video.processing');
  if (next.status === 'ready') events.push('video.ready');
  if (next.status === 'failed') events.push('video.failed');
  return events;
}

/** The body of one event. */
export function webhookEvent(type: WebhookEventType, record: VideoRecord, at: Date): WebhookEvent {
  return { type, videoId: record.videoId, timestamp: at.toISOString(), data: videoRecordSchema.parse(record) };
}

/**
 * The webhooks queue and delivery timing. Retries follow a schedule like the
 * one Standard Webhooks' reference implementation uses (seconds after a
 * failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — about 28 hours in
 * all); after the last attempt the delivery rests in the dead-letter queue.
 */
export const WEBHOOK_QUEUE_DEFAULTS = {
  /** Seconds a received message stays hidden: longer than one POST may take, so a vanished worker's delivery comes back soon. */
  visibilityTimeoutSeconds: 30,
  /** Seconds one POST may take (connect to last byte) before it counts as failed. */
  requestTimeoutSeconds: 10,
  /** Seconds to wait after failed attempt n (index n − 1) before attempt n + 1; each ≤ 43,200 (SQS's visibility maximum). */
  retryDelaysSeconds: [5, 300, 1800, 7200, 18_000, 36_000, 36_000],
  receiveWaitTimeSeconds: 20,
  /** 4 days: longer than the whole retry schedule. */
  messageRetentionSeconds: 345_600,
  deadLetterRetentionSeconds: 1_209_600,
} as const;

/**
 * Attempts per delivery: the first plus one per retry delay. Also the queue's
 * `maxReceiveCount`, so the receive after the last attempt moves the delivery
 * to the dead-letter queue.
 */
export const WEBHOOK_MAX_ATTEMPTS = WEBHOOK_QUEUE_DEFAULTS.retryDelaysSeconds.length + 1;

/** Seconds before attempt `attempt + 1` of a delivery whose attempt `attempt` (1-based) failed; the last delay repeats. */
export function webhookRetryDelaySeconds(attempt: number, delays: readonly number[] = WEBHOOK_QUEUE_DEFAULTS.retryDelaysSeconds): number {
  return delays[Math.min(Math.max(1, attempt), delays.length) - 1]!;
}

/** Standard Webhooks header names (lowercase, as Node presents them). */
export const WEBHOOK_HEADERS = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;

/**
 * Why `url` cannot be a webhook receiver, or undefined if it can: an absolute
 * http(s) URL with a host. Services (VOD_WEBHOOK_URLS) and infra
 * (`vod:webhookUrls`) check this same rule.
 */
export function webhookUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not an http(s) URL`;
  }
  if (!/^https?:$/.test(parsed.protocol) || parsed.hostname === '') return `${JSON.stringify(url)} is not an http(s) URL`;
  return undefined;
}

/** A signing secret: `whsec_` and the base64 of 24–64 random bytes (Standard Webhooks, "Secret format"). */
export const WEBHOOK_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/;
export const WEBHOOK_SECRET_RULE = '"whsec_" followed by the base64 of 24–64 random bytes';
