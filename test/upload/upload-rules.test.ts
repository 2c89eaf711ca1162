/**
 * What an upload may declare and how long it lives: sessions expire with their
 * S3 multipart upload (410, everything cleaned up), the filename must fit S3's
 * 2 KB metadata limit in bytes, the content type must be audio/video, and a
 * part number is plain decimal.
 */
import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { expect } from 'chai';
import {
  DEFAULT_UPLOAD_EXPIRY_DAYS,
  S3_USER_METADATA_MAX_BYTES,
  isMediaContentType,
  parsePartNumber,
  sourceMetadata,
  uploadExpiresAt,
  userMetadataBytes,
} from '@vod/contract';
import { StatusStore } from '@vod/service-kit';
import { createApp, type UploadAppDeps } from '../../containers/upload/src/app.js';
import { startExpirySweep } from '../../containers/upload/src/expiry-sweep.js';
import { UploadService } from '../../containers/upload/src/upload-service.js';
import { startTestAws, type TestAws } from '../support/emulator.js';
import { listen, silentLogger } from '../support/http.js';

const MiB = 1024 * 1024;
const DAY_MS = 24 * 3600 * 1000;
const TOKEN = 'test-token-0123456789abcdef';

describe('upload rules (contract)', () => {
  it('part numbers are plain decimal 1..10000', () => {
    expect(['1', '9', '10', '10000'].map(parsePartNumber)).to.deep.equal([1, 9, 10, 10000]);
    for (const bad of ['', '0', '01', '1e3', '1e0', '+1', '-1', ' 1', '1 ', '0x1', '1.0', '10001', '１', 'Infinity']) {
      expect(parsePartNumber(bad), JSON.stringify(bad)).to.equal(undefined);
    }
  });

  it('content types: video/* or audio/*, printable ASCII only', () => {
    for (const ok of ['video/mp4', 'audio/mpeg', 'VIDEO/QuickTime', 'video/x-matroska', 'video/mp4; codecs="avc1.42E01E, mp4a.40.2"']) {
      expect(isMediaContentType(ok), ok).to.equal(true);
    }
    for (const bad of ['', 'video', 'video/', 'text/html', 'application/octet-stream', 'image/png', 'video/mp4\r\nx-evil: 1', 'video/mp\u0000', 'video/mp4\u0085', 'vidéo/mp4', `video/${'a'.repeat(300)}`]) {
      expect(isMediaContentType(bad), JSON.stringify(bad)).to.equal(false);
    }
  });

  it('metadata is measured in UTF-8 bytes of keys and values', () => {
    expect(userMetadataBytes({ ab: 'cd' })).to.equal(4);
    // 255 CJK characters: 3 UTF-8 bytes each, 9 characters each percent-encoded.
    expect(userMetadataBytes(sourceMetadata('日'.repeat(255)))).to.equal('filename'.length + 255 * 9);
    expect(userMetadataBytes(sourceMetadata('a'.repeat(255)))).to.be.below(S3_USER_METADATA_MAX_BYTES);
  });

  it('an upload expires the configured number of days after it started', () => {
    const t = new Date('2026-01-01T10:00:00Z');
    expect(uploadExpiresAt(t).toISOString()).to.equal(new Date(t.getTime() + DEFAULT_UPLOAD_EXPIRY_DAYS * DAY_MS).toISOString());
    expect(uploadExpiresAt(t, 1).toISOString()).to.equal('2026-01-02T10:00:00.000Z');
  });
});

describe('upload service rules (against the S3 + SQS emulator)', () => {
  let aws: TestAws;
  let api: { url: string; close(): Promise<void> };
  let clock = new Date('2026-03-01T12:00:00Z');
  let deps: UploadAppDeps;

  before(async () => {
    aws = await startTestAws();
    deps = {
      s3: aws.s3,
      sqs: aws.sqs,
      logger: await silentLogger(),
      uploadsBucket: aws.uploadsBucket,
      mediaBucket: aws.mediaBucket,
      jobsQueueUrl: aws.jobsQueueUrl,
      apiToken: TOKEN,
      maxUploadBytes: 40 * MiB,
      partSize: 5 * MiB,
      uploadExpiryDays: 2,
      now: () => clock,
    };
    api = await listen(createApp(deps));
  });
  after(async () => {
    await api?.close();
    await aws?.stop();
  });

  const auth = { authorization: `Bearer ${TOKEN}` };
  const create = (body: unknown) =>
    fetch(`${api.url}/api/uploads`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const putPart = (uploadId: string, n: number | string, bytes: Buffer) => {
    const form = new FormData();
    form.append('chunk', new Blob([new Uint8Array(bytes)]), 'chunk.bin');
    return fetch(`${api.url}/api/uploads/${uploadId}/parts/${n}`, { method: 'PUT', headers: auth, body: form });
  };
  const getUpload = (uploadId: string) => fetch(`${api.url}/api/uploads/${uploadId}`, { headers: auth });
  const complete = (uploadId: string) => fetch(`${api.url}/api/uploads/${uploadId}/complete`, { method: 'POST', headers: auth });
  const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
  const keysUnder = async (prefix: string) =>
    ((await aws.s3.send(new ListObjectsV2Command({ Bucket: aws.uploadsBucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key);
  /** True while S3 still has the multipart upload (the emulator has no ListMultipartUploads): a stray part is accepted. */
  const s3UploadOpen = (s: { key: string; s3UploadId: string }) =>
    aws.s3
      .send(new UploadPartCommand({ Bucket: aws.uploadsBucket, Key: s.key, UploadId: s.s3UploadId, PartNumber: 9999, Body: 'x' }))
      .then(
        () => true,
        (err: { name?: string }) => {
          if (err.name === 'NoSuchUpload') return false;
          throw err;
        },
      );
  const session = async (uploadId: string) =>
    JSON.parse(
      await (await aws.s3.send(new GetObjectCommand({ Bucket: aws.uploadsBucket, Key: `sessions/${uploadId}.json` }))).Body!.transformToString(),
    ) as { s3UploadId: string; key: string };

  describe('expiry', () => {
    it('a session expires with its S3 upload: 410 upload_expired for GET, PUT and complete; session, parts, record and S3 upload removed', async () => {
      const started = clock;
      const res = await create({ filename: 'a.mp4', size: 6 * MiB, contentType: 'video/mp4' });
      expect(res.status).to.equal(201);
      const { uploadId, videoId, expiresAt } = await res.json();
      expect(expiresAt).to.equal(new Date(started.getTime() + 2 * DAY_MS).toISOString());
      const s = await session(uploadId);
      expect((await putPart(uploadId, 2, randomBytes(MiB))).status).to.equal(200);

      // One millisecond before: still open.
      clock = new Date(started.getTime() + 2 * DAY_MS - 1);
      const before = await getUpload(uploadId);
      expect(before.status).to.equal(200);
      expect((await before.json()).expiresAt).to.equal(expiresAt);
      expect(await s3UploadOpen(s)).to.equal(true);

      clock = new Date(started.getTime() + 2 * DAY_MS);
      const gone = await getUpload(uploadId);
      expect(gone.status).to.equal(410);
      expect(await code(gone)).to.equal('upload_expired');
      expect(await keysUnder(`sessions/${uploadId}`)).to.deep.equal([]);
      expect(await s3UploadOpen(s)).to.equal(false);
      expect(await new StatusStore(aws.s3, aws.mediaBucket).get(videoId)).to.equal(undefined);

      // And it stays gone, for every operation.
      const put = await putPart(uploadId, 1, randomBytes(5 * MiB));
      expect([put.status, await code(put)]).to.deep.equal([410, 'upload_expired']);
      const done = await complete(uploadId);
      expect([done.status, await code(done)]).to.deep.equal([410, 'upload_expired']);
      const again = await getUpload(uploadId);
      expect([again.status, await code(again)]).to.deep.equal([410, 'upload_expired']);
    });

    it('after S3 already aborted the upload (its lifecycle rule), PUT and complete answer 410, not 500/400', async () => {
      const started = clock;
      const { uploadId, videoId } = await (await create({ filename: 'b.mp4', size: 6 * MiB })).json();
      const s = await session(uploadId);
      expect((await putPart(uploadId, 2, randomBytes(MiB))).status).to.equal(200);
      await aws.s3.send(new AbortMultipartUploadCommand({ Bucket: aws.uploadsBucket, Key: s.key, UploadId: s.s3UploadId }));
      clock = new Date(started.getTime() + 2 * DAY_MS + 3600_000);
      const put = await putPart(uploadId, 1, randomBytes(5 * MiB));
      expect([put.status, await code(put)]).to.deep.equal([410, 'upload_expired']);
      const done = await complete(uploadId);
      expect([done.status, await code(done)]).to.deep.equal([410, 'upload_expired']);
      expect(await keysUnder(`sessions/${uploadId}`)).to.deep.equal([]);
      expect(await new StatusStore(aws.s3, aws.mediaBucket).get(videoId)).to.equal(undefined);
    });

    it('a request does not expire a completed upload (only the sweep forgets it, later)', async () => {
      const started = clock;
      const { uploadId, videoId } = await (await create({ filename: 'c.mp4', size: 1000 })).json();
      expect((await putPart(uploadId, 1, randomBytes(1000))).status).to.equal(200);
      expect((await complete(uploadId)).status).to.equal(202);
      clock = new Date(started.getTime() + 10 * DAY_MS);
      const res = await getUpload(uploadId);
      expect(res.status).to.equal(200);
      expect((await res.json()).state).to.equal('completed');
      expect((await new StatusStore(aws.s3, aws.mediaBucket).get(videoId))?.status).to.equal('queued');
    });
  });

  it('a lowered expiry applies to sessions already open (S3’s lifecycle rule applies to open uploads too)', async () => {
    const started = clock;
    const longer = new UploadService({ ...deps, uploadExpiryDays: 5 });
    const created = await longer.start({ filename: 'l.mp4', size: 1000 }, deps.logger);
    expect(created.expiresAt).to.equal(new Date(started.getTime() + 5 * DAY_MS).toISOString());
    clock = new Date(started.getTime() + 2 * DAY_MS);
    const err = await new UploadService(deps).session(created.uploadId).then(
      () => undefined,
      (e: { code?: string }) => e,
    );
    expect(err?.code).to.equal('upload_expired');
  });

  describe('the expiry sweep', () => {
    it('removes abandoned uploads nobody asks for again (record, session, parts, S3 upload) and finished sessions; leaves young ones', async () => {
      const started = new Date(clock.getTime() + DAY_MS); // later than anything the tests above made
      clock = started;
      const abandoned = await (await create({ filename: 'gone.mp4', size: 6 * MiB })).json();
      const abandonedSession = await session(abandoned.uploadId);
      expect((await putPart(abandoned.uploadId, 2, randomBytes(MiB))).status).to.equal(200);
      const finished = await (await create({ filename: 'done.mp4', size: 1000 })).json();
      expect((await putPart(finished.uploadId, 1, randomBytes(1000))).status).to.equal(200);
      expect((await complete(finished.uploadId)).status).to.equal(202);
      clock = new Date(started.getTime() + DAY_MS);
      const young = await (await create({ filename: 'young.mp4', size: 1000 })).json();

      clock = new Date(started.getTime() + 2 * DAY_MS + 1000);
      const records = new StatusStore(aws.s3, aws.mediaBucket);
      expect((await records.get(abandoned.videoId))?.status).to.equal('uploading');
      const removed = await new UploadService(deps).sweepExpired(deps.logger);
      expect(removed).to.be.at.least(2);
      // The abandoned upload: everything gone, S3's multipart upload aborted.
      expect(await keysUnder(`sessions/${abandoned.uploadId}`)).to.deep.equal([]);
      expect(await records.get(abandoned.videoId)).to.equal(undefined);
      expect(await s3UploadOpen(abandonedSession)).to.equal(false);
      const gone = await getUpload(abandoned.uploadId);
      expect([gone.status, await code(gone)]).to.deep.equal([410, 'upload_expired']);
      // The finished one: session and part records gone, the video's record kept.
      expect(await keysUnder(`sessions/${finished.uploadId}`)).to.deep.equal([]);
      expect((await records.get(finished.videoId))?.status).to.equal('queued');
      // The young one is untouched.
      expect((await getUpload(young.uploadId)).status).to.equal(200);
      expect((await records.get(young.videoId))?.status).to.equal('uploading');
      // Nothing left to do.
      expect(await new UploadService(deps).sweepExpired(deps.logger)).to.equal(0);
    });

    it('runs on a schedule, survives a failed sweep, and stops', async () => {
      let calls = 0;
      const fake = {
        sweepExpired: async () => {
          calls++;
          if (calls === 1) throw new Error('S3 unavailable');
          return 0;
        },
      } as unknown as UploadService;
      const sweep = startExpirySweep(fake, deps.logger, { firstMs: 0, everyMs: 10 });
      const deadline = Date.now() + 5000;
      while (calls < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await sweep.stop();
      const after = calls;
      expect(after).to.be.at.least(3);
      await new Promise((r) => setTimeout(r, 50));
      expect(calls, 'no sweep after stop').to.equal(after);
    });
  });

  describe('what a client may declare', () => {
    it('a filename over S3’s 2 KB metadata limit in UTF-8 bytes is 400 filename_too_long; 255 ASCII characters are fine', async () => {
      const long = await create({ filename: `${'日本語'.repeat(85)}`, size: 1000, contentType: 'video/mp4' });
      expect(long.status).to.equal(400);
      const body = await long.json();
      expect(body.error.code).to.equal('filename_too_long');
      expect(body.error.message).to.contain('2048 bytes');
      expect((await create({ filename: `${'a'.repeat(251)}.mp4`, size: 1000 })).status).to.equal(201);
    });

    it('a one-request upload keeps a non-ASCII filename as sent (UTF-8), in its record and S3 metadata', async () => {
      const name = 'été 日本 😀.mp4';
      const form = new FormData();
      form.append('file', new Blob([randomBytes(1000)], { type: 'video/mp4' }), name);
      const res = await fetch(`${api.url}/api/videos`, { method: 'POST', headers: auth, body: form });
      expect(res.status).to.equal(202);
      const { videoId } = await res.json();
      expect((await new StatusStore(aws.s3, aws.mediaBucket).get(videoId))?.filename).to.equal(name);
      const obj = await aws.s3.send(new GetObjectCommand({ Bucket: aws.uploadsBucket, Key: `sources/${videoId}/source` }));
      expect(decodeURIComponent(obj.Metadata!.filename!)).to.equal(name);
    });

    it('the same limit for a one-request upload (POST /api/videos): 400 and nothing stored', async () => {
      const before = await keysUnder('sources/');
      const form = new FormData();
      form.append('file', new Blob([randomBytes(1000)], { type: 'video/mp4' }), `${'日本語'.repeat(80)}.mp4`);
      const res = await fetch(`${api.url}/api/videos`, { method: 'POST', headers: auth, body: form });
      expect([res.status, await code(res)]).to.deep.equal([400, 'filename_too_long']);
      expect(await keysUnder('sources/')).to.deep.equal(before);
    });

    it('contentType must be video/* or audio/* without control characters: else 400 bad_content_type', async () => {
      for (const contentType of ['text/html', 'application/octet-stream', 'video/', 'image/svg+xml', 'video/mp4\r\nx-amz-acl: public-read', 'video/mp4\u0007']) {
        const res = await create({ filename: 'x.mp4', size: 1000, contentType });
        expect([res.status, await code(res)], JSON.stringify(contentType)).to.deep.equal([400, 'bad_content_type']);
      }
      for (const contentType of ['video/mp4', 'audio/mpeg', 'video/x-matroska']) {
        expect((await create({ filename: 'x.mp4', size: 1000, contentType })).status, contentType).to.equal(201);
      }
      const form = new FormData();
      form.append('file', new Blob([randomBytes(1000)], { type: 'text/html' }), 'page.html');
      const res = await fetch(`${api.url}/api/videos`, { method: 'POST', headers: auth, body: form });
      expect([res.status, await code(res)]).to.deep.equal([400, 'bad_content_type']);
    });

    it('partNumber must be plain decimal: 1e0, +1, " 1", 0x1, 01, 1.0 are 400 bad_part_number', async () => {
      const { uploadId } = await (await create({ filename: 'p.mp4', size: 1000 })).json();
      for (const n of ['1e0', '+1', '%201', '0x1', '01', '1.0', '1%20']) {
        const res = await putPart(uploadId, n, randomBytes(1000));
        expect([res.status, await code(res)], n).to.deep.equal([400, 'bad_part_number']);
      }
      const info = await (await getUpload(uploadId)).json();
      expect(info.parts).to.deep.equal([]);
      expect((await putPart(uploadId, '1', randomBytes(1000))).status).to.equal(200);
    });
  });
});
