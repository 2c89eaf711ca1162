/**
 * The one rule for shared secrets — the API token (`VOD_API_TOKEN`) and the
 * origin secret CloudFront sends (`ORIGIN_VERIFY_SECRET`): 32–128 characters
 * of `[A-Za-z0-9_-]`. Long enough to resist guessing, usable as a bearer
 * token, and valid as an ALB header-condition value (≤ 128 characters, no `*`
 * or `?`, which ALB reads as wildcards: ELB user guide, "HTTP header
 * conditions"). Services, `npm start` and infra all check this same rule.
 */
export const SHARED_SECRET_PATTERN = /^[A-Za-z0-9_-]{32,128}$/;
export const SHARED_SECRET_RULE = '32–128 characters of A-Z, a-z, 0-9, _ or -';

export function isSharedSecret(value: unknown): value is string {
  return typeof value === 'string' && SHARED_SECRET_PATTERN.test(value);
}

/** Header CloudFront adds to every request it sends to the services' origin. */
export const ORIGIN_VERIFY_HEADER = 'x-origin-verify';
