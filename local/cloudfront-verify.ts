/**
 * CloudFront signed-URL verification, for the local edge (dev only).
 *
 * Follows the CloudFront developer guide ("Use signed URLs", "Create a signed
 * URL using a canned policy", "Create a signed URL using a custom policy"):
 *
 * - Query parameters: `Policy` (custom policy, base64 of the policy JSON) or
 *   `Expires` (canned policy, epoch seconds), plus `Signature` and `Key-Pair-Id`
 *   (and `Hash-Algorithm=SHA256` for SHA-256 signatures; SHA-1 otherwise).
 * - CloudFront's URL-safe base64: `+`→`-`, `=`→`_`, `/`→`~`.
 * - The signature is RSA (PKCS#1 v1.5) over the policy JSON bytes: for a custom
 *   policy the bytes carried in `Policy`; for a canned policy the JSON CloudFront
 *   rebuilds from the request URL (minus the signing parameters) and `Expires`:
 *   `{"Statement":[{"Resource":"URL","Condition":{"DateLessThan":{"AWS:EpochTime":N}}}]}`
 *   (no whitespace).
 * - The public key is found by `Key-Pair-Id`.
 * - Conditions: `DateLessThan` (required; the request must come before it),
 *   `DateGreaterThan` (optional; at or after it), `IpAddress.AWS:SourceIp`
 *   (optional CIDR; the viewer's address must be inside it).
 * - `Resource` (optional in a custom policy; absent = any URL) is matched against
 *   the URL the viewer requested — scheme, Host header, path, and the query with
 *   the signing parameters removed — with `*` matching any run of characters
 *   (including `/`) and `?` matching exactly one character.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { ErrorCode } from '@vod/contract';

/** Why CloudFront refuses a signed URL (all 403 in the contract's error table). */
export type SignatureErrorCode = Extract<
  ErrorCode,
  | 'missing_signature'
  | 'invalid_signature'
  | 'unknown_key_pair'
  | 'malformed_policy'
  | 'expired_signature'
  | 'signature_not_yet_valid'
  | 'ip_not_allowed'
  | 'resource_mismatch'
>;

export type VerifyResult =
  | { ok: true; kind: 'canned' | 'custom'; keyPairId: string; expiresAt: Date; resource?: string }
  | { ok: false; code: SignatureErrorCode; message: string };

/** Public keys by Key-Pair-Id. */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

/** Parses PEM public keys (`{ keyPairId: pem }`) once. @throws if a PEM is not an RSA public key. */
export function trustedKeysFromPem(pems: Record<string, string>): TrustedKeys {
  const out = new Map<string, KeyObject>();
  for (const [id, pem] of Object.entries(pems)) {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`Key ${id} is not an RSA public key`);
    out.set(id, key);
  }
  return out;
}

export interface SignedRequest {
  /** `http` or `https` — the scheme the viewer used. */
  scheme: string;
  /** The Host header exactly as the viewer sent it (host[:port]). */
  host: string;
  /** The request target as sent: raw path plus `?query` (percent-encoding untouched). */
  target: string;
  /** The viewer's IP address (IPv4, IPv6, or IPv4-mapped IPv6). */
  clientIp: string;
  now: Date;
}

/** The query parameters CloudFront consumes for signed URLs; they are not part of the resource URL. */
export const SIGNING_PARAMS = new Set(['Expires', 'Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm']);

/** Decodes CloudFront's URL-safe base64. Undefined if the text is not valid base64 in that alphabet. */
export function decodeCloudFrontBase64(value: string): Buffer | undefined {
  if (!/^[A-Za-z0-9~-]+_{0,2}$/.test(value)) return undefined;
  const std = value.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/');
  return Buffer.from(std, 'base64');
}

/** Encodes to CloudFront's URL-safe base64. */
export function encodeCloudFrontBase64(data: Buffer | string): string {
  return Buffer.from(data).toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~');
}

/** `*` = any run of characters (including `/`), `?` = exactly one character; everything else literal. */
export function matchesResource(pattern: string, url: string): boolean {
  let re = '^';
  for (const ch of pattern) {
    if (ch === '*') re += '[\\s\\S]*';
    else if (ch === '?') re += '[\\s\\S]';
    else re += ch.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  }
  return new RegExp(`${re}$`, 'u').test(url);
}

/** The canned policy JSON CloudFront builds for `url` and `expires` (epoch seconds). */
export function cannedPolicy(url: string, expires: number): string {
  return `{"Statement":[{"Resource":${JSON.stringify(url)},"Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`;
}

interface SplitQuery {
  /** First value of each signing parameter (percent-decoded). */
  signing: Map<string, string>;
  /** The other parameters, raw and in their original order. */
  rest: string[];
}

function splitQuery(query: string): SplitQuery | undefined {
  const signing = new Map<string, string>();
  const rest: string[] = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(rawName);
      value = eq === -1 ? '' : decodeURIComponent(part.slice(eq + 1));
    } catch {
      if (SIGNING_PARAMS.has(rawName)) return undefined;
      rest.push(part);
      continue;
    }
    if (SIGNING_PARAMS.has(name)) {
      if (!signing.has(name)) signing.set(name, value);
    } else {
      rest.push(part);
    }
  }
  return { signing, rest };
}

/** The resource URL CloudFront matches: scheme://host/path?query-without-signing-params. */
export function resourceUrl(req: Pick<SignedRequest, 'scheme' | 'host' | 'target'>): string {
  const q = req.target.indexOf('?');
  const path = q === -1 ? req.target : req.target.slice(0, q);
  const split = q === -1 ? { rest: [] as string[] } : splitQuery(req.target.slice(q + 1)) ?? { rest: [] };
  const query = split.rest.length ? `?${split.rest.join('&')}` : '';
  return `${req.scheme}://${req.host}${path}${query}`;
}

const fail = (code: SignatureErrorCode, message: string): VerifyResult => ({ ok: false, code, message });

function epoch(cond: unknown): number | undefined | 'bad' {
  if (cond === undefined) return undefined;
  const v = (cond as Record<string, unknown> | null)?.['AWS:EpochTime'];
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return 'bad';
}

function normalizeIp(ip: string): { addr: string; type: 'ipv4' | 'ipv6' } | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const addr = mapped ? mapped[1] : ip;
  if (isIPv4(addr)) return { addr, type: 'ipv4' };
  if (isIPv6(addr)) return { addr, type: 'ipv6' };
  return undefined;
}

/** True if `ip` is inside `cidr` (`a.b.c.d/n`, `a.b.c.d` = /32, or IPv6 `x::/n`). */
export function ipInCidr(ip: string, cidr: string): boolean {
  const client = normalizeIp(ip);
  const [base, bits] = cidr.split('/');
  const net = normalizeIp(base ?? '');
  if (!client || !net || client.type !== net.type) return false;
  const max = net.type === 'ipv4' ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return false;
  const list = new BlockList();
  list.addSubnet(net.addr, prefix, net.type);
  return list.check(client.addr, client.type);
}

/**
 * Verifies one request's signed-URL parameters the way CloudFront does.
 * Order: parameters present → key known → signature valid over the policy bytes
 * → policy well-formed → time window → source IP → resource.
 */
export function verifySignedRequest(req: SignedRequest, keys: TrustedKeys): VerifyResult {
  const q = req.target.indexOf('?');
  const split = q === -1 ? { signing: new Map<string, string>(), rest: [] } : splitQuery(req.target.slice(q + 1));
  if (!split) return fail('invalid_signature', 'Signed URL parameters are not valid percent-encoding');
  const p = split.signing;
  const policyParam = p.get('Policy');
  const expiresParam = p.get('Expires');
  const signatureParam = p.get('Signature');
  const keyPairId = p.get('Key-Pair-Id');
  if (!signatureParam || !keyPairId || (policyParam === undefined && expiresParam === undefined)) {
    const missing = [
      policyParam === undefined && expiresParam === undefined ? 'Policy or Expires' : '',
      signatureParam ? '' : 'Signature',
      keyPairId ? '' : 'Key-Pair-Id',
    ].filter(Boolean);
    return fail('missing_signature', `This URL must be signed: missing ${missing.join(', ')}`);
  }

  const hashAlgorithm = p.get('Hash-Algorithm') ?? 'SHA1';
  if (hashAlgorithm !== 'SHA1' && hashAlgorithm !== 'SHA256') {
    return fail('invalid_signature', `Unsupported Hash-Algorithm ${JSON.stringify(hashAlgorithm)}`);
  }

  const key = keys.get(keyPairId);
  if (!key) return fail('unknown_key_pair', `Key-Pair-Id ${JSON.stringify(keyPairId)} is not a trusted key`);

  const url = resourceUrl(req);
  let policyBytes: Buffer;
  let kind: 'canned' | 'custom';
  if (policyParam !== undefined) {
    kind = 'custom';
    const decoded = decodeCloudFrontBase64(policyParam);
    if (!decoded) return fail('invalid_signature', 'Policy is not valid CloudFront base64');
    policyBytes = decoded;
  } else {
    kind = 'canned';
    if (!/^\d+$/.test(expiresParam!)) return fail('invalid_signature', 'Expires must be epoch seconds');
    policyBytes = Buffer.from(cannedPolicy(url, Number(expiresParam)));
  }

  const signature = decodeCloudFrontBase64(signatureParam);
  if (!signature) return fail('invalid_signature', 'Signature is not valid CloudFront base64');
  let valid = false;
  try {
    valid = verify(hashAlgorithm === 'SHA256' ? 'RSA-SHA256' : 'RSA-SHA1', policyBytes, key, signature);
  } catch {
    valid = false;
  }
  if (!valid) return fail('invalid_signature', 'Signature does not match the policy and key');

  let statement: { Resource?: unknown; Condition?: Record<string, unknown> };
  try {
    const policy = JSON.parse(policyBytes.toString('utf8')) as { Statement?: unknown };
    if (!Array.isArray(policy.Statement) || policy.Statement.length !== 1) throw new Error('one Statement required');
    statement = policy.Statement[0] as typeof statement;
    if (!statement || typeof statement !== 'object' || !statement.Condition || typeof statement.Condition !== 'object') {
      throw new Error('Condition required');
    }
  } catch (err) {
    return fail('malformed_policy', `Policy is not a valid CloudFront policy: ${(err as Error).message}`);
  }

  const cond = statement.Condition!;
  const lessThan = epoch(cond.DateLessThan);
  const greaterThan = epoch(cond.DateGreaterThan);
  if (lessThan === undefined || lessThan === 'bad') return fail('malformed_policy', 'Policy needs DateLessThan.AWS:EpochTime');
  if (greaterThan === 'bad') return fail('malformed_policy', 'DateGreaterThan.AWS:EpochTime must be epoch seconds');
  if (kind === 'canned' && String(lessThan) !== expiresParam) return fail('invalid_signature', 'Expires does not match the policy');

  const nowMs = req.now.getTime();
  if (nowMs >= lessThan * 1000) {
    return fail('expired_signature', `Signed URL expired at ${new Date(lessThan * 1000).toISOString()}`);
  }
  if (greaterThan !== undefined && nowMs < greaterThan * 1000) {
    return fail('signature_not_yet_valid', `Signed URL is valid from ${new Date(greaterThan * 1000).toISOString()}`);
  }

  if (cond.IpAddress !== undefined) {
    const cidr = (cond.IpAddress as Record<string, unknown> | null)?.['AWS:SourceIp'];
    if (typeof cidr !== 'string') return fail('malformed_policy', 'IpAddress.AWS:SourceIp must be a CIDR string');
    if (!ipInCidr(req.clientIp, cidr)) return fail('ip_not_allowed', `Signed URL is not valid from ${req.clientIp}`);
  }

  let resource: string | undefined;
  if (statement.Resource !== undefined) {
    if (typeof statement.Resource !== 'string') return fail('malformed_policy', 'Resource must be a string');
    resource = statement.Resource;
    if (!matchesResource(resource, url)) {
      return fail('resource_mismatch', `Signed URL policy does not cover ${url}`);
    }
  }

  return { ok: true, kind, keyPairId, expiresAt: new Date(lessThan * 1000), resource };
}
