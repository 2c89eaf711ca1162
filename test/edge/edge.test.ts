import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http, { type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { expect } from 'chai';
import express from 'express';
import { CORS, keys } from '@vod/contract';
import { StatusStore } from '@vod/service-kit';
import { createApp } from '../../containers/stream/src/app.js';
import { createVideoUrlSigner } from '../../containers/stream/src/url-signer.js';
import { createEdge, requestTarget } from '../../local/edge.js';
import { startTestAws, type TestAws } from '../support/emulator.js';
import { listen, silentLogger } from '../support/http.js';
import { makeKeyPair, playlistUris, rawGet } from '../stream/support.js';

const VIDEO = 'dddddddddddddddddddd';
const OTHER = 'eeeeeeeeeeeeeeeeeeee';
const SEGMENT = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));

const MASTER = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-STREAM-INF:BANDWIDTH=1240000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=854x480
480p/index.m3u8
`;
const MEDIA = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:6
#EXT-X-PLAYLIST-TYPE:VOD
#EXTINF:6.000000,
seg_00001.ts
#EXT-X-ENDLIST
`;

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bytes: number;
}

describe('local edge (CloudFront stand-in) against the S3 emulator and a stream service', function () {
  this.timeout(30_000);
  let aws: TestAws;
  let edgeServer: Server;
  let edgeUrl: string;
  let stream: { url: string; close(): Promise<void> };
  let upload: { url: string; close(): Promise<void> };
  let clock: Date;
  let webRoot: string;
  const seen: Seen[] = [];
  let firstBytes: (() => void) | undefined;
  const kp = makeKeyPair('KEDGETEST00001');

  const playbackUrl = async () => {
    const res = await fetch(`${edgeUrl}/api/videos/${VIDEO}/playback`);
    expect(res.status).to.equal(200);
    return ((await res.json()) as { url: string }).url;
  };
  /** Master → first variant → first segment, all through the edge. */
  const segmentUrl = async () => {
    const master = await (await fetch(await playbackUrl())).text();
    const media = await (await fetch(playlistUris(master)[0])).text();
    return playlistUris(media)[0];
  };
  const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
  /**
   * GET with an absolute-form request line (`GET http://host:port/videos/… HTTP/1.1`,
   * RFC 9112 §3.2.2), as a client talking to a proxy sends it: Node writes
   * `path` into the request line verbatim (the test checks what the edge got).
   */
  const absoluteGet = (url: string): Promise<{ status: number; body: Buffer }> => {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const req = http.request({ host: u.hostname, port: u.port, path: u.href, method: 'GET' }, async (res) =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(await res.toArray()) }),
      );
      req.on('error', reject);
      req.end();
    });
  };

  before(async () => {
    aws = await startTestAws();
    clock = new Date();
    const logger = await silentLogger();

    // The edge's port must be known before the stream service (it signs for the edge's origin).
    edgeServer = http.createServer();
    edgeServer.listen(0, '127.0.0.1');
    await once(edgeServer, 'listening');
    edgeUrl = `http://127.0.0.1:${(edgeServer.address() as { port: number }).port}`;

    const store = new StatusStore(aws.s3, aws.mediaBucket);
    await store.create({ videoId: VIDEO, status: 'processing' });
    await store.transition(VIDEO, 'ready', { progress: 100 });
    const put = (Key: string, Body: string | Buffer, ContentType?: string) =>
      aws.s3.send(new PutObjectCommand({ Bucket: aws.mediaBucket, Key, Body, ContentType }));
    await put(keys.master(VIDEO), MASTER, 'application/vnd.apple.mpegurl');
    await put(`videos/${VIDEO}/480p/index.m3u8`, MEDIA, 'application/vnd.apple.mpegurl');
    await put(`videos/${VIDEO}/480p/seg_00001.ts`, SEGMENT, 'video/mp2t');
    await put(`videos/${OTHER}/480p/seg_00001.ts`, SEGMENT, 'video/mp2t');

    const signer = createVideoUrlSigner({ publicBaseUrl: edgeUrl, keyPairId: kp.keyPairId, privateKey: kp.privateKey, ttlSeconds: 3600 });
    stream = await listen(createApp({ s3: aws.s3, mediaBucket: aws.mediaBucket, uploadsBucket: aws.uploadsBucket, signer, now: () => clock, logger }));

    // A stand-in upload service that records what reached it and counts body bytes as they stream in.
    const up = express();
    up.use((req, res) => {
      const s: Seen = { method: req.method, url: req.originalUrl, headers: req.headers, bytes: 0 };
      seen.push(s);
      req.on('data', (c: Buffer) => {
        if (s.bytes === 0) firstBytes?.();
        s.bytes += c.length;
      });
      req.on('end', () => res.status(202).json({ got: s.bytes, url: s.url }));
    });
    upload = await listen(up);

    webRoot = mkdtempSync(path.join(os.tmpdir(), 'edge-web-'));
    writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>vod</title>');
    writeFileSync(path.join(webRoot, 'app.js'), 'console.log(1)');

    const edge = createEdge({
      uploadOrigin: upload.url,
      streamOrigin: stream.url,
      s3: aws.s3,
      mediaBucket: aws.mediaBucket,
      trustedKeys: { [kp.keyPairId]: kp.publicKey },
      webRoot,
      now: () => clock,
      logger,
    });
    edgeServer.on('request', edge);
  });

  after(async () => {
    edgeServer?.closeAllConnections();
    await new Promise((r) => (edgeServer ? edgeServer.close(r) : r(undefined)));
    await stream?.close();
    await upload?.close();
    await aws?.stop();
    if (webRoot) rmSync(webRoot, { recursive: true, force: true });
  });

  describe('signed media', () => {
    it('plays through: signed master → signed media playlist → segment (200, exact bytes)', async () => {
      const url = await segmentUrl();
      expect(url.startsWith(`${edgeUrl}/videos/${VIDEO}/480p/seg_00001.ts?Policy=`)).to.equal(true);
      const res = await fetch(url);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('video/mp2t');
      expect(res.headers.get('content-length')).to.equal(String(SEGMENT.length));
      expect(res.headers.get('accept-ranges')).to.equal('bytes');
      expect(res.headers.get('etag')).to.be.a('string');
      expect(Buffer.from(await res.arrayBuffer()).equals(SEGMENT)).to.equal(true);
    });

    it('answers a Range on a segment with 206 and exactly those bytes; HEAD has headers only', async () => {
      const url = await segmentUrl();
      const res = await fetch(url, { headers: { range: 'bytes=1000-1999' } });
      expect(res.status).to.equal(206);
      expect(res.headers.get('content-range')).to.equal(`bytes 1000-1999/${SEGMENT.length}`);
      expect(res.headers.get('content-length')).to.equal('1000');
      expect(Buffer.from(await res.arrayBuffer()).equals(SEGMENT.subarray(1000, 2000))).to.equal(true);

      const bad = await fetch(url, { headers: { range: 'bytes=99999-' } });
      expect(bad.status).to.equal(416);
      expect(bad.headers.get('content-range')).to.equal(`bytes */${SEGMENT.length}`);

      const head = await fetch(url, { method: 'HEAD' });
      expect(head.status).to.equal(200);
      expect(head.headers.get('content-length')).to.equal(String(SEGMENT.length));
    });

    it('refuses a missing signature with 403 missing_signature', async () => {
      for (const p of [`/videos/${VIDEO}/480p/seg_00001.ts`, `/videos/${VIDEO}/master.m3u8`]) {
        const res = await fetch(edgeUrl + p);
        expect(res.status, p).to.equal(403);
        expect(await errorCode(res)).to.equal('missing_signature');
      }
    });

    it('checks the path it routes also for an absolute-form request line: unsigned is refused as in origin-form, signed plays', async () => {
      // The request-target exactly as it reached the edge's server, to prove these requests really were absolute-form.
      const targets: string[] = [];
      const record = (req: http.IncomingMessage) => void targets.push(req.url ?? '');
      edgeServer.prependListener('request', record);
      try {
        // Unsigned: the same answer as origin-form (403 missing_signature), for a playlist (services origin) and a segment (bucket).
        // Before requestTarget(), the edge looked the whole URL up in the behaviours, so no signed behaviour matched.
        for (const p of [`/videos/${VIDEO}/master.m3u8`, `/videos/${VIDEO}/480p/seg_00001.ts`]) {
          const origin = await fetch(edgeUrl + p);
          const absolute = await absoluteGet(edgeUrl + p);
          expect(absolute.status, p).to.equal(origin.status);
          expect(absolute.status, p).to.equal(403);
          expect(JSON.parse(absolute.body.toString()).error.code, p).to.equal(await errorCode(origin));
        }
        // Signed: verified against the same path and query, so it is served like the origin-form request.
        const master = await absoluteGet(await playbackUrl());
        expect(master.status).to.equal(200);
        expect(master.body.toString()).to.match(/^#EXTM3U/);
        const segment = await absoluteGet(await segmentUrl());
        expect(segment.status).to.equal(200);
        expect(segment.body.equals(SEGMENT)).to.equal(true);
      } finally {
        edgeServer.off('request', record);
      }
      const absolute = targets.filter((t) => t.startsWith(`${edgeUrl}/videos/`));
      expect(absolute, JSON.stringify(targets)).to.have.length(4);
    });

    it('refuses a tampered signature or policy with 403 invalid_signature', async () => {
      const url = await segmentUrl();
      const sig = /Signature=([^&]+)/.exec(url)![1];
      const tampered = url.replace(sig, (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
      const res = await fetch(tampered);
      expect(res.status).to.equal(403);
      expect(await errorCode(res)).to.equal('invalid_signature');

      const policy = /Policy=([^&]+)/.exec(url)![1];
      const res2 = await fetch(url.replace(policy, policy.slice(0, -4) + (policy.endsWith('AAAA') ? 'BBBB' : 'AAAA')));
      expect(res2.status).to.equal(403);
      expect(await errorCode(res2)).to.equal('invalid_signature');
    });

    it("refuses another video's segment with this video's signature (403 resource_mismatch)", async () => {
      const url = (await segmentUrl()).replace(`/videos/${VIDEO}/`, `/videos/${OTHER}/`);
      const res = await fetch(url);
      expect(res.status).to.equal(403);
      expect(await errorCode(res)).to.equal('resource_mismatch');
    });

    it('refuses an unknown Key-Pair-Id (403 unknown_key_pair)', async () => {
      const url = (await segmentUrl()).replace(/Key-Pair-Id=[^&]+/, 'Key-Pair-Id=KUNKNOWN');
      const res = await fetch(url);
      expect(res.status).to.equal(403);
      expect(await errorCode(res)).to.equal('unknown_key_pair');
    });

    it('refuses an expired URL (403 expired_signature)', async () => {
      const url = await segmentUrl();
      const saved = clock;
      clock = new Date(saved.getTime() + 2 * 3600_000);
      try {
        const res = await fetch(url);
        expect(res.status).to.equal(403);
        expect(await errorCode(res)).to.equal('expired_signature');
      } finally {
        clock = saved;
      }
    });

    it('is 404 for a missing object with a valid signature; never reaches records/', async () => {
      const url = (await segmentUrl()).replace('seg_00001.ts', 'seg_09999.ts');
      expect((await fetch(url)).status).to.equal(404);

      // A policy for the whole distribution still cannot walk out of videos/.
      const policy = JSON.stringify({ Statement: [{ Resource: `${edgeUrl}/*`, Condition: { DateLessThan: { 'AWS:EpochTime': Math.floor(clock.getTime() / 1000) + 600 } } }] });
      const anyUrl = getSignedUrl({ url: `${edgeUrl}/`, policy, keyPairId: kp.keyPairId, privateKey: kp.privateKey });
      const query = anyUrl.slice(anyUrl.indexOf('?'));
      for (const p of [`/videos/%2e%2e/records/${VIDEO}.json`, `/videos/..%2frecords%2f${VIDEO}.json`, `/videos/${VIDEO}/../../records/${VIDEO}.json`]) {
        const res = await rawGet(edgeUrl, p + query);
        expect(res.status, p).to.equal(404);
        expect(res.body).not.to.include('"status"');
      }
    });

    it('refuses writes to /videos/* (405)', async () => {
      const res = await fetch(await segmentUrl(), { method: 'PUT', body: 'x' });
      expect(res.status).to.equal(405);
    });
  });

  describe('routing, CORS, streaming', () => {
    it('answers a CORS preflight itself', async () => {
      const res = await fetch(`${edgeUrl}/api/uploads/abc/parts/1`, {
        method: 'OPTIONS',
        headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(res.status).to.equal(204);
      expect(res.headers.get('access-control-allow-origin')).to.equal('*');
      expect(res.headers.get('access-control-allow-methods')).to.equal(CORS.allowMethods.join(', '));
      expect(res.headers.get('access-control-allow-headers')).to.equal('Authorization, Content-Type, Range');
      expect(seen.filter((s) => s.method === 'OPTIONS')).to.have.length(0);
    });

    it('adds CORS headers (exposing range headers) to media, API and error responses', async () => {
      for (const res of [await fetch(await segmentUrl()), await fetch(`${edgeUrl}/api/videos`), await fetch(`${edgeUrl}/videos/${VIDEO}/x.ts`)]) {
        expect(res.headers.get('access-control-allow-origin')).to.equal('*');
        expect(res.headers.get('access-control-expose-headers')).to.equal('Content-Range, Accept-Ranges, Content-Length, ETag');
        await res.arrayBuffer();
      }
    });

    it('routes /api/uploads* and POST /api/videos to the upload service, other /api/* to the stream service', async () => {
      seen.length = 0;
      const a = await fetch(`${edgeUrl}/api/uploads?x=1`, { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: '{"a":1}' });
      expect(a.status).to.equal(202);
      const b = await fetch(`${edgeUrl}/api/videos`, { method: 'POST', body: 'abc' });
      expect(b.status).to.equal(202);
      const c = await fetch(`${edgeUrl}/api/videos`);
      expect(c.status).to.equal(200);
      expect(((await c.json()) as { videos: unknown[] }).videos).to.have.length(1);
      expect(seen.map((s) => [s.method, s.url, s.bytes])).to.deep.equal([
        ['POST', '/api/uploads?x=1', 7],
        ['POST', '/api/videos', 3],
      ]);
      expect(seen[0].headers.authorization).to.equal('Bearer t');
      expect(seen[0].headers['x-forwarded-for']).to.be.a('string');
    });

    it('streams request bodies through without buffering them', async () => {
      const total = 16 * 1024 * 1024;
      const chunk = Buffer.alloc(1024 * 1024, 7);
      const reached = new Promise<void>((resolve) => (firstBytes = resolve));
      const { port } = new URL(edgeUrl);
      const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: '/api/uploads/u1/parts/1', headers: { 'content-length': String(total), 'content-type': 'application/octet-stream' } });
      const response = once(req, 'response');
      req.write(chunk);
      // The upload service sees bytes while 15 MiB are still unsent: nothing waits for the whole body.
      await reached;
      firstBytes = undefined;
      for (let sent = chunk.length; sent < total; sent += chunk.length) {
        if (!req.write(chunk)) await once(req, 'drain');
      }
      req.end();
      const [res] = (await response) as [http.IncomingMessage];
      const body = JSON.parse((await res.toArray()).map(String).join(''));
      expect(res.statusCode).to.equal(202);
      expect(body).to.deep.equal({ got: total, url: '/api/uploads/u1/parts/1' });
    });

    it('answers 502 JSON when an origin is down', async () => {
      const dead = createEdge({
        uploadOrigin: 'http://127.0.0.1:9',
        streamOrigin: 'http://127.0.0.1:9',
        s3: aws.s3,
        mediaBucket: aws.mediaBucket,
        trustedKeys: {},
        logger: await silentLogger(),
      });
      const srv = await listen(dead);
      try {
        const res = await fetch(`${srv.url}/api/videos`);
        expect(res.status).to.equal(502);
        expect(await errorCode(res)).to.equal('bad_gateway');
      } finally {
        await srv.close();
      }
    });

    it('serves the web app with an SPA fallback, and its own /healthz', async () => {
      const index = await fetch(`${edgeUrl}/`);
      expect(index.status).to.equal(200);
      expect(await index.text()).to.include('<title>vod</title>');
      expect(await (await fetch(`${edgeUrl}/app.js`)).text()).to.equal('console.log(1)');
      const deep = await fetch(`${edgeUrl}/watch/${VIDEO}`, { headers: { accept: 'text/html' } });
      expect(deep.status).to.equal(200);
      expect(await deep.text()).to.include('<title>vod</title>');
      expect(await (await fetch(`${edgeUrl}/healthz`)).json()).to.deep.equal({ ok: true });
    });
  });
});

describe('requestTarget: the path and query the edge routes and verifies', () => {
  it('keeps origin-form, reduces absolute-form to its path and query, and a bare authority to /', () => {
    expect(requestTarget('/videos/v/master.m3u8?Policy=p&Signature=s')).to.equal('/videos/v/master.m3u8?Policy=p&Signature=s');
    expect(requestTarget('/')).to.equal('/');
    // RFC 9112 §3.2.2: what a client sends to a proxy; the path is what must be signed.
    expect(requestTarget('http://127.0.0.1:8080/videos/v/master.m3u8?Policy=p&Signature=s')).to.equal('/videos/v/master.m3u8?Policy=p&Signature=s');
    expect(requestTarget('HTTPS://cdn.example.com/videos/v/480p/seg_00001.ts')).to.equal('/videos/v/480p/seg_00001.ts');
    // No path: the target is the root (with the query, if any), never the authority itself.
    expect(requestTarget('http://127.0.0.1:8080')).to.equal('/');
    expect(requestTarget('http://127.0.0.1:8080?x=1')).to.equal('/?x=1');
  });
});
