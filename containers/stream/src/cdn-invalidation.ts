/**
 * Removing a deleted video from CloudFront's caches. Segments are cached at
 * the edge (contract routes.ts, cache `segments`); once their objects are
 * deleted from S3, an invalidation of the video's prefix makes every edge
 * fetch them again — and get S3's 403/404 — instead of serving its copy.
 */
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { keys, viewerPath } from '@vod/contract';

/** Invalidates a video's viewer paths at the CDN. */
export type InvalidateVideo = (videoId: string) => Promise<void>;

/** The viewer paths of everything a video published: `/videos/{videoId}/*`. */
export function videoInvalidationPaths(videoId: string): string[] {
  return [`${viewerPath(keys.videoPrefix(videoId))}*`];
}

/**
 * CloudFront `CreateInvalidation` for a video's prefix. The caller reference
 * is derived from the video, so a DELETE retried after a failure later on
 * does not start a second invalidation: CloudFront answers the first one
 * (CloudFront API reference, CreateInvalidation → CallerReference).
 * @throws the SDK's error (e.g. TooManyInvalidationsInProgress) — the DELETE then fails and can be retried.
 */
export function cloudFrontInvalidator(client: CloudFrontClient, distributionId: string): InvalidateVideo {
  return async (videoId) => {
    const items = videoInvalidationPaths(videoId);
    await client.send(
      new CreateInvalidationCommand({
        DistributionId: distributionId,
        InvalidationBatch: { CallerReference: `vod-delete-${videoId}`, Paths: { Quantity: items.length, Items: items } },
      }),
    );
  };
}
