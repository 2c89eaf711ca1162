/** Request authentication shared by the services. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from './errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time string equality (compares SHA-256 digests, so lengths leak nothing either). */
export function secretEquals(actual: string | undefined, expected: string): boolean {
  return actual !== undefined && timingSafeEqual(digest(actual), digest(expected));
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
