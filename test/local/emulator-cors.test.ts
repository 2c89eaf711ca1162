import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { UPLOADS_BUCKET_CORS } from '@vod/contract';
import { withBucketCors } from '../../local/emulator-cors.js';

describe('local emulator: the uploads bucket CORS rule (emulator-cors.ts)', () => {
  let server: http.Server;
  let base = '';
  const reached: string[] = [];

  before(async () => {
    // Stands in for fauxqs: answers every request it is handed with an ETag.
    server = http.createServer(
      withBucketCors('vod-uploads', (req, res) => {
        reached.push(`${req.method} ${req.url}`);
        res.writeHead(200, { etag: '"abc"' });
        res.end();
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    reached.length = 0;
  });

  const part = '/vod-uploads/sources/v1/source?partNumber=1&uploadId=u&X-Amz-Signature=s';

  it('answers a preflight for a PUT to the uploads bucket itself, with the contract rule', async () => {
    const res = await fetch(base + part, {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.1:8080', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' },
    });
    expect(res.status).to.equal(200);
    expect(res.headers.get('access-control-allow-origin')).to.equal('*');
    expect(res.headers.get('access-control-allow-methods')).to.equal(UPLOADS_BUCKET_CORS.allowedMethods.join(', '));
    expect(res.headers.get('access-control-allow-headers')).to.equal('content-type');
    expect(res.headers.get('access-control-max-age')).to.equal(String(UPLOADS_BUCKET_CORS.maxAgeSeconds));
    expect(reached).to.deep.equal([]);
  });

  it('refuses a preflight the rule does not allow (a method or header outside it) with 403, as S3 does', async () => {
    const del = await fetch(base + part, { method: 'OPTIONS', headers: { origin: 'http://x', 'access-control-request-method': 'DELETE' } });
    expect(del.status).to.equal(403);
    const header = await fetch(base + part, {
      method: 'OPTIONS',
      headers: { origin: 'http://x', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-amz-acl' },
    });
    expect(header.status).to.equal(403);
    expect(header.headers.get('access-control-allow-origin')).to.equal(null);
    expect(reached).to.deep.equal([]);
  });

  it("adds the rule's headers to a cross-origin PUT's answer, so a page can read the ETag", async () => {
    const res = await fetch(base + part, { method: 'PUT', headers: { origin: 'http://127.0.0.1:8080' }, body: 'x' });
    expect(res.headers.get('etag')).to.equal('"abc"');
    expect(res.headers.get('access-control-allow-origin')).to.equal('*');
    expect(res.headers.get('access-control-expose-headers')).to.equal('ETag');
    expect(reached).to.deep.equal([`PUT ${part}`]);
  });

  it('leaves other buckets, same-origin requests and methods outside the rule untouched', async () => {
    const other = await fetch(`${base}/vod-media/videos/x`, { method: 'PUT', headers: { origin: 'http://x' }, body: 'x' });
    expect(other.headers.get('access-control-allow-origin')).to.equal(null);
    const preflightOther = await fetch(`${base}/vod-media/videos/x`, { method: 'OPTIONS', headers: { origin: 'http://x', 'access-control-request-method': 'PUT' } });
    expect(preflightOther.headers.get('access-control-allow-origin')).to.equal(null);
    const noOrigin = await fetch(base + part, { method: 'PUT', body: 'x' });
    expect(noOrigin.headers.get('access-control-allow-origin')).to.equal(null);
    const get = await fetch(base + part, { headers: { origin: 'http://x' } });
    expect(get.headers.get('access-control-allow-origin')).to.equal(null);
    expect(reached).to.have.length(4);
  });
});
