/** Removing every object under a key prefix. */
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

/**
 * Deletes every object under `prefix` in `bucket`, 1,000 keys per request
 * (the DeleteObjects limit). Objects written under the prefix while it runs
 * may survive; callers that must win such a race write a tombstone first.
 * @returns How many objects were deleted.
 * @throws Error naming the first key S3 refused to delete.
 */
export async function deletePrefix(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  if (!prefix.endsWith('/')) throw new Error(`Refusing to delete a prefix that is not a folder: ${JSON.stringify(prefix)}`);
  let deleted = 0;
  for (;;) {
    // Always list from the start: what was deleted is gone, so no continuation token is needed.
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1000 }));
    const objects = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (objects.length === 0) return deleted;
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
    if (out.Errors?.length) {
      const e = out.Errors[0]!;
      throw new Error(`Could not delete s3://${bucket}/${e.Key}: ${e.Code} ${e.Message ?? ''}`.trim());
    }
    deleted += objects.length;
  }
}
