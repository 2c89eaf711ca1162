/**
 * Publishes a finished HLS ladder from a local directory to the media bucket
 * under `videos/{videoId}/`. Atomic for viewers: every segment and media
 * playlist is uploaded first and the multivariant playlist (`master.m3u8`)
 * last, and the stream service serves playlists only once the status record
 * says `ready` — so nobody sees a half-written ladder. Re-publishing (a re-run
 * after a crash) overwrites the same keys with a complete set.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MASTER_PLAYLIST, keys } from '@vod/contract';

const CONTENT_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.aac': 'audio/aac',
};

/** Relative paths of every file below `dir`, with `/` separators. */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

export interface PublishResult {
  files: number;
  /** Bytes uploaded. */
  bytes: number;
}

/**
 * Uploads `dir` to `videos/{videoId}/`, master playlist last.
 * @throws Error if `dir` has no master playlist, or an S3 error.
 */
export async function publishLadder(s3: S3Client, bucket: string, videoId: string, dir: string, concurrency = 8): Promise<PublishResult> {
  const files = await listFiles(dir);
  if (!files.includes(MASTER_PLAYLIST)) throw new Error(`No ${MASTER_PLAYLIST} in ${dir}`);
  const rest = files.filter((f) => f !== MASTER_PLAYLIST);
  let bytes = 0;
  const put = async (rel: string) => {
    const file = path.join(dir, rel);
    const { size } = await stat(file);
    const isPlaylist = rel.endsWith('.m3u8');
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: keys.videoPrefix(videoId) + rel,
        Body: createReadStream(file),
        ContentLength: size,
        ContentType: CONTENT_TYPES[path.extname(rel)] ?? 'application/octet-stream',
        // Segments never change once published; playlists are signed per request by the stream service.
        CacheControl: isPlaylist ? 'no-cache' : 'public, max-age=31536000, immutable',
      }),
    );
    bytes += size;
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, rest.length) }, async () => {
      while (next < rest.length) await put(rest[next++]);
    }),
  );
  await put(MASTER_PLAYLIST);
  return { files: files.length, bytes };
}
