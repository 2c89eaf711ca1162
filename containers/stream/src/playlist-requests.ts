/**
 * What the hot path needs of a signed playlist request's URL — which video,
 * which playlist, and the expiry of the grant it came with — parsed once per
 * distinct URL.
 *
 * Every viewer of a video in one signing window requests the same URLs (the
 * same path, the same `Policy`/`Signature`/`Key-Pair-Id` query), so a bounded
 * memo keyed by the whole URL turns the path match, the id check and the
 * policy decode (request-grant.ts) into one map lookup per request.
 */
import { PREFIX, isId } from '@vod/contract';
import { LRUCache } from 'lru-cache';
import { parseExpiry } from './request-grant.js';

/** `/videos/{videoId}/{1–3 segments of [A-Za-z0-9_-]}.m3u8`, nothing else: no `.`/`..`, no encoded slashes. */
const PLAYLIST_PATH = new RegExp(`^/${PREFIX.videos}([^/]+)/((?:[A-Za-z0-9_-]+/){0,2}[A-Za-z0-9_-]+\\.m3u8)$`);

/** A signed playlist request the hot path can answer from memory, if the playlist is cached. */
export interface PlaylistRequest {
  videoId: string;
  /** Path under the video, e.g. `master.m3u8`, `720p/index.m3u8`. */
  relative: string;
  /** The path alone, for logs (the query is a credential). */
  path: string;
  /** Epoch seconds the request's own signed URL expires at. */
  grantExpiresAt: number;
}

/** Where the URL path of a request starts with this, it may be a playlist request. */
export const PLAYLIST_URL_PREFIX = `/${PREFIX.videos}`;

export class PlaylistRequests {
  private readonly memo: LRUCache<string, { value: PlaylistRequest | undefined }>;

  /**
   * @param cacheChars total length of the URLs remembered, UTF-16 code units (default 4 Mi, ~8 MiB):
   * bounded by size, not count, because a viewer with a valid wildcard grant may append any query it likes
   * (CloudFront forwards it, and the policy's `videos/{id}/*` resource matches it).
   */
  constructor(cacheChars = 4 * 1024 * 1024) {
    this.memo = new LRUCache({ maxSize: cacheChars, sizeCalculation: (_v, url) => Math.max(1, url.length) });
  }

  /**
   * The request `url` (path and query, as `IncomingMessage.url`) stands for, or
   * undefined when it is not a well-formed signed playlist URL (no query, a bad
   * id or path, an unreadable or missing policy): those go the slow way, which
   * answers them with the right error.
   */
  parse(url: string): PlaylistRequest | undefined {
    const hit = this.memo.get(url);
    if (hit) return hit.value;
    const value = parsePlaylistRequest(url);
    this.memo.set(url, { value });
    return value;
  }
}

/**
 * The video and the playlist under it that a URL path (no query, not decoded) names,
 * or undefined: the one rule of which paths are playlists, for the hot path and the
 * Express route alike. It maps only onto `videos/{videoId}/…` keys, so status
 * records (`records/…`) are unreachable.
 */
export function playlistPath(path: string): { videoId: string; relative: string } | undefined {
  const m = PLAYLIST_PATH.exec(path);
  return m && isId(m[1]) ? { videoId: m[1]!, relative: m[2]! } : undefined;
}

/** What `PlaylistRequests.parse` computes for a URL it has not seen (see there); exported for tests. */
export function parsePlaylistRequest(url: string): PlaylistRequest | undefined {
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  const path = url.slice(0, q);
  const named = playlistPath(path);
  if (!named) return undefined;
  const grantExpiresAt = parseExpiry(url.slice(q + 1));
  if (typeof grantExpiresAt !== 'number') return undefined;
  return { ...named, path, grantExpiresAt };
}
