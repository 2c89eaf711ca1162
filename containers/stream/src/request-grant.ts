/**
 * The grant a signed playlist request came with: the expiry of its CloudFront
 * signed URL, so the URIs signed into the answer never outlive it.
 *
 * How it gets here: CloudFront verifies the viewer's signed URL and, because
 * the playlists behaviour forwards the viewer's query string to the origin
 * (contract `CDN_BEHAVIOURS`, `forwardQuery`; infra/cdn.ts), the stream
 * service sees the same `Policy`/`Expires` the viewer sent. Locally the edge
 * verifies the same way and proxies the query untouched. The signature was
 * checked at the CDN; this module only reads the expiry:
 * - custom policy (`Policy`, CloudFront's URL-safe base64 of the policy JSON):
 *   `Statement[0].Condition.DateLessThan["AWS:EpochTime"]`;
 * - canned policy (`Expires`): the epoch seconds themselves.
 * `Policy` wins when both are present, as at CloudFront (developer guide:
 * "Create a signed URL using a custom policy" / "… canned policy").
 *
 * Every viewer in one signing window sends the same query, so the parsed
 * expiry is memoised per query string in a bounded LRU: one base64 decode and
 * JSON parse per grant, not per request.
 */
import { AppError } from '@vod/service-kit';
import { LRUCache } from 'lru-cache';

export interface RequestGrantsOptions {
  /** Distinct query strings remembered (default 10 000). */
  cacheSize?: number;
}

/** Epoch seconds, or the AppError a request with this query gets (403 codes of the contract). */
type Parsed = number | AppError;

export class RequestGrants {
  private readonly memo: LRUCache<string, { value: Parsed }>;

  constructor(opts: RequestGrantsOptions = {}) {
    this.memo = new LRUCache({ max: opts.cacheSize ?? 10_000 });
  }

  /**
   * Expiry, epoch seconds, of the signed URL whose query string (without `?`) is `query`.
   * @throws AppError `missing_signature` (no `Policy`/`Expires`), `malformed_policy` (unreadable policy or expiry).
   */
  expiry(query: string): number {
    const parsed = this.tryExpiry(query);
    if (typeof parsed !== 'number') throw parsed;
    return parsed;
  }

  /** As `expiry`, returning the error instead of throwing it (for the no-throw fast path). */
  tryExpiry(query: string): Parsed {
    const hit = this.memo.get(query);
    if (hit) return hit.value;
    const value = parseExpiry(query);
    this.memo.set(query, { value });
    return value;
  }
}

export function parseExpiry(query: string): Parsed {
  const params = new URLSearchParams(query);
  const policy = params.get('Policy');
  if (policy !== null) {
    try {
      const json = Buffer.from(policy.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64').toString('utf8');
      const statement = (JSON.parse(json) as { Statement?: { Condition?: { DateLessThan?: Record<string, unknown> } }[] }).Statement?.[0];
      return epochSeconds(statement?.Condition?.DateLessThan?.['AWS:EpochTime']) ?? malformed('Policy has no DateLessThan.AWS:EpochTime');
    } catch {
      return malformed('Policy is not a CloudFront policy');
    }
  }
  const expires = params.get('Expires');
  if (expires !== null) return epochSeconds(expires) ?? malformed('Expires must be epoch seconds');
  return new AppError('missing_signature', 'This URL must be signed (Policy or Expires, Signature, Key-Pair-Id)');
}

function epochSeconds(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v);
  return undefined;
}

const malformed = (message: string) => new AppError('malformed_policy', message);
