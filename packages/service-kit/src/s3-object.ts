/**
 * Streams an S3 object to an HTTP response with byte-range support, the way an
 * S3 origin behind CloudFront answers: the client's `Range` goes to GetObject,
 * S3's answer becomes 200 or 206 with `Content-Range`, `Content-Length`,
 * `Accept-Ranges: bytes`, `Content-Type`, `ETag`, `Last-Modified`; an
 * unsatisfiable range is 416 with `Content-Range: bytes *\/{size}`
 * (RFC 9110 §14 and §15.5.17). The body is piped from the SDK stream — never
 * buffered — and the S3 stream is destroyed if the client goes away.
 *
 * Used by the stream service (`GET /api/videos/:id/source`) and by the local
 * CloudFront stand-in (`local/edge.ts`, segments).
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { Request, Response } from 'express';
import { isNotFound } from './aws.js';
import { AppError } from './errors.js';

/**
 * The `Range` header to forward to S3, or undefined to serve the whole object.
 * Only one `bytes=` range is forwarded (S3 does not do multi-range); a
 * syntactically invalid or multi-range header is ignored, which RFC 9110 §14.2
 * allows ("a server MAY ignore the Range header field").
 */
export function s3Range(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, first, last] = m;
  if (first === '' && last === '') return undefined;
  if (first !== '' && last !== '' && BigInt(last) < BigInt(first)) return undefined;
  return `bytes=${first}-${last}`;
}

export interface SendS3ObjectOptions {
  bucket: string;
  key: string;
  /** Error message for a missing object (404 `not_found`). */
  notFoundMessage?: string;
  /** Extra response headers (e.g. Content-Disposition), set on 200/206/304 answers. */
  headers?: Record<string, string>;
  /** Called with S3's answer before headers go out; may add headers (e.g. from metadata). */
  onObject?: (out: Pick<GetObjectCommandOutput, 'ContentType' | 'Metadata' | 'ContentLength' | 'ETag'>, res: Response) => void;
}

const isStatus = (err: unknown, status: number) => (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === status;

/**
 * Answers `req` (GET or HEAD) with the object's bytes.
 * @throws NotFoundError (404) if there is no such object; AppError 416 `range_not_satisfiable`
 *   (with `Content-Range: bytes *\/{size}` already set) if the range is outside the object.
 */
export async function sendS3Object(req: Request, res: Response, s3: S3Client, opts: SendS3ObjectOptions): Promise<void> {
  let range = s3Range(req.headers.range);
  const ifNoneMatch = req.headers['if-none-match'];
  const ifRange = req.headers['if-range'];

  const get = async (r: string | undefined) => {
    try {
      return await s3.send(new GetObjectCommand({ Bucket: opts.bucket, Key: opts.key, Range: r, IfNoneMatch: ifNoneMatch }));
    } catch (err) {
      if (isStatus(err, 304)) return 'not-modified' as const;
      if (isNotFound(err)) throw new AppError('not_found', opts.notFoundMessage ?? 'No such object');
      if ((err as { name?: string }).name === 'InvalidRange' || isStatus(err, 416)) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: opts.bucket, Key: opts.key }));
        res.setHeader('Content-Range', `bytes */${head.ContentLength ?? 0}`);
        res.setHeader('Accept-Ranges', 'bytes');
        throw new AppError('range_not_satisfiable', `Range ${r} is outside the object (${head.ContentLength ?? 0} bytes)`);
      }
      throw err;
    }
  };

  let out = await get(range);
  if (out === 'not-modified') {
    if (opts.headers) for (const [k, v] of Object.entries(opts.headers)) res.setHeader(k, v);
    res.status(304).end();
    return;
  }
  // If-Range (RFC 9110 §13.1.5): send the range only if the representation is
  // unchanged; otherwise the whole object. S3 has no If-Range, so compare here.
  if (range && typeof ifRange === 'string' && ifRange !== out.ETag) {
    (out.Body as Readable | undefined)?.destroy();
    range = undefined;
    out = await get(undefined);
    if (out === 'not-modified') {
      res.status(304).end();
      return;
    }
  }

  res.status(out.ContentRange ? 206 : 200);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', out.ContentType ?? 'application/octet-stream');
  if (out.ContentLength !== undefined) res.setHeader('Content-Length', String(out.ContentLength));
  if (out.ContentRange) res.setHeader('Content-Range', out.ContentRange);
  if (out.ETag) res.setHeader('ETag', out.ETag);
  if (out.LastModified) res.setHeader('Last-Modified', out.LastModified.toUTCString());
  if (out.CacheControl) res.setHeader('Cache-Control', out.CacheControl);
  // Stored with the object (e.g. the MP4 download's `attachment; filename=…`): passed on, as CloudFront passes S3's.
  if (out.ContentDisposition) res.setHeader('Content-Disposition', out.ContentDisposition);
  if (opts.headers) for (const [k, v] of Object.entries(opts.headers)) res.setHeader(k, v);
  opts.onObject?.(out, res);

  const body = out.Body as Readable | undefined;
  if (req.method === 'HEAD' || !body) {
    body?.destroy();
    res.end();
    return;
  }
  try {
    await pipeline(body, res);
  } catch (err) {
    // The client went away mid-body (or S3 broke off): nothing more can be sent.
    req.log?.debug({ err }, 'object stream ended early');
    body.destroy();
    if (!res.writableEnded) res.destroy();
  }
}
