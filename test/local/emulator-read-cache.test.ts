import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startFauxqs } from 'fauxqs';
import { cachedReadBody, fauxqsObjectFile } from '../../local/emulator-read-cache.js';

describe('local/emulator-read-cache (fauxqs reads a whole object file per GET)', () => {
  let dir: string;
  let reads: string[];
  const file = (_b: string, k: string) => path.join(dir, k);
  const readBody = (b: string, k: string) => {
    reads.push(k);
    return readFileSync(file(b, k));
  };
  const limits = { fromBytes: 100, maxBytes: 1000 };
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'read-cache-'));
    reads = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a large object once for many GETs, and again once it is overwritten, even with the same size', () => {
    const read = cachedReadBody(readBody, file, limits);
    writeFileSync(path.join(dir, 'src'), Buffer.alloc(400, 1));
    for (let i = 0; i < 5; i++) expect(read('b', 'src')[0]).to.equal(1);
    expect(reads).to.deep.equal(['src']);
    // Written as fauxqs writes a completed upload: a new file renamed into place.
    writeFileSync(path.join(dir, 'tmp'), Buffer.alloc(400, 2));
    renameSync(path.join(dir, 'tmp'), path.join(dir, 'src'));
    expect(read('b', 'src')[0]).to.equal(2);
    expect(reads).to.deep.equal(['src', 'src']);
  });

  it('does not keep small objects (playlists are rewritten many times a second)', () => {
    const read = cachedReadBody(readBody, file, limits);
    writeFileSync(path.join(dir, 'm3u8'), Buffer.alloc(50, 1));
    read('b', 'm3u8');
    writeFileSync(path.join(dir, 'm3u8'), Buffer.alloc(50, 3));
    expect(read('b', 'm3u8')[0]).to.equal(3);
    expect(reads).to.deep.equal(['m3u8', 'm3u8']);
  });

  it('keeps at most maxBytes, least recently read out first; a deleted object gets fauxqs’s own error', () => {
    const read = cachedReadBody(readBody, file, limits);
    for (const k of ['a', 'b', 'c']) writeFileSync(path.join(dir, k), Buffer.alloc(400, 1));
    read('x', 'a');
    read('x', 'b');
    read('x', 'a'); // a is now the most recent
    read('x', 'c'); // 1200 > 1000: b goes
    reads = [];
    read('x', 'a');
    read('x', 'c');
    read('x', 'b');
    expect(reads).to.deep.equal(['b']);
    unlinkSync(path.join(dir, 'a'));
    expect(() => read('x', 'a')).to.throw(/ENOENT/);
  });

  it('finds fauxqs’s file for a key: slashes are directories, unsafe characters percent-encoded', () => {
    expect(fauxqsObjectFile('/s3', 'vod-uploads', 'sources/abc/source')).to.equal('/s3/buckets/vod-uploads/objects/sources/abc/source.data');
    expect(fauxqsObjectFile('/s3', 'b', 'a:b?%')).to.equal('/s3/buckets/b/objects/a%3ab%3f%25.data');
  });

  it('fauxqsObjectFile is where this fauxqs version really writes an object (else the cache would silently never hit)', async () => {
    const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false, s3StorageDir: dir });
    const s3 = new S3Client({ region: 'us-east-1', endpoint: `http://127.0.0.1:${server.port}`, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'vod-uploads' }));
      await s3.send(new PutObjectCommand({ Bucket: 'vod-uploads', Key: 'sources/abc/source', Body: 'x' }));
      expect(existsSync(fauxqsObjectFile(dir, 'vod-uploads', 'sources/abc/source'))).to.equal(true);
    } finally {
      s3.destroy();
      await server.stop();
    }
  });
});
