/**
 * Chunked, resumable uploads: a session per upload, kept in the uploads bucket
 * (`sessions/{uploadId}.json`) with one small record per stored part
 * (`sessions/{uploadId}/parts/{n}.json`), so any upload-service instance can
 * serve any chunk, and a client can resume after a crash by asking which parts
 * are stored. (S3's ListParts would also do, but records keep the service
 * stateless across S3-compatible stores that lack it.)
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { keys, newId, type StoredPart, type UploadState } from '@vod/contract';
import { AppError, getJson, isNotFound, putJson } from '@vod/service-kit';
import { partBytes, planParts, type PartPlan } from './part-plan.js';

export interface UploadSession extends PartPlan {
  uploadId: string;
  videoId: string;
  /** S3's multipart upload id (never shown to clients). */
  s3UploadId: string;
  key: string;
  filename: string;
  contentType: string;
  /** Bytes. */
  size: number;
  state: UploadState;
  createdAt: string;
}

export class UploadSessions {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Starts an S3 multipart upload and records the session. */
  async create(input: { filename: string; size: number; contentType: string; partSize?: number }): Promise<UploadSession> {
    const plan = planParts(input.size, input.partSize);
    const videoId = newId(this.now().getTime());
    const key = keys.source(videoId);
    const out = await this.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        ContentType: input.contentType,
        Metadata: { filename: encodeURIComponent(input.filename) },
      }),
    );
    const session: UploadSession = {
      uploadId: newId(this.now().getTime()),
      videoId,
      s3UploadId: out.UploadId!,
      key,
      filename: input.filename,
      contentType: input.contentType,
      size: input.size,
      ...plan,
      state: 'uploading',
      createdAt: this.now().toISOString(),
    };
    await this.save(session);
    return session;
  }

  /** @throws NotFoundError for an unknown upload id. */
  async get(uploadId: string): Promise<UploadSession> {
    const session = await getJson<UploadSession>(this.s3, this.bucket, keys.session(uploadId));
    if (!session) throw new AppError('upload_not_found', `Upload ${uploadId} does not exist`);
    return session;
  }

  /** Bytes part `partNumber` must have. @throws AppError `bad_part_number` if out of range. */
  expectedPartBytes(session: UploadSession, partNumber: number): number {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > session.partCount) {
      throw new AppError('bad_part_number', `partNumber must be 1..${session.partCount}`);
    }
    return partBytes(session, session.size, partNumber);
  }

  /** @throws AppError `upload_completed` / `upload_aborted` unless the session still accepts parts. */
  assertOpen(session: UploadSession): void {
    if (session.state === 'completed') throw new AppError('upload_completed', `Upload ${session.uploadId} is completed`);
    if (session.state === 'aborted') throw new AppError('upload_aborted', `Upload ${session.uploadId} is aborted`);
  }

  async recordPart(uploadId: string, part: StoredPart): Promise<void> {
    await putJson(this.s3, this.bucket, keys.part(uploadId, part.partNumber), part);
  }

  /** Stored parts, by part number. */
  async parts(uploadId: string): Promise<StoredPart[]> {
    const recordKeys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: keys.partsPrefix(uploadId), ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) if (o.Key) recordKeys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const parts: StoredPart[] = [];
    // Bounded fan-out: a 50 GiB upload has thousands of part records.
    for (let i = 0; i < recordKeys.length; i += 32) {
      const batch = await Promise.all(
        recordKeys.slice(i, i + 32).map(async (key) => (await getJson<StoredPart>(this.s3, this.bucket, key))!),
      );
      parts.push(...batch);
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /**
   * Assembles the object from the stored parts (S3 CompleteMultipartUpload).
   * Safe to repeat: if S3 already completed it (a retried request after a
   * crash), the finished object is accepted when its size matches. The session
   * stays `uploading` until `markCompleted`, so a crash before the job is
   * queued is repaired by the client's retry.
   * @throws AppError `missing_parts` listing missing or wrong-sized parts.
   */
  async complete(session: UploadSession): Promise<void> {
    const parts = await this.parts(session.uploadId);
    const byNumber = new Map(parts.map((p) => [p.partNumber, p]));
    const missing: number[] = [];
    for (let n = 1; n <= session.partCount; n++) {
      const p = byNumber.get(n);
      if (!p || p.size !== partBytes(session, session.size, n)) missing.push(n);
    }
    if (missing.length) {
      const shown = missing.slice(0, 20).join(', ') + (missing.length > 20 ? ', …' : '');
      throw new AppError('missing_parts', `Parts not yet stored: ${shown}`);
    }
    try {
      await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: session.key,
          UploadId: session.s3UploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
    } catch (err) {
      if (!(await this.sourceComplete(session))) throw err;
    }
  }

  /** Records that the upload is assembled and its job queued: later requests change nothing. */
  async markCompleted(session: UploadSession): Promise<void> {
    await this.save({ ...session, state: 'completed' });
  }

  /** Aborts the S3 multipart upload and forgets the part records. */
  async abort(session: UploadSession): Promise<void> {
    await this.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: session.key, UploadId: session.s3UploadId }))
      .catch((err) => {
        if (!isNotFound(err) && (err as { name?: string }).name !== 'NoSuchUpload') throw err;
      });
    const parts = await this.parts(session.uploadId);
    for (let i = 0; i < parts.length; i += 1000) {
      await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: parts.slice(i, i + 1000).map((p) => ({ Key: keys.part(session.uploadId, p.partNumber) })) },
        }),
      );
    }
    await this.save({ ...session, state: 'aborted' });
  }

  private async sourceComplete(session: UploadSession): Promise<boolean> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: session.key }));
      return head.ContentLength === session.size;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private async save(session: UploadSession): Promise<void> {
    await putJson(this.s3, this.bucket, keys.session(session.uploadId), session);
  }
}
