/**
 * In-memory stand-in for the upload API and the storage its part upload URLs
 * point at (`STORAGE_ORIGIN`), as an injectable `fetch`. Records every
 * request (a part's bytes: `PUT` to storage, with its `partNumber`);
 * `failNext` scripts failures for a matching request.
 */
import { partRange } from '@vod/client';

/** Where the fake's part upload URLs point: not the API's origin. */
export const STORAGE_ORIGIN = 'http://storage.test';

export interface Recorded {
  method: string;
  /** `api` for the API, `storage` for a part's bytes sent to its part upload URL. */
  to: 'api' | 'storage';
  path: string;
  partNumber?: number;
  bytes?: number;
  auth?: string | null;
}

interface Session {
  uploadId: string;
  videoId: string;
  filename: string;
  size: number;
  partSize: number;
  partCount: number;
  parts: Map<number, { partNumber: number; size: number; etag: string }>;
  /** Parts storage holds, by number: their ETags (recorded or not). */
  stored: Map<number, string>;
  state: 'uploading' | 'completed' | 'aborted';
}

type Failure = { status: number; code?: string; headers?: Record<string, string> } | 'network';

export class FakeApi {
  readonly requests: Recorded[] = [];
  readonly sessions = new Map<string, Session>();
  /** Bodies of `POST /api/uploads`, in order. */
  readonly createBodies: Record<string, unknown>[] = [];
  partSize = 10;
  token = 'secret';
  /** Parts being processed right now, and the most seen at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** Simulated time a PUT takes, ms. */
  putDelayMs = 0;
  private failures: { match: (r: Recorded) => boolean; failure: Failure; times: number }[] = [];
  private seq = 0;

  /** Makes the next `times` requests matching `match` fail. */
  failNext(match: (r: Recorded) => boolean, failure: Failure, times = 1): void {
    this.failures.push({ match, failure, times });
  }

  /** Creates a session directly, with some parts already stored. */
  seed(size: number, storedParts: number[], partSizes: Record<number, number> = {}): Session {
    const s = this.newSession('seed.mp4', size);
    for (const n of storedParts) {
      const { start, end } = partRange(n, s.partSize, size);
      s.parts.set(n, { partNumber: n, size: partSizes[n] ?? end - start, etag: `"e${n}"` });
      s.stored.set(n, `"e${n}"`);
    }
    return s;
  }

  /** Part numbers whose bytes were sent to storage, in order. */
  puts(): number[] {
    return this.requests.filter((r) => r.to === 'storage' && r.method === 'PUT').map((r) => r.partNumber!);
  }

  /** Storage: takes a part's bytes at its part upload URL and answers with its ETag, as S3 does. */
  private async storagePut(uploadId: string | undefined, rec: Recorded, signal?: AbortSignal): Promise<Response> {
    const s = uploadId ? this.sessions.get(uploadId) : undefined;
    if (!s || rec.method !== 'PUT' || s.state !== 'uploading') return new Response('<Error><Code>NoSuchUpload</Code></Error>', { status: 404 });
    const n = rec.partNumber!;
    const { start, end } = partRange(n, s.partSize, s.size);
    if (rec.bytes !== end - start) return new Response('<Error><Code>SignatureDoesNotMatch</Code></Error>', { status: 403 });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await delay(this.putDelayMs, signal);
    } finally {
      this.inFlight--;
    }
    const etag = `"e${n}"`;
    s.stored.set(n, etag);
    return new Response(null, { status: 200, headers: { etag } });
  }

  private newSession(filename: string, size: number): Session {
    const id = `up${++this.seq}`;
    const s: Session = {
      uploadId: id,
      videoId: `vid${this.seq}`,
      filename,
      size,
      partSize: this.partSize,
      partCount: Math.max(1, Math.ceil(size / this.partSize)),
      parts: new Map(),
      stored: new Map(),
      state: 'uploading',
    };
    this.sessions.set(id, s);
    return s;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = (init?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init?.headers);
    const to = url.origin === STORAGE_ORIGIN ? 'storage' : 'api';
    const rec: Recorded = { method, to, path: url.pathname, auth: headers.get('authorization') };
    const m = url.pathname.match(/^\/(?:api\/uploads|part)\/([^/]+)\/(?:parts\/)?(\d+)(\/url)?$/);
    if (m) rec.partNumber = Number(m[2]);
    if (to === 'storage') {
      const body = init?.body;
      rec.bytes = body instanceof Blob ? body.size : undefined;
    }
    this.requests.push(rec);
    if (init?.signal?.aborted) throw new DOMException('aborted', 'AbortError');

    const f = this.failures.find((x) => x.times > 0 && x.match(rec));
    if (f) {
      f.times--;
      if (f.failure === 'network') throw new TypeError('fetch failed');
      return json(f.failure.status, { error: { code: f.failure.code ?? 'boom', message: 'scripted failure' } }, f.failure.headers);
    }
    if (to === 'storage') return this.storagePut(m?.[1], rec, init?.signal ?? undefined);
    if (rec.auth !== `Bearer ${this.token}`) return json(401, { error: { code: 'unauthorized', message: 'no token' } });

    if (method === 'POST' && url.pathname === '/api/uploads') {
      const body = JSON.parse(String(init?.body)) as { filename: string; size: number };
      this.createBodies.push(body);
      const s = this.newSession(body.filename, body.size);
      return json(201, { uploadId: s.uploadId, videoId: s.videoId, partSize: s.partSize, partCount: s.partCount });
    }
    const sm = url.pathname.match(/^\/api\/uploads\/([^/]+)(\/.*)?$/);
    const s = sm ? this.sessions.get(sm[1]) : undefined;
    if (sm && !s) return json(404, { error: { code: 'upload_not_found', message: 'no such upload' } });
    if (s && m && method === 'POST') {
      if (s.state !== 'uploading') return json(409, { error: { code: `upload_${s.state}`, message: s.state } });
      const n = rec.partNumber!;
      const { start, end } = partRange(n, s.partSize, s.size);
      if (m[3]) {
        return json(200, { url: `${STORAGE_ORIGIN}/part/${s.uploadId}/${n}?X-Amz-Signature=fake`, method: 'PUT', size: end - start, expiresAt: new Date(Date.now() + 3600_000).toISOString() });
      }
      const { etag } = JSON.parse(String(init?.body)) as { etag: string };
      const part = { partNumber: n, size: end - start, etag };
      s.parts.set(n, part);
      return json(200, part);
    }
    if (s && method === 'GET' && !sm![2]) {
      return json(200, {
        uploadId: s.uploadId,
        videoId: s.videoId,
        partSize: s.partSize,
        partCount: s.partCount,
        size: s.size,
        filename: s.filename,
        parts: s.state === 'uploading' ? [...s.parts.values()].sort((a, b) => a.partNumber - b.partNumber) : [],
        state: s.state,
      });
    }
    if (s && method === 'POST' && sm![2] === '/complete') {
      if (s.state === 'uploading') {
        const missing: number[] = [];
        for (let n = 1; n <= s.partCount; n++) if (!s.parts.has(n)) missing.push(n);
        if (missing.length) return json(400, { error: { code: 'missing_parts', message: `missing ${missing.join(',')}` } });
        // As the service does when S3 refuses a recorded ETag (InvalidPart): every record is dropped.
        if ([...s.parts.values()].some((p) => p.etag !== s.stored.get(p.partNumber))) {
          s.parts.clear();
          return json(400, { error: { code: 'missing_parts', message: 'an ETag does not match' } });
        }
        s.state = 'completed';
      }
      return json(202, { videoId: s.videoId, status: 'queued' });
    }
    if (s && method === 'DELETE' && !sm![2]) {
      s.state = 'aborted';
      return new Response(null, { status: 204 });
    }
    return json(404, { error: { code: 'not_found', message: 'no route' } });
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new DOMException('aborted', 'AbortError'));
    });
  });
}

/** A Blob of `size` bytes with a name. */
export function fakeFile(size: number, name = 'clip.mp4'): Blob & { name: string } {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = i % 251;
  return Object.assign(new Blob([bytes], { type: 'video/mp4' }), { name });
}
