/**
 * Tiny typed client for the VOD HTTP API, shared by the web app and the CLI.
 * Browser-safe: only fetch, URL and JSON (no Node-only imports).
 *
 * Every non-2xx answer becomes an `ApiError` carrying the HTTP status and the
 * API's stable error `code` (`{error:{code,message}}` bodies); a request that
 * never got an answer becomes `ApiError` with status 0 and code
 * `network_error`. Aborts are re-thrown untouched (an `AbortError`).
 */

import {
  API,
  CAPTION_FIELDS,
  apiPath,
  type CaptionTrack,
  type ListCaptionsResponse,
  isErrorCode,
  type DownloadInfo,
  type ErrorCode,
  type ListVideosResponse,
  type PlaybackInfo,
  type RedriveResponse,
  type RetryResponse,
  type UpdateVideoRequest,
  type UploadSessionInfo,
  type VideoRecord,
  type VideoStatus,
} from '@vod/contract';

export { isPlayable, LIST_LIMIT, VIDEO_STATUSES, VIDEO_TEXT_LIMITS } from '@vod/contract';
export type {
  CreatedUpload,
  ListVideosResponse,
  PlaybackInfo,
  RedriveResponse,
  RetryResponse,
  UpdateVideoRequest,
  RenditionSummary as Rendition,
  StoredPart,
  UploadSessionInfo,
  UploadState,
  VideoRecord,
  VideoStatus,
} from '@vod/contract';

/** Codes the client itself gives: the server was not reached, its answer was not JSON, or an error body without a known code. */
export type ClientErrorCode = 'network_error' | 'invalid_response' | `http_${number}`;

export interface ApiConfig {
  /** e.g. http://127.0.0.1:8080 or '' for same-origin in the browser. */
  baseUrl: string;
  token?: string;
  /** Injectable for tests; defaults to globalThis.fetch. */
  fetch?: typeof fetch;
}

/** An error answer from the API (or status 0 when the server was not reached). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode | ClientErrorCode;
  /** From a Retry-After header, when the server sent one. */
  readonly retryAfterMs?: number;

  constructor(status: number, code: ErrorCode | ClientErrorCode, message: string, opts?: { retryAfterMs?: number; cause?: unknown }) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    if (opts?.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
  }
}

/** True for an abort (AbortController / AbortSignal.timeout), in browsers and Node. */
export function isAbortError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'AbortError' || name === 'TimeoutError';
}

/** Joins the base URL and an absolute API path ('/api/...'). */
export function apiUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + path;
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  return undefined;
}

/** The error for a request to `url` that got no answer (fetch threw `err`): status 0, `network_error`. */
export function unreachable(url: string, err: unknown): ApiError {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const detail = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
  return new ApiError(0, 'network_error', `Could not reach ${url} (${detail})`, { cause: err });
}

/** Builds an ApiError from a non-2xx response (reads its body). */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let code: ErrorCode | ClientErrorCode = `http_${res.status}`;
  let message = `${res.status} ${res.statusText || 'HTTP error'}`.trim();
  try {
    const text = await res.text();
    try {
      const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
      if (isErrorCode(body?.error?.code)) code = body.error.code;
      if (body?.error && typeof body.error.message === 'string') message = body.error.message;
    } catch {
      if (text && text.length < 300) message = `${message}: ${text.trim()}`;
    }
  } catch {
    /* body unreadable: keep the status line */
  }
  return new ApiError(res.status, code, message, { retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) });
}

export interface RequestOptions {
  method?: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (FormData, Blob…). */
  body?: BodyInit;
  signal?: AbortSignal;
  /** Send the bearer token (default true when a token is configured). */
  auth?: boolean;
  /**
   * `'manual'`: a 3xx answer is not followed; the request resolves to its
   * `Location` (Node and other non-browser fetches; a browser hides it).
   */
  redirect?: 'manual';
}

/**
 * Performs one API request and returns the parsed JSON body (undefined for
 * 204). Throws ApiError for error answers and unreachable servers.
 */
export async function apiRequest<T>(cfg: ApiConfig, path: string, opts: RequestOptions = {}): Promise<T> {
  const doFetch = cfg.fetch ?? globalThis.fetch;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (cfg.token && opts.auth !== false) headers.authorization = `Bearer ${cfg.token}`;
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const url = apiUrl(cfg.baseUrl, path);
  let res: Response;
  try {
    res = await doFetch(url, { method: opts.method ?? 'GET', headers, body, signal: opts.signal, ...(opts.redirect ? { redirect: opts.redirect } : {}) });
  } catch (err) {
    if (isAbortError(err) || opts.signal?.aborted) throw err;
    throw unreachable(url, err);
  }
  if (opts.redirect === 'manual' && res.status >= 300 && res.status < 400) {
    const location = res.headers.get('location');
    if (!location) throw new ApiError(res.status, 'invalid_response', `${url} redirected without a Location`);
    return location as T;
  }
  if (!res.ok) throw await errorFromResponse(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new ApiError(res.status, 'invalid_response', `Expected JSON from ${url}, got: ${text.slice(0, 120)}`, { cause: err });
  }
}

/** Which videos to list: a page size (1–100), the previous page's `nextCursor`, a state. */
export interface ListQuery {
  limit?: number;
  cursor?: string;
  status?: VideoStatus;
}

/** Status, playback and management calls. */
export class VodApi {
  constructor(readonly cfg: ApiConfig) {}

  /**
   * One page of videos, newest first; `nextCursor` is null on the last page
   * (a page may be short, even empty, while it is not — keep paging).
   */
  async listVideosPage(query: ListQuery = {}, signal?: AbortSignal): Promise<ListVideosResponse> {
    const params = new URLSearchParams();
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.cursor) params.set('cursor', query.cursor);
    if (query.status) params.set('status', query.status);
    const qs = params.toString() ? `?${params}` : '';
    const body = await apiRequest<Partial<ListVideosResponse>>(this.cfg, apiPath(API.listVideos) + qs, { signal });
    // A server from before pages answered every video and no cursor.
    return { videos: body.videos ?? [], nextCursor: body.nextCursor ?? null };
  }

  /** Every video (matching `status`), page by page, newest first. */
  async *iterateVideos(query: Omit<ListQuery, 'cursor'> = {}, signal?: AbortSignal): AsyncGenerator<VideoRecord> {
    let cursor: string | undefined;
    do {
      const page = await this.listVideosPage({ ...query, cursor }, signal);
      yield* page.videos;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /** Every video, newest first (all pages; use `listVideosPage` for one page at a time). */
  async listVideos(signal?: AbortSignal, query: Omit<ListQuery, 'cursor'> = {}): Promise<VideoRecord[]> {
    const out: VideoRecord[] = [];
    for await (const v of this.iterateVideos({ limit: 100, ...query }, signal)) out.push(v);
    return out;
  }

  /** Sets (string) or removes (null / "") the title and description; answers the record. */
  updateVideo(videoId: string, patch: UpdateVideoRequest, signal?: AbortSignal): Promise<VideoRecord> {
    return apiRequest<VideoRecord>(this.cfg, apiPath(API.updateVideo, { videoId }), { method: API.updateVideo.method, json: patch, signal });
  }

  /** Deletes the video and everything published for it (ApiError 404 if there is none). */
  deleteVideo(videoId: string, signal?: AbortSignal): Promise<void> {
    return apiRequest<void>(this.cfg, apiPath(API.deleteVideo, { videoId }), { method: API.deleteVideo.method, signal });
  }

  /** Transcodes a failed video again from its stored source (ApiError 409 `not_failed` otherwise). */
  retryVideo(videoId: string, signal?: AbortSignal): Promise<RetryResponse> {
    return apiRequest<RetryResponse>(this.cfg, apiPath(API.retryVideo, { videoId }), { method: API.retryVideo.method, signal });
  }

  /** Moves dead-lettered transcode jobs (at most `max`) back to the jobs queue. */
  redriveJobs(max?: number, signal?: AbortSignal): Promise<RedriveResponse> {
    return apiRequest<RedriveResponse>(this.cfg, apiPath(API.redriveJobs), { method: API.redriveJobs.method, json: max === undefined ? {} : { max }, signal });
  }

  getVideo(videoId: string, signal?: AbortSignal): Promise<VideoRecord> {
    return apiRequest<VideoRecord>(this.cfg, apiPath(API.getVideo, { videoId }), { signal });
  }

  /** Signed master playlist URL (ApiError 409 unless the video is ready). */
  getPlayback(videoId: string, signal?: AbortSignal): Promise<PlaybackInfo> {
    return apiRequest<PlaybackInfo>(this.cfg, apiPath(API.getPlayback, { videoId }), { signal });
  }

  /** A signed URL of the video's MP4 download (`409 not_ready`, `404 no_download`). */
  getDownload(videoId: string, signal?: AbortSignal): Promise<DownloadInfo> {
    return apiRequest<DownloadInfo>(this.cfg, apiPath(API.getDownload, { videoId }), { signal });
  }

  /**
   * A signed URL of a JPEG of the video at `time` seconds, `width` pixels
   * wide (default 640), made on demand (`400 invalid_query`, `409 not_ready`,
   * `404 no_picture`). Reads the API's redirect, so not from a browser (which
   * hides a redirect's target): there, follow the API URL itself.
   */
  getThumbnailUrl(videoId: string, query: { time: number | string; width?: number }, signal?: AbortSignal): Promise<string> {
    const params = new URLSearchParams({ time: String(query.time) });
    if (query.width !== undefined) params.set('width', String(query.width));
    return apiRequest<string>(this.cfg, `${apiPath(API.getThumbnail, { videoId })}?${params}`, { signal, redirect: 'manual' });
  }

  /**
   * Adds (or replaces) the video's text track in `language` from a WebVTT or SubRip file
   * (ApiError 400 `invalid_captions` naming the line, 409 `not_ready`, 404).
   */
  addCaptions(videoId: string, file: Blob, opts: { language: string; label?: string; filename?: string }, signal?: AbortSignal): Promise<CaptionTrack> {
    const form = new FormData();
    form.set(CAPTION_FIELDS.language, opts.language);
    if (opts.label) form.set(CAPTION_FIELDS.label, opts.label);
    form.set(CAPTION_FIELDS.file, file, opts.filename ?? 'captions.vtt');
    return apiRequest<CaptionTrack>(this.cfg, apiPath(API.addCaptions, { videoId }), { method: API.addCaptions.method, body: form, signal });
  }

  /** The video's text tracks, by language. */
  async listCaptions(videoId: string, signal?: AbortSignal): Promise<CaptionTrack[]> {
    return (await apiRequest<ListCaptionsResponse>(this.cfg, apiPath(API.listCaptions, { videoId }), { signal })).captions;
  }

  /** Removes the video's text track in `language` (ApiError 404 if it has none). */
  deleteCaptions(videoId: string, language: string, signal?: AbortSignal): Promise<void> {
    return apiRequest<void>(this.cfg, apiPath(API.deleteCaptions, { videoId, language }), { method: API.deleteCaptions.method, signal });
  }

  getUpload(uploadId: string, signal?: AbortSignal): Promise<UploadSessionInfo> {
    return apiRequest<UploadSessionInfo>(this.cfg, apiPath(API.getUpload, { uploadId }), { signal });
  }

  /** Aborts a chunked upload (204). */
  deleteUpload(uploadId: string, signal?: AbortSignal): Promise<void> {
    return apiRequest<void>(this.cfg, apiPath(API.abortUpload, { uploadId }), { method: API.abortUpload.method, signal });
  }
}
