/**
 * The whole program (infra/index.ts) under Pulumi mocks with the config of
 * Pulumi.dev.yaml: assertions on the resources it declares. Everything here is
 * what the program *asks* AWS for; AWS's own validation is not exercised.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_LADDER, HEALTH_PATH, UPLOADS_BUCKET_CORS, selectLadder } from '@vod/contract';
import { transcodeTaskSize } from '../../infra/task-sizing.js';
import { expect } from 'chai';
import type { PolicyDocument } from '../../infra/policies.js';
import {
  ACCOUNT,
  AMI_ID,
  DISTRIBUTION_ARN,
  PREFIX_LIST_ID,
  S3_PREFIX_LIST_ID,
  type Declared,
  type ProgramRun,
  named as namedIn,
  ofType as ofTypeIn,
  readStackConfig,
  runDevProgram,
} from './harness.js';
import { type Arns, mismatches, simulate, taskRoleTables } from './simulate.js';

const T = {
  bucket: 'aws:s3/bucket:Bucket',
  publicAccessBlock: 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  ownership: 'aws:s3/bucketOwnershipControls:BucketOwnershipControls',
  sse: 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  bucketPolicy: 'aws:s3/bucketPolicy:BucketPolicy',
  lifecycle: 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  cors: 'aws:s3/bucketCorsConfiguration:BucketCorsConfiguration',
  queue: 'aws:sqs/queue:Queue',
  alarm: 'aws:cloudwatch/metricAlarm:MetricAlarm',
  distribution: 'aws:cloudfront/distribution:Distribution',
  oac: 'aws:cloudfront/originAccessControl:OriginAccessControl',
  oai: 'aws:cloudfront/originAccessIdentity:OriginAccessIdentity',
  keyGroup: 'aws:cloudfront/keyGroup:KeyGroup',
  publicKey: 'aws:cloudfront/publicKey:PublicKey',
  asg: 'aws:autoscaling/group:Group',
  launchTemplate: 'aws:ec2/launchTemplate:LaunchTemplate',
  capacityProvider: 'aws:ecs/capacityProvider:CapacityProvider',
  clusterCapacityProviders: 'aws:ecs/clusterCapacityProviders:ClusterCapacityProviders',
  cluster: 'aws:ecs/cluster:Cluster',
  service: 'aws:ecs/service:Service',
  taskDefinition: 'aws:ecs/taskDefinition:TaskDefinition',
  logGroup: 'aws:cloudwatch/logGroup:LogGroup',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  role: 'aws:iam/role:Role',
  ssmParameter: 'aws:ssm/parameter:Parameter',
  sg: 'aws:ec2/securityGroup:SecurityGroup',
  ingress: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
  egress: 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule',
  alb: 'aws:lb/loadBalancer:LoadBalancer',
  listener: 'aws:lb/listener:Listener',
  listenerRule: 'aws:lb/listenerRule:ListenerRule',
  scalingTarget: 'aws:appautoscaling/target:Target',
  scalingPolicy: 'aws:appautoscaling/policy:Policy',
  vpc: 'awsx:ec2:Vpc',
  image: 'awsx:ecr:Image',
} as const;

/** The program's own declarations (other test files declare resources under the same mocks). */
let run: ProgramRun;
const ofType = (type: string) => ofTypeIn(type, run.declared);
const named = (type: string, name: string) => namedIn(type, name, run.declared);

const SERVICES = ['upload', 'stream', 'transcode'] as const;
type Service = (typeof SERVICES)[number];

interface ContainerDefinition {
  name: string;
  image: string;
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  portMappings: { containerPort: number }[];
  healthCheck: { command: string[] };
  stopTimeout: number;
  logConfiguration: { logDriver: string; options: Record<string, string> };
}

const container = (svc: Service): ContainerDefinition => {
  const defs = JSON.parse(named(T.taskDefinition, `${svc}-task`).inputs.containerDefinitions as string) as ContainerDefinition[];
  expect(defs, `${svc} containers`).to.have.length(1);
  return defs[0]!;
};
const policyOf = (d: Declared): PolicyDocument => JSON.parse(d.inputs.policy as string) as PolicyDocument;
const bucketNamed = (suffix: 'uploads' | 'media') => named(T.bucket, `vod-storage-${suffix}`);
const bucketChild = (type: string, bucket: Declared) => {
  const found = ofType(type).filter((d) => d.inputs.bucket === bucket.state.bucket);
  expect(found, `${type} of ${bucket.name}`).to.have.length(1);
  return found[0]!;
};

describe('infra program (Pulumi.dev.yaml, under mocks)', function () {
  let outputs: Record<string, unknown>;
  let declared: Declared[];
  let invoked: ProgramRun['invoked'];
  let devConfig: Record<string, string>;

  before(async function () {
    this.timeout(30_000);
    run = await runDevProgram();
    outputs = run.outputs;
    declared = run.declared;
    invoked = run.invoked;
    devConfig = readStackConfig(new URL('../../Pulumi.dev.yaml', import.meta.url).pathname);
  });

  it('builds, calls only mocked invokes, and exports the stack outputs', () => {
    expect(declared.length).to.be.greaterThan(80);
    expect(invoked.map((i) => i.token).sort()).to.deep.equal([
      'aws:ec2/getManagedPrefixList:getManagedPrefixList',
      'aws:ec2/getManagedPrefixList:getManagedPrefixList',
      'aws:iam/getRoles:getRoles',
      'aws:index/getCallerIdentity:getCallerIdentity',
      'aws:ssm/getParameter:getParameter',
    ]);
    expect(outputs.apiBaseUrl).to.equal('https://d111111abcdef8.cloudfront.net/api');
    expect(outputs.cdnDomain).to.equal('d111111abcdef8.cloudfront.net');
    expect(outputs.uploadsBucketName).to.equal(bucketNamed('uploads').state.bucket);
    expect(outputs.mediaBucketName).to.equal(bucketNamed('media').state.bucket);
    expect(outputs.jobsQueueUrl).to.equal(named(T.queue, 'vod-queue-jobs').state.url);
    expect(outputs.jobsQueueArn).to.equal(named(T.queue, 'vod-queue-jobs').state.arn);
    expect(outputs.apiToken).to.match(/^[0-9a-f]{64}$/);
  });

  describe('storage', () => {
    it('both buckets block all public access, enforce bucket ownership, and encrypt by default', () => {
      expect(ofType(T.bucket)).to.have.length(2);
      for (const bucket of [bucketNamed('uploads'), bucketNamed('media')]) {
        expect(bucketChild(T.publicAccessBlock, bucket).inputs).to.include({
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        });
        expect(bucketChild(T.ownership, bucket).inputs.rule).to.deep.equal({ objectOwnership: 'BucketOwnerEnforced' });
        expect(bucketChild(T.sse, bucket).inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).to.equal('AES256');
        expect(bucket.inputs.acl).to.equal(undefined);
      }
    });

    it('both bucket policies refuse requests without TLS (evaluated)', async () => {
      for (const bucket of [bucketNamed('uploads'), bucketNamed('media')]) {
        const policy = policyOf(bucketChild(T.bucketPolicy, bucket));
        const everything: PolicyDocument = {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucket.state.arn}/*` }],
        };
        const req = { identityPolicies: [everything], resourcePolicy: policy, action: 's3:GetObject', resource: `${bucket.state.arn}/records/x.json` };
        expect(await simulate(req), bucket.name).to.equal('Allowed');
        expect(await simulate({ ...req, context: { 'aws:SecureTransport': 'false' } }), bucket.name).to.equal('ExplicitlyDenied');
      }
    });

    it('pulumi destroy keeps both buckets and their videos (forceDestroyBuckets is off)', () => {
      for (const b of ['uploads', 'media'] as const) {
        expect(bucketNamed(b).inputs.forceDestroy, b).to.equal(false);
        expect(bucketNamed(b).options.retainOnDelete, b).to.equal(true);
      }
    });

    it('the uploads bucket aborts incomplete multipart uploads after a few days', () => {
      const rules = bucketChild(T.lifecycle, bucketNamed('uploads')).inputs.rules as any[];
      const abort = rules.find((r) => r.abortIncompleteMultipartUpload);
      expect(abort.status).to.equal('Enabled');
      expect(abort.abortIncompleteMultipartUpload.daysAfterInitiation).to.equal(Number(devConfig['vod:abortIncompleteUploadDays']));
    });

    it('the uploads bucket lets browsers PUT parts and read their ETag (CORS); the media bucket has no CORS', () => {
      expect(ofType(T.cors), 'CORS configurations').to.have.length(1);
      const rules = bucketChild(T.cors, bucketNamed('uploads')).inputs.corsRules as any[];
      expect(rules).to.have.length(1);
      const rule = rules[0];
      expect(rule.allowedMethods).to.include('PUT');
      expect(rule.exposeHeaders).to.include('ETag');
      expect(rule).to.deep.include({
        allowedOrigins: [...UPLOADS_BUCKET_CORS.allowedOrigins],
        allowedMethods: [...UPLOADS_BUCKET_CORS.allowedMethods],
        allowedHeaders: [...UPLOADS_BUCKET_CORS.allowedHeaders],
        exposeHeaders: [...UPLOADS_BUCKET_CORS.exposeHeaders],
        maxAgeSeconds: UPLOADS_BUCKET_CORS.maxAgeSeconds,
      });
      const media = bucketNamed('media');
      expect(ofType(T.cors).filter((d) => d.inputs.bucket === media.state.bucket), 'media bucket CORS').to.have.length(0);
    });
  });

  describe('queue', () => {
    it('jobs redrive to the DLQ after 20 receives (a backstop), with a 30 s visibility timeout and SSE on both queues', () => {
      const jobs = named(T.queue, 'vod-queue-jobs');
      const dlq = named(T.queue, 'vod-queue-dlq');
      expect(JSON.parse(jobs.inputs.redrivePolicy)).to.deep.equal({ deadLetterTargetArn: dlq.state.arn, maxReceiveCount: 20 });
      expect(jobs.inputs.visibilityTimeoutSeconds).to.equal(30);
      expect(jobs.inputs.sqsManagedSseEnabled).to.equal(true);
      expect(dlq.inputs.sqsManagedSseEnabled).to.equal(true);
      const allow = ofType('aws:sqs/redriveAllowPolicy:RedriveAllowPolicy').map((p) => JSON.parse(p.inputs.redriveAllowPolicy));
      expect(allow).to.deep.include({ redrivePermission: 'byQueue', sourceQueueArns: [jobs.state.arn] });
      const control = named(T.queue, 'vod-control-jobs');
      expect(JSON.parse(control.inputs.redrivePolicy)).to.deep.equal({ deadLetterTargetArn: named(T.queue, 'vod-control-dlq').state.arn, maxReceiveCount: 10 });
      expect(allow).to.deep.include({ redrivePermission: 'byQueue', sourceQueueArns: [control.state.arn] });
    });

    it('an alarm watches the DLQ depth', () => {
      const alarm = named(T.alarm, 'vod-queue-dlq-depth');
      expect(alarm.inputs).to.include({
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      expect(alarm.inputs.dimensions).to.deep.equal({ QueueName: named(T.queue, 'vod-queue-dlq').state.name });
    });
  });

  describe('CDN', () => {
    const dist = () => named(T.distribution, 'vod-cdn-distribution').inputs;
    const behaviour = (path: string) => (dist().orderedCacheBehaviors as any[]).find((b) => b.pathPattern === path);

    it('reaches S3 through Origin Access Control (SigV4), never an OAI', () => {
      const oac = named(T.oac, 'vod-cdn-oac');
      expect(oac.inputs).to.include({ originAccessControlOriginType: 's3', signingBehavior: 'always', signingProtocol: 'sigv4' });
      expect(ofType(T.oai)).to.have.length(0);
      const s3Origins = (dist().origins as any[]).filter((o) => o.domainName === bucketNamed('media').state.bucketRegionalDomainName);
      expect(s3Origins.map((o) => o.originId).sort()).to.deep.equal(['media-s3', 'web-s3']);
      for (const o of s3Origins) {
        expect(o.originAccessControlId).to.equal(oac.id);
        expect(o.s3OriginConfig?.originAccessIdentity ?? '').to.equal('');
      }
    });

    it('the media bucket policy lets only this distribution read videos/ and web/ (evaluated)', async () => {
      const media = bucketNamed('media');
      const policy = policyOf(bucketChild(T.bucketPolicy, media));
      const cf = (key: string, sourceArn: string) =>
        simulate({
          resourcePolicy: policy,
          principal: 'cloudfront.amazonaws.com',
          action: 's3:GetObject',
          resource: `${media.state.arn}/${key}`,
          context: { 'aws:SourceArn': sourceArn },
        });
      expect(await cf('videos/v/720p/seg-1.ts', DISTRIBUTION_ARN)).to.equal('Allowed');
      expect(await cf('web/index.html', DISTRIBUTION_ARN)).to.equal('Allowed');
      expect(await cf('records/v.json', DISTRIBUTION_ARN)).to.not.equal('Allowed');
      expect(await cf('videos/v/720p/seg-1.ts', `arn:aws:cloudfront::${ACCOUNT}:distribution/EOTHER`)).to.not.equal('Allowed');
    });

    it('playlist and segment behaviours require signed URLs from the key group; the API and web app do not', () => {
      const keyGroup = named(T.keyGroup, 'vod-cdn-signers');
      expect(keyGroup.inputs.items).to.deep.equal([named(T.publicKey, 'vod-cdn-signing-key').id]);
      const kgId = keyGroup.id;
      const paths = (dist().orderedCacheBehaviors as any[]).map((b) => b.pathPattern);
      expect(paths).to.deep.equal(['/api/*', '/videos/*.m3u8', '/videos/*']);
      expect(behaviour('/videos/*.m3u8').trustedKeyGroups).to.deep.equal([kgId]);
      expect(behaviour('/videos/*.m3u8').targetOriginId).to.equal('alb');
      expect(behaviour('/videos/*').trustedKeyGroups).to.deep.equal([kgId]);
      expect(behaviour('/videos/*').targetOriginId).to.equal('media-s3');
      expect(behaviour('/api/*').trustedKeyGroups ?? []).to.deep.equal([]);
      expect(behaviour('/api/*').allowedMethods).to.include.members(['POST', 'PUT', 'DELETE', 'PATCH']);
      expect(dist().defaultCacheBehavior.targetOriginId).to.equal('web-s3');
      expect(dist().defaultCacheBehavior.allowedMethods).to.deep.equal(['GET', 'HEAD']);
    });

    it('is HTTPS only, sends the origin secret to the ALB, and adds CORS + security headers', () => {
      const all = [...(dist().orderedCacheBehaviors as any[]), dist().defaultCacheBehavior];
      for (const b of all) expect(['https-only', 'redirect-to-https'], b.pathPattern ?? 'default').to.include(b.viewerProtocolPolicy);
      const alb = (dist().origins as any[]).find((o) => o.originId === 'alb');
      expect(alb.domainName).to.equal(named(T.alb, 'vod-origin-alb').state.dnsName);
      expect(alb.customHeaders).to.deep.equal([{ name: 'x-origin-verify', value: alb.customHeaders[0].value }]);
      expect(alb.customHeaders[0].value).to.match(/^[0-9a-f]{64}$/);
      const cors = named('aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy', 'vod-cdn-cors-headers').inputs;
      expect(cors.corsConfig.accessControlExposeHeaders.items).to.include.members(['Content-Range', 'Accept-Ranges', 'Content-Length']);
      expect(cors.securityHeadersConfig.strictTransportSecurity.accessControlMaxAgeSec).to.be.at.least(31_536_000);
      expect(cors.securityHeadersConfig.contentTypeOptions).to.deep.equal({ override: true });
      const corsId = named('aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy', 'vod-cdn-cors-headers').id;
      for (const path of ['/api/*', '/videos/*.m3u8', '/videos/*']) expect(behaviour(path).responseHeadersPolicyId).to.equal(corsId);
      // The origin secret is a Pulumi secret wherever it appears.
      expect(named(T.distribution, 'vod-cdn-distribution').secretInputs).to.include('origins');
      expect(dist().priceClass).to.equal(devConfig['vod:priceClass']);
    });
  });

  describe('ECS on spot EC2', () => {
    it('the Auto Scaling group is all spot above the on-demand base, price-capacity-optimized, over several types', () => {
      const asg = named(T.asg, 'vod-ecs-asg').inputs;
      const dist = asg.mixedInstancesPolicy.instancesDistribution;
      expect(dist.onDemandPercentageAboveBaseCapacity).to.equal(0);
      expect(dist.onDemandBaseCapacity).to.equal(Number(devConfig['vod:onDemandBase']));
      expect(dist.spotAllocationStrategy).to.equal('price-capacity-optimized');
      const types = (asg.mixedInstancesPolicy.launchTemplate.overrides as any[]).map((o) => o.instanceType);
      expect(types).to.deep.equal(JSON.parse(devConfig['vod:instanceTypes']!));
      expect(types.length).to.be.at.least(3);
      expect(asg.protectFromScaleIn).to.equal(true);
      expect(asg.tags).to.deep.include({ key: 'AmazonECSManaged', value: '', propagateAtLaunch: true });
      expect(asg.vpcZoneIdentifiers).to.deep.equal(['subnet-private-a', 'subnet-private-b']);
      expect([asg.minSize, asg.maxSize]).to.deep.equal([Number(devConfig['vod:asgMinSize']), Number(devConfig['vod:asgMaxSize'])]);
    });

    it('the launch template uses the ECS-optimized AL2023 AMI from SSM, requires IMDSv2, and drains on spot interruption', () => {
      const lt = named(T.launchTemplate, 'vod-ecs-lt').inputs;
      expect(invoked.find((i) => i.token === 'aws:ssm/getParameter:getParameter')!.inputs.name).to.equal(
        '/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id',
      );
      expect(lt.imageId).to.equal(AMI_ID);
      expect(lt.metadataOptions.httpTokens).to.equal('required');
      const userData = Buffer.from(lt.userData as string, 'base64').toString('utf8').split('\n');
      expect(userData).to.include('ECS_ENABLE_SPOT_INSTANCE_DRAINING=true');
      expect(userData).to.include(`ECS_CLUSTER=${named(T.cluster, 'vod-ecs-cluster').state.name}`);
      expect(userData).to.include('ECS_AWSVPC_BLOCK_IMDS=true');
      expect(lt.blockDeviceMappings[0].ebs.encrypted).to.equal('true');
    });

    it('a capacity provider with managed scaling and termination protection is attached to the cluster', () => {
      const cp = named(T.capacityProvider, 'vod-ecs-spot');
      const provider = cp.inputs.autoScalingGroupProvider;
      expect(provider.autoScalingGroupArn).to.equal(named(T.asg, 'vod-ecs-asg').state.arn);
      expect(provider.managedTerminationProtection).to.equal('ENABLED');
      expect(provider.managedScaling.status).to.equal('ENABLED');
      // Container Insights publishes the RunningTaskCount the transcode scaling divides by.
      expect(named(T.cluster, 'vod-ecs-cluster').inputs.settings).to.deep.equal([{ name: 'containerInsights', value: 'enabled' }]);
      const ccp = named(T.clusterCapacityProviders, 'vod-ecs-capacity').inputs;
      expect(ccp.clusterName).to.equal(named(T.cluster, 'vod-ecs-cluster').state.name);
      expect(ccp.capacityProviders).to.deep.equal([cp.state.name]);
      expect(ccp.defaultCapacityProviderStrategies[0].capacityProvider).to.equal(cp.state.name);
    });

    it('a new account gets the ECS service-linked role (kept on destroy) before the capacity provider that needs it', () => {
      const lookup = invoked.find((i) => i.token === 'aws:iam/getRoles:getRoles')!.inputs;
      expect(lookup).to.deep.include({ pathPrefix: '/aws-service-role/ecs.amazonaws.com/', nameRegex: '^AWSServiceRoleForECS$' });
      const role = named('aws:iam/serviceLinkedRole:ServiceLinkedRole', 'vod-ecs-ecs-service-linked-role');
      expect(role.inputs.awsServiceName).to.equal('ecs.amazonaws.com');
      expect(role.options.retainOnDelete).to.equal(true);
      const cp = named(T.capacityProvider, 'vod-ecs-spot');
      expect(cp.options.dependencies.some((urn) => urn.endsWith('::vod-ecs-ecs-service-linked-role'))).to.equal(true);
    });

    it('pulumi up does not wait for spot capacity (ECS managed scaling owns it)', () => {
      expect(named(T.asg, 'vod-ecs-asg').inputs.waitForCapacityTimeout).to.equal('0');
    });

    it('a crash-looping deploy of upload or stream fails the update (wait for steady state); the autoscaled worker may run none', () => {
      expect(named(T.service, 'upload-service').inputs.waitForSteadyState).to.equal(true);
      expect(named(T.service, 'stream-service').inputs.waitForSteadyState).to.equal(true);
      expect(named(T.service, 'transcode-service').inputs.waitForSteadyState).to.equal(false);
    });

    it('target groups fit the tasks: ip targets for awsvpc tasks, health-checked on the path every service answers', () => {
      for (const svc of ['upload', 'stream'] as const) {
        const tg = named('aws:lb/targetGroup:TargetGroup', `vod-origin-${svc}`).inputs;
        expect(named(T.taskDefinition, `${svc}-task`).inputs.networkMode).to.equal('awsvpc');
        expect(tg.targetType, `${svc}: awsvpc tasks register by IP`).to.equal('ip');
        expect(tg.healthCheck.path, svc).to.equal(HEALTH_PATH);
        const port = named(T.service, `${svc}-service`).inputs.loadBalancers[0].containerPort;
        expect(tg.port, svc).to.equal(port);
        expect(container(svc).healthCheck.command.join(' '), svc).to.include(`:${port}${HEALTH_PATH}`);
      }
    });

    it('services place tasks with the capacity provider strategy (no launch type) in private subnets', () => {
      const cpName = named(T.capacityProvider, 'vod-ecs-spot').state.name;
      expect(ofType(T.service)).to.have.length(4); // + the webhook delivery worker (test/infra/webhooks.test.ts)
      for (const svc of SERVICES) {
        const s = named(T.service, `${svc}-service`).inputs;
        expect(s.launchType, svc).to.equal(undefined);
        expect(s.capacityProviderStrategies, svc).to.deep.equal([{ capacityProvider: cpName, weight: 1, base: 0 }]);
        expect(s.networkConfiguration.subnets, svc).to.deep.equal(['subnet-private-a', 'subnet-private-b']);
        expect(s.networkConfiguration.assignPublicIp, svc).to.equal(false);
        const td = named(T.taskDefinition, `${svc}-task`).inputs;
        expect(td.requiresCompatibilities).to.deep.equal(['EC2']);
        expect(td.networkMode).to.equal('awsvpc');
      }
      expect(named(T.service, 'upload-service').inputs.loadBalancers[0].containerPort).to.equal(8081);
      expect(named(T.service, 'stream-service').inputs.loadBalancers[0].containerPort).to.equal(8082);
      expect(named(T.service, 'transcode-service').inputs.loadBalancers).to.equal(undefined);
    });

    it('images are built from containers/{upload,transcode,stream}/Dockerfile with the repo root as context', () => {
      const root = new URL('../../', import.meta.url).pathname;
      for (const svc of SERVICES) {
        const image = named(T.image, `${svc}-image`).inputs;
        expect(image.context).to.equal(root);
        expect(image.dockerfile).to.equal(`${root}containers/${svc}/Dockerfile`);
        expect(image.platform).to.equal('linux/amd64');
        expect(container(svc).image).to.equal(named(T.image, `${svc}-image`).state.imageUri);
      }
    });
  });

  describe('task definitions', () => {
    const env = (svc: Service) => Object.fromEntries(container(svc).environment.map((e) => [e.name, e.value]));
    const secrets = (svc: Service) => Object.fromEntries(container(svc).secrets.map((e) => [e.name, e.valueFrom]));
    const param = (label: string) => named(T.ssmParameter, `vod-secrets-${label}`);

    it('the upload service expires sessions on the day S3 aborts their multipart uploads (one number for both)', () => {
      const rules = bucketChild(T.lifecycle, bucketNamed('uploads')).inputs.rules as any[];
      const days = rules.find((r) => r.abortIncompleteMultipartUpload).abortIncompleteMultipartUpload.daysAfterInitiation;
      expect(env('upload').UPLOAD_EXPIRY_DAYS).to.equal(String(days));
    });

    it('set the environment each service reads', () => {
      const common = {
        AWS_REGION: 'us-east-1',
        UPLOADS_BUCKET: bucketNamed('uploads').state.bucket,
        MEDIA_BUCKET: bucketNamed('media').state.bucket,
        JOBS_QUEUE_URL: named(T.queue, 'vod-queue-jobs').state.url,
        LOG_LEVEL: 'info',
      };
      expect(env('upload')).to.deep.equal({
        ...common,
        PORT: '8081',
        MAX_UPLOAD_BYTES: devConfig['vod:maxUploadBytes'],
        UPLOAD_EXPIRY_DAYS: devConfig['vod:abortIncompleteUploadDays'],
      });
      expect(env('stream')).to.deep.equal({
        ...common,
        PORT: '8082',
        PUBLIC_BASE_URL: 'https://d111111abcdef8.cloudfront.net',
        CLOUDFRONT_KEY_PAIR_ID: 'K2MOCKPUBLICKEY',
        SIGNED_URL_TTL_SECONDS: devConfig['vod:signedUrlTtlSeconds'],
        // Retry/redrive, and the invalidation of a deleted video's cached segments.
        JOBS_DLQ_URL: named(T.queue, 'vod-queue-dlq').state.url,
        CLOUDFRONT_DISTRIBUTION_ID: String(outputs.cloudfrontDistributionId),
      });
      expect(env('transcode')).to.deep.equal({
        ...common,
        HEALTH_PORT: '8083',
        VISIBILITY_TIMEOUT_SECONDS: '30',
        LADDER: '1080,720,540,360,234',
        CONTROL_QUEUE_URL: named(T.queue, 'vod-control-jobs').state.url,
        CONTROL_VISIBILITY_TIMEOUT_SECONDS: '30',
        CONTROL_MAX_RECEIVE_COUNT: '10',
        SPOT_PRICE_PER_VCPU_HOUR: '0.015',
      });
      // The control queue is FIFO (one message group per video), with a FIFO dead-letter queue.
      expect(named(T.queue, 'vod-control-jobs').inputs).to.include({ fifoQueue: true, name: 'vod-dev-control.fifo' });
      expect(named(T.queue, 'vod-control-dlq').inputs).to.include({ fifoQueue: true, name: 'vod-dev-control-dlq.fifo' });
    });

    it('size the transcode task for exactly the ladder the worker is told to encode (LADDER, read as the worker reads it)', () => {
      const rungs = selectLadder(env('transcode').LADDER!.split(',').map(Number));
      expect(rungs).to.deep.equal([...DEFAULT_LADDER]); // Pulumi.dev.yaml keeps the default ladder
      const td = named(T.taskDefinition, 'transcode-task').inputs;
      expect({ cpu: Number(td.cpu), memory: Number(td.memory) }).to.deep.equal(transcodeTaskSize(rungs.map((r) => r.shortSide)));
    });

    it('pass secrets only as ECS secrets from SSM SecureString parameters, never as plain environment', () => {
      for (const label of ['api-token', 'origin-verify', 'cloudfront-private-key']) {
        expect(param(label).inputs.type, label).to.equal('SecureString');
        expect(param(label).secretInputs, label).to.include('value');
        expect(param(label).inputs.name, label).to.equal(`/vod/dev/${label}`);
      }
      expect(secrets('upload')).to.deep.equal({
        VOD_API_TOKEN: param('api-token').state.arn,
        ORIGIN_VERIFY_SECRET: param('origin-verify').state.arn,
      });
      expect(secrets('stream')).to.deep.equal({
        CLOUDFRONT_PRIVATE_KEY: param('cloudfront-private-key').state.arn,
        ORIGIN_VERIFY_SECRET: param('origin-verify').state.arn,
        VOD_API_TOKEN: param('api-token').state.arn,
      });
      expect(secrets('transcode')).to.deep.equal({});
      const secretValues = [String(outputs.apiToken), 'PRIVATE KEY'];
      for (const svc of SERVICES) {
        const text = named(T.taskDefinition, `${svc}-task`).inputs.containerDefinitions as string;
        for (const v of secretValues) expect(text, svc).to.not.include(v);
      }
    });

    it('health-check GET /healthz on each service port, allow 120 s after SIGTERM, and log with retention', () => {
      const ports: Record<Service, number> = { upload: 8081, stream: 8082, transcode: 8083 };
      for (const svc of SERVICES) {
        const c = container(svc);
        expect(c.healthCheck.command.join(' '), svc).to.include(`http://127.0.0.1:${ports[svc]}/healthz`);
        expect(c.stopTimeout, svc).to.equal(120);
        const logGroup = named(T.logGroup, `${svc}-logs`);
        expect(c.logConfiguration.logDriver).to.equal('awslogs');
        expect(c.logConfiguration.options['awslogs-group']).to.equal(logGroup.state.name);
        expect(logGroup.inputs.retentionInDays).to.equal(Number(devConfig['vod:logRetentionDays']));
      }
      expect(container('transcode').portMappings).to.deep.equal([]);
    });
  });

  describe('network exposure', () => {
    it('the VPC has public and private subnets, one NAT gateway and an S3 gateway endpoint', () => {
      const vpc = named(T.vpc, 'vod-network-vpc').inputs;
      expect((vpc.subnetSpecs as any[]).map((s) => s.type).sort()).to.deep.equal(['Private', 'Public']);
      expect(vpc.natGateways).to.deep.equal({ strategy: 'Single' });
      expect(vpc.vpcEndpointSpecs).to.deep.equal([{ serviceName: 'com.amazonaws.us-east-1.s3', vpcEndpointType: 'Gateway' }]);
    });

    it('the ALB is internal, in the private subnets, reached by CloudFront as a VPC origin (no public origin, no plain HTTP over the internet)', () => {
      const alb = named(T.alb, 'vod-origin-alb');
      expect(alb.inputs.internal).to.equal(true);
      expect(alb.inputs.subnets).to.deep.equal(['subnet-private-a', 'subnet-private-b']);
      const vpcOrigin = named('aws:cloudfront/vpcOrigin:VpcOrigin', 'vod-cdn-services-origin');
      expect(vpcOrigin.inputs.vpcOriginEndpointConfig.arn).to.equal(alb.state.arn);
      expect(vpcOrigin.inputs.vpcOriginEndpointConfig).to.include({ originProtocolPolicy: 'http-only', httpPort: 80 });
      const services = (named(T.distribution, 'vod-cdn-distribution').inputs.origins as any[]).find((o) => o.originId === 'alb');
      expect(services.vpcOriginConfig.vpcOriginId).to.equal(vpcOrigin.id);
      expect(services.customOriginConfig, 'a custom origin would be a public one').to.equal(undefined);
      expect(services.domainName).to.equal(alb.state.dnsName);
    });

    it('the ALB admits only the CloudFront origin-facing prefix list', () => {
      expect(invoked.filter((i) => i.token === 'aws:ec2/getManagedPrefixList:getManagedPrefixList').map((i) => i.inputs.name)).to.include(
        'com.amazonaws.global.cloudfront.origin-facing',
      );
      const albSg = named(T.sg, 'vod-origin-alb');
      expect(named(T.alb, 'vod-origin-alb').inputs.securityGroups).to.deep.equal([albSg.id]);
      const albIngress = ofType(T.ingress).filter((r) => r.inputs.securityGroupId === albSg.id);
      expect(albIngress).to.have.length(1);
      expect(albIngress[0]!.inputs).to.include({ prefixListId: PREFIX_LIST_ID, fromPort: 80, toPort: 80 });
      // No security group anywhere admits anything from outside the VPC.
      for (const rule of ofType(T.ingress)) {
        expect([undefined, '10.0.0.0/16'], rule.name).to.include(rule.inputs.cidrIpv4);
        expect(rule.inputs.cidrIpv6, rule.name).to.equal(undefined);
      }
      for (const sg of ofType(T.sg)) expect(sg.inputs.ingress ?? [], sg.name).to.deep.equal([]);
    });

    it('every ALB route requires the secret origin header; anything else gets 403', () => {
      const secret = ((named(T.distribution, 'vod-cdn-distribution').inputs.origins as any[]).find((o) => o.originId === 'alb')
        .customHeaders[0].value) as string;
      const rules = ofType(T.listenerRule);
      expect(rules).to.have.length(5);
      for (const rule of rules) {
        expect(rule.inputs.conditions, rule.name).to.deep.include({ httpHeader: { httpHeaderName: 'x-origin-verify', values: [secret] } });
        expect(rule.secretInputs, rule.name).to.include('conditions');
      }
      const listener = named(T.listener, 'vod-origin-http').inputs;
      expect(listener.defaultActions[0].fixedResponse.statusCode).to.equal('403');
    });

    it('tasks reach only S3 (gateway endpoint prefix list) and SQS (interface endpoint); only stream also HTTPS out (the CloudFront API)', () => {
      const sqs = named('aws:ec2/vpcEndpoint:VpcEndpoint', 'vod-network-sqs').inputs;
      expect(sqs).to.include({ serviceName: 'com.amazonaws.us-east-1.sqs', vpcEndpointType: 'Interface', privateDnsEnabled: true });
      expect(sqs.subnetIds).to.deep.equal(['subnet-private-a', 'subnet-private-b']);
      const endpointsSg = named(T.sg, 'vod-network-endpoints').id;
      expect(sqs.securityGroupIds).to.deep.equal([endpointsSg]);
      const s3 = invoked.find((i) => i.token === 'aws:ec2/getManagedPrefixList:getManagedPrefixList' && i.inputs.name === 'com.amazonaws.us-east-1.s3');
      expect(s3, 'S3 prefix list looked up').to.not.equal(undefined);
      for (const svc of SERVICES) {
        const sg = named(T.sg, `${svc}-tasks`).id;
        const egress = ofType(T.egress).filter((r) => r.inputs.securityGroupId === sg);
        const internet = svc === 'stream' ? ['0.0.0.0/0'] : [];
        expect(egress.map((r) => r.inputs.prefixListId ?? r.inputs.referencedSecurityGroupId ?? r.inputs.cidrIpv4).sort(), svc).to.deep.equal(
          [S3_PREFIX_LIST_ID, endpointsSg, ...internet].sort(),
        );
        for (const r of egress) expect([r.inputs.fromPort, r.inputs.toPort], r.name).to.deep.equal([443, 443]);
      }
    });

    it('tasks accept traffic only from the ALB (upload, stream) or not at all (transcode)', () => {
      const sg = (name: string) => named(T.sg, name).id;
      const fromAlb = ofType(T.ingress).filter((r) => r.inputs.referencedSecurityGroupId === sg('vod-origin-alb'));
      expect(fromAlb.map((r) => [r.inputs.securityGroupId, r.inputs.fromPort]).sort()).to.deep.equal([
        [sg('stream-tasks'), 8082],
        [sg('upload-tasks'), 8081],
      ]);
      expect(ofType(T.ingress).filter((r) => r.inputs.securityGroupId === sg('transcode-tasks'))).to.have.length(0);
      expect(named(T.service, 'transcode-service').inputs.networkConfiguration.securityGroups).to.deep.equal([sg('transcode-tasks')]);
      // ALB egress goes only to the two task groups, on their ports.
      const albEgress = ofType(T.egress).filter((r) => r.inputs.securityGroupId === sg('vod-origin-alb'));
      expect(albEgress.map((r) => [r.inputs.referencedSecurityGroupId, r.inputs.fromPort]).sort()).to.deep.equal([
        [sg('stream-tasks'), 8082],
        [sg('upload-tasks'), 8081],
      ]);
    });
  });

  describe('transcode scaling', () => {
    it('tracks jobs per running task and can start from zero', () => {
      const target = named(T.scalingTarget, 'transcode-scaling-target').inputs;
      expect(target).to.include({ minCapacity: 0, maxCapacity: 3, scalableDimension: 'ecs:service:DesiredCount' });
      expect(target.resourceId).to.equal(
        `service/${named(T.cluster, 'vod-ecs-cluster').state.name}/${named(T.service, 'transcode-service').state.name}`,
      );
      const tracking = named(T.scalingPolicy, 'transcode-scaling-backlog-per-task').inputs;
      expect(tracking.policyType).to.equal('TargetTrackingScaling');
      const metrics = tracking.targetTrackingScalingPolicyConfiguration.customizedMetricSpecification.metrics as any[];
      expect(metrics.find((m) => m.returnData).expression).to.equal('(visible + inflight) / running');
      const queueDims = metrics.filter((m) => m.metricStat?.metric.namespace === 'AWS/SQS').map((m) => m.metricStat.metric.dimensions[0].value);
      expect(queueDims).to.deep.equal([named(T.queue, 'vod-queue-jobs').state.name, named(T.queue, 'vod-queue-jobs').state.name]);
      const step = named(T.scalingPolicy, 'transcode-scaling-start-from-zero');
      expect(step.inputs.policyType).to.equal('StepScaling');
      expect(named(T.alarm, 'transcode-scaling-jobs-waiting-no-worker').inputs.alarmActions).to.deep.equal([step.state.arn]);
      expect(named(T.service, 'transcode-service').inputs.desiredCount).to.equal(0);
    });
  });

  describe('least privilege of the declared roles (evaluated)', () => {
    const arns = (): Arns => ({
      uploadsBucketArn: bucketNamed('uploads').state.arn,
      mediaBucketArn: bucketNamed('media').state.arn,
      jobsQueueArn: named(T.queue, 'vod-queue-jobs').state.arn,
      deadLetterQueueArn: named(T.queue, 'vod-queue-dlq').state.arn,
      controlQueueArn: named(T.queue, 'vod-control-jobs').state.arn,
      clusterTasksArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task/${named(T.cluster, 'vod-ecs-cluster').state.name}/*`,
      signingKeyParameterArn: named(T.ssmParameter, 'vod-secrets-cloudfront-private-key').state.arn,
      apiTokenParameterArn: named(T.ssmParameter, 'vod-secrets-api-token').state.arn,
      originVerifyParameterArn: named(T.ssmParameter, 'vod-secrets-origin-verify').state.arn,
      distributionArn: named('aws:cloudfront/distribution:Distribution', 'vod-cdn-distribution').state.arn,
    });

    for (const svc of SERVICES) {
      it(`the ${svc} task role, as declared, passes its table`, async () => {
        const policy = policyOf(named(T.rolePolicy, `${svc}-task`));
        expect(await mismatches([policy], taskRoleTables(arns())[svc])).to.deep.equal([]);
        expect(named(T.rolePolicy, `${svc}-task`).inputs.role).to.equal(named(T.role, `${svc}-task`).id);
        expect(named(T.taskDefinition, `${svc}-task`).inputs.taskRoleArn).to.equal(named(T.role, `${svc}-task`).state.arn);
        expect(named(T.taskDefinition, `${svc}-task`).inputs.executionRoleArn).to.equal(named(T.role, `${svc}-execution`).state.arn);
      });
    }

    it('each execution role reads exactly its own service’s secrets', async () => {
      const a = arns();
      const all = [a.apiTokenParameterArn, a.originVerifyParameterArn, a.signingKeyParameterArn];
      const expected: Record<Service, string[]> = {
        upload: [a.apiTokenParameterArn, a.originVerifyParameterArn],
        stream: [a.apiTokenParameterArn, a.originVerifyParameterArn, a.signingKeyParameterArn],
        transcode: [],
      };
      for (const svc of SERVICES) {
        const policy = policyOf(named(T.rolePolicy, `${svc}-execution`));
        for (const p of all) {
          const decision = await simulate({ identityPolicies: [policy], action: 'ssm:GetParameters', resource: p });
          expect(decision === 'Allowed', `${svc} execution role on ${p}`).to.equal(expected[svc].includes(p));
        }
      }
    });

    it('task roles trust ecs-tasks.amazonaws.com of this account only', () => {
      for (const svc of SERVICES) {
        const trust = JSON.parse(named(T.role, `${svc}-task`).inputs.assumeRolePolicy as string) as PolicyDocument;
        expect(trust.Statement[0]!.Principal).to.deep.equal({ Service: 'ecs-tasks.amazonaws.com' });
        expect(trust.Statement[0]!.Condition).to.deep.equal({ StringEquals: { 'aws:SourceAccount': ACCOUNT } });
      }
    });
  });

  it('Pulumi.yaml runs infra/index.ts as native ESM TypeScript through tsx', () => {
    const yaml = readFileSync(new URL('../../Pulumi.yaml', import.meta.url), 'utf8');
    expect(yaml).to.match(/^runtime:\n {2}name: nodejs\n {2}options:\n {4}typescript: false\n {4}nodeargs: "--import tsx"$/m);
    expect(yaml).to.match(/^main: infra\/index\.ts$/m);
  });
});
