/**
 * CloudFront signed URLs for a video's whole HLS ladder.
 *
 * One signature per video covers every URI of that video: a CUSTOM policy
 * whose `Resource` is the wildcard `${publicBaseUrl}/videos/{videoId}/*`
 * (CloudFront developer guide: "Create a signed URL using a custom policy" —
 * `*` in Resource matches any run of characters, so the one policy serves the
 * master playlist, every media playlist and every segment).
 *
 * RSA signing is the expensive part, so it is amortised: the expiry is rounded
 * UP to the next multiple of `windowSeconds`, which makes the policy — and so
 * its signature — identical for every request about the same video inside one
 * window. The signed query string is kept in a bounded LRU keyed by
 * (videoId, expiry), so at most one RSA signature is made per video per window
 * (plus re-signs after LRU eviction), never one per request or per line.
 * Every URL handed out stays valid for at least `ttlSeconds` and at most
 * `ttlSeconds + windowSeconds` — unless it is made while serving a signed
 * request: then `notAfter` (the expiry of the grant the request came with)
 * caps it, so a grant never outlives the grant it was made from.
 */
import { getSignedUrl, type CloudfrontSignInputWithPolicy } from '@aws-sdk/cloudfront-signer';
import { keys } from '@vod/contract';
import { LRUCache } from 'lru-cache';

/** The signing function: `@aws-sdk/cloudfront-signer`'s `getSignedUrl` (injectable so tests can count calls). */
export type SignFn = (input: CloudfrontSignInputWithPolicy) => string;

export interface VideoUrlSignerOptions {
  /** The CDN's origin, e.g. `https://d111111abcdef8.cloudfront.net` (locally `http://127.0.0.1:8080`). No trailing path. */
  publicBaseUrl: string;
  /** CloudFront public key id (the `Key-Pair-Id` query parameter), e.g. `K2JCJMDEHXQW5F`. */
  keyPairId: string;
  /** PEM text of the RSA private key whose public key is in the distribution's trusted key group. */
  privateKey: string;
  /** Minimum life of a handed-out URL, in seconds. */
  ttlSeconds: number;
  /** Expiry rounding window, in seconds (default: min(900, ttlSeconds)). Larger = fewer RSA signatures, longer max life. */
  windowSeconds?: number;
  /** How many (video, window) grants to keep (default 10 000). */
  cacheSize?: number;
  /** Defaults to `getSignedUrl` from `@aws-sdk/cloudfront-signer`. */
  sign?: SignFn;
}

/** A signature that authorises every URL under one video's prefix until `expiresAt`. */
export interface VideoGrant {
  videoId: string;
  /** `Policy=…&Signature=…&Key-Pair-Id=…`, ready to append to any URL under `prefix`. */
  query: string;
  /** `${publicBaseUrl}/videos/{videoId}/` — the URLs the grant covers all start with this. */
  prefix: string;
  /** The policy's `DateLessThan` (whole seconds). */
  expiresAt: Date;
  /** The custom policy JSON that was signed. */
  policy: string;
}

export interface VideoUrlSigner {
  readonly publicBaseUrl: string;
  /**
   * The (cached) grant for `videoId` valid at `now`, expiring at `expiryFor(now, notAfter)`;
   * signs only when that expiry is new or the entry was evicted.
   */
  grant(videoId: string, now: Date, notAfter?: number): VideoGrant;
  /**
   * Epoch seconds a grant made at `now` expires at: now + ttl rounded up to the
   * window, or `notAfter` (epoch seconds, the parent grant's expiry) if that is earlier.
   */
  expiryFor(now: Date, notAfter?: number): number;
  /** A signed absolute URL for `relativePath` (e.g. `master.m3u8`, `720p/index.m3u8`) under the video's prefix. */
  signedUrl(videoId: string, relativePath: string, now: Date): { url: string; expiresAt: Date };
}

/** Epoch seconds: now + ttl, rounded up to the next multiple of `windowSeconds`. */
export function roundedExpiry(now: Date, ttlSeconds: number, windowSeconds: number): number {
  const earliest = Math.ceil(now.getTime() / 1000) + ttlSeconds;
  return Math.ceil(earliest / windowSeconds) * windowSeconds;
}

/**
 * The custom policy JSON, with no whitespace (CloudFront developer guide:
 * "Create a policy statement for a signed URL that uses a custom policy").
 */
export function customPolicy(resource: string, dateLessThan: number): string {
  return JSON.stringify({
    Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': dateLessThan } } }],
  });
}

/** Strips a trailing slash; rejects anything that is not a bare http(s) origin. */
export function normalizeBaseUrl(value: string): string {
  const u = new URL(value);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`base URL must be http(s): ${value}`);
  if (u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) {
    throw new Error(`base URL must be an origin without path, query or fragment: ${value}`);
  }
  return `${u.protocol}//${u.host}`;
}

export function createVideoUrlSigner(opts: VideoUrlSignerOptions): VideoUrlSigner {
  const publicBaseUrl = normalizeBaseUrl(opts.publicBaseUrl);
  const ttl = opts.ttlSeconds;
  const window = opts.windowSeconds ?? Math.min(900, ttl);
  if (!(ttl > 0) || !(window > 0)) throw new Error('ttlSeconds and windowSeconds must be positive');
  const sign = opts.sign ?? getSignedUrl;
  const cache = new LRUCache<string, VideoGrant>({ max: opts.cacheSize ?? 10_000 });

  function expiryFor(now: Date, notAfter?: number): number {
    const own = roundedExpiry(now, ttl, window);
    return notAfter !== undefined && notAfter < own ? notAfter : own;
  }

  function grant(videoId: string, now: Date, notAfter?: number): VideoGrant {
    const expires = expiryFor(now, notAfter);
    const cacheKey = `${videoId}:${expires}`;
    const hit = cache.get(cacheKey);
    if (hit) return hit;

    const prefix = `${publicBaseUrl}/${keys.videoPrefix(videoId)}`;
    const policy = customPolicy(`${prefix}*`, expires);
    // The signer appends Policy/Signature/Key-Pair-Id to the URL it is given;
    // we keep only that query so it can be appended to every URL of the video.
    const signed = new URL(sign({ url: prefix, policy, keyPairId: opts.keyPairId, privateKey: opts.privateKey }));
    const p = signed.searchParams;
    const policyParam = p.get('Policy');
    const signature = p.get('Signature');
    const keyPairId = p.get('Key-Pair-Id');
    if (!policyParam || !signature || !keyPairId) throw new Error('CloudFront signer returned a URL without Policy/Signature/Key-Pair-Id');
    // CloudFront's base64 alphabet (A–Z a–z 0–9 - _ ~) is URL-safe; encoding is a no-op kept for safety.
    const query = `Policy=${encodeURIComponent(policyParam)}&Signature=${encodeURIComponent(signature)}&Key-Pair-Id=${encodeURIComponent(keyPairId)}`;
    const value: VideoGrant = { videoId, query, prefix, expiresAt: new Date(expires * 1000), policy };
    cache.set(cacheKey, value);
    return value;
  }

  return {
    publicBaseUrl,
    grant,
    expiryFor,
    signedUrl(videoId, relativePath, now) {
      const g = grant(videoId, now);
      const path = relativePath.replace(/^\/+/, '');
      return { url: `${g.prefix}${path}${path.includes('?') ? '&' : '?'}${g.query}`, expiresAt: g.expiresAt };
    },
  };
}
