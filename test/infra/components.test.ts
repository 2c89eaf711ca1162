/**
 * Component variants the dev config does not exercise, built directly under
 * the same mocks: a custom domain with Route 53 (end-to-end TLS), a supplied
 * signing key, alarm e-mail, an arm64 cluster, and argument validation.
 */
import { expect } from 'chai';
import { WEBHOOK_SECRET_PATTERN } from '@vod/contract';
import { Cdn } from '../../infra/cdn.js';
import { SpotCluster } from '../../infra/cluster.js';
import { DomainCertificates } from '../../infra/domain.js';
import { OriginLoadBalancer } from '../../infra/loadBalancer.js';
import { JobQueue } from '../../infra/queue.js';
import { AppSecrets } from '../../infra/secrets.js';
import { Storage } from '../../infra/storage.js';
import { declared, installMocks, invoked, named, ofType, resolve, settle } from './harness.js';

describe('infra components (variants under mocks)', () => {
  before(async () => {
    await installMocks();
  });

  describe('custom domain with a Route 53 zone', () => {
    before(async () => {
      const certs = new DomainCertificates('alt-domain', { domainName: 'video.example.com', hostedZoneId: 'Z0EXAMPLE' });
      const origin = new OriginLoadBalancer('alt-origin', {
        vpcId: 'vpc-1',
        privateSubnetIds: ['subnet-a', 'subnet-b'],
        originVerifySecret: 'a'.repeat(64),
        ports: { upload: 8081, stream: 8082 },
        certificateArn: certs.originCertificateArn,
        dnsAlias: { name: certs.originDomainName, hostedZoneId: 'Z0EXAMPLE' },
      });
      const cdn = new Cdn('alt-cdn', {
        originLoadBalancerArn: origin.arn,
        originDomainName: certs.originDomainName,
        originProtocol: origin.protocol,
        originVerifySecret: 'a'.repeat(64),
        mediaBucketName: 'media',
        mediaBucketArn: 'arn:aws:s3:::media',
        mediaBucketRegionalDomainName: 'media.s3.us-east-1.amazonaws.com',
        signingPublicKeyPem: '-----BEGIN PUBLIC KEY-----\nX\n-----END PUBLIC KEY-----\n',
        customDomain: { domainName: 'video.example.com', certificateArn: certs.viewerCertificateArn, hostedZoneId: 'Z0EXAMPLE' },
      });
      await resolve(cdn.publicDomainName);
      await settle();
    });

    it('issues the viewer certificate in us-east-1 and the origin certificate in the stack region, both DNS-validated', () => {
      const provider = named('pulumi:providers:aws', 'alt-domain-us-east-1');
      expect(provider.inputs.region).to.equal('us-east-1');
      const viewer = named('aws:acm/certificate:Certificate', 'alt-domain-viewer');
      expect(viewer.inputs).to.include({ domainName: 'video.example.com', validationMethod: 'DNS' });
      expect(viewer.provider).to.match(/alt-domain-us-east-1::/);
      const originCert = named('aws:acm/certificate:Certificate', 'alt-domain-origin');
      expect(originCert.inputs.domainName).to.equal('origin.video.example.com');
      expect(originCert.provider ?? '').to.not.match(/us-east-1/);
      for (const label of ['viewer', 'origin']) {
        const record = named('aws:route53/record:Record', `alt-domain-${label}-validation`).inputs;
        expect(record).to.include({ zoneId: 'Z0EXAMPLE', type: 'CNAME' });
      }
    });

    it('serves the custom name with TLS 1.2+ and connects to the ALB over HTTPS on 443', () => {
      const dist = named('aws:cloudfront/distribution:Distribution', 'alt-cdn-distribution').inputs;
      expect(dist.aliases).to.deep.equal(['video.example.com']);
      expect(dist.viewerCertificate).to.deep.include({ sslSupportMethod: 'sni-only', minimumProtocolVersion: 'TLSv1.2_2021' });
      expect(dist.viewerCertificate.acmCertificateArn).to.match(/certificate\/alt-domain-viewer$/);
      const alb = (dist.origins as any[]).find((o) => o.originId === 'alb');
      expect(alb.domainName).to.equal('origin.video.example.com');
      expect(alb.customOriginConfig).to.equal(undefined);
      const vpcOrigin = named('aws:cloudfront/vpcOrigin:VpcOrigin', 'alt-cdn-services-origin');
      expect(alb.vpcOriginConfig.vpcOriginId).to.equal(vpcOrigin.id);
      expect(vpcOrigin.inputs.vpcOriginEndpointConfig).to.deep.include({ originProtocolPolicy: 'https-only', httpsPort: 443 });
      expect(vpcOrigin.inputs.vpcOriginEndpointConfig.arn).to.equal(named('aws:lb/loadBalancer:LoadBalancer', 'alt-origin-alb').state.arn);
      const listener = named('aws:lb/listener:Listener', 'alt-origin-https').inputs;
      expect(listener).to.include({ port: 443, protocol: 'HTTPS' });
      expect(listener.certificateArn).to.match(/certificate\/alt-domain-origin$/);
      const ingress = ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').filter(
        (r) => r.inputs.securityGroupId === named('aws:ec2/securityGroup:SecurityGroup', 'alt-origin-alb').id,
      );
      expect(ingress.map((r) => r.inputs.fromPort)).to.deep.equal([443]);
    });

    it('points the names at CloudFront (A + AAAA alias) and at the ALB', () => {
      for (const type of ['a', 'aaaa']) {
        const rec = named('aws:route53/record:Record', `alt-cdn-alias-${type}`).inputs;
        expect(rec.name).to.equal('video.example.com');
        expect(rec.aliases[0].name).to.equal('d111111abcdef8.cloudfront.net');
      }
      const origin = named('aws:route53/record:Record', 'alt-origin-origin-alias').inputs;
      expect(origin.name).to.equal('origin.video.example.com');
      expect(origin.aliases[0].name).to.equal(named('aws:lb/loadBalancer:LoadBalancer', 'alt-origin-alb').state.dnsName);
    });
  });

  describe('secrets', () => {
    it('uses a supplied signing key pair instead of generating one, and stores secrets as SecureStrings', async () => {
      const s = new AppSecrets('given', {
        parameterPrefix: '/vod/given',
        apiToken: 'b'.repeat(40),
        originVerifySecret: 'c'.repeat(40),
        webhookSecret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
        signingKey: { publicKeyPem: '-----BEGIN PUBLIC KEY-----\nGIVEN\n-----END PUBLIC KEY-----\n', privateKeyPem: 'PEM' },
      });
      expect(await resolve(s.signingPublicKeyPem)).to.include('GIVEN');
      expect(await resolve(s.apiToken)).to.equal('b'.repeat(40));
      expect(await resolve(s.webhookSecret)).to.equal(`whsec_${Buffer.alloc(32, 7).toString('base64')}`);
      await settle();
      expect(declared.filter((d) => d.type === 'tls:index/privateKey:PrivateKey' && d.name.startsWith('given-'))).to.have.length(0);
      const key = named('aws:ssm/parameter:Parameter', 'given-cloudfront-private-key');
      expect(key.inputs).to.include({ name: '/vod/given/cloudfront-private-key', type: 'SecureString', value: 'PEM' });
      expect(key.secretInputs).to.include('value');
    });

    it('generates an RSA 2048 signing key and 64-hex tokens when none are configured', async () => {
      const s = new AppSecrets('made', { parameterPrefix: '/vod/made' });
      const [token, origin] = [await resolve(s.apiToken), await resolve(s.originVerifySecret)];
      expect(token).to.match(/^[0-9a-f]{64}$/);
      // A Standard Webhooks secret of 32 random bytes, which the receivers' libraries accept.
      expect(await resolve(s.webhookSecret)).to.match(WEBHOOK_SECRET_PATTERN).and.have.length('whsec_'.length + 44);
      expect(origin).to.match(/^[0-9a-f]{64}$/);
      expect(token).to.not.equal(origin);
      await settle();
      expect(named('tls:index/privateKey:PrivateKey', 'made-cloudfront-signing').inputs).to.include({ algorithm: 'RSA', rsaBits: 2048 });
    });

    it('refuses a malformed public key or parameter prefix', () => {
      expect(
        () => new AppSecrets('bad-key', { parameterPrefix: '/vod/x', signingKey: { publicKeyPem: 'ssh-rsa AAAA', privateKeyPem: 'x' } }),
      ).to.throw(/BEGIN PUBLIC KEY/);
      expect(() => new AppSecrets('bad-prefix', { parameterPrefix: 'vod/x/' })).to.throw(/parameterPrefix/);
    });
  });

  it('mails the DLQ alarm through SNS when alarmEmail is set', async () => {
    const q = new JobQueue('mailq', { alarmEmail: 'ops@example.com' });
    await resolve(q.queueArn);
    await settle();
    const topic = named('aws:sns/topic:Topic', 'mailq-alarms');
    expect(named('aws:sns/topicSubscription:TopicSubscription', 'mailq-alarms-email').inputs).to.include({
      protocol: 'email',
      endpoint: 'ops@example.com',
      topic: topic.state.arn,
    });
    expect(named('aws:cloudwatch/metricAlarm:MetricAlarm', 'mailq-dlq-depth').inputs.alarmActions).to.deep.equal([topic.state.arn]);
  });

  it('an arm64 cluster reads the arm64 ECS AMI parameter', async () => {
    const c = new SpotCluster('armcl', {
      vpcId: 'vpc-1',
      privateSubnetIds: ['subnet-a'],
      instanceTypes: ['c7g.large', 'm7g.large'],
      architecture: 'arm64',
      minSize: 0,
      maxSize: 2,
    });
    await resolve(c.capacityProviderName);
    await settle();
    expect(invoked.map((i) => i.inputs.name)).to.include('/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id');
    expect(named('aws:autoscaling/group:Group', 'armcl-asg').inputs.minSize).to.equal(0);
  });

  it('components reject arguments AWS would refuse', () => {
    expect(() => new Storage('bad-storage', { abortIncompleteUploadAfterDays: 0 })).to.throw(/abortIncompleteUploadAfterDays/);
    expect(() => new JobQueue('bad-queue', { visibilityTimeoutSeconds: 60, heartbeatSeconds: 60 })).to.throw(/too short/);
    expect(() => new JobQueue('bad-queue2', { maxReceiveCount: 0 })).to.throw(/maxReceiveCount/);
  });
});
