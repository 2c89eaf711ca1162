/**
 * The API after an upload, against the S3 + SQS emulator: pages of the
 * library, titles, delete (including a video still encoding), retry of a
 * failed video and the dead-letter redrive.
 */
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { pino } from 'pino';
import { keys, newId, type ListVideosResponse, type VideoRecord } from '@vod/contract';
import { StatusStore } from '@vod/service-kit';
import { createApp } from '../../containers/stream/src/app.js';
import { createVideoUrlSigner } from '../../containers/stream/src/url-signer.js';
import { coordinate } from '../../containers/transcode/src/coordinator.js';
import { RunStore } from '../../containers/transcode/src/run-store.js';
import { createApp as createUploadApp } from '../../containers/upload/src/app.js';
import { startTestAws, type TestAws } from '../support/emulator.js';
import { listen, silentLogger } from '../support/http.js';
import { makeKeyPair } from './support.js';

const TOKEN = 'admin-test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const MASTER = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000,RESOLUTION=640x360\n360p/index.m3u8\n';
const MEDIA = '#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:6,\nseg_00000.ts\n#EXT-X-ENDLIST\n';

describe('stream service: list pages, PATCH, DELETE, retry, redrive (emulator)', function () {
  this.timeout(60_000);
  let aws: TestAws;
  let api: { url: string; close(): Promise<void> };
  let uploadApi: { url: string; close(): Promise<void> };
  let store: StatusStore;
  const invalidated: string[] = [];
  let t = Date.parse('2030-01-01T00:00:00Z');
  /** Ids made one second apart, in creation order (each newer than the last). */
  const nextId = () => newId((t += 1000));

  before(async () => {
    aws = await startTestAws();
    store = new StatusStore(aws.s3, aws.mediaBucket);
    const kp = makeKeyPair();
    const signer = createVideoUrlSigner({ publicBaseUrl: 'http://127.0.0.1:8080', keyPairId: kp.keyPairId, privateKey: kp.privateKey, ttlSeconds: 3600 });
    const logger = await silentLogger();
    const app = createApp({
      s3: aws.s3,
      mediaBucket: aws.mediaBucket,
      uploadsBucket: aws.uploadsBucket,
      signer,
      logger,
      apiToken: TOKEN,
      store,
      admin: { sqs: aws.sqs, jobsQueueUrl: aws.jobsQueueUrl, jobsDlqUrl: aws.dlqUrl, invalidate: async (id) => void invalidated.push(id) },
    });
    api = await listen(app);
    uploadApi = await listen(
      createUploadApp({ ...aws, logger, jobsQueueUrl: aws.jobsQueueUrl, apiToken: TOKEN, maxUploadBytes: 64 * 1024 * 1024, partSize: 5 * 1024 * 1024 }),
    );
  });
  after(async () => {
    await api?.close();
    await uploadApi?.close();
    await aws?.stop();
  });

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = auth) =>
    fetch(api.url + path, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
  const exists = async (bucket: string, key: string) =>
    aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
      () => true,
      () => false,
    );
  const count = async (bucket: string, prefix: string) => (await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).KeyCount ?? 0;
  const put = (bucket: string, key: string, body: string) => aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  async function drain(queueUrl: string): Promise<unknown[]> {
    const bodies: unknown[] = [];
    for (;;) {
      const out = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      if (!out.Messages?.length) return bodies;
      for (const m of out.Messages) {
        bodies.push(JSON.parse(m.Body!));
        await aws.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
      }
    }
  }

  /** A ready video with everything a real one has: source, ladder, pipeline state, record. */
  async function readyVideo(title?: string): Promise<string> {
    const id = nextId();
    await put(aws.uploadsBucket, keys.source(id), 'source bytes');
    await put(aws.mediaBucket, keys.master(id), MASTER);
    await put(aws.mediaBucket, keys.mediaPlaylist(id, '360p'), MEDIA);
    await put(aws.mediaBucket, keys.segment(id, '360p', 0), 'G'.repeat(188));
    await put(aws.mediaBucket, keys.runState(id, 1), '{}');
    await store.create({ videoId: id, status: 'processing', filename: 'a.mp4', run: 1 });
    await store.transition(id, 'ready', { progress: 100, playable: true });
    if (title) await store.setDetails(id, { title });
    return id;
  }

  describe('GET /api/videos pages', () => {
    let ids: string[] = [];
    before(async () => {
      // Whatever earlier tests left is not in the way: this suite's ids are the newest.
      t = Date.parse('2031-01-01T00:00:00Z');
      ids = [];
      for (let i = 0; i < 5; i++) {
        const id = nextId();
        await store.create({ videoId: id, status: i === 1 || i === 3 ? 'failed' : 'queued', filename: `v${i}.mp4` });
        ids.unshift(id); // newest first
      }
    });
    const page = async (query: string) => {
      const res = await call('GET', `/api/videos${query}`);
      expect(res.status, query).to.equal(200);
      return (await res.json()) as ListVideosResponse;
    };

    it('pages newest first with an opaque cursor; null after the last page', async () => {
      const first = await page('?limit=2');
      expect(first.videos.map((v) => v.videoId)).to.deep.equal(ids.slice(0, 2));
      expect(first.nextCursor).to.be.a('string');
      const second = await page(`?limit=2&cursor=${first.nextCursor}`);
      expect(second.videos.map((v) => v.videoId)).to.deep.equal(ids.slice(2, 4));
      const all = await page('?limit=100');
      expect(all.videos.map((v) => v.videoId).slice(0, 5)).to.deep.equal(ids);
      expect(all.nextCursor).to.equal(null);
    });

    it('is stable under concurrent uploads: a video added between pages does not shift the next page', async () => {
      const first = await page('?limit=2');
      t = Date.parse('2032-01-01T00:00:00Z');
      const newer = nextId();
      await store.create({ videoId: newer, status: 'uploading' });
      const second = await page(`?limit=2&cursor=${first.nextCursor}`);
      expect(second.videos.map((v) => v.videoId)).to.deep.equal(ids.slice(2, 4));
      expect((await page('?limit=1')).videos[0]!.videoId).to.equal(newer);
      await store.delete(newer);
    });

    it('filters by status, page by page', async () => {
      const first = await page('?status=failed&limit=1');
      expect(first.videos.map((v) => [v.videoId, v.status])).to.deep.equal([[ids[1], 'failed']]);
      const second = await page(`?status=failed&limit=1&cursor=${first.nextCursor}`);
      expect(second.videos.map((v) => v.videoId)).to.deep.equal([ids[3]]);
      expect((await page('?status=failed&limit=100')).videos.every((v) => v.status === 'failed')).to.equal(true);
    });

    it('answers 400 for a bad limit, status or cursor', async () => {
      for (const q of ['?limit=0', '?limit=101', '?limit=abc', '?limit=2.5', '?limit=-1', '?limit=1&limit=2', '?status=gone']) {
        const res = await call('GET', `/api/videos${q}`);
        expect(res.status, q).to.equal(400);
        expect(await errorCode(res), q).to.equal('invalid_query');
      }
      // Not base64url of a records/ key, or not in the form this API writes it (padding).
      for (const c of ['nope', Buffer.from('sessions/x.json').toString('base64url'), 'cmVjb3Jkcy8=', '%00']) {
        const res = await call('GET', `/api/videos?cursor=${c}`);
        expect(res.status, c).to.equal(400);
        expect(await errorCode(res), c).to.equal('invalid_cursor');
      }
    });
  });

  describe('PATCH /api/videos/:id', () => {
    it('sets and removes the title and description; GET and the list show them', async () => {
      const id = await readyVideo();
      const res = await call('PATCH', `/api/videos/${id}`, { title: '  Launch day  ', description: 'Line one\nline two' });
      expect(res.status).to.equal(200);
      expect(await res.json()).to.include({ videoId: id, title: 'Launch day', description: 'Line one\nline two', status: 'ready' });
      expect(await (await call('GET', `/api/videos/${id}`)).json()).to.include({ title: 'Launch day' });
      const list = (await (await call('GET', '/api/videos?limit=100')).json()) as ListVideosResponse;
      expect(list.videos.find((v) => v.videoId === id)).to.include({ title: 'Launch day' });

      const cleared = (await (await call('PATCH', `/api/videos/${id}`, { title: null, description: '' })).json()) as VideoRecord;
      expect(cleared).to.not.have.any.keys('title', 'description');
      expect(cleared).to.include({ filename: 'a.mp4' });
    });

    it('refuses unknown fields, over-long or multi-line titles and non-objects with 400 invalid_body', async () => {
      const id = await readyVideo();
      const bad: unknown[] = [
        { title: 'ok', status: 'ready' },
        { videoId: id },
        { title: 'x'.repeat(201) },
        { description: 'x'.repeat(5001) },
        { title: 'two\nlines' },
        { title: 42 },
        [],
      ];
      for (const body of bad) {
        const res = await call('PATCH', `/api/videos/${id}`, body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(await errorCode(res)).to.equal('invalid_body');
      }
      const broken = await call('PATCH', `/api/videos/${id}`, '{"title":');
      expect(broken.status).to.equal(400);
      expect(await errorCode(broken)).to.equal('invalid_json');
      expect((await call('PATCH', `/api/videos/${nextId()}`, { title: 'x' })).status).to.equal(404);
      expect((await call('PATCH', `/api/videos/${id}`, { title: 'x' }, {})).status).to.equal(401);
    });

    it('loses no edit to a concurrent pipeline update or a concurrent PATCH of the other field', async () => {
      const id = nextId();
      await store.create({ videoId: id, status: 'queued', run: 1 });
      await store.transition(id, 'processing', { progress: 1 });
      // The coordinator keeps rewriting the record (progress) while people edit.
      const pipeline = (async () => {
        for (let p = 2; p <= 40; p++) await store.transition(id, 'processing', { progress: p });
      })();
      const edits = Promise.all([
        call('PATCH', `/api/videos/${id}`, { title: 'Edited while encoding' }),
        call('PATCH', `/api/videos/${id}`, { description: 'Written at the same time' }),
      ]);
      const [responses] = await Promise.all([edits, pipeline]);
      expect(responses.map((r) => r.status)).to.deep.equal([200, 200]);
      const view = (await (await call('GET', `/api/videos/${id}`)).json()) as VideoRecord;
      expect(view).to.include({ title: 'Edited while encoding', description: 'Written at the same time', progress: 40, status: 'processing' });
    });
  });

  describe('DELETE /api/videos/:id', () => {
    it('removes the source, every published object, the pipeline state, the details and the record; invalidates the CDN; twice is 404', async () => {
      const id = await readyVideo('Doomed');
      // The playlist is cached by this process once served; the delete must drop that too.
      const { url } = (await (await call('GET', `/api/videos/${id}/playback`)).json()) as { url: string };
      const signedMaster = `${api.url}${new URL(url).pathname}${new URL(url).search}`;
      expect((await fetch(signedMaster)).status).to.equal(200);

      const res = await call('DELETE', `/api/videos/${id}`);
      expect(res.status).to.equal(204);
      expect(await count(aws.uploadsBucket, keys.sourcePrefix(id))).to.equal(0);
      expect(await count(aws.mediaBucket, keys.videoPrefix(id))).to.equal(0);
      expect(await count(aws.mediaBucket, keys.pipelinePrefix(id))).to.equal(0);
      expect(await count(aws.mediaBucket, keys.detailsPrefix(id))).to.equal(0);
      expect(await exists(aws.mediaBucket, keys.record(id))).to.equal(false);
      expect(await exists(aws.mediaBucket, keys.tombstone(id))).to.equal(true);
      expect(invalidated).to.deep.equal([id]);

      expect((await fetch(signedMaster)).status).to.equal(404);
      expect((await call('GET', `/api/videos/${id}`)).status).to.equal(404);
      const again = await call('DELETE', `/api/videos/${id}`);
      expect(again.status).to.equal(404);
      expect(await errorCode(again)).to.equal('not_found');
      expect((await call('DELETE', `/api/videos/${nextId()}`, undefined, {})).status).to.equal(401);
    });

    it("cancels a video still processing: the coordinator's next event writes nothing back", async () => {
      const id = nextId();
      await put(aws.uploadsBucket, keys.source(id), 'source');
      await store.create({ videoId: id, status: 'queued', run: 1 });
      await store.transition(id, 'processing', { progress: 10 });
      expect((await call('DELETE', `/api/videos/${id}`)).status).to.equal(204);

      const outcome = await coordinate(
        { s3: aws.s3, logger: pino({ level: 'silent' }), mediaBucket: aws.mediaBucket, store: new RunStore(aws.s3, aws.mediaBucket), records: store, pricePerVcpuHour: 0.01 },
        { type: 'progress', videoId: id, run: 1, task: 'chunk:0', fraction: 0.5 },
      );
      expect(outcome).to.equal('ignored');
      expect(await exists(aws.mediaBucket, keys.record(id))).to.equal(false);
      expect(await new RunStore(aws.s3, aws.mediaBucket).wanted(id, 1), 'workers skip its tasks').to.equal(false);
    });

    it('a video deleted while uploading is not brought back when the upload completes', async () => {
      const up = (path: string, init: RequestInit = {}) => fetch(uploadApi.url + path, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });
      const created = (await (
        await up('/api/uploads', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filename: 'c.mp4', size: 10 }) })
      ).json()) as { uploadId: string; videoId: string };
      const form = new FormData();
      form.append('chunk', new Blob([new Uint8Array(10)]), 'c.bin');
      expect((await up(`/api/uploads/${created.uploadId}/parts/1`, { method: 'PUT', body: form })).status).to.equal(200);
      expect((await call('DELETE', `/api/videos/${created.videoId}`)).status).to.equal(204);

      const done = await up(`/api/uploads/${created.uploadId}/complete`, { method: 'POST' });
      expect(done.status).to.equal(404);
      expect(await exists(aws.mediaBucket, keys.record(created.videoId))).to.equal(false);
      expect(((await (await up(`/api/uploads/${created.uploadId}`)).json()) as { state: string }).state).to.equal('aborted');
      expect(await drain(aws.jobsQueueUrl)).to.deep.equal([]);
    });
  });

  describe('POST /api/videos/:id/retry', () => {
    it('queues a new run of a failed video from its source, after clearing the failed run', async () => {
      const id = nextId();
      await put(aws.uploadsBucket, keys.source(id), 'source');
      await put(aws.mediaBucket, keys.runState(id, 1), '{}');
      await put(aws.mediaBucket, keys.taskAttempts(id, 1, 'chunk-0'), '{}');
      await put(aws.mediaBucket, keys.master(id), MASTER);
      await store.create({ videoId: id, status: 'queued', run: 1 });
      await store.transition(id, 'processing', { progress: 30, playable: true, durationSeconds: 12 });
      await store.transition(id, 'failed', { error: 'chunk 0 failed 3 times' });
      await drain(aws.jobsQueueUrl);

      const res = await call('POST', `/api/videos/${id}/retry`);
      expect(res.status).to.equal(202);
      expect(await res.json()).to.deep.equal({ videoId: id, status: 'queued', run: 2 });
      const record = await store.get(id);
      expect(record).to.include({ status: 'queued', run: 2, progress: 0 });
      expect(record).to.not.have.any.keys('error', 'playable', 'durationSeconds');
      expect(await count(aws.mediaBucket, keys.pipelinePrefix(id))).to.equal(0);
      expect(await count(aws.mediaBucket, keys.videoPrefix(id))).to.equal(0);
      expect(await drain(aws.jobsQueueUrl)).to.deep.equal([{ type: 'transcode', videoId: id, sourceKey: keys.source(id), run: 2 }]);
      expect(await new RunStore(aws.s3, aws.mediaBucket).wanted(id, 2), 'a worker takes the new run').to.equal(true);
      expect(await new RunStore(aws.s3, aws.mediaBucket).wanted(id, 1), 'and ignores the old one').to.equal(false);

      // Repeated before a worker started the run (a client that timed out, or a crash before the send): queued again, same run.
      const again = await call('POST', `/api/videos/${id}/retry`);
      expect(again.status).to.equal(202);
      expect(await again.json()).to.include({ run: 2 });
      expect(await drain(aws.jobsQueueUrl)).to.have.length(1);
      // Once the run has started, it is an ordinary queued/processing video: 409.
      await put(aws.mediaBucket, keys.runPlan(id, 2), '{"sent":true}');
      expect((await call('POST', `/api/videos/${id}/retry`)).status).to.equal(409);
    });

    it('is 409 not_failed for any other state, 409 no_source without the original, 404 for an unknown id', async () => {
      const ready = await readyVideo();
      const res = await call('POST', `/api/videos/${ready}/retry`);
      expect(res.status).to.equal(409);
      expect(await errorCode(res)).to.equal('not_failed');
      const queued = nextId();
      await store.create({ videoId: queued, status: 'queued' });
      expect((await call('POST', `/api/videos/${queued}/retry`)).status).to.equal(409);

      const noSource = nextId();
      await store.create({ videoId: noSource, status: 'uploading' });
      await store.transition(noSource, 'failed', { error: 'upload never finished' });
      const missing = await call('POST', `/api/videos/${noSource}/retry`);
      expect(missing.status).to.equal(409);
      expect(await errorCode(missing)).to.equal('no_source');
      expect((await call('POST', `/api/videos/${nextId()}/retry`)).status).to.equal(404);
      expect(await drain(aws.jobsQueueUrl)).to.deep.equal([]);
    });
  });

  describe('POST /api/jobs/redrive', () => {
    it('moves dead-lettered jobs back to the jobs queue, at most `max`', async () => {
      await drain(aws.jobsQueueUrl);
      const jobs = [0, 1, 2].map(() => ({ type: 'transcode', videoId: nextId(), sourceKey: 'sources/x/source', run: 1 }));
      for (const j of jobs) await aws.sqs.send(new SendMessageCommand({ QueueUrl: aws.dlqUrl, MessageBody: JSON.stringify(j) }));

      const one = await call('POST', '/api/jobs/redrive', { max: 1 });
      expect(one.status).to.equal(200);
      expect(await one.json()).to.deep.equal({ moved: 1 });
      const rest = await call('POST', '/api/jobs/redrive');
      expect(await rest.json()).to.deep.equal({ moved: 2 });
      const moved = await drain(aws.jobsQueueUrl);
      expect(moved).to.have.deep.members(jobs);
      expect(await drain(aws.dlqUrl)).to.deep.equal([]);
      expect(await (await call('POST', '/api/jobs/redrive', {})).json()).to.deep.equal({ moved: 0 });

      const bad = await call('POST', '/api/jobs/redrive', { max: 0 });
      expect(bad.status).to.equal(400);
      expect((await call('POST', '/api/jobs/redrive', {}, {})).status).to.equal(401);
    });
  });
});
