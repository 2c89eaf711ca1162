/** Request authentication shared by the services. */
import { hash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from './errors.js';

// One-shot `crypto.hash` (Node ≥ 21.7): a few times cheaper than a createHash object per call.
const digest = (s: string) => hash('sha256', s, 'buffer');

/** Constant-time string equality (compares SHA-256 digests, so lengths leak nothing either). */
export function secretEquals(actual: string | undefined, expected: string): boolean {
  return actual !== undefined && timingSafeEqual(digest(actual), digest(expected));
}

/** `secretEquals(actual, expected)` with the expected digest computed once (for per-request checks on hot paths). */
export function secretMatcher(expected: string): (actual: string | undefined) => boolean {
  const want = digest(expected);
  return (actual) => actual !== undefined && timingSafeEqual(digest(actual), want);
}

/** Requires `Authorization: Bearer <token>`; compares in constant time. */
export function requireBearerToken(token: string): RequestHandler {
  return (req, _res, next) => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m || !secretEquals(m[1], token)) {
      return next(new AppError('unauthorized', 'Missing or invalid API token (send "Authorization: Bearer <token>").'));
    }
    next();
  };
}
