/**
 * A worker whose queues cannot be reached backs off instead of spinning: a
 * handful of failed polls a second, not hundreds (sqs-consumer alone polls
 * again at once after a connection failure).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { capturingLogger, refusedEndpoint } from '../support/unreachable.js';
import { DEFAULT_LADDER } from '@vod/contract';
import { POLL_BACKOFF, StatusStore } from '@vod/service-kit';
import { DEFAULT_CHUNK_PLAN } from '../../containers/transcode/src/chunk-plan.js';
import { controlSender } from '../../containers/transcode/src/control.js';
import { RunStore } from '../../containers/transcode/src/run-store.js';
import { createWorker } from '../../containers/transcode/src/worker.js';

describe('transcode worker with its queues unreachable', () => {
  it('backs off its polls while SQS fails (exponentially, up to the cap), logging one line per failure', async () => {
    const endpoint = await refusedEndpoint();
    const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
    const sqs = new SQSClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });
    const s3 = new S3Client({ region: 'us-east-1', endpoint, credentials, forcePathStyle: true, maxAttempts: 1 });
    const { logger, lines } = capturingLogger<{ msg: string; nextPollMs?: number; queue?: string }>();
    const timing = { visibilityTimeoutSeconds: 30, heartbeatSeconds: 6, pollWaitSeconds: 1 };
    const worker = createWorker({
      s3,
      sqs,
      logger,
      uploadsBucket: 'u',
      mediaBucket: 'm',
      jobsQueueUrl: `${endpoint}/000000000000/jobs`,
      controlQueueUrl: `${endpoint}/000000000000/control.fifo`,
      sendControl: controlSender(sqs, `${endpoint}/000000000000/control.fifo`),
      store: new RunStore(s3, 'm'),
      records: new StatusStore(s3, 'm'),
      workDir: '/nonexistent',
      preset: 'ultrafast',
      ladder: DEFAULT_LADDER,
      chunkPlan: DEFAULT_CHUNK_PLAN,
      taskTimeLimitMs: 60_000,
      jobsTiming: timing,
      controlTiming: { ...timing, maxReceiveCount: 10 },
      pricePerVcpuHour: 0.015,
      protection: { hold: async () => {}, release: async () => {} },
    });
    worker.start();
    try {
      const seconds = 2.5;
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const errors = lines.filter((l) => l.msg === 'consumer error');
      // Per queue: 0 + 250 + 500 + 1000 ms of pauses fit in 2.5 s → at most 5 polls; without backoff, hundreds.
      for (const queue of ['jobs', 'control']) {
        const mine = errors.filter((l) => l.queue === queue);
        expect(mine.length, `${queue} failed polls in ${seconds} s`).to.be.within(2, 6);
        expect(mine.map((l) => l.nextPollMs)).to.deep.equal([250, 500, 1000, 2000, 4000, 5000].slice(0, mine.length));
      }
      expect(POLL_BACKOFF.maxMs).to.equal(5000);
    } finally {
      await worker.stop(2000);
      sqs.destroy();
      s3.destroy();
    }
  });
});
