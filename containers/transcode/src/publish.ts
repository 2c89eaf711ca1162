/**
 * Uploads to the media bucket under `videos/{videoId}/`: a task's segments
 * (immutable once written: cached for a year), and the coordinator's
 * playlists (revalidated: they grow while a video encodes and are signed per
 * request by the stream service anyway).
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SEGMENT, keys } from '@vod/contract';

export const CONTENT_TYPES = {
  playlist: 'application/vnd.apple.mpegurl',
  segment: 'video/mp2t',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  mp4: 'video/mp4',
  vtt: 'text/vtt; charset=utf-8',
  json: 'application/json',
} as const;

/** Content type of a published file, by its extension. */
export function contentTypeOf(file: string): string {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jpg' || ext === '.jpeg') return CONTENT_TYPES.jpeg;
  if (ext === '.webp') return CONTENT_TYPES.webp;
  if (ext === '.mp4') return CONTENT_TYPES.mp4;
  if (ext === '.m3u8') return CONTENT_TYPES.playlist;
  if (ext === '.vtt') return CONTENT_TYPES.vtt;
  if (ext === '.json') return CONTENT_TYPES.json;
  return CONTENT_TYPES.segment;
}

export interface PublishResult {
  files: number;
  /** Bytes uploaded. */
  bytes: number;
  /** The keys written, so they can be removed again if the video was deleted meanwhile. */
  keys: string[];
}

/**
 * Uploads every segment file in `dir/<rendition>/` for the given renditions
 * to `videos/{videoId}/<rendition>/…`, `concurrency` at a time.
 * @throws an S3 error.
 */
export async function publishSegments(
  s3: S3Client,
  bucket: string,
  videoId: string,
  dir: string,
  renditions: readonly string[],
  concurrency = 8,
): Promise<PublishResult> {
  const files: string[] = [];
  for (const name of renditions) {
    for (const f of (await readdir(path.join(dir, name))).sort()) {
      if (f.startsWith(SEGMENT.prefix) && f.endsWith(SEGMENT.extension)) files.push(`${name}/${f}`);
    }
  }
  return publishFiles(s3, bucket, videoId, dir, files, concurrency);
}

/**
 * Uploads the files at the given paths under `dir` to the same paths under
 * `videos/{videoId}/` (immutable: cached for a year), `concurrency` at a time.
 * @throws an S3 error.
 */
export async function publishFiles(
  s3: S3Client,
  bucket: string,
  videoId: string,
  dir: string,
  files: readonly string[],
  concurrency = 8,
): Promise<PublishResult> {
  let bytes = 0;
  const written: string[] = [];
  let next = 0;
  const put = async (rel: string) => {
    const file = path.join(dir, rel);
    const { size } = await stat(file);
    const key = keys.videoPrefix(videoId) + rel;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: createReadStream(file),
        ContentLength: size,
        ContentType: contentTypeOf(rel),
        CacheControl: 'public, max-age=31536000, immutable',
      }),
    );
    bytes += size;
    written.push(key);
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, files.length) }, async () => {
      while (next < files.length) await put(files[next++]!);
    }),
  );
  return { files: files.length, bytes, keys: written };
}

/** Writes one playlist (text) at `key`. */
export async function putPlaylist(s3: S3Client, bucket: string, key: string, text: string): Promise<void> {
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: CONTENT_TYPES.playlist, CacheControl: 'no-cache' }),
  );
}
