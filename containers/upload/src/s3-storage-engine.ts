/**
 * A Multer storage engine that streams each incoming file straight into S3:
 * nothing is written to local disk and no whole file or chunk is held in memory.
 *
 * Two kinds of target, chosen per request by `resolveTarget`:
 * - `object`: a whole file becomes one S3 object, through `@aws-sdk/lib-storage`
 *   (an S3 multipart upload under the hood; lib-storage keeps at most
 *   `queueSize × partSize` bytes in memory).
 * - `part`: the file is one part of an existing S3 multipart upload
 *   (`UploadPart`), whose exact size is known in advance. The request is sent
 *   with that Content-Length and the body is streamed; a body that turns out
 *   longer or shorter fails the part with `WrongPartSizeError`.
 *
 * Bytes are counted as they pass. On any stream error the S3 side is aborted
 * (lib-storage: `AbortMultipartUpload`; part: the request is destroyed, so S3
 * stores nothing for it). No ACL is ever sent: buckets use BucketOwnerEnforced.
 */
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { AppError } from '@vod/service-kit';

export interface ObjectTarget {
  kind: 'object';
  bucket: string;
  key: string;
  contentType?: string;
  /** S3 user metadata (x-amz-meta-*), ASCII values. */
  metadata?: Record<string, string>;
  /** Bytes; a larger file fails with AppError `payload_too_large`. */
  maxBytes?: number;
}

export interface PartTarget {
  kind: 'part';
  bucket: string;
  key: string;
  /** The S3 multipart upload id. */
  s3UploadId: string;
  /** 1–10,000. */
  partNumber: number;
  /** Exact bytes the part must have. */
  expectedBytes: number;
}

export type StorageTarget = ObjectTarget | PartTarget;

/** What the engine adds to `req.file`. */
export interface StoredFileInfo {
  bucket: string;
  key: string;
  /** Bytes written to S3. */
  size: number;
  /** The S3 ETag (quoted, as S3 returns it). */
  etag: string;
  /** Set for objects so Multer can clean up after an aborted request. */
  path?: string;
}

export class WrongPartSizeError extends AppError {
  constructor(expected: number, actual: number | 'more') {
    const got = actual === 'more' ? `more than ${expected}` : String(actual);
    super('wrong_part_size', `Part must be exactly ${expected} bytes; received ${got}`);
  }
}

/** A whole-file upload went over its limit. */
export const tooLarge = (maxBytes: number | undefined) => new AppError('payload_too_large', `File is larger than the ${maxBytes}-byte limit`);

/** Counts bytes; fails once more than `maxBytes` have passed. */
export class ByteCounter extends Transform {
  bytes = 0;
  constructor(private readonly limits: { maxBytes?: number; onTooLarge: () => Error }) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.limits.maxBytes !== undefined && this.bytes > this.limits.maxBytes) return cb(this.limits.onTooLarge());
    cb(null, chunk);
  }
}

export interface S3StorageEngineOptions {
  s3: S3Client;
  /** Decides where this request's file goes; may throw an AppError (e.g. unknown upload). */
  resolveTarget: (req: Request, file: Express.Multer.File) => Promise<StorageTarget>;
  /** lib-storage part size in bytes for whole-file uploads (≥ 5 MiB). */
  objectPartSize?: number;
  /** lib-storage parts in flight for whole-file uploads. */
  objectQueueSize?: number;
}

export class S3StorageEngine implements StorageEngine {
  constructor(private readonly opts: S3StorageEngineOptions) {}

  _handleFile(req: Request, file: Express.Multer.File, cb: (error?: unknown, info?: Partial<Express.Multer.File>) => void): void {
    this.store(req, file).then(
      (info) => cb(null, info as unknown as Partial<Express.Multer.File>),
      (err) => {
        file.stream.resume(); // drain what is left so the request can finish
        cb(err);
      },
    );
  }

  _removeFile(_req: Request, file: Express.Multer.File, cb: (error: Error | null) => void): void {
    const info = file as unknown as Partial<StoredFileInfo>;
    if (!info.path || !info.bucket || !info.key) return cb(null);
    this.opts.s3
      .send(new DeleteObjectCommand({ Bucket: info.bucket, Key: info.key }))
      .then(() => cb(null), (err: Error) => cb(err));
  }

  private async store(req: Request, file: Express.Multer.File): Promise<StoredFileInfo> {
    const target = await this.opts.resolveTarget(req, file);
    return target.kind === 'part' ? this.storePart(file, target) : this.storeObject(file, target);
  }

  private async storeObject(file: Express.Multer.File, t: ObjectTarget): Promise<StoredFileInfo> {
    const counter = new ByteCounter({
      maxBytes: t.maxBytes,
      onTooLarge: () => tooLarge(t.maxBytes),
    });
    const body = new PassThrough();
    const upload = new Upload({
      client: this.opts.s3,
      params: { Bucket: t.bucket, Key: t.key, Body: body, ContentType: t.contentType, Metadata: t.metadata },
      partSize: this.opts.objectPartSize ?? 8 * 1024 * 1024,
      queueSize: this.opts.objectQueueSize ?? 4,
      leavePartsOnError: false, // lib-storage aborts the multipart upload on failure
    });
    const onLimit = () => counter.destroy(tooLarge(t.maxBytes));
    file.stream.once('limit', onLimit); // busboy's own fileSize limit, if Multer set one
    try {
      const [piped, done] = await Promise.allSettled([
        pipeline(file.stream, counter, body).catch(async (err) => {
          await upload.abort().catch(() => {});
          throw err;
        }),
        upload.done(),
      ]);
      // The client's failure explains the abort better than lib-storage's "Upload aborted".
      if (piped.status === 'rejected') throw piped.reason;
      if (done.status === 'rejected') throw done.reason;
      return { bucket: t.bucket, key: t.key, size: counter.bytes, etag: done.value.ETag ?? '', path: t.key };
    } finally {
      file.stream.off('limit', onLimit);
    }
  }

  private storePart(file: Express.Multer.File, t: PartTarget): Promise<StoredFileInfo> {
    return this.storePartStream(file.stream, t);
  }

  /**
   * Streams `src` (a multipart file field, or a raw request body) into one S3
   * part. Resolves once S3 has stored it.
   * @throws WrongPartSizeError if `src` does not carry exactly `t.expectedBytes` bytes; the client's stream error.
   */
  async storePartStream(src: Readable, t: PartTarget): Promise<StoredFileInfo> {
    // The SDK gets a body that never errors: a wrong size or a broken client
    // stream aborts the request instead, so S3 stores nothing for this part.
    const body = new PassThrough();
    const abort = new AbortController();
    let bytes = 0;
    let failure: unknown;
    const fail = (err: unknown) => {
      if (failure) return;
      failure = err;
      abort.abort();
      body.destroy();
      src.unpipe(body);
      src.resume();
    };
    src.on('error', fail);
    src.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > t.expectedBytes) fail(new WrongPartSizeError(t.expectedBytes, 'more'));
    });
    src.on('end', () => {
      if (bytes !== t.expectedBytes) fail(new WrongPartSizeError(t.expectedBytes, bytes));
    });
    src.pipe(body);
    try {
      const out = await this.opts.s3.send(
        new UploadPartCommand({
          Bucket: t.bucket,
          Key: t.key,
          UploadId: t.s3UploadId,
          PartNumber: t.partNumber,
          ContentLength: t.expectedBytes,
          Body: body,
        }),
        { abortSignal: abort.signal },
      );
      if (failure) throw failure;
      return { bucket: t.bucket, key: t.key, size: bytes, etag: out.ETag ?? '' };
    } catch (err) {
      throw failure ?? err;
    }
  }
}
