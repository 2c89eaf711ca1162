import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { createApp } from '../../containers/upload/src/app.js';
import { StatusStore } from '@vod/service-kit';
import { newId } from '@vod/contract';
import { startTestAws, type TestAws } from '../support/emulator.js';
import { listen, silentLogger } from '../support/http.js';

const MiB = 1024 * 1024;
const TOKEN = 'test-token-0123456789abcdef';

describe('upload service (against the S3 + SQS emulator)', () => {
  let aws: TestAws;
  let api: { url: string; close(): Promise<void> };

  before(async () => {
    aws = await startTestAws();
    const app = createApp({
      s3: aws.s3,
      sqs: aws.sqs,
      logger: await silentLogger(),
      uploadsBucket: aws.uploadsBucket,
      mediaBucket: aws.mediaBucket,
      jobsQueueUrl: aws.jobsQueueUrl,
      apiToken: TOKEN,
      maxUploadBytes: 40 * MiB,
      partSize: 5 * MiB,
    });
    api = await listen(app);
  });
  after(async () => {
    await api?.close();
    await aws?.stop();
  });

  const auth = { authorization: `Bearer ${TOKEN}` };
  const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
    fetch(api.url + path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const putPart = (uploadId: string, n: number, bytes: Buffer, field = 'chunk') => {
    const form = new FormData();
    form.append(field, new Blob([new Uint8Array(bytes)]), "chunk.bin");
    return fetch(`${api.url}/api/uploads/${uploadId}/parts/${n}`, { method: 'PUT', headers: auth, body: form });
  };
  /** A part sent as the raw request body (what @vod/client sends). */
  const putRawPart = (uploadId: string, n: number, bytes: Buffer) =>
    fetch(`${api.url}/api/uploads/${uploadId}/parts/${n}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(bytes),
    });
  const sha256 = (b: Uint8Array | Buffer) => createHash('sha256').update(b).digest('hex');

  async function drainJobs() {
    const out = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.jobsQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const m of out.Messages ?? []) await aws.sqs.send(new DeleteMessageCommand({ QueueUrl: aws.jobsQueueUrl, ReceiptHandle: m.ReceiptHandle! }));
    return (out.Messages ?? []).map((m) => JSON.parse(m.Body!));
  }

  it('rejects writes without the bearer token, as JSON', async () => {
    const res = await post('/api/uploads', { filename: 'a.mp4', size: 10 }, {});
    expect(res.status).to.equal(401);
    expect((await res.json()).error.code).to.equal('unauthorized');
    const wrong = await post('/api/uploads', { filename: 'a.mp4', size: 10 }, { authorization: 'Bearer nope' });
    expect(wrong.status).to.equal(401);
  });

  it('validates the create body and the size limit', async () => {
    const bad = await post('/api/uploads', { filename: '', size: -1 });
    expect(bad.status).to.equal(400);
    expect((await bad.json()).error.code).to.equal('invalid_body');
    const big = await post('/api/uploads', { filename: 'big.mp4', size: 41 * MiB });
    expect(big.status).to.equal(413);
    const malformed = await fetch(api.url + '/api/uploads', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{' });
    expect(malformed.status).to.equal(400);
    expect((await malformed.json()).error.code).to.equal('invalid_json');
  });

  it('resumes a chunked upload: parts out of order and sent twice give a byte-identical source and one job', async () => {
    const file = randomBytes(12 * MiB + 12345);
    const created = await post('/api/uploads', { filename: 'clip.mp4', size: file.length, contentType: 'video/mp4' });
    expect(created.status).to.equal(201);
    const { uploadId, videoId, partSize, partCount } = await created.json();
    expect(partSize).to.equal(5 * MiB);
    expect(partCount).to.equal(3);
    const part = (n: number) => file.subarray((n - 1) * partSize, Math.min(n * partSize, file.length));

    expect((await putPart(uploadId, 3, part(3))).status).to.equal(200);
    const first = await putPart(uploadId, 1, part(1));
    expect(first.status).to.equal(200);
    const body = await first.json();
    expect(body).to.include({ partNumber: 1, size: partSize });
    expect(body.etag).to.be.a('string').and.not.empty;

    // A client that lost track asks what is stored, then resumes.
    const state = await (await fetch(`${api.url}/api/uploads/${uploadId}`, { headers: auth })).json();
    expect(state.state).to.equal('uploading');
    expect(state.parts.map((p: { partNumber: number }) => p.partNumber)).to.deep.equal([1, 3]);

    const early = await fetch(`${api.url}/api/uploads/${uploadId}/complete`, { method: 'POST', headers: auth });
    expect(early.status).to.equal(400);
    expect((await early.json()).error.code).to.equal('missing_parts');

    expect((await putPart(uploadId, 1, part(1))).status).to.equal(200); // sent again
    expect((await putPart(uploadId, 2, part(2))).status).to.equal(200);
    const recordBefore = await new StatusStore(aws.s3, aws.mediaBucket).get(videoId);
    expect(recordBefore?.status).to.equal('uploading');

    const done = await fetch(`${api.url}/api/uploads/${uploadId}/complete`, { method: 'POST', headers: auth });
    expect(done.status).to.equal(202);
    expect(await done.json()).to.deep.equal({ videoId, status: 'queued' });

    const obj = await aws.s3.send(new GetObjectCommand({ Bucket: aws.uploadsBucket, Key: `sources/${videoId}/source` }));
    expect(sha256(await obj.Body!.transformToByteArray())).to.equal(sha256(file));
    const jobs = await drainJobs();
    expect(jobs).to.deep.equal([{ type: 'transcode', videoId, sourceKey: `sources/${videoId}/source` }]);
    const record = await new StatusStore(aws.s3, aws.mediaBucket).get(videoId);
    expect(record).to.include({ status: 'queued', filename: 'clip.mp4', sizeBytes: file.length });

    // Completing again is harmless and queues nothing new.
    const again = await fetch(`${api.url}/api/uploads/${uploadId}/complete`, { method: 'POST', headers: auth });
    expect(again.status).to.equal(202);
    expect(await drainJobs()).to.deep.equal([]);
    const late = await putPart(uploadId, 1, part(1));
    expect(late.status).to.equal(409);
  });

  it('takes parts as raw bodies too, mixed with multipart ones, into a byte-identical source', async () => {
    const file = randomBytes(11 * MiB + 777);
    const { uploadId, videoId, partSize } = await (await post('/api/uploads', { filename: 'raw.mp4', size: file.length })).json();
    const part = (n: number) => file.subarray((n - 1) * partSize, Math.min(n * partSize, file.length));
    const raw = await putRawPart(uploadId, 1, part(1));
    expect(raw.status).to.equal(200);
    expect(await raw.json()).to.include({ partNumber: 1, size: partSize });
    expect((await putPart(uploadId, 2, part(2))).status).to.equal(200);
    expect((await putRawPart(uploadId, 3, part(3))).status).to.equal(200);
    expect((await fetch(`${api.url}/api/uploads/${uploadId}/complete`, { method: 'POST', headers: auth })).status).to.equal(202);
    const obj = await aws.s3.send(new GetObjectCommand({ Bucket: aws.uploadsBucket, Key: `sources/${videoId}/source` }));
    expect(sha256(await obj.Body!.transformToByteArray())).to.equal(sha256(file));
    await drainJobs();
  });

  /** A part the @vod/client way: its part upload URL, the bytes straight to storage, the ETag recorded. */
  const sendViaUrl = async (uploadId: string, n: number, bytes: Buffer) => {
    const target = await (await post(`/api/uploads/${uploadId}/parts/${n}/url`, undefined)).json();
    const stored = await fetch(target.url, { method: target.method, body: new Uint8Array(bytes) });
    expect(stored.status).to.equal(200);
    return post(`/api/uploads/${uploadId}/parts/${n}`, { etag: stored.headers.get('etag') });
  };

  it('parts sent straight to storage through part upload URLs, mixed with parts through the service, give a byte-identical source', async () => {
    const file = randomBytes(11 * MiB + 4321);
    const { uploadId, videoId, partSize } = await (await post('/api/uploads', { filename: 'direct.mp4', size: file.length })).json();
    const part = (n: number) => file.subarray((n - 1) * partSize, Math.min(n * partSize, file.length));

    const before = Date.now();
    const res = await post(`/api/uploads/${uploadId}/parts/3/url`, undefined);
    expect(res.status).to.equal(200);
    const target = await res.json();
    expect(target).to.include({ method: 'PUT', size: part(3).length });
    expect(Date.parse(target.expiresAt) - before).to.be.within(3599_000, 3601_000);
    const url = new URL(target.url);
    expect(url.origin).to.equal(`http://127.0.0.1:${aws.server.port}`);
    expect(url.pathname).to.equal(`/${aws.uploadsBucket}/sources/${videoId}/source`);
    // The size is signed, and the SDK's default empty-body checksum is not (S3 would refuse the real body).
    expect(url.searchParams.get('X-Amz-SignedHeaders')!.split(';')).to.include('content-length');
    expect([...url.searchParams.keys()].filter((k) => /checksum/i.test(k))).to.deep.equal([]);
    expect(url.searchParams.get('partNumber')).to.equal('3');

    const recorded = await sendViaUrl(uploadId, 1, part(1));
    expect(recorded.status).to.equal(200);
    const body = await recorded.json();
    expect(body).to.include({ partNumber: 1, size: partSize });
    expect(body.etag).to.match(/^"[0-9a-f]{32}"$/);
    expect((await putRawPart(uploadId, 2, part(2))).status).to.equal(200);
    expect((await sendViaUrl(uploadId, 3, part(3))).status).to.equal(200);
    const state = await (await fetch(`${api.url}/api/uploads/${uploadId}`, { headers: auth })).json();
    expect(state.parts.map((p: { partNumber: number; size: number }) => [p.partNumber, p.size])).to.deep.equal([[1, partSize], [2, partSize], [3, part(3).length]]);

    expect((await fetch(`${api.url}/api/uploads/${uploadId}/complete`, { method: 'POST', headers: auth })).status).to.equal(202);
    const obj = await aws.s3.send(new GetObjectCommand({ Bucket: aws.uploadsBucket, Key: `sources/${videoId}/source` }));
    expect(sha256(await obj.Body!.transformToByteArray())).to.equal(sha256(file));
    await drainJobs();
    const late = await post(`/api/uploads/${uploadId}/parts/1/url`, undefined);
    expect(late.status).to.equal(409);
    expect((await late.json()).error.code).to.equal('upload_completed');
  });

  it('refuses bad part upload URL and record requests with the right codes', async () => {
    const { uploadId, partCount } = await (await post('/api/uploads', { filename: 'bad.mp4', size: 6 * MiB })).json();
    const codeOf = async (res: Response) => [res.status, (await res.json()).error.code];
    expect(await codeOf(await post(`/api/uploads/${uploadId}/parts/${partCount + 1}/url`, undefined))).to.deep.equal([400, 'bad_part_number']);
    expect(await codeOf(await post(`/api/uploads/${uploadId}/parts/01/url`, undefined))).to.deep.equal([400, 'bad_part_number']);
    expect(await codeOf(await post(`/api/uploads/${newId()}/parts/1/url`, undefined))).to.deep.equal([404, 'upload_not_found']);
    expect(await codeOf(await post(`/api/uploads/${uploadId}/parts/1/url`, undefined, {}))).to.deep.equal([401, 'unauthorized']);
    expect(await codeOf(await post(`/api/uploads/${uploadId}/parts/1`, { etag: '"abc"', size: 1 }))).to.deep.equal([400, 'invalid_body']);
    expect(await codeOf(await post(`/api/uploads/${uploadId}/parts/1`, { etag: 'a b' }))).to.deep.equal([400, 'invalid_body']);
    expect(await codeOf(await post(`/api/uploads/${uploadId}/parts/1`, {}))).to.deep.equal([400, 'invalid_body']);
    const state = await (await fetch(`${api.url}/api/uploads/${uploadId}`, { headers: auth })).json();
    expect(state.parts).to.deep.equal([]);
    await fetch(`${api.url}/api/uploads/${uploadId}`, { method: 'DELETE', headers: auth });
  });

  it('a recorded ETag storage does not hold: complete answers missing_parts and forgets every part, and sending them again completes', async () => {
    const file = randomBytes(6 * MiB);
    const { uploadId, videoId, partSize } = await (await post('/api/uploads', { filename: 'etag.mp4', size: file.length })).json();
    const part = (n: number) => file.subarray((n - 1) * partSize, Math.min(n * partSize, file.length));
    expect((await sendViaUrl(uploadId, 1, part(1))).status).to.equal(200);
    expect((await post(`/api/uploads/${uploadId}/parts/2`, { etag: '"0123456789abcdef0123456789abcdef"' })).status).to.equal(200);
    const done = await fetch(`${api.url}/api/uploads/${uploadId}/complete`, { method: 'POST', headers: auth });
    expect(done.status).to.equal(400);
    expect((await done.json()).error.code).to.equal('missing_parts');
    const state = await (await fetch(`${api.url}/api/uploads/${uploadId}`, { headers: auth })).json();
    expect(state).to.include({ state: 'uploading' });
    expect(state.parts).to.deep.equal([]);
    expect((await sendViaUrl(uploadId, 1, part(1))).status).to.equal(200);
    expect((await sendViaUrl(uploadId, 2, part(2))).status).to.equal(200);
    expect((await fetch(`${api.url}/api/uploads/${uploadId}/complete`, { method: 'POST', headers: auth })).status).to.equal(202);
    const obj = await aws.s3.send(new GetObjectCommand({ Bucket: aws.uploadsBucket, Key: `sources/${videoId}/source` }));
    expect(sha256(await obj.Body!.transformToByteArray())).to.equal(sha256(file));
    await drainJobs();
  });

  it('rejects a raw part of the wrong size and stores nothing for it', async () => {
    const { uploadId } = await (await post('/api/uploads', { filename: 'x.mp4', size: 6 * MiB })).json();
    const short = await putRawPart(uploadId, 1, randomBytes(1000));
    expect(short.status).to.equal(400);
    expect((await short.json()).error.code).to.equal('wrong_part_size');
    const long = await putRawPart(uploadId, 2, randomBytes(MiB + 10));
    expect(long.status).to.equal(400);
    expect((await long.json()).error.code).to.equal('wrong_part_size');
    const state = await (await fetch(`${api.url}/api/uploads/${uploadId}`, { headers: auth })).json();
    expect(state.parts).to.deep.equal([]);
  });

  it('rejects a part of the wrong size and stores nothing for it', async () => {
    const { uploadId } = await (await post('/api/uploads', { filename: 'x.mp4', size: 6 * MiB })).json();
    const short = await putPart(uploadId, 1, randomBytes(1000));
    expect(short.status).to.equal(400);
    expect((await short.json()).error.code).to.equal('wrong_part_size');
    const long = await putPart(uploadId, 2, randomBytes(MiB + 10));
    expect(long.status).to.equal(400);
    const outOfRange = await putPart(uploadId, 3, randomBytes(10));
    expect(outOfRange.status).to.equal(400);
    expect((await outOfRange.json()).error.code).to.equal('bad_part_number');
    const wrongField = await putPart(uploadId, 2, randomBytes(MiB), 'file');
    expect(wrongField.status).to.equal(400);
    const state = await (await fetch(`${api.url}/api/uploads/${uploadId}`, { headers: auth })).json();
    expect(state.parts).to.deep.equal([]);
  });

  it('answers 404 for unknown uploads', async () => {
    const res = await fetch(`${api.url}/api/uploads/0123456789abcdef0123`, { headers: auth });
    expect(res.status).to.equal(404);
    expect((await res.json()).error.code).to.equal('upload_not_found');
    expect((await fetch(`${api.url}/api/uploads/not-an-id`, { headers: auth })).status).to.equal(404);
  });

  it('aborts an upload with DELETE', async () => {
    const { uploadId, videoId } = await (await post('/api/uploads', { filename: 'x.mp4', size: 6 * MiB })).json();
    expect((await putPart(uploadId, 2, randomBytes(MiB))).status).to.equal(200);
    const del = await fetch(`${api.url}/api/uploads/${uploadId}`, { method: 'DELETE', headers: auth });
    expect(del.status).to.equal(204);
    const state = await (await fetch(`${api.url}/api/uploads/${uploadId}`, { headers: auth })).json();
    expect(state.state).to.equal('aborted');
    const records = await aws.s3.send(new ListObjectsV2Command({ Bucket: aws.uploadsBucket, Prefix: `sessions/${uploadId}/parts/` }));
    expect(records.KeyCount ?? 0).to.equal(0);
    expect(await new StatusStore(aws.s3, aws.mediaBucket).get(videoId)).to.equal(undefined);
    expect((await putPart(uploadId, 1, randomBytes(5 * MiB))).status).to.equal(409);
  });

  it('takes a whole file in one request (POST /api/videos) and queues it', async () => {
    const file = randomBytes(9 * MiB + 7);
    const form = new FormData();
    form.append('file', new Blob([file], { type: 'video/mp4' }), 'small.mp4');
    const res = await fetch(`${api.url}/api/videos`, { method: 'POST', headers: auth, body: form });
    expect(res.status).to.equal(202);
    const { videoId, status } = await res.json();
    expect(status).to.equal('queued');
    const obj = await aws.s3.send(new GetObjectCommand({ Bucket: aws.uploadsBucket, Key: `sources/${videoId}/source` }));
    expect(obj.ContentType).to.equal('video/mp4');
    expect(sha256(await obj.Body!.transformToByteArray())).to.equal(sha256(file));
    expect(obj.Metadata?.filename).to.equal('small.mp4');
    expect(await drainJobs()).to.have.length(1);
  });

  it('refuses an oversize single-request upload with 413 and keeps nothing', async () => {
    const form = new FormData();
    form.append('file', new Blob([randomBytes(41 * MiB)]), 'huge.mp4');
    const res = await fetch(`${api.url}/api/videos`, { method: 'POST', headers: auth, body: form });
    expect(res.status).to.equal(413);
    expect((await res.json()).error.code).to.equal('payload_too_large');
    const sources = await aws.s3.send(new ListObjectsV2Command({ Bucket: aws.uploadsBucket, Prefix: 'sources/' }));
    for (const o of sources.Contents ?? []) {
      const head = await aws.s3.send(new HeadObjectCommand({ Bucket: aws.uploadsBucket, Key: o.Key! }));
      expect(head.ContentLength).to.not.equal(41 * MiB);
    }
    expect(await drainJobs()).to.deep.equal([]);
  });
});
