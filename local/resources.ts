/**
 * The local stand-ins for what the Pulumi program creates in AWS: two buckets,
 * the jobs queue, the control queue (FIFO), the webhooks queue and their
 * dead-letter queues. Names match the environment the services read
 * (UPLOADS_BUCKET, MEDIA_BUCKET, JOBS_QUEUE_URL, CONTROL_QUEUE_URL,
 * WEBHOOKS_QUEUE_URL).
 */
import { CONTROL_QUEUE_DEFAULTS, JOBS_QUEUE_DEFAULTS, WEBHOOK_MAX_ATTEMPTS, WEBHOOK_QUEUE_DEFAULTS } from '@vod/contract';
import type { FauxqsInitConfig } from 'fauxqs';

export const LOCAL_REGION = 'us-east-1';
export const UPLOADS_BUCKET = 'vod-uploads';
export const MEDIA_BUCKET = 'vod-media';
export const JOBS_QUEUE = 'vod-jobs';
export const JOBS_DLQ = 'vod-jobs-dlq';
/** FIFO (the `.fifo` suffix is required by SQS): the coordinator's queue, one message group per video. */
export const CONTROL_QUEUE = 'vod-control.fifo';
export const CONTROL_DLQ = 'vod-control-dlq.fifo';
/** Webhook events and deliveries (standard queue: a receiver's retries must not hold anything else back). */
export const WEBHOOKS_QUEUE = 'vod-webhooks';
export const WEBHOOKS_DLQ = 'vod-webhooks-dlq';

/** fauxqs init config: idempotent, so it is applied on every start. */
export function emulatorInit(region = LOCAL_REGION): FauxqsInitConfig {
  return {
    region,
    buckets: [UPLOADS_BUCKET, MEDIA_BUCKET],
    queues: [
      { name: JOBS_DLQ, attributes: { MessageRetentionPeriod: String(JOBS_QUEUE_DEFAULTS.deadLetterRetentionSeconds) } },
      {
        name: JOBS_QUEUE,
        attributes: {
          VisibilityTimeout: String(JOBS_QUEUE_DEFAULTS.visibilityTimeoutSeconds),
          MessageRetentionPeriod: String(JOBS_QUEUE_DEFAULTS.messageRetentionSeconds),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: `arn:aws:sqs:${region}:000000000000:${JOBS_DLQ}`,
            maxReceiveCount: String(JOBS_QUEUE_DEFAULTS.maxReceiveCount),
          }),
        },
      },
      { name: CONTROL_DLQ, attributes: { FifoQueue: 'true', MessageRetentionPeriod: String(CONTROL_QUEUE_DEFAULTS.deadLetterRetentionSeconds) } },
      {
        name: CONTROL_QUEUE,
        attributes: {
          FifoQueue: 'true',
          VisibilityTimeout: String(CONTROL_QUEUE_DEFAULTS.visibilityTimeoutSeconds),
          MessageRetentionPeriod: String(CONTROL_QUEUE_DEFAULTS.messageRetentionSeconds),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: `arn:aws:sqs:${region}:000000000000:${CONTROL_DLQ}`,
            maxReceiveCount: String(CONTROL_QUEUE_DEFAULTS.maxReceiveCount),
          }),
        },
      },
      { name: WEBHOOKS_DLQ, attributes: { MessageRetentionPeriod: String(WEBHOOK_QUEUE_DEFAULTS.deadLetterRetentionSeconds) } },
      {
        name: WEBHOOKS_QUEUE,
        attributes: {
          VisibilityTimeout: String(WEBHOOK_QUEUE_DEFAULTS.visibilityTimeoutSeconds),
          MessageRetentionPeriod: String(WEBHOOK_QUEUE_DEFAULTS.messageRetentionSeconds),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: `arn:aws:sqs:${region}:000000000000:${WEBHOOKS_DLQ}`,
            maxReceiveCount: String(WEBHOOK_MAX_ATTEMPTS),
          }),
        },
      },
    ],
  };
}
