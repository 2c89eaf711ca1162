/**
 * Ids of videos and upload sessions: 20 lowercase hex characters, made by the
 * server (clients never choose one).
 *
 * The first 11 characters are the creation time inverted (2^44 − 1 − Unix ms,
 * good until the year 2527), the last 9 are random (36 bits). S3 lists keys in
 * ascending order, so a listing of `records/{videoId}.json` comes out newest
 * first, and "everything after this key" is a page cursor that does not move
 * when new videos arrive.
 */
import { z } from 'zod';

export const ID_PATTERN = /^[a-f0-9]{20}$/;

const TIME_HEX_DIGITS = 11;
const MAX_TIME_MS = 2 ** 44 - 1;

/** Zod rule for an id field (messages and schemas use it). */
export const idSchema = z.string().regex(ID_PATTERN, 'must be a 20-character lowercase hex id');

/** True for a string shaped like an id. */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/**
 * A new id for something created at `nowMs` (Unix milliseconds).
 * Uses the Web Crypto API (`globalThis.crypto`), present in browsers and Node ≥ 19.
 */
export function newId(nowMs: number = Date.now()): string {
  const time = (MAX_TIME_MS - Math.floor(nowMs)).toString(16).padStart(TIME_HEX_DIGITS, '0');
  const random = Array.from(crypto.getRandomValues(new Uint8Array(5)), (b) => b.toString(16).padStart(2, '0')).join('');
  return time + random.slice(0, 20 - TIME_HEX_DIGITS);
}

/** When an id was made (the inverse of `newId`'s time part). @throws RangeError for a malformed id. */
export function idCreatedAt(id: string): Date {
  if (!isId(id)) throw new RangeError(`Not an id: ${JSON.stringify(id)}`);
  return new Date(MAX_TIME_MS - parseInt(id.slice(0, TIME_HEX_DIGITS), 16));
}
