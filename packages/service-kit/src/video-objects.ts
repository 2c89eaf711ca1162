/**
 * Small facts about a video's objects that several services ask: does an
 * object exist, was the video deleted (its tombstone, `keys.tombstone`), and
 * sending its transcode job.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { keys, type TranscodeJob } from '@vod/contract';
import { isNotFound } from './aws.js';

/**
 * Whether `key` exists in `bucket` (a HEAD request).
 * @throws whatever S3 answers other than 404 (access, network).
 */
export async function objectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Whether `videoId` was deleted: its tombstone exists in the media bucket. Workers and the upload service stop for it. */
export function isDeleted(s3: S3Client, mediaBucket: string, videoId: string): Promise<boolean> {
  return objectExists(s3, mediaBucket, keys.tombstone(videoId));
}

/** Queues a video's transcode job (contract `TranscodeJob`) on the jobs queue. */
export async function sendTranscodeJob(sqs: SQSClient, jobsQueueUrl: string, job: TranscodeJob): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: jobsQueueUrl, MessageBody: JSON.stringify(job) }));
}
