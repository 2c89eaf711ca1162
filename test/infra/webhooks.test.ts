/**
 * Webhooks in the Pulumi program, under mocks: the webhooks queue and its
 * dead-letter queue from the contract's timing, the signing secret in SSM,
 * the delivery worker as its own small service with a least-privilege role —
 * running only when `vod:webhookUrls` names receivers, and only then do the
 * services that change status records queue events. A receiver URL that is
 * not http(s) stops the program with a clear message.
 */
import { expect } from 'chai';
import { WEBHOOK_MAX_ATTEMPTS, WEBHOOK_QUEUE_DEFAULTS, WEBHOOK_SECRET_PATTERN } from '@vod/contract';
import type { PolicyDocument } from '../../infra/policies.js';
import { ACCOUNT, type Declared, type ProgramRun, named as namedIn, ofType as ofTypeIn, runProgram } from './harness.js';
import { type Arns, type WebhookArns, mismatches, simulate, webhookProducerCases, webhooksRoleTable } from './simulate.js';

const T = {
  queue: 'aws:sqs/queue:Queue',
  service: 'aws:ecs/service:Service',
  taskDefinition: 'aws:ecs/taskDefinition:TaskDefinition',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  ssmParameter: 'aws:ssm/parameter:Parameter',
  egress: 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule',
  sg: 'aws:ec2/securityGroup:SecurityGroup',
  bucket: 'aws:s3/bucket:Bucket',
  cluster: 'aws:ecs/cluster:Cluster',
  image: 'awsx:ecr:Image',
} as const;

const RECEIVERS = ['https://hooks.example.com/vod', 'http://receiver.example.net:8088/in'];

interface ContainerDefinition {
  image: string;
  command?: string[];
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  healthCheck: { command: string[] };
  portMappings: unknown[];
}

function view(run: ProgramRun) {
  const named = (type: string, name: string) => namedIn(type, name, run.declared);
  const container = (svc: string): ContainerDefinition => JSON.parse(named(T.taskDefinition, `${svc}-task`).inputs.containerDefinitions as string)[0];
  const env = (svc: string) => Object.fromEntries(container(svc).environment.map((e) => [e.name, e.value]));
  const policy = (d: Declared) => JSON.parse(d.inputs.policy as string) as PolicyDocument;
  const arns = (): Arns & WebhookArns => ({
    uploadsBucketArn: named(T.bucket, 'vod-storage-uploads').state.arn,
    mediaBucketArn: named(T.bucket, 'vod-storage-media').state.arn,
    jobsQueueArn: named(T.queue, 'vod-queue-jobs').state.arn,
    deadLetterQueueArn: named(T.queue, 'vod-queue-dlq').state.arn,
    controlQueueArn: named(T.queue, 'vod-control-jobs').state.arn,
    clusterTasksArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task/${named(T.cluster, 'vod-ecs-cluster').state.name}/*`,
    signingKeyParameterArn: named(T.ssmParameter, 'vod-secrets-cloudfront-private-key').state.arn,
    apiTokenParameterArn: named(T.ssmParameter, 'vod-secrets-api-token').state.arn,
    originVerifyParameterArn: named(T.ssmParameter, 'vod-secrets-origin-verify').state.arn,
    distributionArn: named('aws:cloudfront/distribution:Distribution', 'vod-cdn-distribution').state.arn,
    webhooksQueueArn: named(T.queue, 'vod-webhooks-jobs').state.arn,
    webhooksDlqArn: named(T.queue, 'vod-webhooks-dlq').state.arn,
    webhookSecretParameterArn: named(T.ssmParameter, 'vod-secrets-webhook-secret').state.arn,
  });
  return { named, container, env, policy, arns, ofType: (type: string) => ofTypeIn(type, run.declared) };
}

describe('infra: webhooks (under mocks)', function () {
  this.timeout(60_000);
  let off: ReturnType<typeof view>;
  let on: ReturnType<typeof view>;
  let onRun: ProgramRun;

  before(async () => {
    off = view(await runProgram('dev'));
    onRun = await runProgram('dev', { 'vod:webhookUrls': JSON.stringify(RECEIVERS) });
    on = view(onRun);
  });

  it('declares the webhooks queue and its dead-letter queue with the contract’s timing', () => {
    const q = on.named(T.queue, 'vod-webhooks-jobs').inputs;
    expect(q.visibilityTimeoutSeconds).to.equal(WEBHOOK_QUEUE_DEFAULTS.visibilityTimeoutSeconds);
    expect(q.messageRetentionSeconds).to.equal(WEBHOOK_QUEUE_DEFAULTS.messageRetentionSeconds);
    expect(q.fifoQueue, 'standard queue: one receiver’s retries hold nothing back').to.equal(undefined);
    const redrive = JSON.parse(q.redrivePolicy as string);
    expect(redrive).to.deep.equal({ deadLetterTargetArn: on.named(T.queue, 'vod-webhooks-dlq').state.arn, maxReceiveCount: WEBHOOK_MAX_ATTEMPTS });
    // The queue needs a visibility longer than one POST may take.
    expect(q.visibilityTimeoutSeconds).to.be.greaterThan(WEBHOOK_QUEUE_DEFAULTS.requestTimeoutSeconds);
  });

  it('runs the delivery worker from the upload image, with its receivers, queue and secret, only when receivers are configured', () => {
    expect(off.named(T.service, 'webhooks-service').inputs.desiredCount).to.equal(0);
    expect(on.named(T.service, 'webhooks-service').inputs.desiredCount).to.equal(1);
    const c = on.container('webhooks');
    expect(c.command).to.deep.equal(['node', '--import', 'tsx', 'src/webhook-server.ts']);
    expect(on.named(T.image, 'webhooks-image').inputs.dockerfile).to.match(/containers\/upload\/Dockerfile$/);
    expect(c.portMappings).to.deep.equal([]);
    expect(c.healthCheck.command.join(' ')).to.include('http://127.0.0.1:8084/healthz');
    expect(on.env('webhooks')).to.deep.equal({
      AWS_REGION: 'us-east-1',
      LOG_LEVEL: 'info',
      HEALTH_PORT: '8084',
      WEBHOOKS_QUEUE_URL: on.named(T.queue, 'vod-webhooks-jobs').state.url,
      VOD_WEBHOOK_URLS: RECEIVERS.join(','),
    });
    const secret = on.named(T.ssmParameter, 'vod-secrets-webhook-secret');
    expect(secret.inputs).to.include({ type: 'SecureString', name: '/vod/dev/webhook-secret' });
    expect(secret.inputs.value).to.match(WEBHOOK_SECRET_PATTERN);
    expect(secret.secretInputs).to.include('value');
    expect(c.secrets).to.deep.equal([{ name: 'VOD_WEBHOOK_SECRET', valueFrom: secret.state.arn }]);
    expect(JSON.stringify(c)).to.not.include(secret.inputs.value);
    expect(onRun.outputs.webhookSecret).to.equal(secret.inputs.value);
  });

  it('lets the worker reach its receivers’ ports on the internet, and nothing else there', () => {
    const internet = (v: typeof on, sg: string) =>
      v.ofType(T.egress).filter((r) => r.inputs.securityGroupId === sg && r.inputs.cidrIpv4 === '0.0.0.0/0').map((r) => r.inputs.toPort).sort((a, b) => a - b);
    expect(internet(on, on.named(T.sg, 'webhooks-tasks').id)).to.deep.equal([443, 8088]);
    expect(internet(off, off.named(T.sg, 'webhooks-tasks').id)).to.deep.equal([]);
  });

  it('producers queue events (env and permission) only when webhooks are on', async () => {
    for (const svc of ['upload', 'transcode']) {
      expect(on.env(svc).WEBHOOKS_QUEUE_URL, svc).to.equal(on.named(T.queue, 'vod-webhooks-jobs').state.url);
      expect(off.env(svc), svc).to.not.have.property('WEBHOOKS_QUEUE_URL');
      expect(await mismatches([on.policy(on.named(T.rolePolicy, `${svc}-task`))], webhookProducerCases(on.arns(), true)), `${svc} on`).to.deep.equal([]);
      expect(await mismatches([off.policy(off.named(T.rolePolicy, `${svc}-task`))], webhookProducerCases(off.arns(), false)), `${svc} off`).to.deep.equal([]);
    }
  });

  it('the worker’s task role, as declared, passes its table; its execution role reads only its secret', async () => {
    const a = on.arns();
    expect(await mismatches([on.policy(on.named(T.rolePolicy, 'webhooks-task'))], webhooksRoleTable(a, a))).to.deep.equal([]);
    const exec = on.policy(on.named(T.rolePolicy, 'webhooks-execution'));
    for (const p of [a.webhookSecretParameterArn, a.apiTokenParameterArn, a.signingKeyParameterArn, a.originVerifyParameterArn]) {
      const decision = await simulate({ identityPolicies: [exec], action: 'ssm:GetParameters', resource: p });
      expect(decision === 'Allowed', p).to.equal(p === a.webhookSecretParameterArn);
    }
  });

  it('refuses a receiver URL that is not http(s), naming it', async () => {
    let error: unknown;
    try {
      await runProgram('dev', { 'vod:webhookUrls': JSON.stringify(['https://ok.example/h', 'ftp://files.example/in']) });
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.include('vod:webhookUrls').and.include('"ftp://files.example/in" is not an http(s) URL');
  });
});
