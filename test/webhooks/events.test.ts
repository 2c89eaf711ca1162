/**
 * Which record changes are webhook events, that the StatusStore queues them
 * (one message per event, the public record as data), that a queue failure
 * never fails the change, and that the worker's environment refuses a
 * receiver URL that is not http(s).
 */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { pino } from 'pino';
import { z } from 'zod';
import { newId, webhookEventsFor, webhookQueueMessageSchema, type StoredVideoRecord, type WebhookQueueMessage } from '@vod/contract';
import { ConfigError, StatusStore, env, loadConfig, videoEventQueue } from '@vod/service-kit';
import { startTestAws, type TestAws } from '../support/emulator.js';
import { newWebhookSecret } from '../support/webhook-receiver.js';

const rec = (status: StoredVideoRecord['status'], extra: Partial<StoredVideoRecord> = {}): StoredVideoRecord => ({
  videoId: 'a'.repeat(20),
  status,
  progress: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});

describe('webhook events', () => {
  describe('webhookEventsFor', () => {
    it('maps each state change to its event, and nothing else', () => {
      expect(webhookEventsFor(undefined, rec('uploading'))).to.deep.equal(['video.created']);
      expect(webhookEventsFor(undefined, rec('queued'))).to.deep.equal(['video.created', 'video.uploaded']);
      expect(webhookEventsFor(rec('uploading'), rec('queued'))).to.deep.equal(['video.uploaded']);
      expect(webhookEventsFor(rec('queued'), rec('processing'))).to.deep.equal(['video.processing']);
      expect(webhookEventsFor(rec('processing'), rec('processing', { progress: 40, playable: true }))).to.deep.equal([]);
      expect(webhookEventsFor(rec('processing'), rec('ready'))).to.deep.equal(['video.ready']);
      expect(webhookEventsFor(rec('processing'), rec('failed'))).to.deep.equal(['video.failed']);
      expect(webhookEventsFor(rec('failed'), rec('failed'))).to.deep.equal([]);
      expect(webhookEventsFor(rec('failed'), rec('processing'))).to.deep.equal(['video.processing']);
      expect(webhookEventsFor(rec('ready'), undefined)).to.deep.equal(['video.deleted']);
      expect(webhookEventsFor(undefined, undefined)).to.deep.equal([]);
    });
  });

  describe('StatusStore → webhooks queue (emulator)', function () {
    this.timeout(30_000);
    let aws: TestAws;
    before(async () => {
      aws = await startTestAws();
    });
    after(async () => aws?.stop());

    async function drain(): Promise<WebhookQueueMessage[]> {
      const out: WebhookQueueMessage[] = [];
      for (;;) {
        const r = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.webhooksQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
        if (!r.Messages?.length) return out;
        for (const m of r.Messages) {
          out.push(webhookQueueMessageSchema.parse(JSON.parse(m.Body!)));
          await aws.sqs.send(new DeleteMessageCommand({ QueueUrl: aws.webhooksQueueUrl, ReceiptHandle: m.ReceiptHandle! }));
        }
      }
    }

    it('queues one event per state change of a video’s life, with the public record', async () => {
      let clock = Date.parse('2026-03-01T00:00:00Z');
      const store = new StatusStore(aws.s3, aws.mediaBucket, () => new Date((clock += 1000)), videoEventQueue(aws.sqs, aws.webhooksQueueUrl, pino({ level: 'silent' })));
      const videoId = newId();
      await store.create({ videoId, status: 'uploading', filename: 'a.mp4', sizeBytes: 10 });
      await store.transition(videoId, 'queued');
      await store.transition(videoId, 'processing', { run: 1, processingStartedAt: new Date(clock).toISOString() });
      await store.transition(videoId, 'processing', { progress: 50, playable: true });
      await store.transition(videoId, 'ready', { progress: 100 });
      await store.delete(videoId);
      await store.delete(videoId); // nothing left: no second event

      const messages = (await drain()).filter((m) => m.kind === 'event');
      messages.sort((a, b) => a.event.timestamp.localeCompare(b.event.timestamp) || a.id.localeCompare(b.id));
      expect(messages.map((m) => m.event.type)).to.deep.equal(['video.created', 'video.uploaded', 'video.processing', 'video.ready', 'video.deleted']);
      expect(new Set(messages.map((m) => m.id)).size).to.equal(5);
      for (const m of messages) {
        expect(m.event.videoId).to.equal(videoId);
        expect(m.event.data).to.not.have.property('run');
        expect(m.event.data).to.not.have.property('processingStartedAt');
      }
      expect(messages[3]!.event.data.status).to.equal('ready');
      expect(messages[4]!.event.data.status, 'deleted carries the last record').to.equal('ready');
    });

    it('a queue that cannot be reached does not fail the change', async () => {
      const store = new StatusStore(aws.s3, aws.mediaBucket, undefined, videoEventQueue(aws.sqs, `${aws.webhooksQueueUrl}-missing`, pino({ level: 'silent' })));
      const videoId = newId();
      await store.create({ videoId, status: 'queued' });
      const next = await store.transition(videoId, 'processing');
      expect(next.status).to.equal('processing');
      expect((await store.get(videoId))?.status).to.equal('processing');
    });
  });

  describe('the delivery worker’s environment', () => {
    const schema = z.object(env.webhookReceivers);
    const secret = newWebhookSecret();

    it('reads comma-separated http(s) URLs', () => {
      const cfg = loadConfig(schema, { VOD_WEBHOOK_URLS: ' https://a.example/h , http://127.0.0.1:9/x,', VOD_WEBHOOK_SECRET: secret });
      expect(cfg.VOD_WEBHOOK_URLS).to.deep.equal(['https://a.example/h', 'http://127.0.0.1:9/x']);
      expect(loadConfig(schema, { VOD_WEBHOOK_SECRET: secret }).VOD_WEBHOOK_URLS).to.deep.equal([]);
    });

    it('refuses a URL that is not http(s), naming it', () => {
      for (const bad of ['ftp://a.example/h', 'file:///etc/passwd', 'example.com/hook']) {
        expect(() => loadConfig(schema, { VOD_WEBHOOK_URLS: `https://ok.example,${bad}`, VOD_WEBHOOK_SECRET: secret }))
          .to.throw(ConfigError)
          .with.property('message')
          .that.includes('VOD_WEBHOOK_URLS')
          .and.includes(`entry 2: ${JSON.stringify(bad)} is not an http(s) URL`);
      }
    });

    it('refuses a secret not in whsec_ form', () => {
      expect(() => loadConfig(schema, { VOD_WEBHOOK_SECRET: 'hunter2' })).to.throw(ConfigError, /VOD_WEBHOOK_SECRET.*whsec_/);
      expect(() => loadConfig(schema, {})).to.throw(ConfigError, /VOD_WEBHOOK_SECRET/);
    });
  });
});
