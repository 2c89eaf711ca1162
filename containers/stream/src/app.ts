/**
 * Stream service: video status API, signed playback URLs, signed HLS playlists,
 * and the original upload with byte ranges.
 *
 * Routes (all JSON errors are `{ error: { code, message } }`):
 *   GET /api/videos?limit&cursor&status → { videos: VideoRecord[], nextCursor } newest first (400 `invalid_query`, `invalid_cursor`)
 *   GET /api/videos/:videoId           → VideoRecord (404 `not_found`); poster images and storyboard files carry signed URLs
 *   PATCH /api/videos/:videoId         {title?, description?} → VideoRecord (400 `invalid_body`)
 *   DELETE /api/videos/:videoId        → 204; everything of the video is removed (404 the second time)
 *   POST /api/videos/:videoId/retry    → 202 {videoId, status:"queued", run} for a failed video (409 `not_failed`)
 *   POST /api/jobs/redrive             {max?} → {moved}: dead-lettered jobs back to the jobs queue
 *   GET /api/videos/:videoId/playback  → { url, expiresAt } signed master playlist URL, once playable (409 `not_ready`)
 *   GET /api/videos/:videoId/source    → the original upload; Range → 206, 416
 *   GET /api/videos/:videoId/download  → { url, expiresAt } signed MP4 download URL, once ready (409 `not_ready`, 404 `no_download`)
 *   GET /api/videos/:videoId/thumbnail?time&width → 302 to a signed URL of a JPEG of the frame at `time`, made on
 *                                        demand and cached (thumbnails.ts; 400 `invalid_query`, 409 `not_ready`, 404 `no_picture`)
 *   GET /videos/:videoId/…/*.m3u8      → the playlist with every URI CloudFront-signed (404 until playable)
 *   GET /api/openapi.json              → the OpenAPI 3.1 document of the whole API (no token needed)
 *   POST /api/videos/:videoId/captions multipart {file, language, label?} → 201 CaptionTrack (captions.ts; 400 `invalid_captions` names the line, 409 `not_ready`)
 *   GET /api/videos/:videoId/captions  → { captions: CaptionTrack[] }
 *   DELETE /api/videos/:videoId/captions/:language → 204
 *
 * Behind CloudFront `/videos/*.m3u8` arrives here only after CloudFront checked
 * the viewer's signature; this service never checks signatures itself, but it
 * reads the expiry of the one the request came with (request-grant.ts) and
 * signs the playlist's URIs to expire no later (a request without a signed
 * URL is 403 `missing_signature`).
 *
 * The hot path — a ready video's playlist already signed for the request's
 * expiry (signed-playlists.ts) — is answered by a plain `node:http` handler
 * in front of Express: no routing, no middleware; one lookup of the URL
 * (playlist-requests.ts) and one of the signed text; hits counted into one
 * access-log line per interval (hit-log.ts). Everything else
 * (misses, errors, the API) goes to Express and keeps its per-request line.
 */
import http, { type IncomingMessage, type OutgoingHttpHeaders, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  API,
  CAPTION_FIELDS,
  CAPTION_LIMITS,
  DOWNLOAD_FILE,
  MASTER_PLAYLIST,
  ORIGIN_VERIFY_HEADER,
  isId,
  isPlayable,
  keys,
  publicRecord,
  redriveRequestSchema,
  thumbnailQuerySchema,
  type DownloadInfo,
  type PlaybackInfo,
  type RedriveResponse,
  type StoredVideoRecord,
  type VideoRecord,
} from '@vod/contract';
import {
  AppError,
  StatusStore,
  contentDisposition,
  type RecordChangeListener,
  baseApp,
  errorMiddleware,
  logVideoId,
  notFoundHandler,
  redriveMessages,
  requireBearerToken,
  requireOriginSecret,
  secretMatcher,
  sendS3Object,
} from '@vod/service-kit';
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import type { Logger } from 'pino';
import type { InvalidateVideo } from './cdn-invalidation.js';
import { CaptionAdmin } from './captions.js';
import { HitLog } from './hit-log.js';
import { PLAYLIST_URL_PREFIX, PlaylistRequests, playlistPath } from './playlist-requests.js';
import { parseExpiry } from './request-grant.js';
import { SignedPlaylists, type SignedPlaylist } from './signed-playlists.js';
import { Thumbnails, videoRenditions, type RenderFn } from './thumbnails.js';
import type { VideoUrlSigner } from './url-signer.js';
import { VideoAdmin } from './video-admin.js';
import { listVideos } from './video-list.js';

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
  /** Cache-hit access log interval, ms (default 10 000; see hit-log.ts). */
  hitLogIntervalMs?: number;
  /** Status-record store; default `new StatusStore(s3, mediaBucket, now, onRecordChange)`. */
  store?: StatusStore;
  /** What the mutating routes (PATCH, DELETE, retry, redrive) need; without it they answer 404. */
  admin?: {
    sqs: SQSClient;
    jobsQueueUrl: string;
    /** The jobs queue's dead-letter queue. */
    jobsDlqUrl: string;
    /** CDN invalidation of a deleted video; unset where no CDN caches segments (the local stack). */
    invalidate?: InvalidateVideo;
  };
  /** Told of every record change this service makes (the webhook events, `videoEventsFromEnv`). */
  onRecordChange?: RecordChangeListener;
  /** Cache bounds. */
  cache?: {
    /** Total bytes of playlist text kept in memory, raw and signed (default 32 MiB). */
    playlistBytes?: number;
    /** How long "this video is ready" is trusted without re-reading the record, ms (default 60 000). */
    readyTtlMs?: number;
  };
  /** On-demand thumbnails (thumbnails.ts). */
  thumbnails?: {
    /** ffmpeg processes at once (default 2). */
    concurrency?: number;
    /** A run longer than this is killed, ms (default 20 000). */
    timeoutMs?: number;
    /** Replaces the ffmpeg run (tests). */
    render?: RenderFn;
  };
}

/** The stream service: a request listener (fast path, then Express) that can listen like an Express app. */
export type StreamApp = RequestListener & {
  /** Starts an HTTP server on `port`/`host` with this listener. */
  listen(port: number, host: string): Server;
  /** The Express app behind the fast path. */
  express: Express;
  /** The cache-hit access log (flush/close on shutdown). */
  hitLog: HitLog;
  /** On-demand thumbnails, with their counters. */
  thumbnails: Thumbnails;
};

/** Safety margin subtracted from a signature's remaining life for `Cache-Control: max-age`, seconds. */
const MAX_AGE_MARGIN_SECONDS = 60;

export function createApp(deps: StreamAppDeps): StreamApp {
  const { s3, uploadsBucket, signer, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const store = deps.store ?? new StatusStore(s3, deps.mediaBucket, now, deps.onRecordChange);
  const playlists = new SignedPlaylists({
    s3,
    mediaBucket: deps.mediaBucket,
    signer,
    store,
    now,
    cacheBytes: deps.cache?.playlistBytes,
    readyTtlMs: deps.cache?.readyTtlMs,
  });
  const thumbnails = new Thumbnails({ s3, mediaBucket: deps.mediaBucket, ...deps.thumbnails });

  /**
   * The expiry (epoch seconds) of the URIs signed into an answer to a request
   * whose query is `query`: the service's own (now + TTL, rounded to the
   * window), capped by the grant the request came with.
   * @throws AppError 403 (`missing_signature`, `malformed_policy`, `expired_signature`).
   */
  const childExpiry = (query: string, at: Date): number => {
    const parent = parseExpiry(query);
    if (typeof parent !== 'number') throw parent;
    if (parent * 1000 <= at.getTime()) {
      throw new AppError('expired_signature', `Signed URL expired at ${new Date(parent * 1000).toISOString()}`);
    }
    return signer.expiryFor(at, parent);
  };

  const cacheControl = (p: SignedPlaylist, at: Date) => {
    if (!p.ready) return 'no-cache';
    const remaining = Math.floor(p.expiresAt - at.getTime() / 1000);
    return `private, max-age=${Math.max(0, remaining - MAX_AGE_MARGIN_SECONDS)}`;
  };

  const app = baseApp(logger);
  app.use(requireOriginSecret(deps.originVerifySecret));
  // The API's description is public, as API references are; it holds no secret. Built once, from the
  // contract's schemas, on first request (zod-openapi is not loaded on the start-up path).
  let openApi: Promise<string> | undefined;
  app.get(API.getOpenApi.path, async (_req, res) => {
    openApi ??= import('@vod/contract/openapi')
      .then((m) => JSON.stringify(m.openApiDocument()))
      .catch((err: unknown) => {
        openApi = undefined; // try again on the next request
        throw err;
      });
    const body = await openApi;
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/json').send(body);
  });
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

  /** Each poster image and storyboard file of an API record with a signed URL. */
  function signMediaExtras(out: VideoRecord): VideoRecord {
    const at = now();
    const sign = <T extends { path: string }>(f: T): T & { url: string } => ({ ...f, url: signer.signedUrl(out.videoId, f.path, at).url });
    if (out.poster?.available) out = { ...out, poster: { ...out.poster, images: out.poster.images.map(sign) } };
    if (out.storyboard?.available) {
      out = { ...out, storyboard: { ...out.storyboard, sheets: out.storyboard.sheets.map(sign), vtt: sign(out.storyboard.vtt), json: sign(out.storyboard.json) } };
    }
    return out;
  }
  /** The record as the API answers it: pipeline fields dropped, media extras signed. */
  const answer = (record: StoredVideoRecord): VideoRecord => signMediaExtras(publicRecord(record));

  app.get(API.listVideos.path, noStore, async (req, res) => {
    const page = await listVideos(store, req.query);
    res.json({ ...page, videos: page.videos.map(signMediaExtras) });
  });

  app.get(API.getVideo.path, noStore, videoIdParam, async (req: Request<{ videoId: string }>, res) => {
    const view = await store.view(req.params.videoId);
    if (!view) throw new AppError('not_found', `No video ${req.params.videoId}`);
    res.json(answer(view));
  });

  if (deps.admin) {
    const { sqs, jobsQueueUrl, jobsDlqUrl } = deps.admin;
    // This process's caches forget a deleted (or retried) video at once;
    // other instances within `readyTtlMs`, while its segments are already gone.
    const forget = (videoId: string) => playlists.forget(videoId);
    const admin = new VideoAdmin({ s3, sqs, mediaBucket: deps.mediaBucket, uploadsBucket, jobsQueueUrl, store, invalidate: deps.admin.invalidate, onDeleted: forget, now });
    const json = express.json({ limit: '64kb' });

    app.patch(API.updateVideo.path, noStore, videoIdParam, json, async (req: Request<{ videoId: string }>, res) => {
      res.json(await admin.update(req.params.videoId, req.body));
    });

    app.delete(API.deleteVideo.path, videoIdParam, async (req: Request<{ videoId: string }>, res) => {
      await admin.remove(req.params.videoId, req.log);
      res.status(204).end();
    });

    app.post(API.retryVideo.path, noStore, videoIdParam, async (req: Request<{ videoId: string }>, res) => {
      res.status(202).json(await admin.retry(req.params.videoId, req.log));
    });

    const captions = new CaptionAdmin({ s3, mediaBucket: deps.mediaBucket, store, now, onMasterChanged: forget });
    // A caption file is small text that is parsed whole: kept in memory, at most CAPTION_LIMITS.fileBytes.
    const captionForm = multer({
      storage: multer.memoryStorage(),
      defParamCharset: 'utf8',
      limits: { files: 1, fields: 5, fileSize: CAPTION_LIMITS.fileBytes, fieldSize: 1024 },
    }).single(CAPTION_FIELDS.file);

    app.post(API.addCaptions.path, noStore, videoIdParam, captionForm, async (req: Request<{ videoId: string }>, res) => {
      if (!req.file) throw new AppError('missing_file', `Send the caption file in the multipart field "${CAPTION_FIELDS.file}"`);
      res.status(201).json(await captions.add(req.params.videoId, req.file.buffer, req.body ?? {}, req.log));
    });

    app.get(API.listCaptions.path, noStore, videoIdParam, async (req: Request<{ videoId: string }>, res) => {
      res.json(await captions.list(req.params.videoId));
    });

    app.delete(API.deleteCaptions.path, videoIdParam, async (req: Request<{ videoId: string; language: string }>, res) => {
      await captions.remove(req.params.videoId, req.params.language, req.log);
      res.status(204).end();
    });

    app.post(API.redriveJobs.path, noStore, json, async (req, res) => {
      const parsed = redriveRequestSchema.safeParse(req.body ?? {});
      if (!parsed.success) throw new AppError('invalid_body', `max: ${parsed.error.issues[0]!.message} (or send {} to move every job)`);
      const moved = await redriveMessages(sqs, { from: jobsDlqUrl, to: jobsQueueUrl, max: parsed.data.max });
      req.log.info({ moved }, 'dead-lettered jobs moved back to the jobs queue');
      const body: RedriveResponse = { moved };
      res.json(body);
    });
  }

  app.get(API.getPlayback.path, noStore, videoIdParam, async (req: Request<{ videoId: string }>, res) => {
    const { videoId } = req.params;
    const record = await getRecord(videoId);
    if (!isPlayable(record)) {
      throw new AppError('not_ready', `Video ${videoId} is ${record.status}, not playable yet`);
    }
    if (record.status === 'ready') playlists.markReady(videoId);
    // Authorised by the API token, not by a signed URL: a fresh grant (now + TTL).
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

  app.get(API.getThumbnail.path, noStore, videoIdParam, async (req: Request<{ videoId: string }>, res) => {
    const { videoId } = req.params;
    const query = thumbnailQuerySchema.safeParse(req.query);
    if (!query.success) throw new AppError('invalid_query', query.error.issues.map((i) => i.message).join('; '));
    const record = await getRecord(videoId);
    if (record.status !== 'ready') throw new AppError('not_ready', `Video ${videoId} is ${record.status}; thumbnails are made once it is ready`);
    const renditions = videoRenditions(record.renditions);
    if (renditions.length === 0) throw new AppError('no_picture', `Video ${videoId} has no picture (audio only)`);
    const { time, width } = query.data;
    const duration = record.durationSeconds ?? 0;
    if (time > duration) throw new AppError('invalid_query', `time must be at most the video's duration, ${duration} s`);
    const path = await thumbnails.ensure({ videoId, renditions, time, width }, req.log);
    res.status(302).setHeader('Location', signer.signedUrl(videoId, path, now()).url).end();
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

  // `/videos/…` maps only onto playlists of `videos/{videoId}/…` (playlistPath's rule).
  app.get(`${PLAYLIST_URL_PREFIX}:videoId/*rest`, videoIdParam, async (req: Request<{ videoId: string }>, res: Response) => {
    const named = playlistPath(req.path);
    if (!named) throw new AppError('not_found', `No playlist at ${req.path}`);
    const { videoId, relative } = named;
    const at = now();
    const q = req.originalUrl.indexOf('?');
    const expiresAt = childExpiry(q === -1 ? '' : req.originalUrl.slice(q + 1), at);
    const playlist = await playlists.get(videoId, relative, expiresAt, req.log);
    res.setHeader('Content-Type', PLAYLIST_CONTENT_TYPE);
    res.setHeader('Cache-Control', cacheControl(playlist, at));
    res.setHeader('ETag', playlist.etag);
    res.send(playlist.body);
  });

  app.use(notFoundHandler);
  app.use(errorMiddleware(logger));

  // The hot path. Anything it is not sure about goes to Express, which
  // answers it (and its errors) the usual way.
  const hitLog = new HitLog(logger.child({ path: 'cached-playlist' }), { intervalMs: deps.hitLogIntervalMs });
  const originOk = deps.originVerifySecret ? secretMatcher(deps.originVerifySecret) : () => true;
  const requests = new PlaylistRequests();
  function servedFromCache(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url;
    if (req.method !== 'GET' || url === undefined || !url.startsWith(PLAYLIST_URL_PREFIX)) return false;
    if (!originOk(req.headers[ORIGIN_VERIFY_HEADER] as string | undefined)) return false;
    const r = requests.parse(url);
    if (!r) return false;
    const at = now();
    if (r.grantExpiresAt * 1000 <= at.getTime()) return false;
    const playlist = playlists.cached(r.videoId, r.relative, signer.expiryFor(at, r.grantExpiresAt), at);
    if (!playlist) return false;

    // The edge's (or CDN's) request id ties its access log to ours. Hits are not
    // logged one by one (hit-log.ts), so an id of our own would name no log line:
    // minted only when they are (debug).
    const reqId = (req.headers['x-request-id'] as string | undefined) ?? (hitLog.perRequest ? randomUUID() : undefined);
    const fresh = req.headers['if-none-match'] === playlist.etag;
    // One plain object, no spreads: this runs tens of thousands of times a second.
    const headers: OutgoingHttpHeaders = { 'Content-Type': PLAYLIST_CONTENT_TYPE, 'Cache-Control': cacheControl(playlist, at), ETag: playlist.etag };
    if (reqId !== undefined) headers['x-request-id'] = reqId;
    if (!fresh) headers['Content-Length'] = playlist.body.length;
    res.writeHead(fresh ? 304 : 200, headers);
    res.end(fresh ? undefined : playlist.body);
    hitLog.hit(r.videoId);
    if (hitLog.perRequest) hitLog.detail({ videoId: r.videoId, reqId, url: r.path, statusCode: res.statusCode });
    return true;
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (!servedFromCache(req, res)) app(req, res);
  };
  return Object.assign(listener, {
    listen: (port: number, host: string) => {
      const server = http.createServer(listener).listen(port, host);
      server.on('close', () => hitLog.close());
      return server;
    },
    express: app,
    hitLog,
    thumbnails,
  });
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
