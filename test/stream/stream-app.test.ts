import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { expect } from 'chai';
import { keys } from '@vod/contract';
import { StatusStore, createLogger } from '@vod/service-kit';
import { createApp } from '../../containers/stream/src/app.js';
import { createVideoUrlSigner } from '../../containers/stream/src/url-signer.js';
import { trustedKeysFromPem, verifySignedRequest } from '../../local/cloudfront-verify.js';
import { startTestAws, type TestAws } from '../support/emulator.js';
import { listen, silentLogger } from '../support/http.js';
import { countingSigner, makeKeyPair, playlistUris, rawGet, requestFor } from './support.js';

const PUBLIC = 'http://127.0.0.1:8080';
const READY = 'aaaaaaaaaaaaaaaaaaa1';
const BUSY = 'bbbbbbbbbbbbbbbbbbb2';
const NONE = 'ccccccccccccccccccc3';
const NO_DOWNLOAD = 'ddddddddddddddddddd4';

const MASTER = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="audio/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2628000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=30.000,AUDIO="audio"
720p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=1240000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=854x480,FRAME-RATE=30.000,AUDIO="audio"
480p/index.m3u8
`;
const MEDIA = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXTINF:6.000000,
seg_00001.ts
#EXTINF:3.2,
seg_00002.ts
#EXT-X-ENDLIST
`;

describe('stream service (against the S3 emulator)', function () {
  this.timeout(30_000);
  let aws: TestAws;
  let server: { url: string; close(): Promise<void> };
  let clock: Date;
  const sign = countingSigner();
  const kp = makeKeyPair();
  const trusted = trustedKeysFromPem({ [kp.keyPairId]: kp.publicKey });
  const source = randomBytes(1000);

  const put = (Bucket: string, Key: string, Body: string | Buffer, extra: Record<string, unknown> = {}) =>
    aws.s3.send(new PutObjectCommand({ Bucket, Key, Body, ...extra }));
  const get = (p: string, headers: Record<string, string> = {}) => fetch(server.url + p, { headers });
  /** The query of a custom-policy signed URL for READY's prefix expiring at `expires` (epoch seconds), as CloudFront forwards it. */
  const grantQuery = (expires: number) =>
    new URL(
      getSignedUrl({
        url: `${PUBLIC}/videos/${READY}/`,
        policy: JSON.stringify({ Statement: [{ Resource: `${PUBLIC}/videos/${READY}/*`, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }] }),
        keyPairId: kp.keyPairId,
        privateKey: kp.privateKey,
      }),
    ).search;
  /** The query of the playback URL the API hands out now (what a viewer's first playlist request carries). */
  const playbackQuery = async () => new URL(((await (await get(`/api/videos/${READY}/playback`)).json()) as { url: string }).url).search;
  /** Expiry (epoch seconds) of every signed URI in a playlist. */
  const uriExpiries = (text: string) => playlistUris(text).map((u) => {
    const v = verifySignedRequest(requestFor(u, clock), trusted);
    expect(v.ok, u).to.equal(true);
    return v.ok ? v.expiresAt.getTime() / 1000 : NaN;
  });

  before(async () => {
    aws = await startTestAws();
    clock = new Date('2030-01-01T00:00:00Z');
    const now = () => clock;
    let t = Date.parse('2029-12-31T00:00:00Z');
    const store = new StatusStore(aws.s3, aws.mediaBucket, () => new Date((t += 60_000)));
    await store.create({ videoId: READY, status: 'processing', filename: 'clip.mp4' });
    await store.transition(READY, 'ready', {
      progress: 100,
      durationSeconds: 9.2,
      renditions: [{ name: '720p', width: 1280, height: 720, bandwidth: 2928000 }],
      poster: { available: true, atSeconds: 3.1, images: [{ format: 'jpeg', width: 320, height: 180, bytes: 9000, path: 'poster/poster-320.jpg' }] },
      download: { available: true, rendition: '720p', width: 1280, height: 720, bytes: 3_000_000, filename: 'clip.mp4' },
    });
    await store.create({ videoId: NO_DOWNLOAD, status: 'processing' });
    await store.transition(NO_DOWNLOAD, 'ready', { progress: 100, download: { available: false, message: 'The MP4 download could not be made: disk full' } });
    await store.create({ videoId: BUSY, status: 'processing', progress: 40, poster: { available: false, reason: 'no_picture', message: 'The source has no picture (audio only)' } });

    for (const id of [READY, BUSY]) {
      await put(aws.mediaBucket, keys.master(id), MASTER);
      for (const r of ['720p', '480p', 'audio']) {
        await put(aws.mediaBucket, `videos/${id}/${r}/index.m3u8`, MEDIA);
        await put(aws.mediaBucket, `videos/${id}/${r}/seg_00001.ts`, Buffer.alloc(188, 0x47));
      }
    }
    await put(aws.uploadsBucket, keys.source(READY), source, {
      ContentType: 'video/mp4',
      Metadata: { filename: encodeURIComponent('Café "final".mp4') },
    });

    const signer = createVideoUrlSigner({ publicBaseUrl: PUBLIC, keyPairId: kp.keyPairId, privateKey: kp.privateKey, ttlSeconds: 14_400, sign });
    const app = createApp({ s3: aws.s3, mediaBucket: aws.mediaBucket, uploadsBucket: aws.uploadsBucket, signer, now, logger: await silentLogger() });
    server = await listen(app);
  });

  after(async () => {
    await server?.close();
    await aws?.stop();
  });

  describe('status API', () => {
    it('lists records in id order (ids are time-inverted: newest first), one page', async () => {
      const res = await get('/api/videos');
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      const body = (await res.json()) as { videos: { videoId: string; status: string }[]; nextCursor: string | null };
      expect(body.videos.map((v) => [v.videoId, v.status])).to.deep.equal([
        [READY, 'ready'],
        [BUSY, 'processing'],
        [NO_DOWNLOAD, 'ready'],
      ]);
      expect(body.nextCursor).to.equal(null);
    });

    it('returns one record, 404 JSON for an unknown or malformed id', async () => {
      const res = await get(`/api/videos/${READY}`);
      expect(res.status).to.equal(200);
      const rec = (await res.json()) as Record<string, unknown>;
      expect(rec).to.include({ videoId: READY, status: 'ready', progress: 100, durationSeconds: 9.2, filename: 'clip.mp4' });
      expect(rec.renditions).to.deep.equal([{ name: '720p', width: 1280, height: 720, bandwidth: 2928000 }]);

      // The poster comes with a signed URL of each image (the video's policy), that the edge accepts.
      const poster = rec.poster as { available: true; images: { url: string; path: string }[] };
      expect(poster.available).to.equal(true);
      const url = new URL(poster.images[0]!.url);
      expect(url.origin + url.pathname).to.equal(`${PUBLIC}/videos/${READY}/poster/poster-320.jpg`);
      expect(url.searchParams.get('Signature')).to.be.a('string');
      const busy = (await (await get(`/api/videos/${BUSY}`)).json()) as Record<string, unknown>;
      expect(busy.poster).to.deep.equal({ available: false, reason: 'no_picture', message: 'The source has no picture (audio only)' });

      for (const id of [NONE, 'not-an-id', 'AAAAAAAAAAAAAAAAAAAA', `${READY}0`]) {
        const r = await get(`/api/videos/${id}`);
        expect(r.status, id).to.equal(404);
        expect(((await r.json()) as { error: { code: string } }).error.code).to.equal('not_found');
      }
    });
  });

  describe('playback', () => {
    it('is 409 not_ready unless the video is ready', async () => {
      const res = await get(`/api/videos/${BUSY}/playback`);
      expect(res.status).to.equal(409);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('not_ready');
      expect((await get(`/api/videos/${NONE}/playback`)).status).to.equal(404);
    });

    it('gives a CloudFront-signed master playlist URL with its expiry', async () => {
      const res = await get(`/api/videos/${READY}/playback`);
      expect(res.status).to.equal(200);
      const { url, expiresAt } = (await res.json()) as { url: string; expiresAt: string };
      expect(url).to.match(new RegExp(`^${PUBLIC}/videos/${READY}/master\\.m3u8\\?Policy=[A-Za-z0-9~_-]+&Signature=[A-Za-z0-9~_-]+&Key-Pair-Id=${kp.keyPairId}$`));
      const life = Date.parse(expiresAt) - clock.getTime();
      expect(life).to.be.at.least(14_400_000).and.at.most(15_300_000);
      const v = verifySignedRequest(requestFor(url, clock), trusted);
      expect(v).to.deep.include({ ok: true, kind: 'custom', resource: `${PUBLIC}/videos/${READY}/*` });
      expect(v.ok && v.expiresAt.toISOString()).to.equal(expiresAt);
    });
  });

  describe('signed playlists', () => {
    it('serves the master with every URI signed, the HLS content type and a bounded private max-age', async () => {
      const { url, expiresAt } = (await (await get(`/api/videos/${READY}/playback`)).json()) as { url: string; expiresAt: string };
      const res = await get(`/videos/${READY}/master.m3u8${new URL(url).search}`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^application\/vnd\.apple\.mpegurl/);
      const maxAge = Number(/^private, max-age=(\d+)$/.exec(res.headers.get('cache-control') ?? '')?.[1]);
      expect(maxAge).to.be.greaterThan(0).and.at.most((Date.parse(expiresAt) - clock.getTime()) / 1000);
      const text = await res.text();
      const uris = playlistUris(text);
      expect(uris).to.have.length(3);
      for (const u of uris) {
        expect(u.startsWith(`${PUBLIC}/videos/${READY}/`), u).to.equal(true);
        expect(verifySignedRequest(requestFor(u, clock), trusted).ok, u).to.equal(true);
      }
      for (const t of ['#EXT-X-INDEPENDENT-SEGMENTS', 'AVERAGE-BANDWIDTH=2628000', 'FRAME-RATE=30.000', 'CODECS="avc1.64001f,mp4a.40.2"', '#EXT-X-MEDIA:TYPE=AUDIO']) {
        expect(text).to.include(t);
      }
    });

    it('serves media playlists (renditions and the audio group) with signed segment URIs', async () => {
      const query = await playbackQuery();
      for (const r of ['720p', 'audio']) {
        const res = await get(`/videos/${READY}/${r}/index.m3u8${query}`);
        expect(res.status, r).to.equal(200);
        const text = await res.text();
        expect(playlistUris(text).map((u) => u.split('?')[0])).to.deep.equal([1, 2].map((n) => `${PUBLIC}/videos/${READY}/${r}/seg_0000${n}.ts`));
        expect(text).to.include('#EXT-X-ENDLIST').and.include('#EXT-X-PLAYLIST-TYPE:VOD').and.include('#EXT-X-TARGETDURATION:6');
      }
    });

    it('is 404 unless the video is ready, even if the files exist', async () => {
      const query = await playbackQuery();
      for (const p of [`/videos/${BUSY}/master.m3u8`, `/videos/${BUSY}/720p/index.m3u8`, `/videos/${NONE}/master.m3u8`]) {
        const res = await get(`${p}${query}`);
        expect(res.status, p).to.equal(404);
        expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('not_found');
      }
    });

    it('maps only onto videos/ playlists: no records, no segments, no traversal', async () => {
      for (const p of [
        `/videos/${READY}/../../records/${READY}.json`,
        `/videos/${READY}/%2e%2e/%2e%2e/records/${READY}.json`,
        `/videos/${READY}/..%2f..%2frecords%2f${READY}.m3u8`,
        `/videos/${READY}/720p/seg_00001.ts`,
        `/videos/${READY}/nope.m3u8`,
        `/videos/${READY}/a/b/c/d.m3u8`,
        `/videos/../records/${READY}.json`,
        `/records/${READY}.json`,
      ]) {
        const res = await rawGet(server.url, `${p}${await playbackQuery()}`);
        expect(res.status, p).to.equal(404);
        expect(res.body).not.to.include('"status":"ready"');
      }
    });

    it('caches ready playlists: served after the S3 object is gone', async () => {
      const query = await playbackQuery();
      const first = await get(`/videos/${READY}/480p/index.m3u8${query}`);
      await aws.s3.send(new DeleteObjectCommand({ Bucket: aws.mediaBucket, Key: `videos/${READY}/480p/index.m3u8` }));
      const res = await get(`/videos/${READY}/480p/index.m3u8${query}`);
      expect(res.status).to.equal(200);
      expect(await res.text()).to.equal(await first.text());
      // A conditional request for the same bytes is 304.
      expect((await get(`/videos/${READY}/480p/index.m3u8${query}`, { 'if-none-match': res.headers.get('etag')! })).status).to.equal(304);
      await put(aws.mediaBucket, `videos/${READY}/480p/index.m3u8`, MEDIA);
    });

    it('made one RSA signature for all of the above (same video, same window); a new window signs again', async () => {
      expect(sign.calls).to.equal(1);
      clock = new Date(clock.getTime() + 15 * 60_000);
      const query = await playbackQuery();
      expect(sign.calls).to.equal(2);
      expect((await get(`/videos/${READY}/master.m3u8${query}`)).status).to.equal(200);
      expect((await get(`/videos/${READY}/720p/index.m3u8${query}`)).status).to.equal(200);
      expect(sign.calls).to.equal(2);
    });
  });

  describe('a grant never outlives the grant it was made from', () => {
    const nowSeconds = () => clock.getTime() / 1000;

    it('signs every URI of a playlist to expire with the request\'s own signed URL, not later', async () => {
      // A viewer's URL with 10 minutes left: the URIs it gets must not live 4 h.
      const parent = nowSeconds() + 600;
      for (const p of ['master.m3u8', '720p/index.m3u8', 'audio/index.m3u8']) {
        const res = await get(`/videos/${READY}/${p}${grantQuery(parent)}`);
        expect(res.status, p).to.equal(200);
        const expiries = uriExpiries(await res.text());
        expect(expiries.length, p).to.be.greaterThan(0);
        for (const e of expiries) expect(e, p).to.be.at.most(parent);
        const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
        expect(maxAge, p).to.be.at.most(600);
      }
    });

    it('so refreshing playlists cannot extend a URL: following the chain keeps the first expiry', async () => {
      const parent = nowSeconds() + 900;
      let query = grantQuery(parent);
      for (let hop = 0; hop < 3; hop++) {
        clock = new Date(clock.getTime() + 60_000);
        const text = await (await get(`/videos/${READY}/master.m3u8${query}`)).text();
        const uris = playlistUris(text);
        for (const e of uriExpiries(text)) expect(e).to.equal(parent);
        query = new URL(uris[0]!).search;
      }
    });

    it('keeps a grant that expires later than its own at its own TTL', async () => {
      const parent = nowSeconds() + 30 * 24 * 3600;
      const res = await get(`/videos/${READY}/720p/index.m3u8${grantQuery(parent)}`);
      for (const e of uriExpiries(await res.text())) expect(e - nowSeconds()).to.be.at.most(14_400 + 900);
    });

    it('caches per expiry: viewers with different grants never get each other\'s text', async () => {
      const a = nowSeconds() + 1200;
      const b = nowSeconds() + 2400;
      const ta = await (await get(`/videos/${READY}/480p/index.m3u8${grantQuery(a)}`)).text();
      const tb = await (await get(`/videos/${READY}/480p/index.m3u8${grantQuery(b)}`)).text();
      const ta2 = await (await get(`/videos/${READY}/480p/index.m3u8${grantQuery(a)}`)).text();
      expect(uriExpiries(ta).every((e) => e === a)).to.equal(true);
      expect(uriExpiries(tb).every((e) => e === b)).to.equal(true);
      expect(ta2).to.equal(ta);
    });

    it('refuses a playlist request without a signed URL (403 missing_signature) or with an expired one', async () => {
      const cases: [string, string][] = [
        ['', 'missing_signature'],
        ['?Signature=x&Key-Pair-Id=y', 'missing_signature'],
        ['?Policy=not-a-policy&Signature=x', 'malformed_policy'],
        [grantQuery(nowSeconds() - 1), 'expired_signature'],
      ];
      for (const [query, code] of cases) {
        const res = await get(`/videos/${READY}/master.m3u8${query}`);
        expect(res.status, query).to.equal(403);
        expect(((await res.json()) as { error: { code: string } }).error.code, query).to.equal(code);
      }
    });
  });

  describe('answers from memory', () => {
    const nowSeconds = () => clock.getTime() / 1000;

    it('stop for a URL once its own grant has expired: 403 expired_signature, though its text is cached', async () => {
      const started = clock;
      const parent = Math.floor(nowSeconds()) + 600;
      const url = `/videos/${READY}/720p/index.m3u8${grantQuery(parent)}`;
      try {
        expect((await get(url)).status).to.equal(200);
        expect((await get(url)).status).to.equal(200); // from memory
        clock = new Date(parent * 1000);
        const res = await get(url);
        expect(res.status).to.equal(403);
        expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('expired_signature');
      } finally {
        clock = started;
      }
    });

    it('carry the request id the edge sent, the cache headers, and the same bytes as the first answer', async () => {
      const query = await playbackQuery();
      const first = await get(`/videos/${READY}/audio/index.m3u8${query}`);
      const hit = await get(`/videos/${READY}/audio/index.m3u8${query}`, { 'x-request-id': 'edge-req-1' });
      expect(hit.headers.get('x-request-id')).to.equal('edge-req-1');
      for (const h of ['content-type', 'cache-control', 'etag']) expect(hit.headers.get(h), h).to.equal(first.headers.get(h));
      expect(await hit.text()).to.equal(await first.text());
    });
  });

  describe('readiness of a cached video', () => {
    it('keeps serving while the record is re-read after readyTtlMs, and stops once it says the video is gone', async () => {
      const id = 'fffffffffffffffffff4';
      const store = new StatusStore(aws.s3, aws.mediaBucket);
      await store.create({ videoId: id, status: 'processing' });
      await store.transition(id, 'ready', { progress: 100 });
      await put(aws.mediaBucket, keys.master(id), MASTER);
      const signer = createVideoUrlSigner({ publicBaseUrl: PUBLIC, keyPairId: kp.keyPairId, privateKey: kp.privateKey, ttlSeconds: 14_400 });
      let t = clock.getTime();
      const app = createApp({ s3: aws.s3, mediaBucket: aws.mediaBucket, uploadsBucket: aws.uploadsBucket, signer, now: () => new Date(t), logger: await silentLogger(), cache: { readyTtlMs: 1_000 } });
      const own = await listen(app);
      try {
        const url = `${own.url}${new URL(signer.signedUrl(id, 'master.m3u8', new Date(t)).url).pathname}${new URL(signer.signedUrl(id, 'master.m3u8', new Date(t)).url).search}`;
        expect((await fetch(url)).status).to.equal(200);
        await store.delete(id);
        t += 2_000; // readiness is stale now
        // Still answered from memory (no viewer waits on S3) while the record is re-read…
        expect((await fetch(url)).status).to.equal(200);
        // …and once the re-read has seen the record gone, no longer.
        let status = 200;
        for (let i = 0; i < 200 && status === 200; i++) status = (await fetch(url)).status;
        expect(status).to.equal(404);
      } finally {
        await own.close();
        app.hitLog.close();
      }
    });
  });

  describe('access log of the hot path', () => {
    /** Runs `fn` against a stream app of its own whose log lines (at `level`) are collected in `lines`. */
    async function withLoggedApp(level: 'info' | 'debug', fn: (url: string, app: ReturnType<typeof createApp>, lines: string[]) => Promise<void>) {
      const lines: string[] = [];
      const logger = createLogger('stream', level, { write: (l: string) => void lines.push(l) });
      const signer = createVideoUrlSigner({ publicBaseUrl: PUBLIC, keyPairId: kp.keyPairId, privateKey: kp.privateKey, ttlSeconds: 14_400 });
      const app = createApp({ s3: aws.s3, mediaBucket: aws.mediaBucket, uploadsBucket: aws.uploadsBucket, signer, now: () => clock, logger, hitLogIntervalMs: 3_600_000 });
      const own = await listen(app);
      try {
        await fn(own.url, app, lines);
      } finally {
        await own.close();
        app.hitLog.close();
      }
    }

    it('counts cache hits per video into one line per interval, with no signed query in it', async () => {
      await withLoggedApp('info', async (url, app, lines) => {
        const query = grantQuery(clock.getTime() / 1000 + 3600);
        for (let i = 0; i < 5; i++) expect((await fetch(`${url}/videos/${READY}/master.m3u8${query}`)).status).to.equal(200);
        app.hitLog.flush();
        const hits = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'playlist cache hits');
        // The first request is a miss (read, signed, cached: its own access-log line); the other four are hits.
        expect(hits).to.have.length(1);
        expect(hits[0]).to.deep.include({ hits: 4, videos: { [READY]: 4 } });
        expect(lines.filter((l) => JSON.parse(l).msg === 'request completed')).to.have.length(1);
        expect(lines.join('')).not.to.include(new URLSearchParams(query).get('Signature')!);
      });
    });

    it('at debug level logs every hit on its own line, with a request id it also sends back, and no signed query', async () => {
      await withLoggedApp('debug', async (url, _app, lines) => {
        const query = grantQuery(clock.getTime() / 1000 + 3600);
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          const res = await fetch(`${url}/videos/${READY}/master.m3u8${query}`);
          expect(res.status).to.equal(200);
          ids.push(res.headers.get('x-request-id')!);
        }
        const hitLines = lines.map((l) => JSON.parse(l)).filter((l) => l.path === 'cached-playlist' && l.msg === 'request completed');
        // The first request is a miss (Express logs it); the other two are hits, each with its own line and id.
        expect(hitLines.map((l) => l.reqId)).to.deep.equal(ids.slice(1));
        expect(new Set(ids.slice(1)).size).to.equal(2);
        for (const l of hitLines) expect(l).to.deep.include({ videoId: READY, url: `/videos/${READY}/master.m3u8`, statusCode: 200 });
        expect(lines.join('')).not.to.include(new URLSearchParams(query).get('Signature')!);
      });
    });
  });

  describe('MP4 download', () => {
    it('gives a signed URL of the download once ready; 409 before; 404 no_download without one', async () => {
      const res = await get(`/api/videos/${READY}/download`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      const body = (await res.json()) as { url: string; expiresAt: string };
      const url = new URL(body.url);
      expect(url.origin + url.pathname).to.equal(`${PUBLIC}/videos/${READY}/download.mp4`);
      expect(url.searchParams.get('Signature')).to.be.a('string');
      expect(Date.parse(body.expiresAt)).to.be.greaterThan(clock.getTime());

      const busy = await get(`/api/videos/${BUSY}/download`);
      expect(busy.status).to.equal(409);
      expect(((await busy.json()) as { error: { code: string } }).error.code).to.equal('not_ready');
      const none = await get(`/api/videos/${NO_DOWNLOAD}/download`);
      expect(none.status).to.equal(404);
      expect(((await none.json()) as { error: { code: string; message: string } }).error).to.deep.equal({ code: 'no_download', message: 'The MP4 download could not be made: disk full' });
      expect((await get(`/api/videos/${NONE}/download`)).status).to.equal(404);
    });
  });

  describe('source download', () => {
    it('streams the whole upload with its type and original name', async () => {
      const res = await get(`/api/videos/${READY}/source`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('video/mp4');
      expect(res.headers.get('content-length')).to.equal('1000');
      expect(res.headers.get('accept-ranges')).to.equal('bytes');
      expect(res.headers.get('content-disposition')).to.equal(`inline; filename="Caf_ _final_.mp4"; filename*=UTF-8''Caf%C3%A9%20%22final%22.mp4`);
      expect(Buffer.from(await res.arrayBuffer()).equals(source)).to.equal(true);
    });

    it('answers a Range with 206, Content-Range and exactly those bytes', async () => {
      const res = await get(`/api/videos/${READY}/source`, { range: 'bytes=100-199' });
      expect(res.status).to.equal(206);
      expect(res.headers.get('content-range')).to.equal('bytes 100-199/1000');
      expect(res.headers.get('content-length')).to.equal('100');
      expect(res.headers.get('accept-ranges')).to.equal('bytes');
      expect(res.headers.get('etag')).to.be.a('string');
      expect(Buffer.from(await res.arrayBuffer()).equals(source.subarray(100, 200))).to.equal(true);

      const tail = await get(`/api/videos/${READY}/source`, { range: 'bytes=-10' });
      expect(tail.status).to.equal(206);
      expect(tail.headers.get('content-range')).to.equal('bytes 990-999/1000');
      expect(Buffer.from(await tail.arrayBuffer()).equals(source.subarray(990))).to.equal(true);

      const open = await get(`/api/videos/${READY}/source`, { range: 'bytes=995-' });
      expect(open.headers.get('content-range')).to.equal('bytes 995-999/1000');
      expect(Buffer.from(await open.arrayBuffer()).equals(source.subarray(995))).to.equal(true);
    });

    it('answers 416 with Content-Range: bytes */size for a range outside the file', async () => {
      const res = await get(`/api/videos/${READY}/source`, { range: 'bytes=5000-6000' });
      expect(res.status).to.equal(416);
      expect(res.headers.get('content-range')).to.equal('bytes */1000');
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('range_not_satisfiable');
    });

    it('ignores a malformed or multi-part Range (whole file, 200)', async () => {
      for (const range of ['bytes=5-2', 'bytes=0-1,5-6', 'items=0-1']) {
        const res = await get(`/api/videos/${READY}/source`, { range });
        expect(res.status, range).to.equal(200);
        expect((await res.arrayBuffer()).byteLength).to.equal(1000);
      }
    });

    it('is 404 JSON when there is no source', async () => {
      const res = await get(`/api/videos/${BUSY}/source`);
      expect(res.status).to.equal(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('not_found');
    });
  });
});
