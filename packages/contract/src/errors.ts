/**
 * The API's error codes, each with the HTTP status it is answered with. Every
 * error response is `{ "error": { "code", "message" } }`; services raise a
 * code from this table, the error middleware turns it into that body, and
 * clients switch on the code — never on message text.
 */
import { z } from 'zod';

export const ERROR_STATUS = {
  // 400: the request itself is wrong.
  bad_request: 400,
  invalid_body: 400,
  invalid_json: 400,
  invalid_query: 400,
  /** A list cursor that this API did not hand out (`GET /api/videos?cursor=`). */
  invalid_cursor: 400,
  bad_part_number: 400,
  wrong_part_size: 400,
  missing_parts: 400,
  missing_chunk: 400,
  missing_file: 400,
  bad_upload: 400,
  too_many_parts: 400,
  too_many_files: 400,
  too_many_fields: 400,
  field_name_too_long: 400,
  field_value_too_long: 400,
  unexpected_file_field: 400,
  missing_field_name: 400,
  /** The filename, as S3 user metadata, is over S3's 2 KB limit (uploads.ts). */
  filename_too_long: 400,
  /** An upload's content type is not `video/*` or `audio/*` (uploads.ts). */
  bad_content_type: 400,
  /** A caption file that is not WebVTT or SubRip, or has a broken cue; the message names the line (captions.ts). */
  invalid_captions: 400,
  /** A caption language that is not a BCP 47 tag. */
  bad_language: 400,
  // 401/403: who is asking.
  unauthorized: 401,
  /** The request did not come through the CDN (missing or wrong origin secret). */
  forbidden: 403,
  // 403 from the CDN (signed URLs; CloudFront developer guide, "Use signed URLs").
  missing_signature: 403,
  invalid_signature: 403,
  unknown_key_pair: 403,
  malformed_policy: 403,
  expired_signature: 403,
  signature_not_yet_valid: 403,
  ip_not_allowed: 403,
  resource_mismatch: 403,
  // 404/405.
  not_found: 404,
  route_not_found: 404,
  upload_not_found: 404,
  /** The video is ready but has no MP4 download (downloads are off, it has no picture, or making it failed). */
  no_download: 404,
  /** A picture of a video whose source has none (audio only): `GET /api/videos/:id/thumbnail`. */
  no_picture: 404,
  method_not_allowed: 405,
  // 409: the thing exists but is in the wrong state.
  not_ready: 409,
  upload_completed: 409,
  upload_aborted: 409,
  no_record: 409,
  bad_transition: 409,
  /** `POST /api/videos/:id/retry` of a video that has not failed. */
  not_failed: 409,
  /** `POST /api/videos/:id/retry` of a video whose original upload is not stored. */
  no_source: 409,
  // 410: it existed and is gone for good.
  /** A chunked upload outlived its expiry (uploads.ts); start a new one. */
  upload_expired: 410,
  // Sizes and ranges.
  payload_too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  // Ours to fix.
  internal: 500,
  bad_gateway: 502,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}

/** The body of every error response. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
