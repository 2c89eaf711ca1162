/**
 * Upload service: takes videos in, streams them into S3 and queues a
 * transcode job.
 *
 *   POST   /api/uploads                        {filename,size,contentType?} → 201 {uploadId,videoId,partSize,partCount}
 *   PUT    /api/uploads/:uploadId/parts/:n     multipart field "chunk"       → 200 {partNumber,etag,size}
 *   GET    /api/uploads/:uploadId              → {uploadId,videoId,partSize,partCount,size,filename,parts,state}
 *   POST   /api/uploads/:uploadId/complete     → 202 {videoId,status:"queued"}
 *   DELETE /api/uploads/:uploadId              → 204
 *   POST   /api/videos                         multipart field "file"        → 202 {videoId,status:"queued"}
 *
 * Every route needs `Authorization: Bearer <token>`.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { S3Client } from '@aws-sdk/client-s3';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import type { Logger } from 'pino';
import { z } from 'zod';
import { BadRequestError, NotFoundError, PayloadTooLargeError, errorMiddleware, notFoundHandler } from '../../shared/src/errors.js';
import { baseApp, logVideoId, requireOriginSecret } from '../../shared/src/http.js';
import { isId, newId } from '../../shared/src/ids.js';
import type { TranscodeJob } from '../../shared/src/job.js';
import { keys } from '../../shared/src/keys.js';
import { StatusStore } from '../../shared/src/status-store.js';
import { requireBearerToken } from '../../shared/src/auth.js';
import { S3StorageEngine, type StoredFileInfo } from './s3-storage-engine.js';
import { UploadSessions, type UploadSession } from './upload-sessions.js';

export interface UploadAppDeps {
  s3: S3Client;
  sqs: SQSClient;
  logger: Logger;
  uploadsBucket: string;
  mediaBucket: string;
  jobsQueueUrl: string;
  apiToken: string;
  /** Largest accepted upload, bytes. */
  maxUploadBytes: number;
  /** Preferred chunk size for chunked uploads, bytes (≥ 5 MiB). */
  partSize?: number;
  originVerifySecret?: string;
  now?: () => Date;
}

const createUploadBody = z.object({
  filename: z.string().trim().min(1).max(255),
  size: z.number().int().positive(),
  contentType: z.string().min(1).max(255).optional(),
});

/** Room for multipart/form-data boundaries and headers around the file, bytes. */
const FORM_OVERHEAD_BYTES = 64 * 1024;

export function createApp(deps: UploadAppDeps): Express {
  const now = deps.now ?? (() => new Date());
  const sessions = new UploadSessions(deps.s3, deps.uploadsBucket, now);
  const records = new StatusStore(deps.s3, deps.mediaBucket, now);
  const app = baseApp(deps.logger);
  app.use(requireOriginSecret(deps.originVerifySecret));
  const auth = requireBearerToken(deps.apiToken);

  const engine = new S3StorageEngine({
    s3: deps.s3,
    resolveTarget: async (_req, file) => {
      const res = _req.res as Response;
      const session = res.locals.session as UploadSession | undefined;
      if (session) {
        return {
          kind: 'part',
          bucket: deps.uploadsBucket,
          key: session.key,
          s3UploadId: session.s3UploadId,
          partNumber: res.locals.partNumber as number,
          expectedBytes: res.locals.expectedBytes as number,
        };
      }
      return {
        kind: 'object',
        bucket: deps.uploadsBucket,
        key: keys.source(res.locals.videoId as string),
        contentType: file.mimetype || 'application/octet-stream',
        metadata: { filename: encodeURIComponent(file.originalname) },
        maxBytes: deps.maxUploadBytes,
      };
    },
  });
  const chunkUpload = multer({ storage: engine, limits: { files: 1, fields: 10 } }).single('chunk');
  const fileUpload = multer({ storage: engine, limits: { files: 1, fields: 10, fileSize: deps.maxUploadBytes } }).single('file');

  async function sendJob(job: TranscodeJob): Promise<void> {
    await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.jobsQueueUrl, MessageBody: JSON.stringify(job) }));
  }

  /** Loads the session named in the path into res.locals.session. */
  async function loadSession(req: Request, res: Response, next: NextFunction) {
    const uploadId = String(req.params.uploadId);
    if (!isId(uploadId)) return next(new NotFoundError(`Upload ${uploadId} does not exist`, 'upload_not_found'));
    res.locals.session = await sessions.get(uploadId);
    logVideoId(req, res.locals.session.videoId, { uploadId });
    next();
  }

  function rejectOversize(req: Request, limit: number) {
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > limit + FORM_OVERHEAD_BYTES) throw new PayloadTooLargeError(`Request body is larger than the ${limit}-byte limit`);
  }

  app.post('/api/uploads', auth, express.json({ limit: '16kb' }), async (req, res) => {
    const parsed = createUploadBody.safeParse(req.body);
    if (!parsed.success) {
      throw new BadRequestError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), 'invalid_body');
    }
    const { filename, size, contentType } = parsed.data;
    if (size > deps.maxUploadBytes) throw new PayloadTooLargeError(`size ${size} exceeds the ${deps.maxUploadBytes}-byte limit`);
    const session = await sessions.create({ filename, size, contentType: contentType ?? 'application/octet-stream', partSize: deps.partSize });
    await records.create({ videoId: session.videoId, status: 'uploading', filename, sizeBytes: size });
    req.log.info({ videoId: session.videoId, uploadId: session.uploadId, size, partCount: session.partCount }, 'upload started');
    res.status(201).json({ uploadId: session.uploadId, videoId: session.videoId, partSize: session.partSize, partCount: session.partCount });
  });

  app.get('/api/uploads/:uploadId', auth, loadSession, async (_req, res) => {
    const s = res.locals.session as UploadSession;
    const parts = s.state === 'uploading' ? await sessions.parts(s.uploadId) : [];
    res.json({
      uploadId: s.uploadId,
      videoId: s.videoId,
      filename: s.filename,
      size: s.size,
      partSize: s.partSize,
      partCount: s.partCount,
      parts,
      state: s.state,
    });
  });

  app.put(
    '/api/uploads/:uploadId/parts/:partNumber',
    auth,
    loadSession,
    (req, res, next) => {
      const s = res.locals.session as UploadSession;
      sessions.assertOpen(s);
      const partNumber = Number(req.params.partNumber);
      res.locals.partNumber = partNumber;
      res.locals.expectedBytes = sessions.expectedPartBytes(s, partNumber);
      rejectOversize(req, res.locals.expectedBytes);
      next();
    },
    chunkUpload,
    async (req, res) => {
      const file = req.file as unknown as StoredFileInfo | undefined;
      if (!file) throw new BadRequestError('Send the part as a multipart/form-data file field named "chunk"', 'missing_chunk');
      const part = { partNumber: res.locals.partNumber as number, size: file.size, etag: file.etag };
      await sessions.recordPart((res.locals.session as UploadSession).uploadId, part);
      res.json(part);
    },
  );

  app.post('/api/uploads/:uploadId/complete', auth, loadSession, async (req, res) => {
    const s = res.locals.session as UploadSession;
    if (s.state === 'aborted') sessions.assertOpen(s);
    if (s.state === 'uploading') {
      await sessions.complete(s);
      // A retry after a crash between these steps repairs what is missing;
      // once the session is marked completed, repeats change nothing.
      const record = await records.get(s.videoId);
      if (!record) await records.create({ videoId: s.videoId, status: 'queued', filename: s.filename, sizeBytes: s.size });
      else if (record.status === 'uploading') await records.transition(s.videoId, 'queued');
      if (!record || record.status === 'uploading' || record.status === 'queued') {
        await sendJob({ type: 'transcode', videoId: s.videoId, sourceKey: s.key });
      }
      await sessions.markCompleted(s);
      req.log.info({ videoId: s.videoId }, 'upload complete, transcode queued');
    }
    res.status(202).json({ videoId: s.videoId, status: 'queued' });
  });

  app.delete('/api/uploads/:uploadId', auth, loadSession, async (req, res) => {
    const s = res.locals.session as UploadSession;
    if (s.state === 'completed') sessions.assertOpen(s);
    if (s.state === 'uploading') {
      await sessions.abort(s);
      await records.delete(s.videoId);
      req.log.info({ videoId: s.videoId }, 'upload aborted');
    }
    res.status(204).end();
  });

  app.post(
    '/api/videos',
    auth,
    (req, res, next) => {
      rejectOversize(req, deps.maxUploadBytes);
      res.locals.videoId = newId();
      logVideoId(req, res.locals.videoId);
      next();
    },
    fileUpload,
    async (req, res) => {
      const file = req.file as (Express.Multer.File & StoredFileInfo) | undefined;
      if (!file) throw new BadRequestError('Send the video as a multipart/form-data file field named "file"', 'missing_file');
      const videoId = res.locals.videoId as string;
      await records.create({ videoId, status: 'queued', filename: file.originalname, sizeBytes: file.size });
      await sendJob({ type: 'transcode', videoId, sourceKey: file.key });
      req.log.info({ videoId, size: file.size }, 'upload stored, transcode queued');
      res.status(202).json({ videoId, status: 'queued' });
    },
  );

  app.use(notFoundHandler);
  app.use(errorMiddleware(deps.logger));
  return app;
}
