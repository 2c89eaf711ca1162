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
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  keys,
  newId,
  type CreateUploadRequest,
  type CreatedUpload,
  type QueuedResponse,
  type StoredPart,
  type TranscodeJob,
  type UploadSessionInfo,
} from '@vod/contract';
import { AppError, StatusStore, type RecordChangeListener } from '@vod/service-kit';
import type { Logger } from 'pino';
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

  constructor(private readonly deps: UploadServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.sessions = new UploadSessions(deps.s3, deps.uploadsBucket, this.now);
    this.records = new StatusStore(deps.s3, deps.mediaBucket, this.now, deps.onRecordChange);
  }

  get maxUploadBytes(): number {
    return this.deps.maxUploadBytes;
  }

  /**
   * Starts a chunked upload: an S3 multipart upload, its session and the video's record (`uploading`).
   * @throws AppError `payload_too_large` over the size limit.
   */
  async start(req: CreateUploadRequest, log: Logger): Promise<CreatedUpload> {
    this.assertSize(req.size);
    const session = await this.sessions.create({
      filename: req.filename,
      size: req.size,
      contentType: req.contentType ?? 'application/octet-stream',
      partSize: this.deps.partSize,
    });
    await this.records.create({ videoId: session.videoId, status: 'uploading', filename: req.filename, sizeBytes: req.size });
    log.info({ videoId: session.videoId, uploadId: session.uploadId, size: req.size, partCount: session.partCount }, 'upload started');
    return { uploadId: session.uploadId, videoId: session.videoId, partSize: session.partSize, partCount: session.partCount };
  }

  /** @throws AppError `upload_not_found`. */
  session(uploadId: string): Promise<UploadSession> {
    return this.sessions.get(uploadId);
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

  /** Records a stored part so a resuming client (and `complete`) can see it. */
  async recordPart(session: UploadSession, part: StoredPart): Promise<StoredPart> {
    await this.sessions.recordPart(session.uploadId, part);
    return part;
  }

  /**
   * Assembles the source, makes sure the record says `queued` and the job is
   * sent, then marks the session completed. Repeatable: a retry after a
   * crash between steps repairs what is missing; a completed session changes nothing.
   * @throws AppError `missing_parts`, `upload_aborted`.
   */
  async complete(s: UploadSession, log: Logger): Promise<QueuedResponse> {
    if (s.state === 'aborted') this.sessions.assertOpen(s);
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

  /** Where a one-request upload's file goes. */
  videoTarget(videoId: string, file: { originalname: string; mimetype: string }): ObjectTarget {
    return {
      kind: 'object',
      bucket: this.deps.uploadsBucket,
      key: keys.source(videoId),
      contentType: file.mimetype || 'application/octet-stream',
      metadata: { filename: encodeURIComponent(file.originalname) },
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

  private async sendJob(job: TranscodeJob): Promise<void> {
    await this.deps.sqs.send(new SendMessageCommand({ QueueUrl: this.deps.jobsQueueUrl, MessageBody: JSON.stringify(job) }));
  }
}
