/**
 * The local stand-ins for what the Pulumi program creates in AWS: two buckets,
 * the jobs queue and its dead-letter queue. Names match the environment the
 * services read (UPLOADS_BUCKET, MEDIA_BUCKET, JOBS_QUEUE_URL).
 */
import type { FauxqsInitConfig } from 'fauxqs';

export const LOCAL_REGION = 'us-east-1';
export const UPLOADS_BUCKET = 'vod-uploads';
export const MEDIA_BUCKET = 'vod-media';
export const JOBS_QUEUE = 'vod-jobs';
export const JOBS_DLQ = 'vod-jobs-dlq';
/** Receives before a job goes to the dead-letter queue (as in infra/). */
export const MAX_RECEIVE_COUNT = 3;
/** Seconds; the worker's heartbeat extends it while ffmpeg runs. */
export const JOBS_VISIBILITY_TIMEOUT = 300;

/** fauxqs init config: idempotent, so it is applied on every start. */
export function emulatorInit(region = LOCAL_REGION): FauxqsInitConfig {
  return {
    region,
    buckets: [UPLOADS_BUCKET, MEDIA_BUCKET],
    queues: [
      { name: JOBS_DLQ, attributes: { MessageRetentionPeriod: String(14 * 24 * 3600) } },
      {
        name: JOBS_QUEUE,
        attributes: {
          VisibilityTimeout: String(JOBS_VISIBILITY_TIMEOUT),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: `arn:aws:sqs:${region}:000000000000:${JOBS_DLQ}`,
            maxReceiveCount: String(MAX_RECEIVE_COUNT),
          }),
        },
      },
    ],
  };
}
