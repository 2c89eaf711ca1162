/**
 * Chunked, resumable uploads: a session per upload, kept in the uploads bucket
 * (`sessions/{uploadId}.json`) with one small record per stored part
 * (`sessions/{uploadId}/parts/{n}.json`), so any upload-service instance can
 * serve any chunk, and a client can resume after a crash by asking which parts
 * are stored. (S3's ListParts would also do, but records keep the service
 * stateless across S3-compatible stores that lack it.)
 *
 * A session lives as long as its S3 multipart upload: the uploads bucket's
 * lifecycle rule aborts incomplete uploads `expiryDays` after they start
 * (contract `uploads.ts`), and the session expires at that moment too
 * ({@link UploadSessions.expire} removes it and what it left behind).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  DEFAULT_UPLOAD_EXPIRY_DAYS,
  PREFIX,
  idCreatedAt,
  isId,
  keys,
  newId,
  sourceMetadata,
  uploadExpiresAt,
  type StoredPart,
  type UploadState,
} from '@vod/contract';
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
  /** ISO 8601: when the session (and its S3 multipart upload) expires. Absent in sessions made before it was stored. */
  expiresAt?: string;
}

export class UploadSessions {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly now: () => Date = () => new Date(),
    /** Days a session lives: the uploads bucket's lifecycle rule for incomplete multipart uploads. */
    private readonly expiryDays: number = DEFAULT_UPLOAD_EXPIRY_DAYS,
  ) {}

  /** Starts an S3 multipart upload and records the session. */
  async create(input: { filename: string; size: number; contentType: string; partSize?: number }): Promise<UploadSession> {
    const plan = planParts(input.size, input.partSize);
    // Taken before S3 initiates the upload, so the session expires no later than S3 aborts it.
    const startedAt = this.now();
    const videoId = newId(startedAt.getTime());
    const key = keys.source(videoId);
    const out = await this.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        ContentType: input.contentType,
        Metadata: sourceMetadata(input.filename),
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
      expiresAt: uploadExpiresAt(startedAt, this.expiryDays).toISOString(),
    };
    await this.save(session);
    return session;
  }

  /**
   * @throws AppError `upload_expired` for an id too old to be alive (its session
   * expired and was removed), `upload_not_found` for any other unknown id.
   */
  async get(uploadId: string): Promise<UploadSession> {
    const session = await getJson<UploadSession>(this.s3, this.bucket, keys.session(uploadId));
    if (!session) {
      // Ids carry their creation time (contract ids.ts): one older than the expiry cannot be open any more.
      if (uploadExpiresAt(idCreatedAt(uploadId), this.expiryDays) <= this.now()) throw expiredError(uploadId);
      throw new AppError('upload_not_found', `Upload ${uploadId} does not exist`);
    }
    return session;
  }

  /**
   * Ids of sessions started before `cutoff`, oldest last, a page at a time.
   * Ids begin with their inverted creation time (contract ids.ts), so S3's
   * ascending listing starting just after the cutoff's time prefix holds only
   * older sessions, however many newer ones there are.
   */
  async *startedBefore(cutoff: Date): AsyncGenerator<string[]> {
    const timePrefix = newId(cutoff.getTime()).slice(0, 11);
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: PREFIX.sessions,
          Delimiter: '/',
          // '~' sorts after every hex digit: skips every id made at or after the cutoff's millisecond.
          StartAfter: token ? undefined : `${PREFIX.sessions}${timePrefix}~`,
          ContinuationToken: token,
        }),
      );
      const ids = (page.Contents ?? [])
        .map((o) => o.Key?.slice(PREFIX.sessions.length, -'.json'.length))
        .filter((id): id is string => isId(id));
      if (ids.length) yield ids;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * Forgets a finished (completed or aborted) session: its part records, then
   * the session. Requests for it then answer `upload_expired` (its id is older
   * than the expiry).
   */
  async forget(session: UploadSession): Promise<void> {
    await this.deletePartRecords(session.uploadId);
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: keys.session(session.uploadId) }));
  }

  /** Days a session lives. */
  get days(): number {
    return this.expiryDays;
  }

  /**
   * When `session` expires: the expiry it was given, or sooner if the expiry
   * days were lowered since (the lifecycle rule applies to uploads already open).
   */
  expiresAt(session: UploadSession): Date {
    const byDays = uploadExpiresAt(new Date(session.createdAt), this.expiryDays);
    const stored = session.expiresAt ? new Date(session.expiresAt) : byDays;
    return stored < byDays ? stored : byDays;
  }

  /** True for a session still uploading at or after its expiry. Completed and aborted sessions never expire. */
  isExpired(session: UploadSession): boolean {
    return session.state === 'uploading' && this.expiresAt(session) <= this.now();
  }

  /**
   * Removes an expired session and what it left: aborts the S3 multipart
   * upload if S3 has not yet, deletes the part records, then the session.
   * Repeatable; concurrent calls are harmless.
   * @returns the error to answer with (`upload_expired`).
   */
  async expire(session: UploadSession): Promise<AppError> {
    await this.abortS3Upload(session);
    await this.deletePartRecords(session.uploadId);
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: keys.session(session.uploadId) }));
    return expiredError(session.uploadId);
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
   * @throws AppError `missing_parts` listing missing or wrong-sized parts, or
   * naming none when S3 refused a recorded ETag (`InvalidPart`): then every
   * part record is dropped, and the client sends every part again.
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
      if (await this.sourceComplete(session)) return;
      if ((err as { name?: string }).name === 'InvalidPart') {
        // A part recorded with an ETag S3 does not hold (a client reported a wrong one):
        // S3 does not say which, so no record can be trusted and none is kept.
        await this.deletePartRecords(session.uploadId);
        throw new AppError('missing_parts', 'Storage does not hold the parts as recorded (an ETag does not match); send every part again');
      }
      throw err;
    }
  }

  /** Records that the upload is assembled and its job queued: later requests change nothing. */
  async markCompleted(session: UploadSession): Promise<void> {
    await this.save({ ...session, state: 'completed' });
  }

  /** Aborts the S3 multipart upload and forgets the part records. */
  async abort(session: UploadSession): Promise<void> {
    await this.abortS3Upload(session);
    await this.deletePartRecords(session.uploadId);
    await this.save({ ...session, state: 'aborted' });
  }

  /** Aborts the S3 multipart upload; one S3 already aborted (or completed) is fine. */
  private async abortS3Upload(session: UploadSession): Promise<void> {
    await this.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: session.key, UploadId: session.s3UploadId }))
      .catch((err) => {
        if (!isNotFound(err) && (err as { name?: string }).name !== 'NoSuchUpload') throw err;
      });
  }

  private async deletePartRecords(uploadId: string): Promise<void> {
    const parts = await this.parts(uploadId);
    for (let i = 0; i < parts.length; i += 1000) {
      await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: parts.slice(i, i + 1000).map((p) => ({ Key: keys.part(uploadId, p.partNumber) })) },
        }),
      );
    }
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

function expiredError(uploadId: string): AppError {
  return new AppError('upload_expired', `Upload ${uploadId} has expired (chunked uploads are kept for a limited number of days); start a new upload`);
}
