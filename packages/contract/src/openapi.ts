/**
 * The OpenAPI 3.1 document of the HTTP API, generated (zod-openapi) from the
 * same zod schemas that validate requests and type responses (api.ts,
 * video.ts, errors.ts, webhooks.ts) — never written by hand beside them.
 *
 * `API_DOCS` has one entry per operation of `API`, keyed by the same name
 * (TypeScript refuses an operation without one): a new route needs only its
 * entry here — summary, parameters, body, answers and error codes. Error
 * answers are derived from the codes (ERROR_STATUS), plus 401/403 on every
 * authenticated route and 500 on all.
 *
 * The document also lists the webhook events (OpenAPI 3.1 `webhooks`).
 *
 * Imported as `@vod/contract/openapi` (not re-exported by the package index,
 * so browser bundles do not carry zod-openapi).
 */
import { z } from 'zod';
import { createDocument, type ZodOpenApiObject, type ZodOpenApiOperationObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import {
  API,
  UPLOAD_FIELDS,
  createUploadRequestSchema,
  createUploadResponseSchema,
  downloadResponseSchema,
  listVideosQuerySchema,
  listVideosResponseSchema,
  playbackResponseSchema,
  redriveRequestSchema,
  redriveResponseSchema,
  retryResponseSchema,
  thumbnailQuerySchema,
  THUMBNAIL_LIMITS,
  updateVideoRequestSchema,
  queuedResponseSchema,
  storedPartSchema,
  partUploadUrlSchema,
  recordPartRequestSchema,
  uploadSessionInfoSchema,
  type OperationName,
} from './api.js';
import { CAPTION_FIELDS, CAPTION_LIMITS, captionTrackSchema, listCaptionsResponseSchema } from './captions.js';
import { ERROR_STATUS, errorBodySchema, type ErrorCode } from './errors.js';
import { idSchema } from './ids.js';
import { videoRecordSchema } from './video.js';
import { WEBHOOK_EVENT_TYPES, WEBHOOK_HEADERS, webhookEventSchema } from './webhooks.js';

/** The document's `info.version`: the API's version, not the package's. */
export const API_VERSION = '1.0.0';

/** One successful answer: JSON of a schema, bytes, or nothing (a redirect: no body, a `Location`). */
export interface SuccessDoc {
  description: string;
  /** A zod schema (JSON), `'bytes'` (any media type, e.g. the original upload) or absent (no body). */
  body?: z.ZodType | 'bytes';
  /** A redirect: the answer's `Location` header, described. */
  location?: string;
}

export interface OperationDoc {
  summary: string;
  description?: string;
  tag: 'uploads' | 'videos' | 'api';
  /** Answers without the API token (default: the token is required). */
  public?: true;
  /** Path parameters, by the template's `:name`. */
  path?: z.ZodObject;
  query?: z.ZodObject;
  body?: { json: z.ZodType } | { multipart: z.ZodObject };
  /** Successful answers by HTTP status. */
  ok: Record<number, SuccessDoc>;
  /** The error codes (errors.ts) this operation answers with, besides 401/403/500. */
  errors: ErrorCode[];
}

const videoIdParam = z.object({ videoId: idSchema.meta({ description: 'The video (20 lowercase hex characters).' }) });
const uploadIdParam = z.object({ uploadId: idSchema.meta({ description: 'The upload session (20 lowercase hex characters).' }) });
const partParam = uploadIdParam.extend({ partNumber: z.number().int().min(1).max(10_000).meta({ description: 'Part number, from 1.' }) });
const binaryFile = z.string().meta({ override: { type: 'string', contentMediaType: 'application/octet-stream' } });

export const API_DOCS: { [K in OperationName]: OperationDoc } = {
  createUpload: {
    summary: 'Start a chunked, resumable upload',
    description: 'Opens an upload session and the video record (`uploading`). Part n covers bytes [(n−1)·partSize, min(n·partSize, size)).',
    tag: 'uploads',
    body: { json: createUploadRequestSchema },
    ok: { 201: { description: 'The session, its part size and part count.', body: createUploadResponseSchema } },
    errors: ['invalid_json', 'invalid_body', 'payload_too_large', 'unsupported_media_type', 'bad_content_type', 'filename_too_long'],
  },
  getUpload: {
    summary: 'An upload session and the parts stored so far',
    tag: 'uploads',
    path: uploadIdParam,
    ok: { 200: { description: 'The session.', body: uploadSessionInfoSchema } },
    errors: ['upload_not_found', 'upload_expired'],
  },
  putPart: {
    summary: 'Store one part (idempotent)',
    description: `The part's exact bytes through the API, streamed to storage: as the body (any type but multipart), or as multipart/form-data in the file field \`${UPLOAD_FIELDS.part}\`. For clients that cannot reach storage themselves; \`POST …/parts/:partNumber/url\` is faster.`,
    tag: 'uploads',
    path: partParam,
    body: { multipart: z.object({ [UPLOAD_FIELDS.part]: binaryFile }) },
    ok: { 200: { description: 'The stored part.', body: storedPartSchema } },
    errors: ['upload_not_found', 'upload_expired', 'bad_part_number', 'wrong_part_size', 'missing_chunk', 'upload_completed', 'upload_aborted', 'payload_too_large', 'bad_upload'],
  },
  partUploadUrl: {
    summary: 'Where to send one part straight to storage',
    description:
      'A presigned S3 UploadPart URL for part n. PUT exactly `size` bytes to it (no Authorization header), read the answer\'s `ETag` header, and record the part with `POST …/parts/:partNumber`. The bytes never pass through the API: this is the fast path (the web app and CLI use it). Ask again for a retry once `expiresAt` has passed.',
    tag: 'uploads',
    path: partParam,
    ok: { 200: { description: 'The part upload URL.', body: partUploadUrlSchema } },
    errors: ['upload_not_found', 'upload_expired', 'bad_part_number', 'upload_completed', 'upload_aborted'],
  },
  recordPart: {
    summary: 'Record a part sent through its part upload URL (idempotent)',
    description: 'The part counts as stored (resume sees it, complete uses it) once recorded with the ETag storage answered its PUT with. A wrong ETag makes complete answer `missing_parts`, and every part must then be sent again.',
    tag: 'uploads',
    path: partParam,
    body: { json: recordPartRequestSchema },
    ok: { 200: { description: 'The recorded part.', body: storedPartSchema } },
    errors: ['upload_not_found', 'upload_expired', 'bad_part_number', 'upload_completed', 'upload_aborted', 'invalid_json', 'invalid_body', 'unsupported_media_type'],
  },
  completeUpload: {
    summary: 'Assemble the parts and queue the transcode',
    tag: 'uploads',
    path: uploadIdParam,
    ok: { 202: { description: 'The transcode is queued.', body: queuedResponseSchema } },
    errors: ['upload_not_found', 'upload_expired', 'missing_parts', 'upload_aborted'],
  },
  abortUpload: {
    summary: 'Abandon an upload and its video',
    tag: 'uploads',
    path: uploadIdParam,
    ok: { 204: { description: 'Aborted.' } },
    errors: ['upload_not_found', 'upload_expired', 'upload_completed'],
  },
  createVideo: {
    summary: 'Upload a whole file in one request',
    description: `multipart/form-data with the file in the field \`${UPLOAD_FIELDS.file}\`.`,
    tag: 'videos',
    body: { multipart: z.object({ [UPLOAD_FIELDS.file]: binaryFile }) },
    ok: { 202: { description: 'Stored; the transcode is queued.', body: queuedResponseSchema } },
    errors: ['missing_file', 'payload_too_large', 'bad_upload', 'too_many_files', 'unexpected_file_field', 'unsupported_media_type', 'bad_content_type', 'filename_too_long'],
  },
  listVideos: {
    summary: 'Videos, newest first, a page at a time',
    description: 'Page until `nextCursor` is null: with a `status` filter a page can be short, even empty, while more follow.',
    tag: 'videos',
    query: listVideosQuerySchema,
    ok: { 200: { description: 'One page of videos.', body: listVideosResponseSchema } },
    errors: ['invalid_query', 'invalid_cursor'],
  },
  updateVideo: {
    summary: 'Set or clear the title and description',
    description: 'JSON merge patch (RFC 7396): a string sets a field, null or "" removes it, an absent field is kept; unknown fields are refused.',
    tag: 'videos',
    path: videoIdParam,
    body: { json: updateVideoRequestSchema },
    ok: { 200: { description: 'The video record.', body: videoRecordSchema } },
    errors: ['not_found', 'invalid_json', 'invalid_body'],
  },
  deleteVideo: {
    summary: 'Delete a video: its original, every published file and its record',
    description: 'A video still processing is cancelled; in AWS the CDN forgets the video. Repeat after a 502 to finish.',
    tag: 'videos',
    path: videoIdParam,
    ok: { 204: { description: 'Deleted.' } },
    errors: ['not_found', 'bad_gateway'],
  },
  retryVideo: {
    summary: 'Transcode a failed video again from its stored original',
    tag: 'videos',
    path: videoIdParam,
    ok: { 202: { description: 'A new run is queued.', body: retryResponseSchema } },
    errors: ['not_found', 'not_failed', 'no_source'],
  },
  redriveJobs: {
    summary: 'Move dead-lettered transcode jobs back to the jobs queue',
    tag: 'api',
    body: { json: redriveRequestSchema },
    ok: { 200: { description: 'How many jobs were moved.', body: redriveResponseSchema } },
    errors: ['invalid_json', 'invalid_body'],
  },
  getVideo: {
    summary: 'One video: status, progress, renditions, cost',
    tag: 'videos',
    path: videoIdParam,
    ok: { 200: { description: 'The video record.', body: videoRecordSchema } },
    errors: ['not_found'],
  },
  getPlayback: {
    summary: 'A signed URL of the multivariant playlist',
    description: 'Once the video is playable (its start is published while it encodes, or it is ready).',
    tag: 'videos',
    path: videoIdParam,
    ok: { 200: { description: 'The signed URL and when it expires.', body: playbackResponseSchema } },
    errors: ['not_found', 'not_ready'],
  },
  getDownload: {
    summary: 'A signed URL of the MP4 download',
    description: 'Served with `Content-Disposition: attachment` and the upload\'s name; once the video is ready.',
    tag: 'videos',
    path: videoIdParam,
    ok: { 200: { description: 'The signed URL and when it expires.', body: downloadResponseSchema } },
    errors: ['not_found', 'not_ready', 'no_download'],
  },
  getThumbnail: {
    summary: 'A picture of the video at any time (JPEG), made on demand and cached',
    description:
      `Redirects (302) to a signed URL of a JPEG of the frame at \`time\` (rounded to ${THUMBNAIL_LIMITS.stepSeconds} s), ` +
      `\`width\` pixels wide (${THUMBNAIL_LIMITS.minWidth}–${THUMBNAIL_LIMITS.maxWidth}, default ${THUMBNAIL_LIMITS.defaultWidth}) and as tall as the ` +
      'upright, square-pixel picture makes it (even). Taken from the smallest published rendition at least that wide; the first ' +
      'request for a time and width makes it, later ones are redirected to the stored image. Once the video is ready; ' +
      '`404 no_picture` for an audio-only video; `400 invalid_query` for a time outside [0, duration].',
    tag: 'videos',
    path: videoIdParam,
    query: thumbnailQuerySchema,
    ok: { 302: { description: 'The image is stored; follow `Location`.', location: 'Signed URL of the JPEG (same grant as the playback URLs).' } },
    errors: ['not_found', 'invalid_query', 'not_ready', 'no_picture'],
  },
  addCaptions: {
    summary: 'Add captions or subtitles (WebVTT or SubRip) to a ready video',
    description:
      `multipart/form-data: the file in \`${CAPTION_FIELDS.file}\` (UTF-8 WebVTT or SRT, at most ${CAPTION_LIMITS.fileBytes / 1024 / 1024} MiB), ` +
      `\`${CAPTION_FIELDS.language}\` (BCP 47) and optional \`${CAPTION_FIELDS.label}\`. It is converted to WebVTT, segmented on the ` +
      'video\'s segment grid (RFC 8216 §3.5) and listed in the master playlist\'s SUBTITLES group `subs`. A second file in the same ' +
      'language replaces the first. A file that is not valid is refused with the line that is wrong (`line N: …`). ' +
      'Only a ready video takes captions (409 `not_ready` while it is processing: send them again once it is ready).',
    tag: 'videos',
    path: videoIdParam,
    body: {
      multipart: z.object({
        [CAPTION_FIELDS.file]: binaryFile,
        [CAPTION_FIELDS.language]: z.string().meta({ description: 'BCP 47 language tag, e.g. `en`, `pt-BR`.' }),
        [CAPTION_FIELDS.label]: z.string().optional().meta({ description: 'Name in players\' menus (default: the language\'s English name).' }),
      }),
    },
    ok: { 201: { description: 'The track, published.', body: captionTrackSchema } },
    errors: ['not_found', 'not_ready', 'invalid_captions', 'bad_language', 'invalid_body', 'missing_file', 'payload_too_large', 'too_many_files', 'unexpected_file_field'],
  },
  listCaptions: {
    summary: 'The video\'s captions and subtitles, by language',
    tag: 'videos',
    path: videoIdParam,
    ok: { 200: { description: 'Its text tracks.', body: listCaptionsResponseSchema } },
    errors: ['not_found'],
  },
  deleteCaptions: {
    summary: 'Remove the video\'s text track in one language',
    description: 'The master playlist stops listing it, then its files are removed.',
    tag: 'videos',
    path: videoIdParam.extend({ language: z.string().meta({ description: 'BCP 47 language tag of the track, e.g. `en`.' }) }),
    ok: { 204: { description: 'Removed.' } },
    errors: ['not_found', 'bad_language'],
  },
  getSource: {
    summary: 'The original upload',
    description: 'Supports `Range` (RFC 9110).',
    tag: 'videos',
    path: videoIdParam,
    ok: { 200: { description: 'The whole file.', body: 'bytes' }, 206: { description: 'The requested range.', body: 'bytes' } },
    errors: ['not_found', 'range_not_satisfiable'],
  },
  getOpenApi: {
    summary: 'This document (OpenAPI 3.1)',
    tag: 'api',
    public: true,
    ok: { 200: { description: 'The OpenAPI document.', body: z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.record(z.string(), z.unknown()) }) } },
    errors: [],
  },
};

/** `/api/videos/:videoId` → `/api/videos/{videoId}`. */
export function openApiPath(template: string): string {
  return template.replace(/:([A-Za-z]+)/g, '{$1}');
}

function errorResponses(codes: readonly ErrorCode[]): ZodOpenApiResponsesObject {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  const out: ZodOpenApiResponsesObject = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    out[String(status) as `${1 | 2 | 3 | 4 | 5}${string}`] = {
      description: `Error: ${list.map((c) => `\`${c}\``).join(', ')}.`,
      content: { 'application/json': { schema: errorBodySchema } },
    };
  }
  return out;
}

function operationObject(name: OperationName, doc: OperationDoc): ZodOpenApiOperationObject {
  const ok: ZodOpenApiResponsesObject = {};
  for (const [status, s] of Object.entries(doc.ok)) {
    ok[status as `${1 | 2 | 3 | 4 | 5}${string}`] = {
      description: s.description,
      ...(s.location ? { headers: { Location: { description: s.location, schema: { type: 'string', format: 'uri' } } } } : {}),
      ...(s.body === 'bytes'
        ? { content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } }
        : s.body
          ? { content: { 'application/json': { schema: s.body } } }
          : {}),
    };
  }
  const errors: ErrorCode[] = [...doc.errors, ...(doc.public ? [] : (['unauthorized', 'forbidden'] as const)), 'internal'];
  return {
    operationId: name,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    ...(doc.public ? { security: [] } : {}),
    ...(doc.path || doc.query ? { requestParams: { ...(doc.path ? { path: doc.path } : {}), ...(doc.query ? { query: doc.query } : {}) } } : {}),
    ...(doc.body
      ? {
          requestBody: {
            required: true,
            content: 'json' in doc.body ? { 'application/json': { schema: doc.body.json } } : { 'multipart/form-data': { schema: doc.body.multipart } },
          },
        }
      : {}),
    responses: { ...ok, ...errorResponses(errors) },
  };
}

/** The webhook events as OpenAPI 3.1 `webhooks`: what a receiver is sent. */
function webhookDocs(): NonNullable<ZodOpenApiObject['webhooks']> {
  const headers = z.object({
    [WEBHOOK_HEADERS.id]: z.string().meta({ description: 'Event id; the same on every retry (deduplicate on it).' }),
    [WEBHOOK_HEADERS.timestamp]: z.string().meta({ description: 'Unix seconds of this attempt.' }),
    [WEBHOOK_HEADERS.signature]: z.string().meta({ description: 'v1,<base64 HMAC-SHA256 of "id.timestamp.body"> (Standard Webhooks).' }),
  });
  return Object.fromEntries(
    WEBHOOK_EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          operationId: `webhook.${type}`,
          summary: `Sent when a video becomes ${type.slice('video.'.length)}`,
          tags: ['webhooks'],
          requestParams: { header: headers },
          requestBody: { required: true, content: { 'application/json': { schema: webhookEventSchema.extend({ type: z.literal(type) }) } } },
          responses: { '200': { description: 'Any 2xx acknowledges the event; anything else, or no answer within the time limit, is retried with backoff.' } },
        },
      },
    ]),
  );
}

/** The OpenAPI 3.1 document of every operation in `API`. */
export function openApiDocument(): ReturnType<typeof createDocument> {
  const paths: NonNullable<ZodOpenApiObject['paths']> = {};
  for (const name of Object.keys(API) as OperationName[]) {
    const op = API[name];
    const path = (paths[openApiPath(op.path)] ??= {});
    (path as Record<string, ZodOpenApiOperationObject>)[op.method.toLowerCase()] = operationObject(name, API_DOCS[name]);
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'VOD platform API',
      version: API_VERSION,
      description: 'Upload, transcode to adaptive HLS and play through signed URLs. Every error is `{"error":{"code","message"}}`.',
    },
    tags: [
      { name: 'uploads', description: 'Chunked, resumable uploads.' },
      { name: 'videos', description: 'Videos, their status and playback.' },
      { name: 'api', description: 'About the API.' },
      { name: 'webhooks', description: 'Events POSTed to the deployment’s receivers, signed as Standard Webhooks says.' },
    ],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The deployment’s API token.' } },
      // Named once; every use becomes a $ref.
      schemas: { Video: videoRecordSchema, Error: errorBodySchema, UploadSession: uploadSessionInfoSchema, StoredPart: storedPartSchema, WebhookEvent: webhookEventSchema },
    },
    paths,
    webhooks: webhookDocs(),
  });
}
