import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { WebApp, webAppFiles } from '../../infra/webapp.js';
import { installMocks, ofType, settle } from './harness.js';

describe('web app publishing (infra/webapp.ts)', () => {
  let dist: string;
  before(async () => {
    await installMocks();
    dist = mkdtempSync(path.join(os.tmpdir(), 'vod-dist-'));
    mkdirSync(path.join(dist, 'assets'));
    writeFileSync(path.join(dist, 'index.html'), '<!doctype html>');
    writeFileSync(path.join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(path.join(dist, 'assets', 'index-abc123.css'), 'body{}');
  });
  after(() => rmSync(dist, { recursive: true, force: true }));

  it('lists files with content types; hashed assets are immutable, index.html revalidates', () => {
    expect(webAppFiles(dist)).to.deep.equal([
      { rel: 'assets/index-abc123.css', contentType: 'text/css; charset=utf-8', cacheControl: 'public, max-age=31536000, immutable' },
      { rel: 'assets/index-abc123.js', contentType: 'text/javascript; charset=utf-8', cacheControl: 'public, max-age=31536000, immutable' },
      { rel: 'index.html', contentType: 'text/html; charset=utf-8', cacheControl: 'no-cache' },
    ]);
    expect(webAppFiles(path.join(dist, 'missing'))).to.deep.equal([]);
  });

  it('publishes each file to the media bucket under web/', async () => {
    const app = new WebApp('test-web', { bucketName: 'media-bucket', distDir: dist });
    await settle();
    expect(app.fileCount).to.equal(3);
    const objects = ofType('aws:s3/bucketObjectv2:BucketObjectv2').filter((r) => r.name.startsWith('test-web-'));
    expect(objects.map((o) => o.inputs.key).sort()).to.deep.equal(['web/assets/index-abc123.css', 'web/assets/index-abc123.js', 'web/index.html']);
    for (const o of objects) expect(o.inputs.bucket).to.equal('media-bucket');
  });

  it('refuses to deploy without a build (the site would answer AccessDenied), naming the command to run', () => {
    const empty = path.join(dist, 'missing');
    expect(() => new WebApp('test-web-missing', { bucketName: 'media-bucket', distDir: empty })).to.throw(
      /No web app build at .*missing.*npm run build:web/,
    );
    const noIndex = mkdtempSync(path.join(os.tmpdir(), 'vod-dist-noindex-'));
    writeFileSync(path.join(noIndex, 'app.js'), '');
    try {
      expect(() => new WebApp('test-web-noindex', { bucketName: 'media-bucket', distDir: noIndex })).to.throw(/no index\.html/);
    } finally {
      rmSync(noIndex, { recursive: true, force: true });
    }
  });
});
