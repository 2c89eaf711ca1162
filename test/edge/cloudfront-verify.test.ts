import { expect } from 'chai';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { createVideoUrlSigner } from '../../containers/stream/src/url-signer.js';
import {
  cannedPolicy,
  decodeCloudFrontBase64,
  encodeCloudFrontBase64,
  ipInCidr,
  matchesResource,
  resourceUrl,
  trustedKeysFromPem,
  verifySignedRequest,
  type TrustedKeys,
} from '../../local/cloudfront-verify.js';
import { makeKeyPair, requestFor, type TestKeyPair } from '../stream/support.js';

const BASE = 'http://127.0.0.1:8080';
const VIDEO = 'a1b2c3d4e5f6a7b8c9d0';
const OTHER = 'ffffffffffffffffffff';
const T0 = new Date('2030-01-01T00:00:00Z');

describe('CloudFront signed URLs: sign with @aws-sdk/cloudfront-signer, verify like CloudFront', () => {
  let kp: TestKeyPair;
  let other: TestKeyPair;
  let keys: TrustedKeys;

  before(() => {
    kp = makeKeyPair('KAAAAAAAAAAAAA');
    other = makeKeyPair('KBBBBBBBBBBBBB');
    keys = trustedKeysFromPem({ [kp.keyPairId]: kp.publicKey, [other.keyPairId]: other.publicKey });
  });

  const videoSigner = () =>
    createVideoUrlSigner({ publicBaseUrl: BASE, keyPairId: kp.keyPairId, privateKey: kp.privateKey, ttlSeconds: 3600, windowSeconds: 600 });

  describe('custom policy with a video-wide wildcard', () => {
    it('is accepted for every path under the video', () => {
      const grant = videoSigner().grant(VIDEO, T0);
      expect(JSON.parse(grant.policy).Statement[0].Resource).to.equal(`${BASE}/videos/${VIDEO}/*`);
      for (const p of ['master.m3u8', '720p/index.m3u8', '720p/seg_00001.ts', 'audio/index.m3u8', 'audio/seg_00042.ts', '1080p/init.mp4?x=1']) {
        const url = `${BASE}/videos/${VIDEO}/${p}${p.includes('?') ? '&' : '?'}${grant.query}`;
        const r = verifySignedRequest(requestFor(url, T0), keys);
        expect(r, p).to.deep.include({ ok: true, kind: 'custom', keyPairId: kp.keyPairId });
      }
    });

    it('stays valid until DateLessThan, then is expired_signature', () => {
      const { url, expiresAt } = videoSigner().signedUrl(VIDEO, 'master.m3u8', T0);
      expect(expiresAt.getTime() - T0.getTime()).to.be.at.least(3600_000).and.at.most(4200_000);
      expect(verifySignedRequest(requestFor(url, new Date(expiresAt.getTime() - 1000)), keys).ok).to.equal(true);
      const r = verifySignedRequest(requestFor(url, expiresAt), keys);
      expect(r).to.deep.include({ ok: false, code: 'expired_signature' });
    });

    it("rejects another video's path (resource_mismatch)", () => {
      const grant = videoSigner().grant(VIDEO, T0);
      const r = verifySignedRequest(requestFor(`${BASE}/videos/${OTHER}/720p/seg_00001.ts?${grant.query}`, T0), keys);
      expect(r).to.deep.include({ ok: false, code: 'resource_mismatch' });
    });

    it('rejects a different host than the one signed (resource_mismatch)', () => {
      const grant = videoSigner().grant(VIDEO, T0);
      const r = verifySignedRequest(requestFor(`http://localhost:8080/videos/${VIDEO}/master.m3u8?${grant.query}`, T0), keys);
      expect(r).to.deep.include({ ok: false, code: 'resource_mismatch' });
    });

    it('rejects a tampered policy (invalid_signature)', () => {
      const grant = videoSigner().grant(VIDEO, T0);
      // Re-point the policy at every video and push the expiry out; keep the old signature.
      const forged = grant.policy.replace(`/videos/${VIDEO}/*`, '/videos/*').replace(/"AWS:EpochTime":\d+/, '"AWS:EpochTime":4102444800');
      const query = grant.query.replace(/Policy=[^&]+/, `Policy=${encodeCloudFrontBase64(forged)}`);
      const r = verifySignedRequest(requestFor(`${BASE}/videos/${OTHER}/master.m3u8?${query}`, T0), keys);
      expect(r).to.deep.include({ ok: false, code: 'invalid_signature' });
    });

    it('rejects a tampered signature (invalid_signature)', () => {
      const grant = videoSigner().grant(VIDEO, T0);
      const sig = /Signature=([^&]+)/.exec(grant.query)![1];
      const flipped = (sig[10] === 'A' ? 'B' : 'A');
      const query = grant.query.replace(sig, sig.slice(0, 10) + flipped + sig.slice(11));
      const r = verifySignedRequest(requestFor(`${BASE}/videos/${VIDEO}/master.m3u8?${query}`, T0), keys);
      expect(r).to.deep.include({ ok: false, code: 'invalid_signature' });
    });

    it('rejects an unknown Key-Pair-Id (unknown_key_pair) and a trusted but wrong one (invalid_signature)', () => {
      const grant = videoSigner().grant(VIDEO, T0);
      const unknown = grant.query.replace(/Key-Pair-Id=[^&]+/, 'Key-Pair-Id=KNOTTRUSTED000');
      expect(verifySignedRequest(requestFor(`${BASE}/videos/${VIDEO}/master.m3u8?${unknown}`, T0), keys)).to.deep.include({
        ok: false,
        code: 'unknown_key_pair',
      });
      const wrong = grant.query.replace(/Key-Pair-Id=[^&]+/, `Key-Pair-Id=${other.keyPairId}`);
      expect(verifySignedRequest(requestFor(`${BASE}/videos/${VIDEO}/master.m3u8?${wrong}`, T0), keys)).to.deep.include({
        ok: false,
        code: 'invalid_signature',
      });
    });

    it('rejects a URL with no or partial signing parameters (missing_signature)', () => {
      const grant = videoSigner().grant(VIDEO, T0);
      expect(verifySignedRequest(requestFor(`${BASE}/videos/${VIDEO}/master.m3u8`, T0), keys)).to.deep.include({
        ok: false,
        code: 'missing_signature',
      });
      const noSig = grant.query.replace(/&Signature=[^&]+/, '');
      expect(verifySignedRequest(requestFor(`${BASE}/videos/${VIDEO}/master.m3u8?${noSig}`, T0), keys)).to.deep.include({
        ok: false,
        code: 'missing_signature',
      });
    });

    it('honours DateGreaterThan and IpAddress (SDK custom policy from parameters)', () => {
      const url = `${BASE}/videos/${VIDEO}/master.m3u8`;
      const signed = getSignedUrl({
        url,
        keyPairId: kp.keyPairId,
        privateKey: kp.privateKey,
        dateLessThan: new Date(T0.getTime() + 3600_000),
        dateGreaterThan: new Date(T0.getTime() + 60_000),
        ipAddress: '10.1.0.0/16',
      });
      expect(signed).to.include('Policy=');
      const later = new Date(T0.getTime() + 120_000);
      expect(verifySignedRequest(requestFor(signed, later, '10.1.2.3'), keys)).to.deep.include({ ok: true, kind: 'custom' });
      expect(verifySignedRequest(requestFor(signed, later, '::ffff:10.1.200.1'), keys).ok).to.equal(true);
      expect(verifySignedRequest(requestFor(signed, T0, '10.1.2.3'), keys)).to.deep.include({ ok: false, code: 'signature_not_yet_valid' });
      expect(verifySignedRequest(requestFor(signed, later, '10.2.0.1'), keys)).to.deep.include({ ok: false, code: 'ip_not_allowed' });
    });

    it('accepts SHA-256 signatures (Hash-Algorithm=SHA256)', () => {
      const policy = JSON.stringify({
        Statement: [{ Resource: `${BASE}/videos/${VIDEO}/*`, Condition: { DateLessThan: { 'AWS:EpochTime': 1893459600 } } }],
      });
      const signed = getSignedUrl({ url: `${BASE}/videos/${VIDEO}/a.ts`, policy, keyPairId: kp.keyPairId, privateKey: kp.privateKey, algorithm: 'SHA256' });
      expect(signed).to.include('Hash-Algorithm=SHA256');
      expect(verifySignedRequest(requestFor(signed, T0), keys).ok).to.equal(true);
      // A SHA-256 signature presented as SHA-1 does not verify.
      const asSha1 = signed.replace('&Hash-Algorithm=SHA256', '');
      expect(verifySignedRequest(requestFor(asSha1, T0), keys)).to.deep.include({ ok: false, code: 'invalid_signature' });
    });
  });

  describe('canned policy', () => {
    const url = `${BASE}/videos/${VIDEO}/720p/seg_00001.ts`;
    const expires = new Date(T0.getTime() + 600_000);
    const sign = (u = url) => getSignedUrl({ url: u, keyPairId: kp.keyPairId, privateKey: kp.privateKey, dateLessThan: expires });

    it('is accepted for exactly the signed URL, including its own query parameters', () => {
      const signed = sign();
      expect(signed).to.match(/\?Expires=\d+&/).and.include('&Signature=').and.include(`&Key-Pair-Id=${kp.keyPairId}`);
      expect(verifySignedRequest(requestFor(signed, T0), keys)).to.deep.include({ ok: true, kind: 'canned' });
      const withQuery = sign(`${url}?quality=high`);
      expect(verifySignedRequest(requestFor(withQuery, T0), keys)).to.deep.include({ ok: true, kind: 'canned' });
    });

    it('rejects another path, an added parameter, a changed Expires, and expiry', () => {
      const signed = sign();
      const otherPath = signed.replace('seg_00001', 'seg_00002');
      expect(verifySignedRequest(requestFor(otherPath, T0), keys)).to.deep.include({ ok: false, code: 'invalid_signature' });
      const added = signed.replace('?', '?quality=high&');
      expect(verifySignedRequest(requestFor(added, T0), keys)).to.deep.include({ ok: false, code: 'invalid_signature' });
      const later = signed.replace(/Expires=(\d+)/, (_m, e) => `Expires=${Number(e) + 3600}`);
      expect(verifySignedRequest(requestFor(later, T0), keys)).to.deep.include({ ok: false, code: 'invalid_signature' });
      expect(verifySignedRequest(requestFor(signed, expires), keys)).to.deep.include({ ok: false, code: 'expired_signature' });
    });

    it('rebuilds the policy exactly as CloudFront does (no whitespace)', () => {
      expect(cannedPolicy('https://d.example/a.ts?x=1', 1357034400)).to.equal(
        '{"Statement":[{"Resource":"https://d.example/a.ts?x=1","Condition":{"DateLessThan":{"AWS:EpochTime":1357034400}}}]}',
      );
    });
  });

  describe('building blocks', () => {
    it('matches Resource wildcards: * spans "/", ? is one character, the rest is literal', () => {
      expect(matchesResource('https://d/videos/abc/*', 'https://d/videos/abc/720p/seg_1.ts?x=1')).to.equal(true);
      expect(matchesResource('https://d/videos/abc/*', 'https://d/videos/abd/720p/seg_1.ts')).to.equal(false);
      expect(matchesResource('http*://d/a.ts', 'https://d/a.ts')).to.equal(true);
      expect(matchesResource('https://d/seg_?.ts', 'https://d/seg_1.ts')).to.equal(true);
      expect(matchesResource('https://d/seg_?.ts', 'https://d/seg_12.ts')).to.equal(false);
      expect(matchesResource('https://d/a.ts', 'https://d/aXts')).to.equal(false);
      expect(matchesResource('https://d/(a)+[b].ts', 'https://d/(a)+[b].ts')).to.equal(true);
    });

    it('removes only the signing parameters from the resource URL', () => {
      expect(resourceUrl({ scheme: 'http', host: 'h:1', target: '/v/a.ts?x=1&Policy=p&Signature=s&Key-Pair-Id=k&y=2' })).to.equal('http://h:1/v/a.ts?x=1&y=2');
      expect(resourceUrl({ scheme: 'https', host: 'h', target: '/v/a.ts?Expires=1&Signature=s&Key-Pair-Id=k' })).to.equal('https://h/v/a.ts');
    });

    it("decodes CloudFront's URL-safe base64", () => {
      const bytes = Buffer.from([0xfb, 0xff, 0xfe, 0x00, 0x01]);
      const enc = encodeCloudFrontBase64(bytes);
      expect(enc).to.match(/^[A-Za-z0-9~_-]+$/);
      expect(decodeCloudFrontBase64(enc)).to.deep.equal(bytes);
      expect(decodeCloudFrontBase64('ab+c')).to.equal(undefined);
    });

    it('checks IPv4/IPv6 CIDRs', () => {
      expect(ipInCidr('192.0.2.10', '192.0.2.0/24')).to.equal(true);
      expect(ipInCidr('192.0.3.10', '192.0.2.0/24')).to.equal(false);
      expect(ipInCidr('192.0.2.10', '192.0.2.10')).to.equal(true);
      expect(ipInCidr('2001:db8::1', '2001:db8::/32')).to.equal(true);
      expect(ipInCidr('2001:db9::1', '2001:db8::/32')).to.equal(false);
    });
  });
});
