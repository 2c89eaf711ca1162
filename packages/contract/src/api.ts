/**
 * The HTTP API: every operation's method and path template, and the schemas
 * of its bodies. Services register their Express routes from these templates,
 * clients build their URLs from the same templates (`apiPath`), and the
 * routing table (routes.ts) decides which service answers which path.
 *
 * Every `/api/*` operation needs `Authorization: Bearer <token>`; errors are
 * `{ error: { code, message } }` with the codes of errors.ts.
 */
import { z } from 'zod';
import { idSchema } from './ids.js';
import { videoRecordSchema } from './video.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export interface Operation {
  method: HttpMethod;
  /** Express-style template: `:name` is one path segment. */
  path: string;
}

export const API = {
  createUpload: { method: 'POST', path: '/api/uploads' },
  getUpload: { method: 'GET', path: '/api/uploads/:uploadId' },
  putPart: { method: 'PUT', path: '/api/uploads/:uploadId/parts/:partNumber' },
  completeUpload: { method: 'POST', path: '/api/uploads/:uploadId/complete' },
  abortUpload: { method: 'DELETE', path: '/api/uploads/:uploadId' },
  createVideo: { method: 'POST', path: '/api/videos' },
  listVideos: { method: 'GET', path: '/api/videos' },
  getVideo: { method: 'GET', path: '/api/videos/:videoId' },
  getPlayback: { method: 'GET', path: '/api/videos/:videoId/playback' },
  getSource: { method: 'GET', path: '/api/videos/:videoId/source' },
  getDownload: { method: 'GET', path: '/api/videos/:videoId/download' },
} as const satisfies Record<string, Operation>;

export type OperationName = keyof typeof API;

/**
 * Fills a path template: `apiPath(API.putPart, { uploadId: 'ab…', partNumber: 3 })`
 * → `/api/uploads/ab…/parts/3`. Values are percent-encoded.
 * @throws Error when a parameter of the template is missing.
 */
export function apiPath(op: Operation, params: Record<string, string | number> = {}): string {
  return op.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`Missing path parameter "${name}" for ${op.path}`);
    return encodeURIComponent(String(value));
  });
}

/** Multipart/form-data file fields of the upload operations. */
export const UPLOAD_FIELDS = {
  /** `PUT …/parts/:partNumber`: the part's bytes. */
  part: 'chunk',
  /** `POST /api/videos`: the whole file. */
  file: 'file',
} as const;

// --- chunked uploads -------------------------------------------------------

export const createUploadRequestSchema = z.object({
  /** The file's name on the client; metadata only. */
  filename: z.string().trim().min(1).max(255),
  /** Bytes. */
  size: z.number().int().positive(),
  contentType: z.string().min(1).max(255).optional(),
});
export type CreateUploadRequest = z.infer<typeof createUploadRequestSchema>;

export const createUploadResponseSchema = z.object({
  uploadId: idSchema,
  videoId: idSchema,
  /** Bytes in every part but the last. Part n covers [(n−1)·partSize, min(n·partSize, size)). */
  partSize: z.number().int().positive(),
  partCount: z.number().int().positive(),
});
export type CreatedUpload = z.infer<typeof createUploadResponseSchema>;

export const storedPartSchema = z.object({
  partNumber: z.number().int().positive(),
  /** Bytes. */
  size: z.number().int().min(0),
  /** S3's ETag of the part, quoted as S3 returns it. */
  etag: z.string(),
});
export type StoredPart = z.infer<typeof storedPartSchema>;

export const UPLOAD_STATES = ['uploading', 'completed', 'aborted'] as const;
export type UploadState = (typeof UPLOAD_STATES)[number];

export const uploadSessionInfoSchema = z.object({
  uploadId: idSchema,
  videoId: idSchema,
  filename: z.string(),
  /** Bytes. */
  size: z.number().int().positive(),
  partSize: z.number().int().positive(),
  partCount: z.number().int().positive(),
  /** Parts stored so far, by part number (empty once completed or aborted). */
  parts: z.array(storedPartSchema),
  state: z.enum(UPLOAD_STATES),
});
export type UploadSessionInfo = z.infer<typeof uploadSessionInfoSchema>;

/** `POST …/complete` and `POST /api/videos`: the transcode is queued. */
export const queuedResponseSchema = z.object({
  videoId: idSchema,
  status: z.literal('queued'),
});
export type QueuedResponse = z.infer<typeof queuedResponseSchema>;

// --- videos ------------------------------------------------------------------

export const listVideosResponseSchema = z.object({ videos: z.array(videoRecordSchema) });
export type ListVideosResponse = z.infer<typeof listVideosResponseSchema>;

export const playbackResponseSchema = z.object({
  /** Signed URL of the multivariant playlist. */
  url: z.string().url(),
  /** ISO 8601; the signature stops working then. */
  expiresAt: z.string(),
});
export type PlaybackInfo = z.infer<typeof playbackResponseSchema>;

/** `GET /api/videos/:id/download`: a signed URL of the MP4 download (served with `Content-Disposition: attachment`). */
export const downloadResponseSchema = playbackResponseSchema;
export type DownloadInfo = z.infer<typeof downloadResponseSchema>;
