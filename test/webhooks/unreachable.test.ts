/**
 * The webhook delivery worker with its queue unreachable: it backs off its
 * polls instead of sqs-consumer's hot loop (found as a leftover worker
 * spinning at 14 % of a core after its emulator was gone).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { capturingLogger, refusedEndpoint } from '../support/unreachable.js';
import { createWebhookDelivery } from '../../containers/upload/src/webhook-delivery.js';
import { newWebhookSecret } from '../support/webhook-receiver.js';

describe('webhook delivery with its queue unreachable', () => {
  it('backs off its polls while SQS fails, one log line per failure', async () => {
    const endpoint = await refusedEndpoint();
    const sqs = new SQSClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    const { logger, lines } = capturingLogger<{ msg: string; nextPollMs?: number; queue?: string }>();
    const delivery = createWebhookDelivery({
      sqs,
      queueUrl: `${endpoint}/000000000000/webhooks`,
      urls: ['http://127.0.0.1:9/hook'],
      secret: newWebhookSecret(),
      logger,
      consumers: 1,
      timing: { pollWaitSeconds: 1 },
    });
    delivery.start();
    try {
      const seconds = 2.5;
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const errors = lines.filter((l) => l.msg === 'consumer error' && l.queue === 'webhooks');
      // 0 + 250 + 500 + 1000 ms of pauses fit in 2.5 s → at most 5 polls; without backoff, hundreds.
      expect(errors.length, `failed polls in ${seconds} s`).to.be.within(2, 6);
      expect(errors.map((l) => l.nextPollMs)).to.deep.equal([250, 500, 1000, 2000, 4000].slice(0, errors.length));
    } finally {
      await delivery.stop(1000);
      sqs.destroy();
    }
  });
});
