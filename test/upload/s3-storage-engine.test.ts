import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { CreateMultipartUploadCommand, CompleteMultipartUploadCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import type { Request } from 'express';
import { S3StorageEngine, WrongPartSizeError, type StorageTarget, type StoredFileInfo } from '../../containers/upload/src/s3-storage-engine.js';
import { startTestAws, type TestAws } from '../support/emulator.js';

const MiB = 1024 * 1024;

function handle(engine: S3StorageEngine, stream: Readable): Promise<StoredFileInfo> {
  const file = { stream, fieldname: 'f', originalname: 'a.bin', mimetype: 'application/octet-stream' } as unknown as Express.Multer.File;
  return new Promise((resolve, reject) =>
    engine._handleFile({} as Request, file, (err, info) => (err ? reject(err) : resolve(info as unknown as StoredFileInfo))),
  );
}

/** A stream that yields `bytes` in 64 KiB chunks, then fails if `failAfter` is set. */
function source(bytes: Buffer, failAfter?: number): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (failAfter !== undefined && offset >= failAfter) return this.destroy(new Error('client went away'));
      if (offset >= bytes.length) return this.push(null);
      this.push(bytes.subarray(offset, (offset += 64 * 1024)));
    },
  });
}

describe('S3StorageEngine (Multer storage engine, against the S3 emulator)', () => {
  let aws: TestAws;
  before(async () => {
    aws = await startTestAws();
  });
  after(async () => aws?.stop());

  const engineFor = (target: StorageTarget) => new S3StorageEngine({ s3: aws.s3, resolveTarget: async () => target, objectPartSize: 5 * MiB });
  const exists = (key: string) =>
    aws.s3.send(new HeadObjectCommand({ Bucket: aws.uploadsBucket, Key: key })).then(() => true, () => false);

  it('streams a whole file into one object, counting bytes', async () => {
    const bytes = randomBytes(11 * MiB + 3);
    const info = await handle(engineFor({ kind: 'object', bucket: aws.uploadsBucket, key: 'obj/a', contentType: 'video/mp4' }), source(bytes));
    expect(info.size).to.equal(bytes.length);
    expect(info.key).to.equal('obj/a');
    const got = await aws.s3.send(new GetObjectCommand({ Bucket: aws.uploadsBucket, Key: 'obj/a' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(bytes)).to.equal(true);
    expect(got.ContentType).to.equal('video/mp4');
  });

  it('aborts the S3 upload when the client stream fails midway: no object is left', async () => {
    const engine = engineFor({ kind: 'object', bucket: aws.uploadsBucket, key: 'obj/broken' });
    const err = await handle(engine, source(randomBytes(12 * MiB), 7 * MiB)).catch((e) => e);
    expect(err).to.be.instanceOf(Error);
    expect(err.message).to.match(/client went away/);
    expect(await exists('obj/broken')).to.equal(false);
  });

  it('stops at maxBytes with payload_too_large and stores nothing', async () => {
    const engine = engineFor({ kind: 'object', bucket: aws.uploadsBucket, key: 'obj/big', maxBytes: 6 * MiB });
    const err = await handle(engine, source(randomBytes(8 * MiB))).catch((e) => e);
    expect((err as { code?: string }).code).to.equal('payload_too_large');
    expect(await exists('obj/big')).to.equal(false);
  });

  it('_removeFile deletes a stored object (Multer cleanup after an aborted request)', async () => {
    const engine = engineFor({ kind: 'object', bucket: aws.uploadsBucket, key: 'obj/rm' });
    const info = await handle(engine, source(randomBytes(1000)));
    await new Promise<void>((resolve, reject) => engine._removeFile({} as Request, info as unknown as Express.Multer.File, (e) => (e ? reject(e) : resolve())));
    expect(await exists('obj/rm')).to.equal(false);
  });

  describe('part targets (UploadPart)', () => {
    let uploadId: string;
    const key = 'mpu/one';
    before(async () => {
      uploadId = (await aws.s3.send(new CreateMultipartUploadCommand({ Bucket: aws.uploadsBucket, Key: key }))).UploadId!;
    });
    const part = (partNumber: number, expectedBytes: number) =>
      engineFor({ kind: 'part', bucket: aws.uploadsBucket, key, s3UploadId: uploadId, partNumber, expectedBytes });

    it('streams a part of exactly the expected size and returns its ETag', async () => {
      const bytes = randomBytes(5 * MiB);
      const info = await handle(part(1, bytes.length), source(bytes));
      expect(info.size).to.equal(bytes.length);
      expect(info.etag).to.match(/^"?[0-9a-f]{32}"?$/);
      const last = await handle(part(2, 10), Readable.from([Buffer.alloc(10, 1)]));
      await aws.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: aws.uploadsBucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: info.etag }, { PartNumber: 2, ETag: last.etag }] },
        }),
      );
      const got = await aws.s3.send(new GetObjectCommand({ Bucket: aws.uploadsBucket, Key: key }));
      expect((await got.Body!.transformToByteArray()).length).to.equal(5 * MiB + 10);
    });

    it('fails a short or long part with WrongPartSizeError, promptly', async () => {
      const id = (await aws.s3.send(new CreateMultipartUploadCommand({ Bucket: aws.uploadsBucket, Key: 'mpu/two' }))).UploadId!;
      const target = (n: number): StorageTarget => ({ kind: 'part', bucket: aws.uploadsBucket, key: 'mpu/two', s3UploadId: id, partNumber: n, expectedBytes: 1000 });
      const short = await handle(engineFor(target(1)), Readable.from([Buffer.alloc(999)])).catch((e) => e);
      expect(short).to.be.instanceOf(WrongPartSizeError);
      expect(short.message).to.match(/exactly 1000 bytes; received 999/);
      const long = await handle(engineFor(target(2)), Readable.from([Buffer.alloc(1001)])).catch((e) => e);
      expect(long).to.be.instanceOf(WrongPartSizeError);
      const stalled = new PassThrough();
      stalled.write(Buffer.alloc(10));
      setTimeout(() => stalled.destroy(new Error('connection reset')), 50);
      const reset = await handle(engineFor(target(3)), stalled).catch((e) => e);
      expect(reset.message).to.equal('connection reset');
    });
  });
});
