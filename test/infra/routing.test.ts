/**
 * One route table: the CloudFront behaviours and the load balancer's rules the
 * Pulumi program declares (read from the mocked resources, matched here with
 * CloudFront's and ALB's own rules) route every sample request exactly as the
 * contract's table does — which is what the local edge routes with
 * (`local/edge.ts`: `cdnBehaviourFor`, `serviceFor`).
 */
import { expect } from 'chai';
import { cdnBehaviourFor, serviceFor } from '@vod/contract';
import { named as namedIn, ofType as ofTypeIn, runDevProgram, type ProgramRun } from './harness.js';

/** Requests a viewer, the web app and the CLI make. */
export const ROUTE_SAMPLES: [method: string, path: string][] = [
  ['GET', '/api/videos'],
  ['GET', '/api/videos/0123456789abcdef0123'],
  ['GET', '/api/videos/0123456789abcdef0123/playback'],
  ['GET', '/api/videos/0123456789abcdef0123/source'],
  ['POST', '/api/videos'],
  ['DELETE', '/api/videos/0123456789abcdef0123'],
  ['PATCH', '/api/videos/0123456789abcdef0123'],
  ['POST', '/api/videos/0123456789abcdef0123/retry'],
  ['POST', '/api/jobs/redrive'],
  ['POST', '/api/videos/0123456789abcdef0123/captions'],
  ['GET', '/api/videos/0123456789abcdef0123/captions'],
  ['DELETE', '/api/videos/0123456789abcdef0123/captions/pt-BR'],
  ['GET', '/videos/0123456789abcdef0123/captions/en_0a1b2c3d/index.m3u8'],
  ['GET', '/videos/0123456789abcdef0123/captions/en_0a1b2c3d/seg_00000.vtt'],
  ['POST', '/api/uploads'],
  ['GET', '/api/uploads/0123456789abcdef0123'],
  ['PUT', '/api/uploads/0123456789abcdef0123/parts/3'],
  ['POST', '/api/uploads/0123456789abcdef0123/complete'],
  ['DELETE', '/api/uploads/0123456789abcdef0123'],
  ['GET', '/videos/0123456789abcdef0123/master.m3u8'],
  ['GET', '/videos/0123456789abcdef0123/720p/index.m3u8'],
  ['GET', '/videos/0123456789abcdef0123/720p/seg_00001.ts'],
  ['GET', '/videos/0123456789abcdef0123/audio/seg_00000.ts'],
  ['GET', '/'],
  ['GET', '/library'],
  ['GET', '/watch/0123456789abcdef0123'],
  ['GET', '/assets/index-abc123.js'],
  ['GET', '/records/0123456789abcdef0123.json'],
];

/** CloudFront and ALB path patterns: `*` any run of characters, `?` one; case-sensitive. */
const glob = (pattern: string, path: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(path);

describe('routing: CloudFront, the load balancer and the local edge use one table', function () {
  this.timeout(120_000);
  let run: ProgramRun;
  before(async () => {
    run = await runDevProgram();
  });
  const named = (type: string, name: string) => namedIn(type, name, run.declared);
  const ofType = (type: string) => ofTypeIn(type, run.declared);
  /**
   * Whether CloudFront sends the viewer's query string (with a signed URL's
   * Policy/Expires) to the origin: it does for the parameters its cache policy
   * keys on or its origin request policy forwards.
   */
  const forwardsQuery = (behaviour: { cachePolicyId: string; originRequestPolicyId?: string }) => {
    const byId = (type: string, id: string | undefined) => run.declared.find((d) => d.type === type && d.id === id)?.inputs;
    const cache = byId('aws:cloudfront/cachePolicy:CachePolicy', behaviour.cachePolicyId)?.parametersInCacheKeyAndForwardedToOrigin?.queryStringsConfig;
    const origin = byId('aws:cloudfront/originRequestPolicy:OriginRequestPolicy', behaviour.originRequestPolicyId)?.queryStringsConfig;
    const forwards = (c: { queryStringBehavior: string; queryStrings?: { items: string[] } } | undefined) =>
      c?.queryStringBehavior === 'all' ||
      (c?.queryStringBehavior === 'whitelist' && ['Policy', 'Expires'].every((p) => c.queryStrings?.items.includes(p)));
    return forwards(cache) || forwards(origin);
  };

  it('the API changes to a video go to the stream service, uploads to the upload service', () => {
    expect(serviceFor('DELETE', '/api/videos/0123456789abcdef0123')).to.equal('stream');
    expect(serviceFor('PATCH', '/api/videos/0123456789abcdef0123')).to.equal('stream');
    expect(serviceFor('POST', '/api/videos/0123456789abcdef0123/retry')).to.equal('stream');
    expect(serviceFor('POST', '/api/jobs/redrive')).to.equal('stream');
    expect(serviceFor('POST', '/api/videos/0123456789abcdef0123/captions')).to.equal('stream');
    expect(serviceFor('DELETE', '/api/videos/0123456789abcdef0123/captions/en')).to.equal('stream');
    // A text track's playlist is signed by the stream service; its WebVTT segments come from S3, signed.
    expect(cdnBehaviourFor('/videos/0123456789abcdef0123/captions/en_0a1b2c3d/index.m3u8')).to.include({ id: 'playlists', signed: true });
    expect(cdnBehaviourFor('/videos/0123456789abcdef0123/captions/en_0a1b2c3d/seg_00000.vtt')).to.include({ id: 'segments', origin: 'media', signed: true });
    expect(serviceFor('POST', '/api/videos')).to.equal('upload');
  });

  it('every sample goes to the same origin, signed or not, and then to the same service', () => {
    const dist = named('aws:cloudfront/distribution:Distribution', 'vod-cdn-distribution').inputs;
    const originKind: Record<string, string> = { alb: 'services', 'media-s3': 'media', 'web-s3': 'web' };
    const rules = ofType('aws:lb/listenerRule:ListenerRule')
      .map((r) => r.inputs)
      .filter((r) => r.actions[0].type === 'forward')
      .sort((a, b) => a.priority - b.priority);
    const targetService: Record<string, string> = {
      [named('aws:lb/targetGroup:TargetGroup', 'vod-origin-upload').state.arn]: 'upload',
      [named('aws:lb/targetGroup:TargetGroup', 'vod-origin-stream').state.arn]: 'stream',
    };
    for (const [method, path] of ROUTE_SAMPLES) {
      const declared = dist.orderedCacheBehaviors.find((b: { pathPattern: string }) => glob(b.pathPattern, path)) ?? dist.defaultCacheBehavior;
      const expected = cdnBehaviourFor(path);
      const what = `${method} ${path}`;
      expect(originKind[declared.targetOriginId], `${what}: origin`).to.equal(expected.origin);
      expect((declared.trustedKeyGroups ?? []).length > 0, `${what}: signed`).to.equal(expected.signed);
      expect(forwardsQuery(declared), `${what}: query string reaches the origin`).to.equal(expected.forwardQuery);
      if (expected.origin !== 'services') continue;
      expect(declared.allowedMethods, `${what}: method allowed at the edge`).to.include(method);
      const rule = rules.find((r) =>
        r.conditions.every((c: Record<string, any>) =>
          c.pathPattern ? c.pathPattern.values.some((p: string) => glob(p, path)) : c.httpRequestMethod ? c.httpRequestMethod.values.includes(method) : true,
        ),
      );
      expect(rule ? targetService[rule.actions[0].targetGroupArn] : undefined, `${what}: service`).to.equal(serviceFor(method, path));
    }
  });
});
