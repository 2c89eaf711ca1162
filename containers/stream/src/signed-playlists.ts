/**
 * Signed playlists, made once per (playlist, expiry) and served from memory.
 *
 * Every viewer of a video in the same signing window is sent the same bytes:
 * the stored playlist with every URI signed by the video's grant for that
 * expiry (url-signer.ts). So a ready video's signed text is cached in a
 * bounded LRU keyed by (object key, expiry) — a hit costs one map lookup, no
 * S3 read, no parse, no rewrite, no signature. The expiry is part of the key
 * because it is part of the text: a request whose own grant expires earlier
 * (request-grant.ts) gets URIs that expire with it, never later.
 *
 * Only `ready` videos are cached: a ready ladder is immutable. Until then the
 * playlists grow (EVENT playlists while encoding), so each request reads and
 * signs the current text. Readiness itself is trusted for `readyTtlMs` only,
 * so a deleted video stops being served soon after.
 *
 * One file of a ready video still changes: the master, when captions are
 * added or removed (captions.ts). The instance that changed it forgets the
 * video at once (`forget`); every other instance notices within `readyTtlMs`,
 * when it re-checks readiness and finds the master's S3 ETag changed.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MASTER_PLAYLIST, isPlayable, keys } from '@vod/contract';
import { AppError, isNotFound, type StatusStore } from '@vod/service-kit';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { PlaylistError, signPlaylist } from './playlist-signing.js';
import type { VideoUrlSigner } from './url-signer.js';

/** One answer: what a viewer with a grant expiring at `expiresAt` is sent. */
export interface SignedPlaylist {
  /** The playlist text (UTF-8) with every URI signed. */
  body: Buffer;
  /** Strong entity tag of `body` (quoted). */
  etag: string;
  /** Epoch seconds the URIs inside stop working. */
  expiresAt: number;
  /** The video is ready: this text is final for this expiry. */
  ready: boolean;
}

export interface SignedPlaylistsOptions {
  s3: S3Client;
  mediaBucket: string;
  signer: VideoUrlSigner;
  store: StatusStore;
  now: () => Date;
  /** Bytes of playlist text kept (raw and signed together; default 32 MiB). */
  cacheBytes?: number;
  /** How long "this video is ready" is trusted without re-reading the record, ms (default 60 000). */
  readyTtlMs?: number;
}

export class SignedPlaylists {
  /** Stored (unsigned) text of ready videos' playlists, by S3 key: a new window re-signs without S3. */
  private readonly raw: LRUCache<string, string>;
  /** Signed answers by `${key}@${expiresAt}`. */
  private readonly signed: LRUCache<string, SignedPlaylist>;
  /** Ready videos, each with when (epoch ms) "ready" must be re-checked: a plain LRU, no per-read clock of its own. */
  private readonly readyUntil: LRUCache<string, number>;
  private readonly readyTtlMs: number;
  /** S3 ETag of each cached master, by videoId: a changed one (captions) drops the video's cache. */
  private readonly masterEtags = new Map<string, string>();

  constructor(private readonly opts: SignedPlaylistsOptions) {
    const bytes = opts.cacheBytes ?? 32 * 1024 * 1024;
    this.raw = new LRUCache({ maxSize: Math.ceil(bytes / 4), sizeCalculation: (t) => Math.max(1, t.length * 2) });
    this.signed = new LRUCache({ maxSize: Math.ceil((bytes * 3) / 4), sizeCalculation: (p) => Math.max(1, p.body.length) });
    this.readyUntil = new LRUCache({ max: 10_000 });
    this.readyTtlMs = opts.readyTtlMs ?? 60_000;
  }

  /** Remembers that `videoId` is ready (its ladder is final), for `readyTtlMs`. */
  markReady(videoId: string): void {
    this.readyUntil.set(videoId, this.opts.now().getTime() + this.readyTtlMs);
  }

  /** Forgets everything cached of `videoId` (deleted or retried: its ladder is gone or about to change). */
  forget(videoId: string): void {
    this.readyUntil.delete(videoId);
    this.masterEtags.delete(videoId);
    const prefix = keys.videoPrefix(videoId);
    for (const cache of [this.raw, this.signed]) {
      for (const key of [...cache.keys()]) if (key.startsWith(prefix)) cache.delete(key);
    }
  }

  /**
   * The cached answer for `relative` (e.g. `720p/index.m3u8`) of a ready video,
   * signed for `expiresAt` (epoch seconds), or undefined; `at` is now. Synchronous: the hot path.
   *
   * When "ready" has gone stale it keeps answering while one background read
   * of the record re-checks it (stale-while-revalidate), so every viewer of a
   * popular video does not wait on S3 at once each `readyTtlMs`; a video that
   * is no longer ready stops being served as soon as that read returns.
   */
  cached(videoId: string, relative: string, expiresAt: number, at: Date): SignedPlaylist | undefined {
    const until = this.readyUntil.get(videoId);
    if (until === undefined) return undefined;
    if (until <= at.getTime()) this.revalidate(videoId);
    return this.signed.get(`${keys.videoPrefix(videoId)}${relative}@${expiresAt}`);
  }

  private readonly revalidating = new Set<string>();

  private revalidate(videoId: string): void {
    if (this.revalidating.has(videoId)) return;
    this.revalidating.add(videoId);
    this.opts.store
      .get(videoId)
      .then(async (record) => {
        if (record?.status !== 'ready') return this.readyUntil.delete(videoId);
        const known = this.masterEtags.get(videoId);
        if (known !== undefined) {
          const head = await this.opts.s3.send(new HeadObjectCommand({ Bucket: this.opts.mediaBucket, Key: keys.master(videoId) }));
          if (head.ETag !== known) this.forget(videoId);
        }
        this.markReady(videoId);
      })
      .then(
        () => undefined,
        () => this.readyUntil.delete(videoId), // unknown: ask S3 again on the next request
      )
      .finally(() => this.revalidating.delete(videoId));
  }

  /**
   * The playlist signed for `expiresAt`: from the cache, else read (S3), signed and,
   * if the video is ready, cached.
   * @throws AppError `not_found` (no playable video, no such playlist); PlaylistError if the stored text is not HLS.
   */
  async get(videoId: string, relative: string, expiresAt: number, log: Logger): Promise<SignedPlaylist> {
    const key = `${keys.videoPrefix(videoId)}${relative}`;
    // A viewer never sees a half-written ladder: nothing is served before the
    // coordinator says the video is playable.
    let ready = (this.readyUntil.get(videoId) ?? 0) > this.opts.now().getTime();
    if (!ready) {
      const record = await this.opts.store.get(videoId);
      if (!record || !isPlayable(record)) throw new AppError('not_found', `No playable video ${videoId}`);
      ready = record.status === 'ready';
      if (ready) this.markReady(videoId);
    }
    const cacheKey = `${key}@${expiresAt}`;
    if (ready) {
      const hit = this.signed.get(cacheKey);
      if (hit) return hit;
    }

    let text = ready ? this.raw.get(key) : undefined;
    if (text === undefined) {
      try {
        const out = await this.opts.s3.send(new GetObjectCommand({ Bucket: this.opts.mediaBucket, Key: key }));
        text = await out.Body!.transformToString('utf-8');
        if (ready && relative === MASTER_PLAYLIST && out.ETag) this.masterEtags.set(videoId, out.ETag);
      } catch (err) {
        if (isNotFound(err)) throw new AppError('not_found', `No playlist at /${key}`);
        throw err;
      }
      if (ready) this.raw.set(key, text);
    }

    const grant = this.opts.signer.grant(videoId, this.opts.now(), expiresAt);
    let body: Buffer;
    try {
      body = Buffer.from(signPlaylist(text, { playlistUrl: `${grant.prefix}${relative}`, signedPrefix: grant.prefix, query: grant.query }));
    } catch (err) {
      if (err instanceof PlaylistError) {
        this.raw.delete(key);
        log.error({ err, key }, 'stored playlist is not valid HLS');
      }
      throw err;
    }
    const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
    const playlist: SignedPlaylist = { body, etag, expiresAt: grant.expiresAt.getTime() / 1000, ready };
    if (ready) this.signed.set(cacheKey, playlist);
    return playlist;
  }
}
