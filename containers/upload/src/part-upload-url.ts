/**
 * Part upload URLs: a presigned S3 UploadPart URL per part, so a client sends
 * the part's bytes straight to S3 and they never pass through this service
 * (S3 user guide, "Uploading an object using multipart upload" with presigned
 * URLs). The service stays the one that decides: it opens the S3 multipart
 * upload, signs one part at a time for its exact size, records the ETag the
 * client reports, and completes the upload.
 *
 * What the signature pins (SigV4 query signing, "Authenticating Requests:
 * Using Query Parameters"): method PUT, bucket, key, multipart upload id, part
 * number, and the `Content-Length` header (a signed header), so S3 refuses a
 * body of any other size. Nothing else may be added by the SDK: with its
 * default `requestChecksumCalculation` it would sign the CRC32 of an empty
 * body into the URL (`x-amz-checksum-crc32=AAAAAA==`), which S3 then holds
 * against the real body and refuses (aws-sdk-js-v3 presigned-PUT reports,
 * 3.729.0 and later). So URLs are signed by a client that adds checksums only
 * when an operation requires one (UploadPart does not).
 */
import { S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { PART_URL_TTL_SECONDS, type PartUploadUrl } from '@vod/contract';
import type { PartTarget } from './s3-storage-engine.js';

/**
 * A client for signing part URLs: the same region, credentials, endpoint and
 * addressing as `s3`, without default checksums (see the module comment).
 */
export function partUrlSigningClient(s3: S3Client): S3Client {
  const c = s3.config;
  return new S3Client({
    region: c.region,
    credentials: c.credentials,
    endpoint: c.endpoint,
    forcePathStyle: c.forcePathStyle,
    useFipsEndpoint: c.useFipsEndpoint,
    useDualstackEndpoint: c.useDualstackEndpoint,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

/**
 * The presigned URL for one part.
 * @param signer a client from {@link partUrlSigningClient}.
 * @param now the signing time (the URL's validity starts then).
 * @returns `{url, method: 'PUT', size, expiresAt}`; `size` in bytes, `expiresAt` ISO 8601, {@link PART_URL_TTL_SECONDS} after `now`.
 */
export async function presignPartUpload(signer: S3Client, t: PartTarget, now: Date): Promise<PartUploadUrl> {
  const url = await getSignedUrl(
    signer,
    new UploadPartCommand({ Bucket: t.bucket, Key: t.key, UploadId: t.s3UploadId, PartNumber: t.partNumber, ContentLength: t.expectedBytes }),
    { expiresIn: PART_URL_TTL_SECONDS, signingDate: now, signableHeaders: new Set(['content-length']) },
  );
  return { url, method: 'PUT', size: t.expectedBytes, expiresAt: new Date(now.getTime() + PART_URL_TTL_SECONDS * 1000).toISOString() };
}
