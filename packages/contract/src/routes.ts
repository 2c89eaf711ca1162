/**
 * How a request finds its way in: the CDN's cache behaviours (which origin,
 * signed or not, cached or not) and, behind the `services` origin, which
 * service answers (the load balancer's rules). infra/cdn.ts and
 * infra/loadBalancer.ts declare CloudFront and the ALB from these tables, and
 * the local edge routes with the same tables, so the three cannot disagree.
 *
 * Path patterns use CloudFront's and ALB's wildcard syntax: `*` matches any
 * run of characters (including `/`), `?` exactly one; matching is
 * case-sensitive and ignores the query string (CloudFront developer guide,
 * "Path pattern"; ELB user guide, "Path conditions").
 */
import type { HttpMethod } from './api.js';

/** The path load balancers and container health checks call on every service. */
export const HEALTH_PATH = '/healthz';

/**
 * The load balancer's idle timeout in front of the services, seconds (long
 * chunk uploads). The services keep idle keep-alive connections longer than
 * this, so they never close one the load balancer is about to reuse.
 */
export const ORIGIN_IDLE_TIMEOUT_SECONDS = 120;

/** The HTTP services behind the load balancer. */
export type Service = 'upload' | 'stream';

/** Where a CDN behaviour sends requests. */
export type Origin =
  /** The load balancer in front of the HTTP services (then `SERVICE_ROUTES`). */
  | 'services'
  /** The media bucket (HLS segments), read through Origin Access Control. */
  | 'media'
  /** The web app's static files (media bucket, `web/` prefix), with the SPA fallback. */
  | 'web';

/** CloudFront's allowed-method sets (only these three exist). */
export const METHOD_SETS = {
  read: ['GET', 'HEAD'],
  readOptions: ['GET', 'HEAD', 'OPTIONS'],
  all: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'POST', 'PATCH', 'DELETE'],
} as const satisfies Record<string, readonly HttpMethod[]>;
export type MethodSet = keyof typeof METHOD_SETS;

/** How a behaviour's responses are cached at the edge. */
export type CacheKind =
  /** Never shared: API answers and per-grant signed playlists. */
  | 'none'
  /** Immutable HLS segments, cached without the signature query. */
  | 'segments'
  /** The web app's files. */
  | 'web';

export interface CdnBehaviour {
  id: 'api' | 'playlists' | 'segments' | 'web';
  /** CloudFront path pattern; `*` on the last (default) behaviour. */
  pathPattern: string;
  origin: Origin;
  /** Requires a CloudFront signed URL from the trusted key group. */
  signed: boolean;
  methods: MethodSet;
  cache: CacheKind;
  /** CORS headers on answers (and preflights answered at the edge). */
  cors: boolean;
  /**
   * The viewer's query string reaches the origin (CloudFront: the behaviour's
   * cache or origin request policy forwards it; the local edge proxies it
   * untouched). On the signed playlists behaviour this is how the signed URL's
   * `Policy`/`Expires` reaches the stream service, whose expiry caps the URIs
   * it signs into the playlist (a grant never outlives the grant it was made from).
   */
  forwardQuery: boolean;
}

/** CloudFront's cache behaviours in evaluation order; the last one is the default behaviour. */
export const CDN_BEHAVIOURS: readonly CdnBehaviour[] = [
  { id: 'api', pathPattern: '/api/*', origin: 'services', signed: false, methods: 'all', cache: 'none', cors: true, forwardQuery: true },
  { id: 'playlists', pathPattern: '/videos/*.m3u8', origin: 'services', signed: true, methods: 'readOptions', cache: 'none', cors: true, forwardQuery: true },
  { id: 'segments', pathPattern: '/videos/*', origin: 'media', signed: true, methods: 'readOptions', cache: 'segments', cors: true, forwardQuery: false },
  { id: 'web', pathPattern: '*', origin: 'web', signed: false, methods: 'read', cache: 'web', cors: false, forwardQuery: false },
];

export interface ServiceRoute {
  /** ALB rule priority: lower is evaluated first. */
  priority: number;
  service: Service;
  /** Path patterns, any of which matches. */
  paths: readonly string[];
  /** Methods, any of which matches; all methods when absent. */
  methods?: readonly HttpMethod[];
}

/**
 * The load balancer's listener rules, by priority. Each rule also requires the
 * origin secret header, so a rule holds at most 4 more condition values (ALB
 * quota: 5 condition values per rule). A request that matches none is 404.
 */
export const SERVICE_ROUTES: readonly ServiceRoute[] = [
  { priority: 10, service: 'stream', paths: ['/videos/*'] },
  { priority: 20, service: 'upload', paths: ['/api/uploads', '/api/uploads/*'] },
  { priority: 30, service: 'upload', paths: ['/api/videos'], methods: ['POST'] },
  { priority: 40, service: 'stream', paths: ['/api', '/api/*'] },
];

/** CORS as both CloudFront (response headers policy + preflight function) and the local edge send it. */
export const CORS = {
  allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  allowHeaders: ['Authorization', 'Content-Type', 'Range'],
  exposeHeaders: ['Content-Range', 'Accept-Ranges', 'Content-Length', 'ETag'],
  maxAgeSeconds: 600,
} as const;

/** CloudFront/ALB wildcard match of a request path (no query) against a pattern. */
export function matchesPathPattern(pattern: string, path: string): boolean {
  let re = '^';
  for (const ch of pattern) {
    if (ch === '*') re += '[\\s\\S]*';
    else if (ch === '?') re += '[\\s\\S]';
    else re += ch.replace(/[\\^$.+()[\]{}|]/g, '\\$&');
  }
  return new RegExp(`${re}$`).test(path);
}

/** The behaviour CloudFront applies to `path`: the first whose pattern matches, else the default. */
export function cdnBehaviourFor(path: string): CdnBehaviour {
  return CDN_BEHAVIOURS.find((b) => matchesPathPattern(b.pathPattern, path)) ?? CDN_BEHAVIOURS[CDN_BEHAVIOURS.length - 1]!;
}

/** The service the load balancer sends `method path` to, or undefined (its fixed 404). */
export function serviceFor(method: string, path: string): Service | undefined {
  const route = [...SERVICE_ROUTES]
    .sort((a, b) => a.priority - b.priority)
    .find((r) => r.paths.some((p) => matchesPathPattern(p, path)) && (!r.methods || r.methods.includes(method as HttpMethod)));
  return route?.service;
}
