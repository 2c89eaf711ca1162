import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { CDN_BEHAVIOURS, CORS, METHOD_SETS, ORIGIN_VERIFY_HEADER, type CacheKind, type Origin } from '@vod/contract';
import { PREFIX, mediaBucketPolicy } from './policies.js';

/** Origin ids of the distribution, by the contract's origin kind. */
export const ORIGIN: Readonly<Record<Origin, string>> = { services: 'alb', media: 'media-s3', web: 'web-s3' };

export { CORS };

/**
 * Source of the viewer-request CloudFront Function (runtime
 * `cloudfront-js-2.0`) that answers CORS preflights (`OPTIONS`) at the edge
 * with 204 and the CORS headers, as the local edge does; other requests pass
 * through. CloudFront forwards OPTIONS to the origin otherwise, and the
 * services have no OPTIONS routes. With `allowedOrigins` other than `["*"]`
 * the request's Origin is echoed only when listed.
 */
export function preflightFunctionCode(allowedOrigins: readonly string[]): string {
  return [
    `var ALLOWED = ${JSON.stringify(allowedOrigins)};`,
    'function handler(event) {',
    '  var request = event.request;',
    "  if (request.method !== 'OPTIONS') return request;",
    "  var origin = request.headers.origin ? request.headers.origin.value : '';",
    "  var allow = ALLOWED.indexOf('*') >= 0 ? '*' : (ALLOWED.indexOf(origin) >= 0 ? origin : '');",
    '  var headers = {',
    `    'access-control-allow-methods': { value: ${JSON.stringify(CORS.allowMethods.join(', '))} },`,
    `    'access-control-allow-headers': { value: ${JSON.stringify(CORS.allowHeaders.join(', '))} },`,
    `    'access-control-max-age': { value: '${CORS.maxAgeSeconds}' },`,
    "    'vary': { value: 'Origin' }",
    '  };',
    "  if (allow) headers['access-control-allow-origin'] = { value: allow };",
    "  return { statusCode: 204, statusDescription: 'No Content', headers: headers };",
    '}',
    '',
  ].join('\n');
}

/**
 * Source of the viewer-request CloudFront Function on the web app's default
 * behaviour: a path whose last segment has no file extension (a client-side
 * route such as `/videos-list` or `/v/abc`) is served `/index.html`, the SPA
 * fallback of the local edge. Paths with an extension pass through.
 */
export function spaFallbackFunctionCode(): string {
  return [
    'function handler(event) {',
    '  var request = event.request;',
    "  var last = request.uri.substring(request.uri.lastIndexOf('/') + 1);",
    "  if (last.indexOf('.') === -1) request.uri = '/index.html';",
    '  return request;',
    '}',
    '',
  ].join('\n');
}

/** Inputs of {@link Cdn}. */
export interface CdnArgs {
  /** ARN of the internal ALB in front of the services, reached as a CloudFront VPC origin. */
  originLoadBalancerArn: pulumi.Input<string>;
  /** DNS name CloudFront connects to for `/api/*` and playlists: the ALB, or a name with a certificate for it. */
  originDomainName: pulumi.Input<string>;
  /** `HTTPS` when the ALB listener has a certificate for `originDomainName`, else `HTTP`. */
  originProtocol: 'HTTP' | 'HTTPS';
  /** Secret CloudFront sends to the ALB in `x-origin-verify`. */
  originVerifySecret: pulumi.Input<string>;
  mediaBucketName: pulumi.Input<string>;
  mediaBucketArn: pulumi.Input<string>;
  mediaBucketRegionalDomainName: pulumi.Input<string>;
  /** The media bucket's Block Public Access; its bucket policy is applied after it. */
  mediaPublicAccessBlock?: pulumi.Resource;
  /** RSA 2048 public key (PEM, `BEGIN PUBLIC KEY`) whose private half the stream service signs URLs with. */
  signingPublicKeyPem: pulumi.Input<string>;
  /** CloudFront price class: `PriceClass_100` (NA+EU, cheapest), `PriceClass_200`, `PriceClass_All`. Default `PriceClass_100`. */
  priceClass?: string;
  /** Origins allowed by CORS on `/api/*` and `/videos/*`. Default `["*"]` (media is protected by signatures, the API by its token). */
  corsAllowedOrigins?: string[];
  /** Cache lifetime of HLS segments, seconds (they are immutable). Default 86400. */
  segmentTtlSeconds?: number;
  /** Custom domain for viewers. Without it the distribution's `*.cloudfront.net` name is the public entry. */
  customDomain?: {
    domainName: string;
    /** ACM certificate in us-east-1 covering `domainName` (CloudFront developer guide, "Requirements for using SSL/TLS certificates with CloudFront"). */
    certificateArn: pulumi.Input<string>;
    /** Route 53 hosted zone to create A/AAAA alias records in. Without it, point DNS at `domainName` yourself. */
    hostedZoneId?: string;
  };
}

/**
 * The distribution: the single public entry, mirroring the local edge.
 *
 * | path              | origin            | caching                    | access               |
 * |-------------------|-------------------|----------------------------|----------------------|
 * | `/api/*`          | ALB               | none (key incl. Authorization, TTL ≤ 1 s) | API token (checked by the services) |
 * | `/videos/*.m3u8`  | ALB (stream)      | none (TTL ≤ 1 s)            | signed URL (key group) |
 * | `/videos/*`       | media bucket, OAC | segments, `segmentTtlSeconds` | signed URL (key group) |
 * | default `*`       | media bucket `web/`, OAC | web app, ≤ 1 day    | public static files (SPA fallback to /index.html) |
 *
 * - S3 through Origin Access Control (SigV4, always sign; no OAI). The media
 *   bucket policy — declared here because it needs the distribution ARN —
 *   denies non-TLS requests and lets only this distribution read `videos/*`
 *   and `web/*`; `records/*` stays private.
 * - Signed URLs: the playlist and segment behaviours trust one key group
 *   holding `signingPublicKeyPem` (CloudFront developer guide, "Specify
 *   signers that can create signed URLs and signed cookies").
 * - HTTPS only towards viewers. The ALB is internal and reached as a VPC
 *   origin (AWS's private network only), `http-only` (port 80) or
 *   `https-only` (443) by `originProtocol`, always with the secret header.
 * - CORS as the local edge: a response headers policy (exposes
 *   Content-Range, Accept-Ranges, Content-Length, ETag) plus security headers
 *   on `/api/*` and `/videos/*`, and a CloudFront Function answering
 *   preflights with 204; security headers only on the web app.
 */
export class Cdn extends pulumi.ComponentResource {
  public readonly distribution: aws.cloudfront.Distribution;
  public readonly distributionId: pulumi.Output<string>;
  public readonly distributionArn: pulumi.Output<string>;
  /** The distribution's `*.cloudfront.net` name. */
  public readonly cloudfrontDomainName: pulumi.Output<string>;
  /** Host viewers use: the custom domain if set, else the CloudFront name. */
  public readonly publicDomainName: pulumi.Output<string>;
  /** CloudFront public key id = the key pair id signed URLs carry (`CLOUDFRONT_KEY_PAIR_ID`). */
  public readonly keyPairId: pulumi.Output<string>;
  public readonly keyGroupId: pulumi.Output<string>;
  public readonly originAccessControlId: pulumi.Output<string>;

  constructor(name: string, args: CdnArgs, opts?: pulumi.ComponentResourceOptions) {
    super('vod:infra:Cdn', name, {}, opts);
    const segmentTtl = args.segmentTtlSeconds ?? 86_400;

    const oac = new aws.cloudfront.OriginAccessControl(
      `${name}-oac`,
      {
        description: 'Media bucket (videos/, web/) via SigV4',
        originAccessControlOriginType: 's3',
        signingBehavior: 'always',
        signingProtocol: 'sigv4',
      },
      { parent: this },
    );

    const publicKey = new aws.cloudfront.PublicKey(
      `${name}-signing-key`,
      { encodedKey: args.signingPublicKeyPem, comment: 'Signs playback URLs (stream service)' },
      { parent: this },
    );
    const keyGroup = new aws.cloudfront.KeyGroup(
      `${name}-signers`,
      { items: [publicKey.id], comment: 'Trusted signers for /videos/*' },
      { parent: this },
    );

    // API and playlists: not cached. Max TTL 1 s lets the cache key carry
    // Authorization (CloudFront forwards it on GET/HEAD only if it is in the
    // key), so no response can ever be shared between callers.
    const noCache = new aws.cloudfront.CachePolicy(
      `${name}-no-cache`,
      {
        comment: 'Dynamic: API and playlists',
        minTtl: 0,
        defaultTtl: 0,
        maxTtl: 1,
        parametersInCacheKeyAndForwardedToOrigin: {
          cookiesConfig: { cookieBehavior: 'none' },
          headersConfig: { headerBehavior: 'whitelist', headers: { items: ['Authorization'] } },
          queryStringsConfig: { queryStringBehavior: 'all' },
          enableAcceptEncodingGzip: true,
          enableAcceptEncodingBrotli: true,
        },
      },
      { parent: this },
    );
    const segments = new aws.cloudfront.CachePolicy(
      `${name}-segments`,
      {
        comment: 'Immutable HLS segments; signature query strings stay out of the key',
        minTtl: 1,
        defaultTtl: segmentTtl,
        maxTtl: Math.max(segmentTtl, 31_536_000),
        parametersInCacheKeyAndForwardedToOrigin: {
          cookiesConfig: { cookieBehavior: 'none' },
          headersConfig: { headerBehavior: 'none' },
          queryStringsConfig: { queryStringBehavior: 'none' },
        },
      },
      { parent: this },
    );
    const web = new aws.cloudfront.CachePolicy(
      `${name}-web`,
      {
        comment: 'Web app static files',
        minTtl: 0,
        defaultTtl: 3600,
        maxTtl: 86_400,
        parametersInCacheKeyAndForwardedToOrigin: {
          cookiesConfig: { cookieBehavior: 'none' },
          headersConfig: { headerBehavior: 'none' },
          queryStringsConfig: { queryStringBehavior: 'none' },
          enableAcceptEncodingGzip: true,
          enableAcceptEncodingBrotli: true,
        },
      },
      { parent: this },
    );
    // Everything the viewer sent except Host (the ALB origin is reached by its own name).
    const toAlb = new aws.cloudfront.OriginRequestPolicy(
      `${name}-to-alb`,
      {
        comment: 'All viewer headers except Host, all cookies and query strings',
        headersConfig: { headerBehavior: 'allExcept', headers: { items: ['Host'] } },
        cookiesConfig: { cookieBehavior: 'all' },
        queryStringsConfig: { queryStringBehavior: 'all' },
      },
      { parent: this },
    );

    const securityHeaders = {
      strictTransportSecurity: { accessControlMaxAgeSec: 31_536_000, includeSubdomains: true, override: true },
      contentTypeOptions: { override: true },
      frameOptions: { frameOption: 'SAMEORIGIN', override: true },
      referrerPolicy: { referrerPolicy: 'strict-origin-when-cross-origin', override: true },
    };
    const corsHeaders = new aws.cloudfront.ResponseHeadersPolicy(
      `${name}-cors-headers`,
      {
        comment: 'CORS (as the local edge) + security headers',
        corsConfig: {
          accessControlAllowCredentials: false,
          accessControlAllowHeaders: { items: [...CORS.allowHeaders] },
          accessControlAllowMethods: { items: [...CORS.allowMethods] },
          accessControlAllowOrigins: { items: args.corsAllowedOrigins ?? ['*'] },
          accessControlExposeHeaders: { items: [...CORS.exposeHeaders] },
          accessControlMaxAgeSec: CORS.maxAgeSeconds,
          originOverride: true,
        },
        securityHeadersConfig: securityHeaders,
      },
      { parent: this },
    );
    const preflight = new aws.cloudfront.Function(
      `${name}-preflight`,
      {
        runtime: 'cloudfront-js-2.0',
        comment: 'Answers CORS preflights with 204',
        code: preflightFunctionCode(args.corsAllowedOrigins ?? ['*']),
        publish: true,
      },
      { parent: this },
    );
    const answerPreflight = [{ eventType: 'viewer-request', functionArn: preflight.arn }];
    const spaFallback = new aws.cloudfront.Function(
      `${name}-spa-fallback`,
      { runtime: 'cloudfront-js-2.0', comment: 'Client-side routes get /index.html', code: spaFallbackFunctionCode(), publish: true },
      { parent: this },
    );
    const siteHeaders = new aws.cloudfront.ResponseHeadersPolicy(
      `${name}-site-headers`,
      { comment: 'Security headers', securityHeadersConfig: securityHeaders },
      { parent: this },
    );

    const s3Origin = (originId: string, originPath?: string): aws.types.input.cloudfront.DistributionOrigin => ({
      originId,
      domainName: args.mediaBucketRegionalDomainName,
      originAccessControlId: oac.id,
      ...(originPath ? { originPath } : {}),
    });
    const cachePolicies: Record<CacheKind, pulumi.Output<string>> = { none: noCache.id, segments: segments.id, web: web.id };
    /** One cache behaviour of the contract's table, as CloudFront takes it. */
    const behaviour = (b: (typeof CDN_BEHAVIOURS)[number]) => ({
      targetOriginId: ORIGIN[b.origin],
      // The web app may be reached over plain HTTP and is redirected; everything else is HTTPS only.
      viewerProtocolPolicy: b.origin === 'web' ? 'redirect-to-https' : 'https-only',
      allowedMethods: [...METHOD_SETS[b.methods]],
      cachedMethods: [...METHOD_SETS.read],
      cachePolicyId: cachePolicies[b.cache],
      ...(b.origin === 'services' ? { originRequestPolicyId: toAlb.id } : {}),
      responseHeadersPolicyId: b.cors ? corsHeaders.id : siteHeaders.id,
      functionAssociations: b.cors ? answerPreflight : [{ eventType: 'viewer-request', functionArn: spaFallback.arn }],
      ...(b.signed ? { trustedKeyGroups: [keyGroup.id] } : {}),
      // Segments are already compressed video.
      compress: b.cache !== 'segments',
    });

    const custom = args.customDomain;
    // The services' ALB is internal: CloudFront reaches it through a VPC
    // origin, so there is no public ALB to find or to attack.
    const vpcOrigin = new aws.cloudfront.VpcOrigin(
      `${name}-services-origin`,
      {
        vpcOriginEndpointConfig: {
          name: `${name}-services`,
          arn: args.originLoadBalancerArn,
          httpPort: 80,
          httpsPort: 443,
          originProtocolPolicy: args.originProtocol === 'HTTPS' ? 'https-only' : 'http-only',
          originSslProtocols: { items: ['TLSv1.2'], quantity: 1 },
        },
      },
      { parent: this },
    );

    this.distribution = new aws.cloudfront.Distribution(
      `${name}-distribution`,
      {
        enabled: true,
        comment: `vod platform (${pulumi.getStack()})`,
        isIpv6Enabled: true,
        httpVersion: 'http2and3',
        priceClass: args.priceClass ?? 'PriceClass_100',
        defaultRootObject: 'index.html',
        aliases: custom ? [custom.domainName] : [],
        viewerCertificate: custom
          ? { acmCertificateArn: custom.certificateArn, sslSupportMethod: 'sni-only', minimumProtocolVersion: 'TLSv1.2_2021' }
          : { cloudfrontDefaultCertificate: true },
        restrictions: { geoRestriction: { restrictionType: 'none' } },
        origins: [
          {
            originId: ORIGIN.services,
            domainName: args.originDomainName,
            vpcOriginConfig: { vpcOriginId: vpcOrigin.id, originReadTimeout: 60, originKeepaliveTimeout: 60 },
            customHeaders: [{ name: ORIGIN_VERIFY_HEADER, value: args.originVerifySecret }],
          },
          s3Origin(ORIGIN.media),
          s3Origin(ORIGIN.web, `/${PREFIX.web.replace(/\/$/, '')}`),
        ],
        // The contract's table, in order; its last row (`*`) is the default behaviour.
        orderedCacheBehaviors: CDN_BEHAVIOURS.slice(0, -1).map((b) => ({ pathPattern: b.pathPattern, ...behaviour(b) })),
        defaultCacheBehavior: behaviour(CDN_BEHAVIOURS[CDN_BEHAVIOURS.length - 1]!),
      },
      { parent: this },
    );

    new aws.s3.BucketPolicy(
      `${name}-media-policy`,
      {
        bucket: args.mediaBucketName,
        policy: pulumi
          .all([args.mediaBucketArn, this.distribution.arn])
          .apply(([bucketArn, distributionArn]) => JSON.stringify(mediaBucketPolicy({ bucketArn, distributionArn }))),
      },
      { parent: this, dependsOn: args.mediaPublicAccessBlock ? [args.mediaPublicAccessBlock] : [] },
    );

    if (custom?.hostedZoneId) {
      for (const type of ['A', 'AAAA'] as const) {
        new aws.route53.Record(
          `${name}-alias-${type.toLowerCase()}`,
          {
            zoneId: custom.hostedZoneId,
            name: custom.domainName,
            type,
            aliases: [
              { name: this.distribution.domainName, zoneId: this.distribution.hostedZoneId, evaluateTargetHealth: false },
            ],
          },
          { parent: this },
        );
      }
    }

    this.distributionId = this.distribution.id;
    this.distributionArn = this.distribution.arn;
    this.cloudfrontDomainName = this.distribution.domainName;
    this.publicDomainName = custom ? pulumi.output(custom.domainName) : this.distribution.domainName;
    this.keyPairId = publicKey.id;
    this.keyGroupId = keyGroup.id;
    this.originAccessControlId = oac.id;
    this.registerOutputs({
      distributionId: this.distributionId,
      cloudfrontDomainName: this.cloudfrontDomainName,
      publicDomainName: this.publicDomainName,
      keyPairId: this.keyPairId,
    });
  }
}
