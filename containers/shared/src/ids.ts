import { randomBytes } from 'node:crypto';
import { ID_PATTERN } from './keys.js';

/** A new random id (80 bits, 20 hex characters), for videos and upload sessions. */
export function newId(): string {
  return randomBytes(10).toString('hex');
}

export function isId(value: string): boolean {
  return ID_PATTERN.test(value);
}
