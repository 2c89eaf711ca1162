/**
 * The webhook delivery worker on the SQS emulator, with receivers on
 * 127.0.0.1: a receiver answering 500 (or never answering) does not hold back
 * another receiver; failed deliveries are retried with the same webhook-id and
 * a fresh signature, then dead-lettered; events of status changes reach the
 * queue from the StatusStore.
 */
import { GetQueueAttributesCommand, PurgeQueueCommand, ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { pino } from 'pino';
import { newId, webhookQueueMessageSchema, type WebhookQueueMessage } from '@vod/contract';
import { StatusStore, videoEventQueue } from '@vod/service-kit';
import { createWebhookDelivery, type WebhookDelivery } from '../../containers/upload/src/webhook-delivery.js';
import { startTestAws, type TestAws } from '../support/emulator.js';
import { newWebhookSecret, startReceiver, type TestReceiver } from '../support/webhook-receiver.js';

const silent = pino({ level: 'silent' });

describe('webhook delivery (emulator + receivers on 127.0.0.1)', function () {
  this.timeout(60_000);
  let aws: TestAws;
  const secret = newWebhookSecret();
  const receivers: TestReceiver[] = [];
  const deliveries: WebhookDelivery[] = [];

  before(async () => {
    aws = await startTestAws();
  });
  afterEach(async () => {
    await Promise.all(deliveries.splice(0).map((d) => d.stop(5000)));
    await Promise.all(receivers.splice(0).map((r) => r.close()));
    for (const q of [aws.webhooksQueueUrl, aws.webhooksDlqUrl]) await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: q }));
  });
  after(async () => {
    await aws?.stop();
  });

  async function receiver(answer?: Parameters<typeof startReceiver>[1]): Promise<TestReceiver> {
    const r = await startReceiver(secret, answer);
    receivers.push(r);
    return r;
  }

  function deliver(urls: string[], retryDelaysSeconds = [1, 1], requestTimeoutSeconds = 2): WebhookDelivery {
    const d = createWebhookDelivery({
      sqs: aws.sqs,
      queueUrl: aws.webhooksQueueUrl,
      urls,
      secret,
      logger: silent,
      timing: { pollWaitSeconds: 1, retryDelaysSeconds, maxAttempts: retryDelaysSeconds.length + 1, requestTimeoutSeconds, visibilityTimeoutSeconds: 10 },
    });
    deliveries.push(d);
    d.start();
    return d;
  }

  /** Creates `n` videos through a StatusStore that queues their events: n `video.created` events. */
  async function createVideos(n: number): Promise<string[]> {
    const store = new StatusStore(aws.s3, aws.mediaBucket, undefined, videoEventQueue(aws.sqs, aws.webhooksQueueUrl, silent));
    const ids = Array.from({ length: n }, () => newId());
    for (const videoId of ids) await store.create({ videoId, status: 'uploading', filename: `${videoId}.mp4`, sizeBytes: 1000 });
    return ids;
  }

  async function deadLettered(): Promise<WebhookQueueMessage[]> {
    const out: WebhookQueueMessage[] = [];
    for (;;) {
      const r = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.webhooksDlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      if (!r.Messages?.length) return out;
      for (const m of r.Messages) {
        out.push(webhookQueueMessageSchema.parse(JSON.parse(m.Body!)));
        await aws.sqs.send(new DeleteMessageCommand({ QueueUrl: aws.webhooksDlqUrl, ReceiptHandle: m.ReceiptHandle! }));
      }
    }
  }

  async function dlqDepth(): Promise<number> {
    const a = await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: aws.webhooksDlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    return Number(a.Attributes?.ApproximateNumberOfMessages ?? 0);
  }

  it('a receiver answering 500 and one that never answers do not hold back a healthy receiver; theirs are retried, then dead-lettered', async () => {
    const failing = await receiver(() => 500);
    const hanging = await receiver(() => 'hang');
    const healthy = await receiver();
    const ids = await createVideos(4);
    deliver([failing.url, hanging.url, healthy.url]);

    await healthy.until((r) => r.events().length === 4, 'all four events delivered to the healthy receiver');
    expect(healthy.events().map((e) => e.videoId).sort()).to.deep.equal([...ids].sort());
    expect(healthy.events().every((e) => e.type === 'video.created')).to.equal(true);
    expect(healthy.received.every((r) => !r.verifyError)).to.equal(true);

    // Every failing delivery gets its three attempts (1 + two retries), with the same webhook-id…
    await failing.until((r) => ids.every((id) => r.received.filter((x) => x.event?.videoId === id).length === 3), 'three attempts per event at the 500 receiver');
    for (const id of ids) {
      const attempts = failing.received.filter((x) => x.event?.videoId === id);
      expect(new Set(attempts.map((a) => a.id)).size).to.equal(1);
      expect(attempts.every((a) => !a.verifyError)).to.equal(true);
    }
    // …then rests in the dead-letter queue, as do the ones that timed out.
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 30_000;
      const poll = async () => {
        if ((await dlqDepth()) >= 8) return resolve();
        if (Date.now() > deadline) return reject(new Error(`dead-letter queue holds ${await dlqDepth()} of 8 deliveries`));
        setTimeout(poll, 200);
      };
      void poll();
    });
    const dead = await deadLettered();
    expect(dead.map((m) => (m.kind === 'delivery' ? m.url : '')).sort()).to.deep.equal([...Array(4).fill(failing.url), ...Array(4).fill(hanging.url)].sort());
    expect(healthy.received.length, 'the healthy receiver was never sent a duplicate').to.equal(4);
  });

  it('a delivery that failed once succeeds on retry, same webhook-id, freshly signed', async () => {
    const flaky = await receiver((attempt) => (attempt === 1 ? 503 : 200));
    const [videoId] = await createVideos(1);
    deliver([flaky.url]);
    await flaky.until((r) => r.events().length === 1, 'the retried delivery');
    expect(flaky.received).to.have.length(2);
    const [first, second] = flaky.received;
    expect(first!.status).to.equal(503);
    expect(second!.status).to.equal(200);
    expect(second!.id).to.equal(first!.id);
    expect(second!.verifyError).to.equal(undefined);
    expect(second!.event!.videoId).to.equal(videoId);
  });

  it('refuses a forged signature (the receiver helper really verifies)', async () => {
    const r = await receiver();
    const res = await fetch(r.url, {
      method: 'POST',
      headers: { 'webhook-id': 'evt_x', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' },
      body: '{}',
    });
    expect(res.status).to.equal(400);
    expect(r.events()).to.have.length(0);
  });
});
