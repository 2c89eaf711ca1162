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
import { VIDEO_TEXT_LIMITS, videoRecordSchema, videoStatusSchema } from './video.js';

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
  /** Where to PUT a part straight to storage (a presigned S3 UploadPart URL); uploads.ts. */
  partUploadUrl: { method: 'POST', path: '/api/uploads/:uploadId/parts/:partNumber/url' },
  /** Records a part stored through its part upload URL, by the ETag storage answered with. */
  recordPart: { method: 'POST', path: '/api/uploads/:uploadId/parts/:partNumber' },
  completeUpload: { method: 'POST', path: '/api/uploads/:uploadId/complete' },
  abortUpload: { method: 'DELETE', path: '/api/uploads/:uploadId' },
  createVideo: { method: 'POST', path: '/api/videos' },
  listVideos: { method: 'GET', path: '/api/videos' },
  getVideo: { method: 'GET', path: '/api/videos/:videoId' },
  getPlayback: { method: 'GET', path: '/api/videos/:videoId/playback' },
  getSource: { method: 'GET', path: '/api/videos/:videoId/source' },
  updateVideo: { method: 'PATCH', path: '/api/videos/:videoId' },
  deleteVideo: { method: 'DELETE', path: '/api/videos/:videoId' },
  retryVideo: { method: 'POST', path: '/api/videos/:videoId/retry' },
  redriveJobs: { method: 'POST', path: '/api/jobs/redrive' },
  /** The OpenAPI 3.1 document (openapi.ts); needs no token. */
  getOpenApi: { method: 'GET', path: '/api/openapi.json' },
  getDownload: { method: 'GET', path: '/api/videos/:videoId/download' },
  /** 302 to a signed URL of a JPEG frame at `?time=` (seconds), `?width=` pixels wide, made on demand and cached. */
  getThumbnail: { method: 'GET', path: '/api/videos/:videoId/thumbnail' },
  /** Captions: a WebVTT/SRT file (multipart) becomes a SUBTITLES rendition of the video (captions.ts). */
  addCaptions: { method: 'POST', path: '/api/videos/:videoId/captions' },
  listCaptions: { method: 'GET', path: '/api/videos/:videoId/captions' },
  deleteCaptions: { method: 'DELETE', path: '/api/videos/:videoId/captions/:language' },
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
  /** ISO 8601: after this the upload is gone (`410 upload_expired`); uploads.ts. */
  expiresAt: z.string().optional(),
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

/**
 * An S3 ETag as a client reports it (`POST …/parts/:partNumber`): printable
 * ASCII without spaces or inner quotes, quoted or not (S3's header is quoted:
 * RFC 9110 §8.8.3 entity-tag). Stored quoted.
 */
export const etagSchema = z.string().regex(/^"?[!#-~]{1,128}"?$/, 'an ETag as storage returned it');

/** `POST …/parts/:partNumber/url`: where and how to send part `partNumber`. */
export const partUploadUrlSchema = z.object({
  /** A presigned S3 UploadPart URL: PUT the part's bytes to it, with no Authorization header. */
  url: z.string(),
  method: z.literal('PUT'),
  /** Bytes the body must have exactly: the URL's signature covers Content-Length. */
  size: z.number().int().min(0),
  /** ISO 8601: the URL works until then (uploads.ts PART_URL_TTL_SECONDS); ask again for a retry after it. */
  expiresAt: z.string(),
});
export type PartUploadUrl = z.infer<typeof partUploadUrlSchema>;

/** `POST …/parts/:partNumber`: the ETag storage answered the part's PUT with (its `ETag` header). */
export const recordPartRequestSchema = z.strictObject({ etag: etagSchema });
export type RecordPartRequest = z.infer<typeof recordPartRequestSchema>;

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
  /** ISO 8601: when an incomplete upload expires (`410 upload_expired`); uploads.ts. */
  expiresAt: z.string().optional(),
});
export type UploadSessionInfo = z.infer<typeof uploadSessionInfoSchema>;

/** `POST …/complete` and `POST /api/videos`: the transcode is queued. */
export const queuedResponseSchema = z.object({
  videoId: idSchema,
  status: z.literal('queued'),
});
export type QueuedResponse = z.infer<typeof queuedResponseSchema>;

// --- videos ------------------------------------------------------------------

/** Videos per page of `GET /api/videos`: `limit` defaults to 25, at most 100. */
export const LIST_LIMIT = { default: 25, max: 100 } as const;

/**
 * `GET /api/videos` query. Unknown parameters are ignored.
 * - `limit`: videos per page, 1–100 (default 25);
 * - `cursor`: the `nextCursor` of the previous page (opaque; anything else is 400 `invalid_cursor`);
 * - `status`: only videos in this state (e.g. `failed`).
 */
export const listVideosQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/, `limit must be a whole number from 1 to ${LIST_LIMIT.max}`)
    .transform(Number)
    .pipe(z.number().int().min(1, `limit must be at least 1`).max(LIST_LIMIT.max, `limit must be at most ${LIST_LIMIT.max}`))
    .default(LIST_LIMIT.default),
  cursor: z.string().min(1).max(2048).optional(),
  status: videoStatusSchema.optional(),
});
export type ListVideosQuery = z.input<typeof listVideosQuerySchema>;

/**
 * One page of videos, newest first. `nextCursor` is null on the last page. A
 * page can hold fewer than `limit` videos (even none) while `nextCursor` is
 * set — with a `status` filter, one request examines a bounded number of
 * videos — so page until `nextCursor` is null. Videos added meanwhile never
 * shift later pages (they sort before the cursor).
 */
export const listVideosResponseSchema = z.object({
  videos: z.array(videoRecordSchema),
  nextCursor: z.string().nullable(),
});
export type ListVideosResponse = z.infer<typeof listVideosResponseSchema>;

/** Control characters other than tab and newlines. */
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/**
 * `PATCH /api/videos/:id` body (RFC 7396 JSON merge patch semantics): a field
 * set to a string replaces it, `null` or `""` removes it, an absent field is
 * kept. Unknown fields are refused (400 `invalid_body`). Answer: the record.
 */
export const updateVideoRequestSchema = z.strictObject({
  title: z
    .string()
    .trim()
    .max(VIDEO_TEXT_LIMITS.title, `title must be at most ${VIDEO_TEXT_LIMITS.title} characters`)
    .refine((t) => !/[\r\n]/.test(t) && !CONTROL_CHARS.test(t), 'title must be one line without control characters')
    .nullable()
    .optional(),
  description: z
    .string()
    .max(VIDEO_TEXT_LIMITS.description, `description must be at most ${VIDEO_TEXT_LIMITS.description} characters`)
    .refine((t) => !CONTROL_CHARS.test(t), 'description must not contain control characters (tabs and newlines are fine)')
    .nullable()
    .optional(),
});
export type UpdateVideoRequest = z.input<typeof updateVideoRequestSchema>;

/** `POST /api/videos/:id/retry`: a new transcode run of the stored source is queued (202). */
export const retryResponseSchema = queuedResponseSchema.extend({
  /** The new run's number (2 for the first retry). */
  run: z.number().int().min(2),
});
export type RetryResponse = z.infer<typeof retryResponseSchema>;

/** `POST /api/jobs/redrive` body: how many dead-lettered jobs to move at most (default all, up to 10,000). */
export const redriveRequestSchema = z.strictObject({
  max: z.number().int().min(1).max(10_000).optional(),
});
export type RedriveRequest = z.infer<typeof redriveRequestSchema>;

/** `POST /api/jobs/redrive` answer: jobs moved from the dead-letter queue back to the jobs queue. */
export const redriveResponseSchema = z.object({ moved: z.number().int().min(0) });
export type RedriveResponse = z.infer<typeof redriveResponseSchema>;

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

// --- thumbnails ----------------------------------------------------------------

/**
 * `GET /api/videos/:id/thumbnail` bounds. `time` is rounded to the nearest
 * `stepSeconds` (so nearby requests share one cached image) and must lie in
 * [0, the video's duration]; `width` is whole pixels in [min, max] (default
 * `defaultWidth`); the height follows the picture's aspect ratio, rounded to
 * an even number of pixels.
 */
export const THUMBNAIL_LIMITS = { minWidth: 32, maxWidth: 1920, defaultWidth: 640, stepSeconds: 0.1 } as const;

/** `time` (seconds) rounded to the thumbnail time step, in whole milliseconds: 12.34 → 12300. Pure. */
export function thumbnailTimeMs(seconds: number): number {
  const stepMs = Math.round(THUMBNAIL_LIMITS.stepSeconds * 1000);
  return Math.round((seconds * 1000) / stepMs) * stepMs;
}

/**
 * `GET /api/videos/:id/thumbnail` query (anything else is 400 `invalid_query`):
 * - `time`: seconds from the start, a plain decimal (`12`, `12.5`; no sign,
 *   exponent or more than 3 decimals), at most the video's duration (checked
 *   against the record: 400 `invalid_query` beyond it);
 * - `width`: whole pixels, `THUMBNAIL_LIMITS.minWidth`–`maxWidth` (default `defaultWidth`).
 */
export const thumbnailQuerySchema = z.object({
  time: z
    .string({ error: 'time is required: seconds from the start, e.g. time=12.5' })
    .regex(/^[0-9]{1,6}(\.[0-9]{1,3})?$/, 'time must be a number of seconds from the start, e.g. 12.5')
    .meta({ description: `Seconds from the start, a plain decimal (e.g. 12.5), 0 to the duration; rounded to ${THUMBNAIL_LIMITS.stepSeconds} s.` })
    .transform(Number),
  width: z
    .string()
    .regex(/^[0-9]{1,4}$/, `width must be a whole number of pixels from ${THUMBNAIL_LIMITS.minWidth} to ${THUMBNAIL_LIMITS.maxWidth}`)
    .meta({ description: `Pixels, ${THUMBNAIL_LIMITS.minWidth}–${THUMBNAIL_LIMITS.maxWidth} (default ${THUMBNAIL_LIMITS.defaultWidth}); the height follows the picture's aspect ratio (even).` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(THUMBNAIL_LIMITS.minWidth, `width must be at least ${THUMBNAIL_LIMITS.minWidth}`)
        .max(THUMBNAIL_LIMITS.maxWidth, `width must be at most ${THUMBNAIL_LIMITS.maxWidth}`),
    )
    .default(THUMBNAIL_LIMITS.defaultWidth),
});
export type ThumbnailQuery = z.input<typeof thumbnailQuerySchema>;
