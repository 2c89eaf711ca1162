/**
 * A read cache for the emulator's object files.
 *
 * Why: fauxqs 2.4.1 with `s3StorageDir` reads the whole object file for every
 * GetObject, range requests included (`FileS3Persistence.readBody` →
 * `readFileSync`), on the emulator's one thread. A transcode reads its source
 * through many range requests (ffprobe, every chunk's ffmpeg, the audio, each
 * seeking to the MP4 index at the end): measured here, each range GET of a
 * 173 MiB source took 0.56–0.8 s of emulator CPU, about 5 s of the 14.7 s from
 * upload complete to playable (bench/segmented.ts, 2 workers). Real S3 serves a
 * range without reading the object. Only the emulator process uses this.
 *
 * Large objects only (sources, downloads: written once), checked against the
 * file's identity (inode, size, mtime) on every read, so an overwritten or
 * deleted object is never served stale. Small objects (playlists, rewritten
 * many times a second) are read as before: cheap, and a coarse mtime could not
 * tell two quick rewrites of the same length apart.
 */
import { statSync } from 'node:fs';
import path from 'node:path';

/** Bytes from which an object's body is kept: below it, a read is cheap. */
export const CACHE_FROM_BYTES = 16 * 1024 * 1024;
/** Bytes of bodies kept at most (least recently read first out). */
export const CACHE_MAX_BYTES = 1024 * 1024 * 1024;

interface Entry {
  identity: string;
  body: Buffer;
}

/**
 * Wraps `readBody(bucket, key) → Buffer` of a persistence whose object files
 * live at `fileOf(bucket, key)`. Errors of the wrapped read (a missing object)
 * pass through unchanged.
 */
export function cachedReadBody(
  readBody: (bucket: string, key: string) => Buffer,
  fileOf: (bucket: string, key: string) => string,
  limits = { fromBytes: CACHE_FROM_BYTES, maxBytes: CACHE_MAX_BYTES },
): (bucket: string, key: string) => Buffer {
  const entries = new Map<string, Entry>();
  let bytes = 0;
  const drop = (name: string) => {
    const e = entries.get(name);
    if (e) bytes -= e.body.length;
    entries.delete(name);
  };
  return (bucket, key) => {
    const name = `${bucket}/${key}`;
    let identity: string | undefined;
    try {
      const s = statSync(fileOf(bucket, key));
      if (s.size >= limits.fromBytes && s.size <= limits.maxBytes) identity = `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      // No file: the wrapped read gives fauxqs's own answer.
    }
    const hit = entries.get(name);
    if (hit && identity && hit.identity === identity) {
      entries.delete(name); // most recently read last
      entries.set(name, hit);
      return hit.body;
    }
    drop(name);
    const body = readBody(bucket, key);
    if (identity && body.length >= limits.fromBytes) {
      entries.set(name, { identity, body });
      bytes += body.length;
      for (const [oldest] of entries) {
        if (bytes <= limits.maxBytes) break;
        drop(oldest);
      }
    }
    return body;
  };
}

/**
 * Where fauxqs 2.4.1's file persistence keeps an object's body (its `encodeKeyToPath`: the
 * key's slashes are directories, filesystem-unsafe characters percent-encoded). A wrong
 * path only means no caching: the stat fails and every read goes to fauxqs.
 */
export function fauxqsObjectFile(s3StorageDir: string, bucket: string, key: string): string {
  // eslint-disable-next-line no-control-regex
  const encoded = key.replace(/[<>:"|?*\\%\x00-\x1f]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).padStart(2, '0'));
  return path.join(s3StorageDir, 'buckets', bucket, 'objects', ...encoded.split('/')) + '.data';
}
