/**
 * Stream service: video status API, signed playback URLs, signed HLS playlists,
 * and the original upload with byte ranges.
 *
 * Routes (all JSON errors are `{ error: { code, message } }`):
 *   GET /api/videos                    → { videos: VideoRecord[] } newest first
 *   GET /api/videos/:videoId           → VideoRecord (404 `not_found`); poster images carry signed URLs
 *   GET /api/videos/:videoId/playback  → { url, expiresAt } signed master playlist URL, once playable (409 `not_ready`)
 *   GET /api/videos/:videoId/source    → the original upload; Range → 206, 416
 *   GET /api/videos/:videoId/download  → { url, expiresAt } signed MP4 download URL, once ready (409 `not_ready`, 404 `no_download`)
 *   GET /videos/:videoId/…/*.m3u8      → the playlist with every URI CloudFront-signed (404 until playable)
 *
 * Behind CloudFront `/videos/*.m3u8` arrives here only after CloudFront checked
 * the viewer's signature; this service never checks signatures itself.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { API, DOWNLOAD_FILE, MASTER_PLAYLIST, type DownloadInfo, PREFIX, isId, isPlayable, keys, publicRecord, type ListVideosResponse, type PlaybackInfo, type StoredVideoRecord, type VideoRecord } from '@vod/contract';
import {
  AppError,
  StatusStore,
  contentDisposition,
  baseApp,
  errorMiddleware,
  isNotFound,
  logVideoId,
  notFoundHandler,
  requireBearerToken,
  requireOriginSecret,
  sendS3Object,
} from '@vod/service-kit';
import type { Express, Request, RequestHandler, Response } from 'express';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { PlaylistError, signPlaylist } from './playlist-signing.js';
import type { VideoUrlSigner } from './url-signer.js';

export const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';

export interface StreamAppDeps {
  /** Bearer token required on every `/api/*` route (unset: open, for tests of the media paths only). */
  apiToken?: string;
  s3: S3Client;
  /** Holds `videos/…` (the HLS ladders) and `records/…` (status records). */
  mediaBucket: string;
  /** Holds `sources/{videoId}/source` (original uploads). */
  uploadsBucket: string;
  /** Signs the video-wide wildcard policies (see url-signer.ts). */
  signer: VideoUrlSigner;
  logger: Logger;
  /** Clock for expiries and cache ages. Default `() => new Date()`. */
  now?: () => Date;
  /** When set, requests without `x-origin-verify: <secret>` get 403 (only CloudFront may call). */
  originVerifySecret?: string;
  /** Status-record store; default `new StatusStore(s3, mediaBucket, now)`. */
  store?: StatusStore;
  /** Cache bounds. */
  cache?: {
    /** Total bytes of playlist text kept in memory (default 32 MiB). */
    playlistBytes?: number;
    /** How long "this video is ready" is trusted without re-reading the record, ms (default 60 000). */
    readyTtlMs?: number;
  };
}

/** Playlist paths under a video: 1–3 segments of [A-Za-z0-9_-] (dots only in the final `.m3u8`). */
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const PLAYLIST_FILE = /^[A-Za-z0-9_-]+\.m3u8$/;

/** Safety margin subtracted from a signature's remaining life for `Cache-Control: max-age`, seconds. */
const MAX_AGE_MARGIN_SECONDS = 60;

export function createApp(deps: StreamAppDeps): Express {
  const { s3, mediaBucket, uploadsBucket, signer, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const store = deps.store ?? new StatusStore(s3, mediaBucket, now);

  // `ready` is terminal, and a ready ladder is immutable, so its playlists can
  // be cached for good. Readiness itself is cached briefly so a deleted video
  // stops being served within `readyTtlMs`.
  const playlistCache = new LRUCache<string, string>({
    maxSize: deps.cache?.playlistBytes ?? 32 * 1024 * 1024,
    sizeCalculation: (text) => Math.max(1, Buffer.byteLength(text)),
  });
  const readyCache = new LRUCache<string, true>({
    max: 10_000,
    ttl: deps.cache?.readyTtlMs ?? 60_000,
    ttlAutopurge: false,
    perf: { now: () => now().getTime() },
  });

  const app = baseApp(logger);
  app.use(requireOriginSecret(deps.originVerifySecret));
  // The API answers only to the API token; media paths answer to signatures (checked at the CDN).
  if (deps.apiToken) app.use('/api', requireBearerToken(deps.apiToken));

  /** Validates `:videoId` (20 hex chars) — anything else is 404 — and tags logs with it. */
  const videoIdParam: RequestHandler = (req, _res, next) => {
    const id = req.params.videoId;
    if (!isId(id)) return next(new AppError('not_found', `No video ${JSON.stringify(id)}`));
    logVideoId(req, id);
    next();
  };

  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };

  async function getRecord(videoId: string): Promise<StoredVideoRecord> {
    const record = await store.get(videoId);
    if (!record) throw new AppError('not_found', `No video ${videoId}`);
    return record;
  }

  /** The record as the API answers it: pipeline fields dropped, each poster image and storyboard file with a signed URL. */
  function answer(record: StoredVideoRecord): VideoRecord {
    const out = publicRecord(record);
    const at = now();
    const sign = <T extends { path: string }>(f: T): T & { url: string } => ({ ...f, url: signer.signedUrl(out.videoId, f.path, at).url });
    if (out.poster?.available) out.poster = { ...out.poster, images: out.poster.images.map(sign) };
    if (out.storyboard?.available) {
      out.storyboard = { ...out.storyboard, sheets: out.storyboard.sheets.map(sign), vtt: sign(out.storyboard.vtt), json: sign(out.storyboard.json) };
    }
    return out;
  }

  app.get(API.listVideos.path, noStore, async (_req, res) => {
    const body: ListVideosResponse = { videos: (await store.list()).map(answer) };
    res.json(body);
  });

  app.get(API.getVideo.path, noStore, videoIdParam, async (req: Request<{ videoId: string }>, res) => {
    res.json(answer(await getRecord(req.params.videoId)));
  });

  app.get(API.getPlayback.path, noStore, videoIdParam, async (req: Request<{ videoId: string }>, res) => {
    const { videoId } = req.params;
    const record = await getRecord(videoId);
    if (!isPlayable(record)) {
      throw new AppError('not_ready', `Video ${videoId} is ${record.status}, not playable yet`);
    }
    if (record.status === 'ready') readyCache.set(videoId, true);
    const { url, expiresAt } = signer.signedUrl(videoId, MASTER_PLAYLIST, now());
    const body: PlaybackInfo = { url, expiresAt: expiresAt.toISOString() };
    res.json(body);
  });

  app.get(API.getDownload.path, noStore, videoIdParam, async (req: Request<{ videoId: string }>, res) => {
    const { videoId } = req.params;
    const record = await getRecord(videoId);
    if (record.status !== 'ready') throw new AppError('not_ready', `Video ${videoId} is ${record.status}; its download is made once it is ready`);
    if (!record.download?.available) {
      throw new AppError('no_download', record.download?.message ?? `Video ${videoId} has no MP4 download`);
    }
    // The object carries `Content-Disposition: attachment` with the name (set when it was written).
    const { url, expiresAt } = signer.signedUrl(videoId, DOWNLOAD_FILE, now());
    const body: DownloadInfo = { url, expiresAt: expiresAt.toISOString() };
    res.json(body);
  });

  app.get(API.getSource.path, videoIdParam, async (req: Request<{ videoId: string }>, res: Response) => {
    const { videoId } = req.params;
    await sendS3Object(req, res, s3, {
      bucket: uploadsBucket,
      key: keys.source(videoId),
      notFoundMessage: `No source upload for video ${videoId}`,
      onObject: (out, r) => {
        const name = decodeFilename(out.Metadata?.filename);
        // `inline` lets a `<video>` element play it; an `<a download>` still gets the name.
        if (name) r.setHeader('Content-Disposition', contentDisposition(name, 'inline'));
      },
    });
  });

  // `/videos/…` maps only onto `videos/{videoId}/…` keys of the media bucket:
  // the id is validated, every path segment is [A-Za-z0-9_-] (no `.`/`..`,
  // no encoded slashes), so status records (`records/…`) are unreachable.
  app.get(`/${PREFIX.videos}:videoId/*rest`, videoIdParam, async (req: Request<{ videoId: string; rest: string[] }>, res: Response) => {
    const { videoId } = req.params;
    const rest = req.params.rest;
    const file = rest[rest.length - 1];
    if (rest.length > 3 || !PLAYLIST_FILE.test(file) || !rest.slice(0, -1).every((s) => SEGMENT.test(s))) {
      throw new AppError('not_found', `No playlist at ${req.path}`);
    }
    const relative = rest.join('/');
    const key = `${keys.videoPrefix(videoId)}${relative}`;

    // A viewer never sees a half-written ladder: nothing is served before the
    // coordinator says the video is playable (its first part and audio are
    // complete and listed). Until `ready` the playlists grow: never cached.
    let ready = readyCache.has(videoId);
    if (!ready) {
      const record = await store.get(videoId);
      if (!record || !isPlayable(record)) throw new AppError('not_found', `No playable video ${videoId}`);
      ready = record.status === 'ready';
      if (ready) readyCache.set(videoId, true);
    }

    let text = ready ? playlistCache.get(key) : undefined;
    if (text === undefined) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: mediaBucket, Key: key }));
        text = await out.Body!.transformToString('utf-8');
      } catch (err) {
        if (isNotFound(err)) throw new AppError('not_found', `No playlist at ${req.path}`);
        throw err;
      }
      if (ready) playlistCache.set(key, text);
    }

    const at = now();
    const grant = signer.grant(videoId, at);
    let body: string;
    try {
      body = signPlaylist(text, { playlistUrl: `${grant.prefix}${relative}`, signedPrefix: grant.prefix, query: grant.query });
    } catch (err) {
      if (err instanceof PlaylistError) {
        playlistCache.delete(key);
        req.log.error({ err, key }, 'stored playlist is not valid HLS');
      }
      throw err;
    }
    const remaining = Math.floor((grant.expiresAt.getTime() - at.getTime()) / 1000);
    res.setHeader('Content-Type', PLAYLIST_CONTENT_TYPE);
    res.setHeader('Cache-Control', ready ? `private, max-age=${Math.max(0, remaining - MAX_AGE_MARGIN_SECONDS)}` : 'no-cache');
    res.send(body);
  });

  app.use(notFoundHandler);
  app.use(errorMiddleware(logger));
  return app;
}

/** S3 user metadata is ASCII; the upload service stores the name percent-encoded (encodeURIComponent). */
export function decodeFilename(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export { contentDisposition };
