/** The web app's logic that needs no browser: routes and the upload queue (with a fake API). */
import { expect } from 'chai';
import { matchRoute } from '../../web/src/router.js';
import { levelLabel } from '../../web/src/playback.js';
import { fileKey } from '../../web/src/storage.js';
import { tileAt, type Storyboard } from '../../web/src/storyboard.js';
import { UploadQueue, type UploadItem } from '../../web/src/uploads.js';
import { newestVideos } from '../../web/src/useVideos.js';
import { VodApi, type VideoRecord } from '@vod/client';
import { FakeApi, fakeFile } from '../client/fake-api.js';

function file(size: number, name: string): File {
  return Object.assign(fakeFile(size, name), { lastModified: 1700000000000, webkitRelativePath: '' }) as unknown as File;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('web/src pure parts', () => {
  it('routes', () => {
    expect(matchRoute('/')).to.deep.equal({ page: 'upload' });
    expect(matchRoute('/library')).to.deep.equal({ page: 'library' });
    expect(matchRoute('/watch/abc123')).to.deep.equal({ page: 'watch', videoId: 'abc123' });
    expect(matchRoute('/watch/abc123/')).to.deep.equal({ page: 'watch', videoId: 'abc123' });
    expect(matchRoute('/nope')).to.deep.equal({ page: 'notFound' });
  });
  it('seek preview: the tile under a time, across sheets; past the end the last one', () => {
    const sb: Storyboard = {
      available: true, intervalSeconds: 2, count: 105, tileWidth: 160, tileHeight: 90, columns: 10, rows: 10,
      sheets: [{ path: 'storyboard/sheet-000.jpg', url: 'https://cdn/s0?sig' }, { path: 'storyboard/sheet-001.jpg', url: 'https://cdn/s1?sig' }],
      vtt: { path: 'storyboard/storyboard.vtt' }, json: { path: 'storyboard/storyboard.json' },
    };
    expect(tileAt(sb, 0)).to.deep.equal({ url: 'https://cdn/s0?sig', x: 0, y: 0, index: 0 });
    expect(tileAt(sb, 27.9)).to.deep.equal({ url: 'https://cdn/s0?sig', x: 480, y: 90, index: 13 });
    expect(tileAt(sb, 208.5)).to.deep.equal({ url: 'https://cdn/s1?sig', x: 640, y: 0, index: 104 });
    expect(tileAt(sb, 9999)!.index).to.equal(104);
    expect(tileAt(sb, -1)).to.equal(undefined);
  });
  it('labels and keys', () => {
    expect(levelLabel({ height: 720, width: 1280 })).to.equal('720p');
    expect(fileKey({ name: 'a.mp4', size: 3, lastModified: 9 })).to.equal('a.mp4|3|9');
  });
});

describe('web/src library pages', () => {
  /** A server with 130 videos (v0 newest) that pages with an index cursor and honours `status`. */
  function server() {
    const all = Array.from({ length: 130 }, (_, i) => ({ videoId: `v${i}`, status: i % 10 === 0 ? 'failed' : 'ready', progress: 100, createdAt: 'c', updatedAt: 'u' }) as VideoRecord);
    const asked: string[] = [];
    const fetch: typeof globalThis.fetch = async (u) => {
      const url = new URL(String(u));
      asked.push(url.search);
      const from = Number(url.searchParams.get('cursor') ?? 0);
      const limit = Number(url.searchParams.get('limit'));
      const status = url.searchParams.get('status');
      const slice = all.slice(from, from + limit);
      return Response.json({ videos: slice.filter((v) => !status || v.status === status), nextCursor: from + limit < all.length ? String(from + limit) : null });
    };
    return { api: new VodApi({ baseUrl: 'http://vod.test', token: 't', fetch }), asked };
  }

  it('shows the newest `want` videos, walking pages from the top, and says whether more exist', async () => {
    const s = server();
    const first = await newestVideos(s.api, 24, undefined);
    expect(first.videos.map((v) => v.videoId)).to.deep.equal(Array.from({ length: 24 }, (_, i) => `v${i}`));
    expect(first.hasMore).to.equal(true);
    const many = await newestVideos(s.api, 120, undefined);
    expect(many.videos).to.have.length(120);
    expect(s.asked.slice(1)).to.deep.equal(['?limit=100', '?limit=20&cursor=100']);
    const everything = await newestVideos(s.api, 200, undefined);
    expect(everything).to.include({ hasMore: false });
    expect(everything.videos).to.have.length(130);
  });

  it('filters by state, carrying on through short pages', async () => {
    const failed = await newestVideos(server().api, 24, 'failed');
    expect(failed.videos.map((v) => v.videoId)).to.deep.equal(Array.from({ length: 13 }, (_, i) => `v${i * 10}`));
    expect(failed.hasMore).to.equal(false);
  });
});

describe('web/src UploadQueue (fake API)', () => {
  it('runs at most maxActive files at once and finishes them all', async () => {
    const api = new FakeApi();
    api.putDelayMs = 3;
    const q = new UploadQueue({ getToken: () => api.token, baseUrl: 'http://vod.test', maxActive: 2, concurrency: 2, fetch: api.fetch });
    let maxUploading = 0;
    q.subscribe(() => (maxUploading = Math.max(maxUploading, q.getSnapshot().filter((i) => i.status === 'uploading').length)));
    q.add([file(40, 'a.mp4'), file(30, 'b.mp4'), file(20, 'c.mp4')]);
    q.add([file(40, 'a.mp4')]); // already queued: ignored
    expect(q.getSnapshot()).to.have.length(3);
    await until(() => q.getSnapshot().every((i) => i.status === 'done'));
    expect(maxUploading).to.equal(2);
    const items = q.getSnapshot() as UploadItem[];
    expect(items.map((i) => i.uploadedBytes)).to.deep.equal([40, 30, 20]);
    expect(new Set(items.map((i) => i.videoId)).size).to.equal(3);
  });

  it('pause, resume (only missing parts), cancel (DELETE), and retry after an error', async () => {
    const api = new FakeApi();
    api.putDelayMs = 5;
    let unauthorized = 0;
    const q = new UploadQueue({ getToken: () => api.token, baseUrl: 'http://vod.test', maxActive: 1, concurrency: 1, fetch: api.fetch, onUnauthorized: () => unauthorized++ });
    q.add([file(100, 'big.mp4')]);
    const id = q.getSnapshot()[0].id;
    await until(() => q.getSnapshot()[0].partsDone >= 3);
    q.pause(id);
    await until(() => q.getSnapshot()[0].status === 'paused');
    const stored = api.sessions.get('up1')!.parts.size;
    const before = api.puts().length;
    q.resume(id);
    await until(() => q.getSnapshot()[0].status === 'done');
    expect(api.puts().length - before).to.equal(10 - stored);

    q.add([file(100, 'other.mp4')]);
    const id2 = q.getSnapshot()[1].id;
    await until(() => q.getSnapshot()[1].partsDone >= 1);
    await q.cancel(id2);
    expect(q.getSnapshot()[1].status).to.equal('canceled');
    expect(api.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).to.deep.equal(['/api/uploads/up2']);
    expect(api.sessions.get('up2')!.state).to.equal('aborted');

    api.failNext((r) => r.method === 'POST' && r.path === '/api/uploads', { status: 401, code: 'unauthorized' });
    q.add([file(10, 'third.mp4')]);
    await until(() => q.getSnapshot()[2].status === 'error');
    expect(unauthorized).to.equal(1);
    q.retryErrored();
    await until(() => q.getSnapshot()[2].status === 'done');
    q.remove(id);
    expect(q.getSnapshot().map((i) => i.file.name)).to.deep.equal(['other.mp4', 'third.mp4']);
  });
});
