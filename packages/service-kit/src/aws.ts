/**
 * AWS SDK v3 clients. Endpoint, region and credentials come from the SDK's
 * standard configuration chain (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID…),
 * so the same code talks to AWS or to the local emulator by configuration alone.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

export interface AwsClientConfig {
  region: string;
  forcePathStyle: boolean;
}

export function createS3Client(cfg: AwsClientConfig): S3Client {
  return new S3Client({ region: cfg.region, forcePathStyle: cfg.forcePathStyle });
}

export function createSqsClient(cfg: Pick<AwsClientConfig, 'region'>): SQSClient {
  return new SQSClient({ region: cfg.region });
}

/** True for the SDK's "no such key" answers (GetObject/HeadObject). */
export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
