/**
 * The local stand-ins for what the Pulumi program creates in AWS: two buckets,
 * the jobs queue and its dead-letter queue. Names match the environment the
 * services read (UPLOADS_BUCKET, MEDIA_BUCKET, JOBS_QUEUE_URL).
 */
import { JOBS_QUEUE_DEFAULTS } from '@vod/contract';
import type { FauxqsInitConfig } from 'fauxqs';

export const LOCAL_REGION = 'us-east-1';
export const UPLOADS_BUCKET = 'vod-uploads';
export const MEDIA_BUCKET = 'vod-media';
export const JOBS_QUEUE = 'vod-jobs';
export const JOBS_DLQ = 'vod-jobs-dlq';

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
    ],
  };
}
