/** Helpers for the stream and edge tests: an RSA key pair, a counting signer, request helpers. */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import type { SignFn } from '../../containers/stream/src/url-signer.js';
import type { SignedRequest } from '../../local/cloudfront-verify.js';

export interface TestKeyPair {
  keyPairId: string;
  privateKey: string;
  publicKey: string;
}

/** A CloudFront-style RSA-2048 key pair. */
export function makeKeyPair(keyPairId = 'KTESTKEYPAIR01'): TestKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { keyPairId, privateKey, publicKey };
}

/** `getSignedUrl` wrapped with a call counter (each call is one RSA signature). */
export function countingSigner(): SignFn & { calls: number } {
  const fn = ((input: Parameters<SignFn>[0]) => {
    fn.calls++;
    return getSignedUrl(input);
  }) as SignFn & { calls: number };
  fn.calls = 0;
  return fn;
}

/** The verifier's view of a signed URL as a browser would request it. */
export function requestFor(url: string, now: Date, clientIp = '127.0.0.1'): SignedRequest {
  const u = new URL(url);
  return { scheme: u.protocol.replace(/:$/, ''), host: u.host, target: `${u.pathname}${u.search}`, clientIp, now };
}

/** All URI lines and URI="…" attributes of a playlist. */
export function playlistUris(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line) continue;
    if (!line.startsWith('#')) out.push(line);
    else for (const m of line.matchAll(/URI="([^"]*)"/g)) out.push(m[1]);
  }
  return out;
}

/** A raw HTTP GET with the path sent exactly as given (fetch would normalise `..`). */
export function rawGet(base: string, rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}
