/**
 * The rules of a chunked upload that more than one part must agree on: how
 * long a session lives (the upload service expires it, the uploads bucket's
 * lifecycle rule aborts its S3 multipart upload — infra), what a client may
 * declare (content type, filename as S3 metadata) and how a part number is
 * spelled in a URL.
 */

/**
 * Days an incomplete chunked upload lives, by default. The uploads bucket's
 * lifecycle rule aborts S3 multipart uploads this many days after they were
 * started (S3 user guide, "Configuring a bucket lifecycle configuration to
 * delete incomplete multipart uploads"; infra `vod:abortIncompleteUploadDays`),
 * and the upload service expires the session at the same moment
 * (`UPLOAD_EXPIRY_DAYS`), so a session never outlives its S3 upload.
 */
export const DEFAULT_UPLOAD_EXPIRY_DAYS = 3;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * When a chunked upload started at `startedAt` expires: `days` whole days later.
 * S3 aborts no earlier — its lifecycle adds the days to the initiation time and
 * rounds up to the next midnight UTC — so between the two the session is
 * already gone and the S3 upload may still exist (the service aborts it).
 */
export function uploadExpiresAt(startedAt: Date, days: number = DEFAULT_UPLOAD_EXPIRY_DAYS): Date {
  return new Date(startedAt.getTime() + days * DAY_MS);
}

/**
 * S3's limit on user-defined metadata (`x-amz-meta-*`), bytes: the sum of the
 * UTF-8 bytes of every key and value (S3 user guide, "Working with object
 * metadata": "user-defined metadata is limited to 2 KB in size").
 */
export const S3_USER_METADATA_MAX_BYTES = 2048;

/** Bytes `metadata` counts against {@link S3_USER_METADATA_MAX_BYTES}: UTF-8 bytes of keys plus values. */
export function userMetadataBytes(metadata: Record<string, string>): number {
  const utf8 = new TextEncoder();
  let bytes = 0;
  for (const [k, v] of Object.entries(metadata)) bytes += utf8.encode(k).length + utf8.encode(v).length;
  return bytes;
}

/**
 * The S3 user metadata stored with an upload's source: the client's filename,
 * percent-encoded (RFC 3986) because S3 metadata travels in HTTP headers and
 * only ASCII is safe there. A non-ASCII character costs 6–12 bytes encoded, so
 * a 255-character name can be over S3's limit: check with {@link userMetadataBytes}.
 */
export function sourceMetadata(filename: string): Record<string, string> {
  return { filename: encodeURIComponent(filename) };
}

/**
 * A content type a client may declare for an upload: `video/*` or `audio/*`
 * (RFC 6838 §4.2 names: type and subtype of letters, digits and
 * `!#$&-^_.+`, case-insensitive), optionally with parameters; printable ASCII
 * only (no control characters: the value becomes the S3 object's
 * Content-Type header), at most 255 characters.
 */
export const MEDIA_CONTENT_TYPE_PATTERN =
  /^(?:video|audio)\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(?:[ \t]*;[ \t]*[A-Za-z0-9!#$&^_.+-]+=(?:[A-Za-z0-9!#$&^_.+-]+|"[\x20\x21\x23-\x5b\x5d-\x7e]*"))*$/i;

/** True for a content type uploads accept ({@link MEDIA_CONTENT_TYPE_PATTERN}). */
export function isMediaContentType(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 255 && MEDIA_CONTENT_TYPE_PATTERN.test(value);
}

/**
 * A part number as written in `PUT /api/uploads/:uploadId/parts/:partNumber`:
 * plain decimal digits without sign, spaces, exponent or leading zero
 * (`1`…`10000`: S3 allows at most 10,000 parts). Anything else — `1e3`, `+1`,
 * ` 1`, `0x1`, `01`, `1.0` — is undefined, so one part has one URL.
 */
export function parsePartNumber(text: string): number | undefined {
  if (!/^[1-9][0-9]{0,4}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 10_000 ? n : undefined;
}

/**
 * Seconds a part upload URL (`POST /api/uploads/:uploadId/parts/:partNumber/url`)
 * stays valid. A client asks for one just before it sends the part, and for a
 * new one on a retry, so an hour covers an 8 MiB part at well under 100 kbit/s.
 * In AWS a presigned URL also ends when the task role's credentials it was
 * signed with expire (S3 user guide, "Sharing objects with presigned URLs" →
 * "Expiration time for presigned URLs"): ECS renews them hours ahead.
 */
export const PART_URL_TTL_SECONDS = 3600;

/**
 * CORS of the uploads bucket, so a web page can PUT a part straight to S3
 * through its presigned URL and read the part's ETag, which it then reports
 * (`POST /api/uploads/:uploadId/parts/:partNumber`). Any origin: the URL is
 * the whole permission (SigV4 query signature over the bucket, key, upload,
 * part number and exact Content-Length, for {@link PART_URL_TTL_SECONDS}); CORS
 * only decides which pages may read the answer, and no cookie is involved.
 * S3 user guide, "Using cross-origin resource sharing (CORS)". Infra sets
 * this rule on the bucket; the local emulator answers with it (fauxqs has no CORS).
 */
export const UPLOADS_BUCKET_CORS = {
  allowedOrigins: ['*'],
  allowedMethods: ['PUT'],
  allowedHeaders: ['Content-Type'],
  exposeHeaders: ['ETag'],
  maxAgeSeconds: 3600,
} as const;
