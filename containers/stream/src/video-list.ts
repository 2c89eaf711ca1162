/**
 * `GET /api/videos`: pages of video records, newest first.
 *
 * The cursor is the last `records/…` key a page examined, base64url-encoded
 * (opaque to clients). The next page lists with S3 `StartAfter` = that key;
 * ids are time-inverted (contract ids.ts), so new videos sort before every
 * cursor and never shift the pages after it.
 */
import { PREFIX, listVideosQuerySchema, publicRecord, type ListVideosResponse } from '@vod/contract';
import { AppError, type StatusStore } from '@vod/service-kit';

/** Longest key a cursor may carry (S3 keys are at most 1,024 bytes). */
const MAX_KEY_BYTES = 1024;

export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

/**
 * The `records/…` key a cursor stands for.
 * @throws AppError `invalid_cursor` for anything `encodeCursor` did not make.
 */
export function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!key.startsWith(PREFIX.records) || Buffer.byteLength(key) > MAX_KEY_BYTES || encodeCursor(key) !== cursor) {
    throw new AppError('invalid_cursor', 'cursor is not one this API handed out (use the nextCursor of the previous page)');
  }
  return key;
}

/**
 * Answers one page for a request's query string.
 * @throws AppError `invalid_query` (limit, status), `invalid_cursor`.
 */
export async function listVideos(store: StatusStore, query: unknown): Promise<ListVideosResponse> {
  const parsed = listVideosQuerySchema.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('invalid_query', `${issue.path.join('.') || 'query'}: ${issue.message}`);
  }
  const { limit, cursor, status } = parsed.data;
  const page = await store.page({ limit, status, after: cursor === undefined ? undefined : decodeCursor(cursor) });
  return { videos: page.records.map(publicRecord), nextCursor: page.nextKey ? encodeCursor(page.nextKey) : null };
}
