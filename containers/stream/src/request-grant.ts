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
 * The hot path reads it once per distinct URL (playlist-requests.ts); the
 * slow path (misses, playlists still growing) reads it per request, next to
 * an S3 read and a signature that cost far more.
 */
import { AppError } from '@vod/service-kit';

/** Epoch seconds, or the AppError a request with this query gets (403 codes of the contract). */
export type ParsedExpiry = number | AppError;

/**
 * Expiry, epoch seconds, of the signed URL whose query string (without `?`) is `query`,
 * or the error to answer (`missing_signature`: no `Policy`/`Expires`; `malformed_policy`:
 * unreadable policy or expiry). Returned, not thrown, so the hot path can fall through.
 */
export function parseExpiry(query: string): ParsedExpiry {
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
