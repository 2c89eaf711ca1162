/**
 * Upload service routes: parse, authorise, answer. What happens behind them
 * (sessions, records, the job queue) is `UploadService`; how bytes reach S3
 * is `S3StorageEngine`. Operations (contract `API`):
 *
 *   createUpload    POST   /api/uploads                      {filename,size,contentType?} → 201 {uploadId,videoId,partSize,partCount}
 *   partUploadUrl   POST   /api/uploads/:uploadId/parts/:n/url → 200 {url,method:"PUT",size,expiresAt}: a presigned
 *                                                             S3 UploadPart URL; the bytes go straight to S3
 *   recordPart      POST   /api/uploads/:uploadId/parts/:n   {etag} (S3's answer to that PUT) → 200 {partNumber,etag,size}
 *   putPart         PUT    /api/uploads/:uploadId/parts/:n   the part's bytes through this service: as the body
 *                                                             (application/octet-stream), or a multipart field "chunk"
 *                                                             → 200 {partNumber,etag,size}
 *   getUpload       GET    /api/uploads/:uploadId            → {uploadId,videoId,filename,size,partSize,partCount,parts,state}
 *   completeUpload  POST   /api/uploads/:uploadId/complete   → 202 {videoId,status:"queued"}
 *   abortUpload     DELETE /api/uploads/:uploadId            → 204
 *   createVideo     POST   /api/videos                       multipart field "file"       → 202 {videoId,status:"queued"}
 *
 * Every route needs `Authorization: Bearer <token>`.
 */
import { API, UPLOAD_FIELDS, createUploadRequestSchema, isId, parsePartNumber, recordPartRequestSchema } from '@vod/contract';
import {
  AppError,
  baseApp,
  errorMiddleware,
  logVideoId,
  notFoundHandler,
  requireBearerToken,
  requireOriginSecret,
  type RecordChangeListener,
  type ServiceAws,
} from '@vod/service-kit';
import express, { type Express, type Request, type RequestHandler } from 'express';
import multer from 'multer';
import type { Logger } from 'pino';
import { S3StorageEngine, type StorageTarget, type StoredFileInfo } from './s3-storage-engine.js';
import { UploadService, type OpenPart } from './upload-service.js';
import type { UploadSession } from './upload-sessions.js';

export interface UploadAppDeps extends ServiceAws {
  logger: Logger;
  jobsQueueUrl: string;
  apiToken: string;
  /** Largest accepted upload, bytes. */
  maxUploadBytes: number;
  /** Preferred chunk size for chunked uploads, bytes (≥ 5 MiB). */
  partSize?: number;
  /** Days an incomplete chunked upload lives (the uploads bucket's lifecycle rule); default contract DEFAULT_UPLOAD_EXPIRY_DAYS. */
  uploadExpiryDays?: number;
  originVerifySecret?: string;
  now?: () => Date;
  /** Told of every record change (the webhook events, `videoEventsFromEnv`). */
  onRecordChange?: RecordChangeListener;
}

/** Room for multipart/form-data boundaries and headers around the file, bytes. */
const FORM_OVERHEAD_BYTES = 64 * 1024;

/** What a request to an upload route has resolved before its body is read. */
type UploadRequestState =
  | { kind: 'session'; session: UploadSession }
  | { kind: 'part'; part: OpenPart }
  | { kind: 'video'; videoId: string };

export function createApp(deps: UploadAppDeps): Express {
  const uploads = new UploadService(deps);
  const state = new WeakMap<Request, UploadRequestState>();
  const sessionOf = (req: Request): UploadSession => {
    const s = state.get(req);
    if (s?.kind === 'session') return s.session;
    if (s?.kind === 'part') return s.part.session;
    throw new Error('route has no loaded session');
  };

  const app = baseApp(deps.logger);
  app.use(requireOriginSecret(deps.originVerifySecret));
  const auth = requireBearerToken(deps.apiToken);

  const engine = new S3StorageEngine({
    s3: deps.s3,
    resolveTarget: async (req, file): Promise<StorageTarget> => {
      const s = state.get(req);
      if (s?.kind === 'part') return s.part.target;
      if (s?.kind === 'video') return uploads.videoTarget(s.videoId, file);
      throw new Error('upload route has no target');
    },
  });
  // Browsers and curl send the part's filename as raw UTF-8 (WHATWG HTML, "multipart/form-data
  // encoding algorithm"); busboy's default would read it as latin1 and store mojibake.
  const formOptions = { storage: engine, defParamCharset: 'utf8' } as const;
  const partUpload = multer({ ...formOptions, limits: { files: 1, fields: 10 } }).single(UPLOAD_FIELDS.part);
  const fileUpload = multer({ ...formOptions, limits: { files: 1, fields: 10, fileSize: deps.maxUploadBytes } }).single(UPLOAD_FIELDS.file);

  /** Loads the session named in the path (unknown or malformed ids are 404). */
  const loadSession: RequestHandler = async (req, _res, next) => {
    const uploadId = String(req.params.uploadId);
    if (!isId(uploadId)) throw new AppError('upload_not_found', `Upload ${uploadId} does not exist`);
    const session = await uploads.session(uploadId);
    state.set(req, { kind: 'session', session });
    logVideoId(req, session.videoId, { uploadId });
    next();
  };

  /** Refuses a body whose declared length is already over `limit` bytes, before reading it. */
  const rejectOversize = (req: Request, limit: number) => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > limit + FORM_OVERHEAD_BYTES) throw new AppError('payload_too_large', `Request body is larger than the ${limit}-byte limit`);
  };

  app.post(API.createUpload.path, auth, express.json({ limit: '16kb' }), async (req, res) => {
    const parsed = createUploadRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      throw new AppError('invalid_body', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    }
    res.status(201).json(await uploads.start(parsed.data, req.log));
  });

  app.get(API.getUpload.path, auth, loadSession, async (req, res) => {
    res.json(await uploads.describe(sessionOf(req)));
  });

  /** Opens the part named in the path of a loaded session. */
  const openPart: RequestHandler = (req, _res, next) => {
    const text = String(req.params.partNumber);
    const partNumber = parsePartNumber(text);
    if (partNumber === undefined) throw new AppError('bad_part_number', `partNumber must be a whole number 1..10000 in plain decimal (got ${JSON.stringify(text)})`);
    state.set(req, { kind: 'part', part: uploads.openPart(sessionOf(req), partNumber) });
    next();
  };
  const partOf = (req: Request): OpenPart => (state.get(req) as { kind: 'part'; part: OpenPart }).part;

  app.post(API.partUploadUrl.path, auth, loadSession, openPart, async (req, res) => {
    res.json(await uploads.partUploadUrl(partOf(req)));
  });

  app.post(API.recordPart.path, auth, express.json({ limit: '4kb' }), loadSession, openPart, async (req, res) => {
    const parsed = recordPartRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      throw new AppError('invalid_body', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    }
    const { session, target } = partOf(req);
    // The size is the part's: the URL it was sent to signs that exact Content-Length.
    res.json(await uploads.recordPart(session, { partNumber: target.partNumber, size: target.expectedBytes, etag: parsed.data.etag }));
  });

  app.put(
    API.putPart.path,
    auth,
    loadSession,
    openPart,
    (req, _res, next) => {
      rejectOversize(req, partOf(req).target.expectedBytes);
      next();
    },
    // A raw body (any type but multipart) is the part itself, streamed to S3
    // as it arrives: no multipart parsing (curl and clients that cannot reach
    // S3 send this; @vod/client sends parts to their part upload URLs).
    async (req, res, next) => {
      if (req.is('multipart/form-data')) return next();
      const { session, target } = partOf(req);
      const file = await engine.storePartStream(req, target);
      res.json(await uploads.recordPart(session, { partNumber: target.partNumber, size: file.size, etag: file.etag }));
    },
    partUpload,
    async (req, res) => {
      const file = req.file as unknown as StoredFileInfo | undefined;
      if (!file) throw new AppError('missing_chunk', `Send the part as a multipart/form-data file field named "${UPLOAD_FIELDS.part}"`);
      const { session, target } = partOf(req);
      res.json(await uploads.recordPart(session, { partNumber: target.partNumber, size: file.size, etag: file.etag }));
    },
  );

  app.post(API.completeUpload.path, auth, loadSession, async (req, res) => {
    res.status(202).json(await uploads.complete(sessionOf(req), req.log));
  });

  app.delete(API.abortUpload.path, auth, loadSession, async (req, res) => {
    await uploads.abort(sessionOf(req), req.log);
    res.status(204).end();
  });

  app.post(
    API.createVideo.path,
    auth,
    (req, _res, next) => {
      rejectOversize(req, uploads.maxUploadBytes);
      const videoId = uploads.newVideoId();
      state.set(req, { kind: 'video', videoId });
      logVideoId(req, videoId);
      next();
    },
    fileUpload,
    async (req, res) => {
      const file = req.file as (Express.Multer.File & StoredFileInfo) | undefined;
      if (!file) throw new AppError('missing_file', `Send the video as a multipart/form-data file field named "${UPLOAD_FIELDS.file}"`);
      const { videoId } = state.get(req) as { kind: 'video'; videoId: string };
      res.status(202).json(await uploads.queueStoredVideo(videoId, file, req.log));
    },
  );

  app.use(notFoundHandler);
  app.use(errorMiddleware(deps.logger));
  return app;
}
