/** Checks of stack settings AWS accepts only from a fixed list. */

export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** @throws Error unless `days` is one of {@link LOG_RETENTION_DAYS}. */
export function assertLogRetentionDays(days: number): number {
  if (!LOG_RETENTION_DAYS.includes(days)) {
    throw new Error(`vod:logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')} (got ${days}).`);
  }
  return days;
}

/** CloudFront price classes (CloudFront developer guide, "Choose the price class for a CloudFront distribution"). */
export const PRICE_CLASSES = ['PriceClass_100', 'PriceClass_200', 'PriceClass_All'] as const;
export type PriceClass = (typeof PRICE_CLASSES)[number];

/** @throws Error unless `value` is a CloudFront price class. */
export function assertPriceClass(value: string): PriceClass {
  if (!(PRICE_CLASSES as readonly string[]).includes(value)) {
    throw new Error(`vod:priceClass must be one of ${PRICE_CLASSES.join(', ')} (got ${value}).`);
  }
  return value as PriceClass;
}
