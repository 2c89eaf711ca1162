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

/** The parsed `env.aws` fragment (config.ts). */
export interface AwsEnv {
  AWS_REGION: string;
  S3_FORCE_PATH_STYLE: boolean;
  UPLOADS_BUCKET: string;
  MEDIA_BUCKET: string;
}

/** The AWS a service works with: its clients and the platform's two buckets. */
export interface ServiceAws {
  s3: S3Client;
  sqs: SQSClient;
  /** Originals and upload sessions. */
  uploadsBucket: string;
  /** Published HLS, status records, pipeline state, the web app. */
  mediaBucket: string;
}

/** Clients and bucket names for a service, from its validated environment. */
export function awsFromEnv(config: AwsEnv): ServiceAws {
  return {
    s3: createS3Client({ region: config.AWS_REGION, forcePathStyle: config.S3_FORCE_PATH_STYLE }),
    sqs: createSqsClient({ region: config.AWS_REGION }),
    uploadsBucket: config.UPLOADS_BUCKET,
    mediaBucket: config.MEDIA_BUCKET,
  };
}
