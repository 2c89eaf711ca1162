import { expect } from 'chai';
import { LIST_LIMIT } from '@vod/contract';
import { ApiError, VodApi } from '@vod/client';
import {
  backoffDelay,
  cancelUpload,
  isRetryable,
  missingParts,
  partRange,
  uploadFile,
  withRetry,
  type UploadProgress,
} from '@vod/client';
import { FakeApi, STORAGE_ORIGIN, fakeFile } from './fake-api.js';

const FAST = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 };

function opts(api: FakeApi, size: number, extra: Partial<Parameters<typeof uploadFile>[0]> = {}) {
  return { baseUrl: 'http://vod.test', token: api.token, file: fakeFile(size), retry: FAST, fetch: api.fetch, ...extra };
}

describe('client/upload-client pure helpers', () => {
  it('partRange covers the file exactly, last part short', () => {
    expect(partRange(1, 10, 25)).to.deep.equal({ start: 0, end: 10 });
    expect(partRange(2, 10, 25)).to.deep.equal({ start: 10, end: 20 });
    expect(partRange(3, 10, 25)).to.deep.equal({ start: 20, end: 25 });
    expect(partRange(3, 10, 30)).to.deep.equal({ start: 20, end: 30 });
    expect(() => partRange(4, 10, 30)).to.throw(RangeError);
    expect(() => partRange(0, 10, 30)).to.throw(RangeError);
  });

  it('missingParts lists absent parts and parts stored with the wrong size', () => {
    const session = {
      partSize: 10,
      partCount: 5,
      size: 45,
      parts: [
        { partNumber: 1, size: 10, etag: 'a' },
        { partNumber: 2, size: 7, etag: 'b' }, // truncated → resend
        { partNumber: 4, size: 10, etag: 'd' },
        { partNumber: 5, size: 5, etag: 'e' },
      ],
    };
    expect(missingParts(session)).to.deep.equal([2, 3]);
    expect(missingParts({ ...session, parts: [] })).to.deep.equal([1, 2, 3, 4, 5]);
  });

  it('backoffDelay grows exponentially, is capped and jittered within [d/2, d]', () => {
    const r = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, r, () => 0)).to.equal(50);
    expect(backoffDelay(1, r, () => 1)).to.equal(100);
    expect(backoffDelay(3, r, () => 1)).to.equal(400);
    expect(backoffDelay(10, r, () => 1)).to.equal(1000);
    expect(backoffDelay(10, r, () => 0)).to.equal(500);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(2, r);
      expect(d).to.be.within(100, 200);
    }
  });

  it('isRetryable: network, 5xx, 429 yes; 4xx and aborts no', () => {
    expect(isRetryable(new TypeError('fetch failed'))).to.equal(true);
    expect(isRetryable(new ApiError(0, 'network_error', 'x'))).to.equal(true);
    expect(isRetryable(new ApiError(503, 'internal', 'x'))).to.equal(true);
    expect(isRetryable(new ApiError(429, 'http_429', 'x'))).to.equal(true);
    expect(isRetryable(new ApiError(400, 'bad_request', 'x'))).to.equal(false);
    expect(isRetryable(new ApiError(401, 'unauthorized', 'x'))).to.equal(false);
    expect(isRetryable(new ApiError(404, 'not_found', 'x'))).to.equal(false);
    expect(isRetryable(new DOMException('a', 'AbortError'))).to.equal(false);
  });

  it('withRetry honours Retry-After (capped by maxDelayMs)', async () => {
    const delays: number[] = [];
    let n = 0;
    const out = await withRetry(
      async () => {
        if (n++ === 0) throw new ApiError(429, 'http_429', 'x', { retryAfterMs: 3 });
        return 'ok';
      },
      { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 4 }, onRetry: (i) => delays.push(i.delayMs) },
    );
    expect(out).to.equal('ok');
    expect(delays).to.deep.equal([3]);
  });
});

describe('client/upload-client uploadFile (fake fetch)', () => {
  it('uploads every part, completes, and progress reaches the total', async () => {
    const api = new FakeApi();
    const seen: UploadProgress[] = [];
    const sessions: unknown[] = [];
    const res = await uploadFile(opts(api, 95, { onProgress: (p) => seen.push(p), onSession: (s) => sessions.push(s) }));
    expect(res).to.deep.equal({ uploadId: 'up1', videoId: 'vid1' });
    expect(api.puts().sort((a, b) => a - b)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const bytes = api.requests.filter((r) => r.method === 'PUT').reduce((s, r) => s + r.bytes!, 0);
    expect(bytes).to.equal(95);
    expect(api.sessions.get('up1')!.state).to.equal('completed');
    expect(seen[0]).to.deep.equal({ uploadedBytes: 0, totalBytes: 95, partsDone: 0, partCount: 10 });
    expect(seen.at(-1)).to.deep.equal({ uploadedBytes: 95, totalBytes: 95, partsDone: 10, partCount: 10 });
    for (let i = 1; i < seen.length; i++) expect(seen[i].uploadedBytes).to.be.greaterThan(seen[i - 1].uploadedBytes);
    expect(sessions).to.deep.equal([{ uploadId: 'up1', videoId: 'vid1', partSize: 10, partCount: 10, resumed: false, storedParts: 0 }]);
    const create = api.requests[0];
    expect(create).to.include({ method: 'POST', path: '/api/uploads', auth: 'Bearer secret' });
  });

  it('resume sends only the missing parts (and re-sends a truncated one)', async () => {
    const api = new FakeApi();
    const s = api.seed(95, [1, 2, 4, 5, 7, 10], { 5: 3 });
    const seen: UploadProgress[] = [];
    const res = await uploadFile(opts(api, 95, { resumeUploadId: s.uploadId, onProgress: (p) => seen.push(p) }));
    expect(res.uploadId).to.equal(s.uploadId);
    expect(api.requests.filter((r) => r.method === 'POST' && r.path === '/api/uploads')).to.have.length(0);
    expect(api.puts().sort((a, b) => a - b)).to.deep.equal([3, 5, 6, 8, 9]);
    // Starts from the bytes already stored: parts 1,2,4,7 (10 each) + 10 (5 bytes).
    expect(seen[0]).to.deep.equal({ uploadedBytes: 45, totalBytes: 95, partsDone: 5, partCount: 10 });
    expect(seen.at(-1)!.uploadedBytes).to.equal(95);
    expect(s.state).to.equal('completed');
  });

  it('starts a new session when the one to resume is gone, aborted, or for another size', async () => {
    const api = new FakeApi();
    const r1 = await uploadFile(opts(api, 30, { resumeUploadId: 'nope' }));
    expect(r1.uploadId).to.not.equal('nope');
    const aborted = api.seed(30, [1]);
    aborted.state = 'aborted';
    const r2 = await uploadFile(opts(api, 30, { resumeUploadId: aborted.uploadId }));
    expect(r2.uploadId).to.not.equal(aborted.uploadId);
    const other = api.seed(40, [1]);
    const r3 = await uploadFile(opts(api, 30, { resumeUploadId: other.uploadId }));
    expect(r3.uploadId).to.not.equal(other.uploadId);
  });

  it('an expired session (410 upload_expired) is started over; cancelling one is not an error', async () => {
    const api = new FakeApi();
    const old = api.seed(30, [1]);
    api.failNext((r) => r.method === 'GET' && r.path === `/api/uploads/${old.uploadId}`, { status: 410, code: 'upload_expired' });
    const r = await uploadFile(opts(api, 30, { resumeUploadId: old.uploadId }));
    expect(r.uploadId).to.not.equal(old.uploadId);
    api.failNext((x) => x.method === 'DELETE', { status: 410, code: 'upload_expired' });
    await cancelUpload({ baseUrl: 'http://vod.test', token: api.token, uploadId: old.uploadId, fetch: api.fetch, retry: FAST });
  });

  it('sends only a video/* or audio/* content type (the server refuses others)', async () => {
    const api = new FakeApi();
    await uploadFile(opts(api, 30, { contentType: 'video/mp4' }));
    await uploadFile(opts(api, 30, { contentType: 'application/octet-stream' }));
    await uploadFile(opts(api, 30, { file: new Blob([new Uint8Array(30)], { type: 'text/plain' }) }));
    expect(api.createBodies.map((b) => b.contentType)).to.deep.equal(['video/mp4', undefined, undefined]);
  });

  it('a completed session is not re-sent: complete is repeated and its ids returned', async () => {
    const api = new FakeApi();
    const s = api.seed(30, [1, 2, 3]);
    s.state = 'completed';
    const res = await uploadFile(opts(api, 30, { resumeUploadId: s.uploadId }));
    expect(res).to.deep.equal({ uploadId: s.uploadId, videoId: s.videoId });
    expect(api.puts()).to.deep.equal([]);
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal([
      `GET /api/uploads/${s.uploadId}`,
      `POST /api/uploads/${s.uploadId}/complete`,
    ]);
  });

  it('retries network errors, 5xx and 429 with backoff, then succeeds', async () => {
    const api = new FakeApi();
    api.failNext((r) => r.method === 'POST' && r.path === '/api/uploads', { status: 503 });
    api.failNext((r) => r.to === 'storage' && r.partNumber === 2, 'network', 2);
    api.failNext((r) => r.to === 'api' && r.partNumber === 3 && r.path.endsWith('/parts/3'), { status: 429, headers: { 'retry-after': '0' } });
    api.failNext((r) => r.path.endsWith('/complete'), { status: 500 });
    const retries: string[] = [];
    await uploadFile(opts(api, 30, { onRetry: (i) => retries.push(i.what) }));
    expect(retries.sort()).to.deep.equal(['complete', 'create', 'part 2', 'part 2', 'part 3']);
    expect(api.puts().filter((n) => n === 2)).to.have.length(3);
    expect(api.sessions.get('up1')!.state).to.equal('completed');
  });

  it("sends each part's bytes to its part upload URL without the token, and records the ETag storage answered", async () => {
    const api = new FakeApi();
    await uploadFile(opts(api, 25));
    const storage = api.requests.filter((r) => r.to === 'storage').sort((a, b) => a.partNumber! - b.partNumber!);
    expect(storage.map((r) => [r.method, r.partNumber, r.bytes, r.auth])).to.deep.equal([
      ['PUT', 1, 10, null],
      ['PUT', 2, 10, null],
      ['PUT', 3, 5, null],
    ]);
    expect(api.requests.filter((r) => r.to === 'api').every((r) => r.auth === 'Bearer secret')).to.equal(true);
    expect([...api.sessions.get('up1')!.parts.values()].map((p) => p.etag).sort()).to.deep.equal(['"e1"', '"e2"', '"e3"']);
    expect(api.sessions.get('up1')!.state).to.equal('completed');
  });

  it('an answer from storage without an ETag (a bucket whose CORS hides it) fails clearly, without retrying', async () => {
    const api = new FakeApi();
    const noEtag: typeof fetch = async (input, init) => {
      const res = await api.fetch(input, init);
      return String(input).startsWith(STORAGE_ORIGIN) && res.ok ? new Response(null, { status: 200 }) : res;
    };
    const err = await uploadFile({ ...opts(api, 10), fetch: noEtag }).catch((e) => e);
    expect(err).to.be.instanceOf(ApiError).with.property('code', 'invalid_response');
    expect(err.message).to.match(/ETag/);
    expect(api.puts()).to.deep.equal([1]);
  });

  it('parts recorded with ETags storage does not hold are all sent again (complete answers missing_parts)', async () => {
    const api = new FakeApi();
    const s = api.seed(30, [1, 2, 3]);
    s.stored.set(2, '"other"');
    const res = await uploadFile(opts(api, 30, { resumeUploadId: s.uploadId }));
    expect(res.uploadId).to.equal(s.uploadId);
    expect(api.puts().sort()).to.deep.equal([1, 2, 3]);
    expect(s.state).to.equal('completed');
  });

  it('gives up after `attempts` tries', async () => {
    const api = new FakeApi();
    api.failNext((r) => r.to === 'storage' && r.partNumber === 1, { status: 502 }, 10);
    const err = await uploadFile(opts(api, 10)).catch((e) => e);
    expect(err).to.be.instanceOf(ApiError).with.property('status', 502);
    expect(api.puts()).to.have.length(FAST.attempts);
  });

  it('does not retry a 400 and stops the other parts', async () => {
    const api = new FakeApi();
    api.putDelayMs = 5;
    api.failNext((r) => r.to === 'api' && r.partNumber === 1 && r.path.endsWith('/url'), { status: 400, code: 'bad_part_number' });
    const err = await uploadFile(opts(api, 200, { concurrency: 2 })).catch((e) => e);
    expect(err).to.be.instanceOf(ApiError);
    expect(err).to.include({ status: 400, code: 'bad_part_number' });
    expect(api.requests.filter((r) => r.partNumber === 1)).to.have.length(1);
    expect(api.puts().filter((n) => n === 1)).to.have.length(0);
    expect(api.puts().length).to.be.lessThan(5);
    expect(api.requests.some((r) => r.path.endsWith('/complete'))).to.equal(false);
  });

  it('does not retry a 401', async () => {
    const api = new FakeApi();
    const err = await uploadFile({ ...opts(api, 10), token: 'wrong' }).catch((e) => e);
    expect(err).to.be.instanceOf(ApiError).with.property('status', 401);
    expect(api.requests).to.have.length(1);
  });

  it('keeps at most `concurrency` parts in flight', async () => {
    const api = new FakeApi();
    api.putDelayMs = 5;
    await uploadFile(opts(api, 200, { concurrency: 3 }));
    expect(api.maxInFlight).to.equal(3);
    expect(api.puts()).to.have.length(20);
    const api1 = new FakeApi();
    api1.putDelayMs = 2;
    await uploadFile(opts(api1, 50, { concurrency: 1 }));
    expect(api1.maxInFlight).to.equal(1);
    expect(api1.puts()).to.deep.equal([1, 2, 3, 4, 5]);
  });

  it('pause (abort) then resume sends each part once overall', async () => {
    const api = new FakeApi();
    api.putDelayMs = 5;
    const ctl = new AbortController();
    let uploadId = '';
    const p = uploadFile(
      opts(api, 200, {
        concurrency: 2,
        signal: ctl.signal,
        onSession: (s) => (uploadId = s.uploadId),
        onProgress: (pr) => pr.partsDone >= 6 && ctl.abort(),
      }),
    );
    const err = await p.catch((e) => e);
    expect(err).to.have.property('name', 'AbortError');
    const storedBefore = api.sessions.get(uploadId)!.parts.size;
    expect(storedBefore).to.be.within(6, 19);
    const putsBefore = api.puts().length;
    await uploadFile(opts(api, 200, { resumeUploadId: uploadId }));
    const resent = api.puts().slice(putsBefore);
    expect(resent).to.have.length(20 - storedBefore);
    const stored = [...api.sessions.get(uploadId)!.parts.keys()];
    expect(stored).to.have.length(20);
  });

  it('cancel = abort + DELETE', async () => {
    const api = new FakeApi();
    api.putDelayMs = 5;
    const ctl = new AbortController();
    let uploadId = '';
    const p = uploadFile(opts(api, 100, { signal: ctl.signal, onSession: (s) => (uploadId = s.uploadId) }));
    setTimeout(() => ctl.abort(), 2);
    await p.catch(() => undefined);
    await cancelUpload({ baseUrl: 'http://vod.test', token: api.token, uploadId, fetch: api.fetch });
    const del = api.requests.filter((r) => r.method === 'DELETE');
    expect(del).to.deep.equal([{ method: 'DELETE', to: 'api', path: `/api/uploads/${uploadId}`, auth: 'Bearer secret' }]);
    expect(api.sessions.get(uploadId)!.state).to.equal('aborted');
    // Cancelling an unknown upload is fine.
    await cancelUpload({ baseUrl: 'http://vod.test', token: api.token, uploadId: 'gone', fetch: api.fetch });
  });

  it('aborted as the session is made (before any part): no part is asked for or sent', async () => {
    const api = new FakeApi();
    const ctl = new AbortController();
    const err = await uploadFile(opts(api, 30, { signal: ctl.signal, onSession: () => ctl.abort() })).catch((e) => e);
    expect(err).to.have.property('name', 'AbortError');
    expect(api.requests.filter((r) => r.partNumber !== undefined)).to.deep.equal([]);
  });

  it('an already aborted signal sends nothing', async () => {
    const api = new FakeApi();
    const ctl = new AbortController();
    ctl.abort();
    const err = await uploadFile(opts(api, 30, { signal: ctl.signal })).catch((e) => e);
    expect(err).to.have.property('name', 'AbortError');
    expect(api.requests).to.have.length(0);
  });
});

describe('client/api VodApi', () => {
  it('turns error bodies into ApiError with status, code, message', async () => {
    const fetch: typeof globalThis.fetch = async () =>
      new Response(JSON.stringify({ error: { code: 'not_ready', message: 'Video is processing' } }), { status: 409 });
    const api = new VodApi({ baseUrl: 'http://x/', token: 't', fetch });
    const err = await api.getPlayback('v1').catch((e) => e);
    expect(err).to.be.instanceOf(ApiError);
    expect(err).to.include({ status: 409, code: 'not_ready', message: 'Video is processing' });
  });

  it('reports an unreachable server as status 0 network_error', async () => {
    const fetch: typeof globalThis.fetch = async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    };
    const err = await new VodApi({ baseUrl: 'http://x', fetch }).listVideos().catch((e) => e);
    expect(err).to.be.instanceOf(ApiError);
    expect(err).to.include({ status: 0, code: 'network_error' });
    expect(err.message).to.contain('ECONNREFUSED');
  });

  it('sends the token and parses lists', async () => {
    let auth: string | null = null;
    let url = '';
    const fetch: typeof globalThis.fetch = async (u, init) => {
      url = String(u);
      auth = new Headers(init?.headers).get('authorization');
      return new Response(JSON.stringify({ videos: [{ videoId: 'a', status: 'ready', progress: 100 }] }), { status: 200 });
    };
    const videos = await new VodApi({ baseUrl: 'http://x/', token: 'tok', fetch }).listVideos();
    // listVideos pages through everything, the largest pages the API allows.
    expect(url).to.equal(`http://x/api/videos?limit=${LIST_LIMIT.max}`);
    expect(auth).to.equal('Bearer tok');
    expect(videos[0].videoId).to.equal('a');
  });
});

describe('client/upload-client complete answered missing_parts', () => {
  it('re-reads the session, sends what is missing, completes again', async () => {
    const api = new FakeApi();
    let dropped = false;
    const base = api.fetch;
    const fetch: typeof globalThis.fetch = async (input, init) => {
      if (!dropped && String(input).endsWith('/complete')) {
        dropped = true;
        api.sessions.get('up1')!.parts.delete(2); // a part the server lost
      }
      return base(input, init);
    };
    await uploadFile({ ...opts(api, 30), fetch });
    expect(api.puts().sort()).to.deep.equal([1, 2, 2, 3]);
    expect(api.requests.filter((r) => r.path.endsWith('/complete'))).to.have.length(2);
    expect(api.sessions.get('up1')!.state).to.equal('completed');
  });
});
