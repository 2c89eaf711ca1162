/** An in-process fauxqs (S3 + SQS) with the local buckets and queues, for tests. */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import {
  CONTROL_QUEUE,
  JOBS_DLQ,
  JOBS_QUEUE,
  LOCAL_REGION,
  MEDIA_BUCKET,
  UPLOADS_BUCKET,
  WEBHOOKS_DLQ,
  WEBHOOKS_QUEUE,
  emulatorInit,
} from '../../local/resources.js';

export interface TestAws {
  server: FauxqsServer;
  s3: S3Client;
  sqs: SQSClient;
  uploadsBucket: string;
  mediaBucket: string;
  jobsQueueUrl: string;
  dlqUrl: string;
  controlQueueUrl: string;
  webhooksQueueUrl: string;
  webhooksDlqUrl: string;
  stop(): Promise<void>;
}

export async function startTestAws(): Promise<TestAws> {
  const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false, init: emulatorInit() });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const s3 = new S3Client({ region: LOCAL_REGION, endpoint, forcePathStyle: true, credentials });
  const sqs = new SQSClient({ region: LOCAL_REGION, endpoint, credentials });
  const url = (name: string) => `${endpoint}/000000000000/${name}`;
  return {
    server,
    s3,
    sqs,
    uploadsBucket: UPLOADS_BUCKET,
    mediaBucket: MEDIA_BUCKET,
    jobsQueueUrl: url(JOBS_QUEUE),
    dlqUrl: url(JOBS_DLQ),
    controlQueueUrl: url(CONTROL_QUEUE),
    webhooksQueueUrl: url(WEBHOOKS_QUEUE),
    webhooksDlqUrl: url(WEBHOOKS_DLQ),
    async stop() {
      s3.destroy();
      sqs.destroy();
      await server.stop();
    },
  };
}
