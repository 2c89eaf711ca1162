/**
 * Chunked, resumable, retrying uploads — one module shared by the web page and
 * the CLI. Browser-safe: fetch, Blob.slice, FormData and AbortSignal only.
 *
 *   POST /api/uploads                      → session {uploadId, videoId, partSize, partCount}
 *   for each part, `concurrency` in flight:
 *     POST /api/uploads/:id/parts/:n/url   → {url, size}: a presigned storage (S3) URL for the part
 *     PUT  url                             the part's bytes, straight to storage → its ETag header
 *     POST /api/uploads/:id/parts/:n       {etag}: the part is recorded
 *   POST /api/uploads/:id/complete         → transcode queued
 *
 * The bytes never pass through the API (no token is sent with them: the
 * URL's signature is their permission); in a browser the storage must allow
 * the page's origin by CORS and expose `ETag` (contract UPLOADS_BUCKET_CORS).
 *
 * Resume: pass `resumeUploadId`; the session is fetched and only parts that
 * are not stored yet (or stored with the wrong size) are sent.
 * Pause: abort `signal`, later call uploadFile again with resumeUploadId.
 * Cancel: abort `signal`, then `cancelUpload()` (DELETE).
 */
import { API, apiPath, isMediaContentType, type CreatedUpload, type PartUploadUrl, type StoredPart, type UploadSessionInfo } from '@vod/contract';
import { ApiError, apiRequest, isAbortError, unreachable, type ApiConfig } from './api.js';


export interface RetryOptions {
  /** Total tries per request, including the first (≥ 1). */
  attempts: number;
  /** Delay before the first retry; doubles each time. */
  baseDelayMs: number;
  /** Upper bound of a single delay. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 6, baseDelayMs: 500, maxDelayMs: 15_000 };

export interface UploadProgress {
  uploadedBytes: number;
  totalBytes: number;
  partsDone: number;
  partCount: number;
}

export interface SessionInfo extends CreatedUpload {
  /** True when an existing session was picked up. */
  resumed: boolean;
  /** Parts already on the server when the upload (re)started. */
  storedParts: number;
}

export interface UploadOptions {
  baseUrl: string;
  token: string;
  file: Blob & { name?: string };
  filename?: string;
  contentType?: string;
  /** Parts in flight at once (default 4). */
  concurrency?: number;
  /** Continue this session when it is still open and matches the file. */
  resumeUploadId?: string;
  onProgress?: (p: UploadProgress) => void;
  /** Called once the session is known (store its uploadId to resume later). */
  onSession?: (s: SessionInfo) => void;
  /** Called before each retry. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown; what: string }) => void;
  signal?: AbortSignal;
  retry?: Partial<RetryOptions>;
  fetch?: typeof fetch;
}

export interface UploadResult {
  uploadId: string;
  videoId: string;
}

/** Byte range [start, end) of part `partNumber` (1-based). */
export function partRange(partNumber: number, partSize: number, size: number): { start: number; end: number } {
  if (!Number.isInteger(partNumber) || partNumber < 1) throw new RangeError(`bad part number ${partNumber}`);
  const start = (partNumber - 1) * partSize;
  if (start >= size && !(size === 0 && partNumber === 1)) throw new RangeError(`part ${partNumber} is past the end of a ${size}-byte file`);
  return { start, end: Math.min(partNumber * partSize, size) };
}

/** Part numbers (ascending) that are not stored with their expected size. */
export function missingParts(session: { partSize: number; partCount: number; size: number; parts?: StoredPart[] }): number[] {
  const stored = new Map<number, number>();
  for (const p of session.parts ?? []) stored.set(p.partNumber, p.size);
  const missing: number[] = [];
  for (let n = 1; n <= session.partCount; n++) {
    const { start, end } = partRange(n, session.partSize, session.size);
    if (stored.get(n) !== end - start) missing.push(n);
  }
  return missing;
}

/**
 * Delay before retry number `attempt` (1 = first retry): exponential
 * (base·2^(attempt−1), capped at max) with "equal jitter" — a uniformly random
 * value in [d/2, d] so concurrent clients spread out but never retry at once.
 */
export function backoffDelay(attempt: number, retry: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const exp = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Network failures, 5xx, 429 and 408 are retried; other 4xx and aborts are not. */
export function isRetryable(err: unknown): boolean {
  if (isAbortError(err)) return false;
  if (err instanceof ApiError) return err.status === 0 || err.status === 408 || err.status === 429 || err.status >= 500;
  return err instanceof TypeError; // fetch's "network error"
}

function abortError(signal?: AbortSignal): unknown {
  if (signal?.reason !== undefined && isAbortError(signal.reason)) return signal.reason;
  return new DOMException('The upload was aborted', 'AbortError');
}

/** setTimeout that rejects with an AbortError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `fn` until it succeeds, a non-retryable error occurs, or attempts run out. */
export async function withRetry<T>(
  fn: () => Promise<T>,
  opts: { retry: RetryOptions; signal?: AbortSignal; what?: string; onRetry?: UploadOptions['onRetry'] },
): Promise<T> {
  const attempts = Math.max(1, Math.floor(opts.retry.attempts));
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    try {
      return await fn();
    } catch (err) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      if (!isRetryable(err) || attempt >= attempts) throw err;
      let delayMs = backoffDelay(attempt, opts.retry);
      const retryAfter = err instanceof ApiError ? err.retryAfterMs : undefined;
      if (retryAfter !== undefined) delayMs = Math.min(opts.retry.maxDelayMs, Math.max(delayMs, retryAfter));
      opts.onRetry?.({ attempt, delayMs, error: err, what: opts.what ?? 'request' });
      await sleep(delayMs, opts.signal);
    }
  }
}

/**
 * The server takes only `video/*` and `audio/*` types (contract isMediaContentType); what a
 * browser or an extension table guesses for other files (`application/octet-stream`, "" …)
 * is left out, and the server stores the file as of unknown type.
 */
function mediaTypeOrNone(type: string | undefined): string | undefined {
  return isMediaContentType(type) ? type : undefined;
}

function cfgOf(opts: { baseUrl: string; token: string; fetch?: typeof fetch }): ApiConfig {
  return { baseUrl: opts.baseUrl, token: opts.token, fetch: opts.fetch };
}

/** Aborts a chunked upload on the server (DELETE). An unknown upload is not an error. */
export async function cancelUpload(opts: {
  baseUrl: string;
  token: string;
  uploadId: string;
  fetch?: typeof fetch;
  retry?: Partial<RetryOptions>;
}): Promise<void> {
  const retry = { ...DEFAULT_RETRY, ...opts.retry };
  try {
    await withRetry(() => apiRequest<void>(cfgOf(opts), apiPath(API.abortUpload, { uploadId: opts.uploadId }), { method: API.abortUpload.method }), {
      retry,
      what: 'cancel',
    });
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.code === 'upload_expired')) return;
    throw err;
  }
}

/**
 * PUTs one part's bytes to its part upload URL: storage, not the API, so no
 * token is sent. The Blob carries no type, so no Content-Type either.
 * @returns the ETag storage answered with (quoted, as S3 sends it).
 * @throws ApiError: status 0 `network_error` when storage was not reached;
 * the answer's status with `http_<status>` and storage's error code in the
 * message for a refusal (S3 answers XML, not the API's JSON); `invalid_response`
 * when the answer has no readable ETag (a browser hides it unless the bucket's
 * CORS rule exposes it).
 */
export async function putToStorage(target: PartUploadUrl, bytes: Blob, signal?: AbortSignal, fetchImpl?: typeof fetch): Promise<string> {
  const doFetch = fetchImpl ?? globalThis.fetch;
  const where = target.url.split('?')[0];
  let res: Response;
  try {
    res = await doFetch(target.url, { method: target.method, body: bytes, signal });
  } catch (err) {
    if (isAbortError(err) || signal?.aborted) throw err;
    throw unreachable(where, err);
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) {
    const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1] ?? res.statusText;
    throw new ApiError(res.status, `http_${res.status}`, `Storage refused the part (${res.status} ${code})`);
  }
  const etag = res.headers.get('etag');
  if (!etag) {
    throw new ApiError(res.status, 'invalid_response', `Storage stored the part but its answer shows no ETag (the uploads bucket's CORS rule must expose ETag)`);
  }
  return etag;
}

/**
 * Uploads `file` in parts (several in flight), resuming `resumeUploadId` when
 * it is still open and is for a file of the same size, and queues the
 * transcode. Resolves with the upload and video ids.
 */
export async function uploadFile(opts: UploadOptions): Promise<UploadResult> {
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...opts.retry };
  const cfg = cfgOf(opts);
  const { file, signal } = opts;
  const size = file.size;
  const filename = opts.filename ?? file.name ?? 'video';
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 4));
  const call = <T>(what: string, fn: (s?: AbortSignal) => Promise<T>, s: AbortSignal | undefined = signal) =>
    withRetry(() => fn(s), { retry, signal: s, what, onRetry: opts.onRetry });

  if (signal?.aborted) throw abortError(signal);

  // 1. Find or create the session.
  let session: UploadSessionInfo | undefined;
  if (opts.resumeUploadId) {
    try {
      const found = await call('resume', (s) =>
        apiRequest<UploadSessionInfo>(cfg, apiPath(API.getUpload, { uploadId: opts.resumeUploadId! }), { signal: s }),
      );
      if (found.state === 'completed') {
        // Parts are all in; make sure the transcode is queued (complete is repeatable).
        await call('complete', (s) =>
          apiRequest(cfg, apiPath(API.completeUpload, { uploadId: found.uploadId }), { method: API.completeUpload.method, signal: s }),
        );
        opts.onSession?.({ ...found, resumed: true, storedParts: found.partCount });
        opts.onProgress?.({ uploadedBytes: size, totalBytes: size, partsDone: found.partCount, partCount: found.partCount });
        return { uploadId: found.uploadId, videoId: found.videoId };
      }
      if (found.state === 'uploading' && found.size === size) session = found;
    } catch (err) {
      // Unknown or expired (contract uploads.ts): start a new upload.
      if (!(err instanceof ApiError && (err.status === 404 || err.code === 'upload_expired'))) throw err;
    }
  }
  const resumed = session !== undefined;
  if (!session) {
    const created = await call('create', (s) =>
      apiRequest<CreatedUpload>(cfg, apiPath(API.createUpload), {
        method: API.createUpload.method,
        json: { filename, size, contentType: mediaTypeOrNone(opts.contentType ?? file.type) },
        signal: s,
      }),
    );
    session = { ...created, size, filename, parts: [], state: 'uploading' };
  }
  const { uploadId, videoId, partSize, partCount } = session;

  // 2. Send what is missing, then complete; a `missing_parts` answer (a part
  //    lost in between) triggers one more round.
  let todo = missingParts(session);
  const stored = partCount - todo.length;
  opts.onSession?.({ uploadId, videoId, partSize, partCount, resumed, storedParts: stored });
  const bytesOf = (n: number) => {
    const r = partRange(n, partSize, size);
    return r.end - r.start;
  };
  let uploadedBytes = size - todo.reduce((sum, n) => sum + bytesOf(n), 0);
  let partsDone = stored;
  const report = () => opts.onProgress?.({ uploadedBytes, totalBytes: size, partsDone, partCount });
  report();

  for (let round = 1; ; round++) {
    await sendParts(todo);
    try {
      await call('complete', (s) =>
        apiRequest(cfg, apiPath(API.completeUpload, { uploadId }), { method: API.completeUpload.method, signal: s }),
      );
      return { uploadId, videoId };
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'missing_parts') || round >= 2) throw err;
      const fresh = await call('resume', (s) => apiRequest<UploadSessionInfo>(cfg, apiPath(API.getUpload, { uploadId }), { signal: s }));
      todo = missingParts(fresh);
      uploadedBytes = size - todo.reduce((sum, n) => sum + bytesOf(n), 0);
      partsDone = partCount - todo.length;
      report();
    }
  }

  function partUrl(partNumber: number, s?: AbortSignal): Promise<PartUploadUrl> {
    return apiRequest<PartUploadUrl>(cfg, apiPath(API.partUploadUrl, { uploadId, partNumber }), { method: API.partUploadUrl.method, signal: s });
  }

  /**
   * One part: its URL (the one asked for ahead, if any, else a fresh one), the
   * bytes to storage, the ETag recorded. Retried as a whole, with a fresh URL.
   */
  async function sendPart(partNumber: number, bytes: Blob, s?: AbortSignal, ahead?: Promise<PartUploadUrl | undefined>): Promise<void> {
    const target = (await ahead) ?? (await partUrl(partNumber, s));
    const etag = await putToStorage(target, bytes, s, opts.fetch);
    await apiRequest(cfg, apiPath(API.recordPart, { uploadId, partNumber }), { method: API.recordPart.method, json: { etag }, signal: s });
  }

  async function sendParts(parts: number[]): Promise<void> {
    if (parts.length === 0) return;
    // An abort while the session was being made has already fired: its listener would never run.
    if (signal?.aborted) throw abortError(signal);
    // One failing part stops its siblings.
    const inner = new AbortController();
    const onOuterAbort = () => inner.abort(signal?.reason);
    signal?.addEventListener('abort', onOuterAbort, { once: true });
    let next = 0;
    let failure: { err: unknown } | undefined;
    // The URL of the part the next free slot takes is asked for while this
    // part's bytes travel, so no part waits for its URL. A failed ask is
    // forgotten: the part's own attempt asks again.
    const ahead = new Map<number, Promise<PartUploadUrl | undefined>>();
    const askAhead = (n: number) => {
      if (!ahead.has(n)) ahead.set(n, partUrl(n, inner.signal).catch(() => undefined));
    };
    const takeAhead = (n: number) => {
      const url = ahead.get(n);
      ahead.delete(n);
      return url;
    };
    const worker = async () => {
      while (!failure && next < parts.length) {
        const n = parts[next++];
        const { start, end } = partRange(n, partSize, size);
        if (next < parts.length) askAhead(parts[next]);
        try {
          await call(`part ${n}`, (s) => sendPart(n, file.slice(start, end), s, takeAhead(n)), inner.signal);
        } catch (err) {
          if (!failure) failure = { err };
          inner.abort(err);
          return;
        }
        uploadedBytes += end - start;
        partsDone++;
        report();
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(concurrency, parts.length) }, worker));
    } finally {
      signal?.removeEventListener('abort', onOuterAbort);
    }
    if (signal?.aborted) throw abortError(signal);
    if (failure) throw failure.err;
  }
}
