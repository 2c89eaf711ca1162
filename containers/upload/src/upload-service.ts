/**
 * What the upload service does, apart from HTTP: chunked-upload sessions, the
 * video's status record and the transcode job, kept consistent with each
 * other. Routes (app.ts) only parse, authorise and answer; they call these.
 *
 * Ordering, so a crash at any point loses nothing and a retry repairs it:
 * a video's record is written before its job is sent, the job is sent before
 * the session is marked completed, and completing an already completed
 * session changes nothing.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  S3_USER_METADATA_MAX_BYTES,
  isMediaContentType,
  keys,
  newId,
  sourceMetadata,
  userMetadataBytes,
  type CreateUploadRequest,
  type CreatedUpload,
  type PartUploadUrl,
  type QueuedResponse,
  type StoredPart,
  type TranscodeJob,
  type UploadSessionInfo,
} from '@vod/contract';
import { AppError, StatusStore, isDeleted, sendTranscodeJob, type RecordChangeListener } from '@vod/service-kit';
import type { Logger } from 'pino';
import { partUrlSigningClient, presignPartUpload } from './part-upload-url.js';
import type { ObjectTarget, PartTarget } from './s3-storage-engine.js';
import { UploadSessions, type UploadSession } from './upload-sessions.js';

export interface UploadServiceDeps {
  s3: S3Client;
  sqs: SQSClient;
  uploadsBucket: string;
  mediaBucket: string;
  jobsQueueUrl: string;
  /** Largest accepted upload, bytes. */
  maxUploadBytes: number;
  /** Preferred part size for chunked uploads, bytes (≥ 5 MiB). */
  partSize?: number;
  /** Days an incomplete chunked upload lives: the uploads bucket's lifecycle rule (contract DEFAULT_UPLOAD_EXPIRY_DAYS). */
  uploadExpiryDays?: number;
  now?: () => Date;
  /** Told of every record change (the webhook events); none by default. */
  onRecordChange?: RecordChangeListener;
}

/** A part about to be stored: where it goes and the session it belongs to. */
export interface OpenPart {
  session: UploadSession;
  target: PartTarget;
}

export class UploadService {
  private readonly sessions: UploadSessions;
  private readonly records: StatusStore;
  private readonly now: () => Date;
  private readonly partUrlSigner: S3Client;

  constructor(private readonly deps: UploadServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.partUrlSigner = partUrlSigningClient(deps.s3);
    this.sessions = new UploadSessions(deps.s3, deps.uploadsBucket, this.now, deps.uploadExpiryDays);
    this.records = new StatusStore(deps.s3, deps.mediaBucket, this.now, deps.onRecordChange);
  }

  get maxUploadBytes(): number {
    return this.deps.maxUploadBytes;
  }

  /**
   * Starts a chunked upload: an S3 multipart upload, its session and the video's record (`uploading`).
   * @throws AppError `payload_too_large` over the size limit, `bad_content_type` for a
   * type other than `video/*` or `audio/*`, `filename_too_long` for a name over S3's metadata limit.
   */
  async start(req: CreateUploadRequest, log: Logger): Promise<CreatedUpload> {
    this.assertSize(req.size);
    if (req.contentType !== undefined) assertMediaType(req.contentType);
    assertMetadataFits(req.filename);
    const session = await this.sessions.create({
      filename: req.filename,
      size: req.size,
      contentType: req.contentType ?? UNKNOWN_TYPE,
      partSize: this.deps.partSize,
    });
    await this.records.create({ videoId: session.videoId, status: 'uploading', filename: req.filename, sizeBytes: req.size });
    log.info({ videoId: session.videoId, uploadId: session.uploadId, size: req.size, partCount: session.partCount }, 'upload started');
    return {
      uploadId: session.uploadId,
      videoId: session.videoId,
      partSize: session.partSize,
      partCount: session.partCount,
      expiresAt: session.expiresAt,
    };
  }

  /**
   * The session, unless it expired: an expired one is removed with its parts,
   * its S3 multipart upload and its `uploading` record.
   * @throws AppError `upload_not_found`, `upload_expired`.
   */
  async session(uploadId: string): Promise<UploadSession> {
    const session = await this.sessions.get(uploadId);
    if (!this.sessions.isExpired(session)) return session;
    throw await this.expire(session);
  }

  /**
   * Cleans up after sessions older than the expiry, whether or not anyone
   * asks for them again (an abandoned upload's record would otherwise say
   * `uploading` for ever): expired ones as `session()` does; completed and
   * aborted ones lose their session and part records (the video lives on in
   * its own record). Safe to run on several instances at once.
   * @returns how many sessions were removed.
   */
  async sweepExpired(log: Logger): Promise<number> {
    const cutoff = new Date(this.now().getTime() - this.sessions.days * 24 * 3600 * 1000);
    let removed = 0;
    for await (const ids of this.sessions.startedBefore(cutoff)) {
      for (const uploadId of ids) {
        const session = await this.sessions.get(uploadId).catch((err) => {
          if (err instanceof AppError) return undefined; // removed meanwhile (another instance, or a request)
          throw err;
        });
        if (!session) continue;
        if (session.state === 'uploading') {
          if (!this.sessions.isExpired(session)) continue; // created a moment after its id was made: the next sweep
          await this.expire(session);
        } else {
          await this.sessions.forget(session);
        }
        removed++;
        log.info({ uploadId, videoId: session.videoId, state: session.state }, 'expired upload session removed');
      }
    }
    return removed;
  }

  /** Removes an expired session, its parts, S3 upload and `uploading` record. @returns the error to answer with. */
  private async expire(session: UploadSession): Promise<AppError> {
    const record = await this.records.get(session.videoId);
    if (record?.status === 'uploading') await this.records.delete(session.videoId);
    return this.sessions.expire(session);
  }

  /** The session as clients see it, with the parts stored so far. */
  async describe(s: UploadSession): Promise<UploadSessionInfo> {
    const parts = s.state === 'uploading' ? await this.sessions.parts(s.uploadId) : [];
    return {
      uploadId: s.uploadId,
      videoId: s.videoId,
      filename: s.filename,
      size: s.size,
      partSize: s.partSize,
      partCount: s.partCount,
      parts,
      state: s.state,
      ...(s.state === 'uploading' ? { expiresAt: this.sessions.expiresAt(s).toISOString() } : {}),
    };
  }

  /**
   * Where part `partNumber` of an open session goes.
   * @throws AppError `upload_completed`/`upload_aborted`, `bad_part_number`.
   */
  openPart(session: UploadSession, partNumber: number): OpenPart {
    this.sessions.assertOpen(session);
    const expectedBytes = this.sessions.expectedPartBytes(session, partNumber);
    return {
      session,
      target: {
        kind: 'part',
        bucket: this.deps.uploadsBucket,
        key: session.key,
        s3UploadId: session.s3UploadId,
        partNumber,
        expectedBytes,
      },
    };
  }

  /**
   * A presigned URL the client PUTs the part's bytes to, straight to S3
   * (part-upload-url.ts); the client then reports the ETag (`recordPart`).
   */
  partUploadUrl(part: OpenPart): Promise<PartUploadUrl> {
    return presignPartUpload(this.partUrlSigner, part.target, this.now());
  }

  /**
   * Records a stored part so a resuming client (and `complete`) can see it.
   * The ETag is stored quoted, as S3 returns it; `complete` finds out if it
   * is not the one S3 holds.
   */
  async recordPart(session: UploadSession, part: StoredPart): Promise<StoredPart> {
    const stored = { ...part, etag: part.etag.startsWith('"') ? part.etag : `"${part.etag.replace(/"$/, '')}"` };
    await this.sessions.recordPart(session.uploadId, stored);
    return stored;
  }

  /**
   * Assembles the source, makes sure the record says `queued` and the job is
   * sent, then marks the session completed. Repeatable: a retry after a
   * crash between steps repairs what is missing; a completed session changes nothing.
   * A video deleted while it was uploading (`DELETE /api/videos/:id` leaves
   * a tombstone) is not brought back: its upload is aborted instead.
   * @throws AppError `missing_parts`, `upload_aborted`, `not_found` (the video was deleted).
   */
  async complete(s: UploadSession, log: Logger): Promise<QueuedResponse> {
    if (s.state === 'aborted') this.sessions.assertOpen(s);
    if (s.state === 'uploading' && (await this.deleted(s.videoId))) {
      await this.sessions.abort(s);
      log.info({ videoId: s.videoId, uploadId: s.uploadId }, 'video was deleted while uploading; upload aborted');
      throw new AppError('not_found', `Video ${s.videoId} was deleted; its upload is aborted`);
    }
    if (s.state === 'uploading') {
      await this.sessions.complete(s);
      const record = await this.records.get(s.videoId);
      if (!record) await this.records.create({ videoId: s.videoId, status: 'queued', filename: s.filename, sizeBytes: s.size });
      else if (record.status === 'uploading') await this.records.transition(s.videoId, 'queued');
      if (!record || record.status === 'uploading' || record.status === 'queued') {
        await this.sendJob({ type: 'transcode', videoId: s.videoId, sourceKey: s.key });
      }
      await this.sessions.markCompleted(s);
      log.info({ videoId: s.videoId }, 'upload complete, transcode queued');
    }
    return { videoId: s.videoId, status: 'queued' };
  }

  /** Aborts an open upload and forgets its record. @throws AppError `upload_completed`. */
  async abort(s: UploadSession, log: Logger): Promise<void> {
    if (s.state === 'completed') this.sessions.assertOpen(s);
    if (s.state === 'uploading') {
      await this.sessions.abort(s);
      await this.records.delete(s.videoId);
      log.info({ videoId: s.videoId }, 'upload aborted');
    }
  }

  /** The id of a video uploaded in one request (`POST /api/videos`). */
  newVideoId(): string {
    return newId(this.now().getTime());
  }

  /**
   * Where a one-request upload's file goes. The part's type is what the sender
   * guessed: `application/octet-stream` (curl's and FormData's "unknown") is
   * accepted as well as `video/*` and `audio/*`.
   * @throws AppError `bad_content_type`, `filename_too_long`.
   */
  videoTarget(videoId: string, file: { originalname: string; mimetype: string }): ObjectTarget {
    const contentType = file.mimetype || UNKNOWN_TYPE;
    if (contentType !== UNKNOWN_TYPE) assertMediaType(contentType);
    assertMetadataFits(file.originalname);
    return {
      kind: 'object',
      bucket: this.deps.uploadsBucket,
      key: keys.source(videoId),
      contentType,
      metadata: sourceMetadata(file.originalname),
      maxBytes: this.deps.maxUploadBytes,
    };
  }

  /** A one-request upload is stored: record it as `queued` and send its job. */
  async queueStoredVideo(videoId: string, file: { originalname: string; size: number; key: string }, log: Logger): Promise<QueuedResponse> {
    await this.records.create({ videoId, status: 'queued', filename: file.originalname, sizeBytes: file.size });
    await this.sendJob({ type: 'transcode', videoId, sourceKey: file.key });
    log.info({ videoId, size: file.size }, 'upload stored, transcode queued');
    return { videoId, status: 'queued' };
  }

  /** @throws AppError `payload_too_large` when `bytes` is over the limit. */
  assertSize(bytes: number): void {
    if (bytes > this.deps.maxUploadBytes) {
      throw new AppError('payload_too_large', `size ${bytes} exceeds the ${this.deps.maxUploadBytes}-byte limit`);
    }
  }

  /** Whether the video was deleted (its tombstone exists). */
  private deleted(videoId: string): Promise<boolean> {
    return isDeleted(this.deps.s3, this.deps.mediaBucket, videoId);
  }

  private sendJob(job: TranscodeJob): Promise<void> {
    return sendTranscodeJob(this.deps.sqs, this.deps.jobsQueueUrl, job);
  }
}

/** The content type of an upload whose client named none. */
const UNKNOWN_TYPE = 'application/octet-stream';

/** @throws AppError `bad_content_type` unless `type` is a `video/*` or `audio/*` type (contract isMediaContentType). */
function assertMediaType(type: string): void {
  if (!isMediaContentType(type)) {
    throw new AppError('bad_content_type', `contentType must be a video/* or audio/* media type of printable ASCII (got ${JSON.stringify(type)})`);
  }
}

/**
 * The filename is stored as S3 user metadata, which S3 limits to 2 KB of UTF-8
 * bytes (percent-encoded, a non-ASCII character takes 6–12 of them).
 * @throws AppError `filename_too_long` over the limit.
 */
function assertMetadataFits(filename: string): void {
  const bytes = userMetadataBytes(sourceMetadata(filename));
  if (bytes > S3_USER_METADATA_MAX_BYTES) {
    throw new AppError(
      'filename_too_long',
      `The filename takes ${bytes} bytes as S3 metadata (percent-encoded UTF-8); the limit is ${S3_USER_METADATA_MAX_BYTES} bytes. Rename the file to something shorter.`,
    );
  }
}
