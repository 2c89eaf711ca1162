/** The CloudFront invalidation a DELETE sends, and what a failed one does to the DELETE. */
import { CreateInvalidationCommand, type CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { expect } from 'chai';
import { keys } from '@vod/contract';
import { StatusStore } from '@vod/service-kit';
import { cloudFrontInvalidator, videoInvalidationPaths } from '../../containers/stream/src/cdn-invalidation.js';
import { createApp } from '../../containers/stream/src/app.js';
import { createVideoUrlSigner } from '../../containers/stream/src/url-signer.js';
import { startTestAws, type TestAws } from '../support/emulator.js';
import { listen, silentLogger } from '../support/http.js';
import { makeKeyPair } from './support.js';

const VIDEO = '0123456789abcdef0123';

describe('stream/cdn-invalidation', () => {
  it("invalidates the video's viewer prefix on the configured distribution, idempotently per video", async () => {
    const sent: CreateInvalidationCommand[] = [];
    const client = { send: async (c: CreateInvalidationCommand) => void sent.push(c) } as unknown as CloudFrontClient;
    await cloudFrontInvalidator(client, 'E2QWRUHAPOMQZL')(VIDEO);
    expect(sent).to.have.length(1);
    expect(sent[0]).to.be.instanceOf(CreateInvalidationCommand);
    expect(sent[0]!.input).to.deep.equal({
      DistributionId: 'E2QWRUHAPOMQZL',
      InvalidationBatch: { CallerReference: `vod-delete-${VIDEO}`, Paths: { Quantity: 1, Items: [`/videos/${VIDEO}/*`] } },
    });
    // The path CloudFront matches is the viewer path of the key prefix the worker publishes under.
    expect(videoInvalidationPaths(VIDEO)[0]).to.equal(`/${keys.videoPrefix(VIDEO)}*`);
  });

  describe('a DELETE whose invalidation fails (emulator)', function () {
    this.timeout(30_000);
    let aws: TestAws;
    let api: { url: string; close(): Promise<void> };
    let fail = true;
    before(async () => {
      aws = await startTestAws();
      const kp = makeKeyPair();
      const signer = createVideoUrlSigner({ publicBaseUrl: 'https://cdn.example.com', keyPairId: kp.keyPairId, privateKey: kp.privateKey, ttlSeconds: 3600 });
      const invalidate = async () => {
        if (fail) throw Object.assign(new Error('Too many invalidations'), { name: 'TooManyInvalidationsInProgress' });
      };
      const app = createApp({
        s3: aws.s3,
        mediaBucket: aws.mediaBucket,
        uploadsBucket: aws.uploadsBucket,
        signer,
        logger: await silentLogger(),
        admin: { sqs: aws.sqs, jobsQueueUrl: aws.jobsQueueUrl, jobsDlqUrl: aws.dlqUrl, invalidate },
      });
      api = await listen(app);
    });
    after(async () => {
      await api?.close();
      await aws?.stop();
    });

    it('answers 502 and keeps the record, so repeating the DELETE finishes it', async () => {
      const store = new StatusStore(aws.s3, aws.mediaBucket);
      await store.create({ videoId: VIDEO, status: 'queued' });
      const first = await fetch(`${api.url}/api/videos/${VIDEO}`, { method: 'DELETE' });
      expect(first.status).to.equal(502);
      expect(((await first.json()) as { error: { code: string; message: string } }).error).to.include({ code: 'bad_gateway' });
      expect(await store.get(VIDEO)).to.not.equal(undefined);
      fail = false;
      expect((await fetch(`${api.url}/api/videos/${VIDEO}`, { method: 'DELETE' })).status).to.equal(204);
      expect(await store.get(VIDEO)).to.equal(undefined);
    });
  });
});
