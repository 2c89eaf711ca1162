/**
 * Part sizing for chunked uploads.
 *
 * S3 multipart limits (Amazon S3 user guide, "Amazon S3 multipart upload limits"):
 * parts are 5 MiB to 5 GiB (the last part may be smaller), at most 10,000 parts,
 * objects at most 5 TiB.
 */
export const MiB = 1024 * 1024;
export const S3_MIN_PART_BYTES = 5 * MiB;
export const S3_MAX_PART_BYTES = 5 * 1024 * MiB;
export const S3_MAX_PARTS = 10_000;
export const S3_MAX_OBJECT_BYTES = 5 * 1024 * 1024 * MiB;

export interface PartPlan {
  /** Bytes in every part but the last. */
  partSize: number;
  partCount: number;
}

/**
 * Plans parts for a file of `size` bytes: `preferredPartSize` (default 8 MiB)
 * unless the file would need more than 10,000 parts, in which case the part
 * size grows in whole MiB until it fits.
 * @throws RangeError for a size that is not a positive integer or exceeds S3's 5 TiB.
 */
export function planParts(size: number, preferredPartSize = 8 * MiB): PartPlan {
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError('size must be a positive whole number of bytes');
  if (size > S3_MAX_OBJECT_BYTES) throw new RangeError('size exceeds the 5 TiB S3 object limit');
  const minForCount = Math.ceil(size / S3_MAX_PARTS / MiB) * MiB;
  const partSize = Math.min(S3_MAX_PART_BYTES, Math.max(S3_MIN_PART_BYTES, preferredPartSize, minForCount));
  return { partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** Bytes of part `partNumber` (1-based) in a plan for `size` bytes. */
export function partBytes(plan: PartPlan, size: number, partNumber: number): number {
  if (partNumber < plan.partCount) return plan.partSize;
  return size - plan.partSize * (plan.partCount - 1);
}
