/**
 * The webhook delivery worker: consumes the webhooks queue (contract/webhooks.ts).
 *
 * - An `event` message (queued by whatever changed a status record) is fanned
 *   out into one `delivery` message per configured receiver URL, then deleted.
 *   A crash between the two re-sends the deliveries: at least once, same
 *   `webhook-id`, so receivers can deduplicate.
 * - A `delivery` message is one signed POST (Standard Webhooks) to one URL,
 *   with a time limit. A 2xx answer deletes it. Anything else — an error
 *   status, a redirect (not followed, as the specification advises), a
 *   connection error, the time limit — leaves it in the queue, hidden for the
 *   next delay of the retry schedule (ChangeMessageVisibility); after the last
 *   attempt the next receive moves it to the dead-letter queue. Each delivery
 *   is its own message, so a receiver that is down or slow only delays its
 *   own deliveries.
 *
 * Several consumers poll side by side (each handles a batch of up to 10 at
 * once), so one slow receiver holds at most one consumer's batch, for at most
 * the time limit.
 *
 * Receiver URLs are logged without their query string (it may carry a
 * receiver's token); the secret is never logged.
 */
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import {
  WEBHOOK_HEADERS,
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_QUEUE_DEFAULTS,
  webhookQueueMessageSchema,
  webhookRetryDelaySeconds,
  type WebhookQueueMessage,
} from '@vod/contract';
import { backOffOnErrors } from '@vod/service-kit';
import type { Logger } from 'pino';
import { Consumer } from 'sqs-consumer';
import { Webhook } from 'standardwebhooks';

export interface WebhookTiming {
  /** Seconds one POST may take. */
  requestTimeoutSeconds: number;
  /** Seconds a received message stays hidden (> the request time limit). */
  visibilityTimeoutSeconds: number;
  /** Seconds before each retry (contract's schedule). */
  retryDelaysSeconds: readonly number[];
  /** Attempts per delivery (the queue's maxReceiveCount). */
  maxAttempts: number;
  /** Seconds one ReceiveMessage long poll waits (0–20). */
  pollWaitSeconds: number;
}

export interface WebhookDeliveryDeps {
  sqs: SQSClient;
  queueUrl: string;
  /** Receivers, http(s) URLs; none = events are dropped. */
  urls: readonly string[];
  /** `whsec_…` signing secret. */
  secret: string;
  logger: Logger;
  timing?: Partial<WebhookTiming>;
  /** Consumers polling side by side (default 4). */
  consumers?: number;
  now?: () => Date;
}

export interface WebhookDelivery {
  start(): void;
  /** Stops polling and waits up to `graceMs` for deliveries in flight. */
  stop(graceMs: number): Promise<void>;
}

export const DEFAULT_WEBHOOK_TIMING: WebhookTiming = {
  requestTimeoutSeconds: WEBHOOK_QUEUE_DEFAULTS.requestTimeoutSeconds,
  visibilityTimeoutSeconds: WEBHOOK_QUEUE_DEFAULTS.visibilityTimeoutSeconds,
  retryDelaysSeconds: WEBHOOK_QUEUE_DEFAULTS.retryDelaysSeconds,
  maxAttempts: WEBHOOK_MAX_ATTEMPTS,
  pollWaitSeconds: WEBHOOK_QUEUE_DEFAULTS.receiveWaitTimeSeconds,
};

/** A URL as it may be logged: no query, fragment or credentials. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

export function createWebhookDelivery(deps: WebhookDeliveryDeps): WebhookDelivery {
  const timing = { ...DEFAULT_WEBHOOK_TIMING, ...deps.timing };
  const log = deps.logger;
  const signer = new Webhook(deps.secret);
  const now = deps.now ?? (() => new Date());
  const urls = new Set(deps.urls);

  async function fanOut(msg: Extract<WebhookQueueMessage, { kind: 'event' }>): Promise<void> {
    const bodies = [...urls].map((url) => JSON.stringify({ kind: 'delivery', id: msg.id, event: msg.event, url } satisfies WebhookQueueMessage));
    for (let i = 0; i < bodies.length; i += 10) {
      const out = await deps.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: deps.queueUrl, Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(i + j), MessageBody })) }),
      );
      if (out.Failed?.length) throw new Error(`could not queue ${out.Failed.length} deliveries: ${out.Failed.map((f) => f.Message ?? f.Code).join('; ')}`);
    }
  }

  /** One signed POST. @throws Error unless the receiver answered 2xx in time. */
  async function post(msg: Extract<WebhookQueueMessage, { kind: 'delivery' }>): Promise<number> {
    const body = JSON.stringify(msg.event);
    const at = now();
    const res = await fetch(msg.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'vod-webhooks/1',
        [WEBHOOK_HEADERS.id]: msg.id,
        [WEBHOOK_HEADERS.timestamp]: String(Math.floor(at.getTime() / 1000)),
        [WEBHOOK_HEADERS.signature]: signer.sign(msg.id, at, body),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timing.requestTimeoutSeconds * 1000),
    });
    await res.body?.cancel().catch(() => {});
    if (res.status < 200 || res.status > 299) throw new Error(`answered HTTP ${res.status}`);
    return res.status;
  }

  async function handle(message: Message): Promise<Message | undefined> {
    let msg: WebhookQueueMessage;
    try {
      msg = webhookQueueMessageSchema.parse(JSON.parse(message.Body ?? ''));
    } catch (err) {
      // Retried until maxReceiveCount, then it rests in the dead-letter queue for a person to see.
      log.error({ err, messageId: message.MessageId }, 'malformed webhooks message');
      throw err;
    }
    const { type, videoId } = msg.event;
    if (msg.kind === 'event') {
      if (urls.size === 0) log.debug({ videoId, event: type }, 'no webhook receivers configured: event dropped');
      else await fanOut(msg);
      return message;
    }
    const dlog = log.child({ videoId, event: type, eventId: msg.id, url: redactUrl(msg.url) });
    if (!urls.has(msg.url)) {
      dlog.info('receiver is no longer configured: delivery dropped');
      return message;
    }
    const attempt = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
    const started = Date.now();
    try {
      const status = await post(msg);
      dlog.info({ attempt, status, ms: Date.now() - started }, 'webhook delivered');
      return message;
    } catch (err) {
      const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${timing.requestTimeoutSeconds} s` : (err as Error).message;
      // After the last attempt: visible again at once, so the next receive moves it to the dead-letter queue.
      // (1, not 0: fauxqs with persistence loses a message whose visibility is set to 0; see transcode's worker.)
      const last = attempt >= timing.maxAttempts;
      const delay = last ? 1 : webhookRetryDelaySeconds(attempt, timing.retryDelaysSeconds);
      if (last) dlog.error({ attempt, reason }, 'webhook not delivered after the last attempt: moved to the dead-letter queue');
      else dlog.warn({ attempt, reason, retryInSeconds: delay }, 'webhook not delivered; will retry');
      await deps.sqs
        .send(new ChangeMessageVisibilityCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: delay }))
        .catch((e) => dlog.warn({ err: e }, 'could not delay the retry; it comes back after the visibility timeout'));
      return undefined; // not acknowledged: stays in the queue
    }
  }

  const consumers = Array.from({ length: Math.max(1, deps.consumers ?? 4) }, () =>
    Consumer.create({
      sqs: deps.sqs,
      queueUrl: deps.queueUrl,
      batchSize: 10,
      waitTimeSeconds: timing.pollWaitSeconds,
      visibilityTimeout: timing.visibilityTimeoutSeconds,
      pollingCompleteWaitTimeMs: (timing.pollWaitSeconds + timing.requestTimeoutSeconds + 5) * 1000,
      // A fan-out that failed (SQS refused) is tried again soon.
      terminateVisibilityTimeout: 5,
      messageSystemAttributeNames: ['ApproximateReceiveCount'],
      handleMessage: handle,
    }),
  );
  for (const c of consumers) {
    // Logs each failed poll and backs off while SQS cannot be reached (no hot loop).
    backOffOnErrors(c, log, 'webhooks');
    c.on('processing_error', (err) => log.warn({ err: err.message }, 'webhooks message not completed'));
  }

  return {
    start() {
      for (const c of consumers) c.start();
      log.info({ queueUrl: deps.queueUrl, receivers: [...urls].map(redactUrl) }, 'webhook delivery polling');
    },
    async stop(graceMs) {
      const stopped = consumers.map((c) => new Promise((resolve) => c.once('stopped', resolve)));
      for (const c of consumers) c.stop();
      await Promise.race([Promise.all(stopped), new Promise((r) => setTimeout(r, graceMs).unref())]);
    },
  };
}
