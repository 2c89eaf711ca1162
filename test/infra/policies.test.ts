/**
 * IAM documents evaluated with @cloud-copilot/iam-simulate: the task roles'
 * least-privilege tables, the execution role, the bucket policies, and the
 * invariants (no `*` action, `*` resource only where AWS requires it).
 */
import { isWildcardOnlyAction } from '@cloud-copilot/iam-simulate';
import { expect } from 'chai';
import { keys } from '@vod/contract';
import {
  ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS,
  PREFIX,
  type PolicyDocument,
  ecsTasksTrustPolicy,
  executionRolePolicy,
  mediaBucketPolicy,
  statementsOf,
  streamTaskPolicy,
  transcodeTaskPolicy,
  uploadTaskPolicy,
  uploadsBucketPolicy,
  webhooksTaskPolicy,
} from '../../infra/policies.js';
import {
  ACCOUNT_ID,
  FAKE_ARNS as A,
  FAKE_WEBHOOK_ARNS as W,
  mismatches,
  simulate,
  taskRoleTables,
  webhookProducerCases,
  webhooksRoleTable,
} from './simulate.js';

/** Whether iam-data lists no resource types for `service:Action` (AWS authorises it on "*" only). */
const wildcardOnly = (action: string) => {
  const [service, name] = action.split(':');
  return isWildcardOnlyAction(service!, name!);
};

const taskPolicies = {
  upload: uploadTaskPolicy(A),
  transcode: transcodeTaskPolicy(A),
  stream: streamTaskPolicy(A),
};

/** Asserts no Allow statement grants a wildcard action, and `*` resources only for wildcard-only actions. */
export function assertNoWildcards(label: string, d: PolicyDocument): void {
  d.Statement.filter((s) => s.Effect === 'Allow').forEach((s, i) => {
    const [{ actions, resources }] = statementsOf({ Version: '2012-10-17', Statement: [s] });
    for (const action of actions!) {
      expect(action, `${label} statement ${i}: wildcard action`).to.not.include('*');
    }
    if (resources!.includes('*')) {
      for (const action of actions!) {
        expect(ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS, `${label}: "*" resource for ${action}`).to.include(action);
      }
    }
  });
}

describe('infra/policies (evaluated with iam-simulate)', () => {
  for (const [service, cases] of Object.entries(taskRoleTables(A))) {
    it(`${service} task role: ${cases.filter((c) => c.allowed).length} requests allowed, ${cases.filter((c) => !c.allowed).length} denied`, async () => {
      const policy = taskPolicies[service as keyof typeof taskPolicies];
      expect(await mismatches([policy], cases)).to.deep.equal([]);
    });
  }

  it('webhooks task role: its one queue (consume, back off, fan out), nothing of the pipeline', async () => {
    const policy = webhooksTaskPolicy({ webhooksQueueArn: W.webhooksQueueArn });
    expect(await mismatches([policy], webhooksRoleTable(A, W))).to.deep.equal([]);
    assertNoWildcards('webhooks', policy);
  });

  it('producers of webhook events may send to the webhooks queue only when webhooks are on, and only send', async () => {
    const on = { ...A, webhooksQueueArn: W.webhooksQueueArn };
    for (const [name, make] of [
      ['upload', () => uploadTaskPolicy(on)],
      ['transcode', () => transcodeTaskPolicy(on)],
      ['stream', () => streamTaskPolicy(on)],
    ] as const) {
      expect(await mismatches([make()], webhookProducerCases(W, true)), name).to.deep.equal([]);
    }
    for (const [name, policy] of Object.entries(taskPolicies)) {
      expect(await mismatches([policy], webhookProducerCases(W, false)), name).to.deep.equal([]);
    }
  });

  it('task roles: no wildcard actions and no "*" resources', () => {
    for (const [service, policy] of Object.entries(taskPolicies)) {
      assertNoWildcards(service, policy);
      for (const { resources } of statementsOf(policy)) expect(resources, service).to.not.include('*');
    }
  });

  it('the only "*" resource is an action AWS authorises on "*" alone (iam-data says so)', async () => {
    for (const action of ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS) {
      expect(await wildcardOnly(action), action).to.equal(true);
    }
    // ...and the actions we scope to ARNs really do support resource-level permissions.
    for (const action of ['ecr:BatchGetImage', 'ssm:GetParameters', 'logs:PutLogEvents', 's3:GetObject', 'sqs:SendMessage']) {
      expect(await wildcardOnly(action), action).to.equal(false);
    }
  });

  describe('task execution role (one per service)', () => {
    const repo = `arn:aws:ecr:us-east-1:${ACCOUNT_ID}:repository/upload-repo`;
    const logGroup = `arn:aws:logs:us-east-1:${ACCOUNT_ID}:log-group:/vod/dev/upload`;
    const policy = executionRolePolicy({
      repositoryArn: repo,
      logGroupArn: logGroup,
      secretParameterArns: [A.apiTokenParameterArn, A.originVerifyParameterArn],
    });

    it('pulls its own image, writes its own log group, reads its own secrets — nothing else', async () => {
      expect(
        await mismatches(
          [policy],
          [
            { action: 'ecr:GetAuthorizationToken', resource: '*', allowed: true },
            { action: 'ecr:BatchGetImage', resource: repo, allowed: true },
            { action: 'ecr:GetDownloadUrlForLayer', resource: repo, allowed: true },
            { action: 'ecr:BatchGetImage', resource: `arn:aws:ecr:us-east-1:${ACCOUNT_ID}:repository/stream-repo`, allowed: false },
            { action: 'ecr:PutImage', resource: repo, allowed: false },
            { action: 'logs:CreateLogStream', resource: `${logGroup}:log-stream:upload/upload/abc`, allowed: true },
            { action: 'logs:PutLogEvents', resource: `${logGroup}:log-stream:upload/upload/abc`, allowed: true },
            {
              action: 'logs:PutLogEvents',
              resource: `arn:aws:logs:us-east-1:${ACCOUNT_ID}:log-group:/vod/dev/stream:log-stream:x`,
              allowed: false,
            },
            { action: 'ssm:GetParameters', resource: A.apiTokenParameterArn, allowed: true },
            { action: 'ssm:GetParameters', resource: A.originVerifyParameterArn, allowed: true },
            { action: 'ssm:GetParameters', resource: A.signingKeyParameterArn, allowed: false, why: "not upload's secret" },
            { action: 'ssm:PutParameter', resource: A.apiTokenParameterArn, allowed: false },
            { action: 's3:GetObject', resource: `${A.uploadsBucketArn}/sources/x/source`, allowed: false },
          ],
        ),
      ).to.deep.equal([]);
      assertNoWildcards('execution', policy);
    });

    it('without secrets (transcode) it has no SSM statement at all', async () => {
      const worker = executionRolePolicy({ repositoryArn: repo, logGroupArn: logGroup, secretParameterArns: [] });
      expect(worker.Statement.map((s) => s.Sid)).to.not.include('ReadSecrets');
      expect(await simulate({ identityPolicies: [worker], action: 'ssm:GetParameters', resource: A.apiTokenParameterArn })).to.equal(
        'ImplicitlyDenied',
      );
    });
  });

  it('task roles trust only ECS tasks of this account', async () => {
    const trust = ecsTasksTrustPolicy(ACCOUNT_ID);
    const role = `arn:aws:iam::${ACCOUNT_ID}:role/upload-task`;
    const assume = (principal: string, context: Record<string, string>) =>
      simulate({ resourcePolicy: trust, principal, action: 'sts:AssumeRole', resource: role, context });
    expect(await assume('ecs-tasks.amazonaws.com', { 'aws:SourceAccount': ACCOUNT_ID })).to.equal('Allowed');
    expect(await assume('ecs-tasks.amazonaws.com', { 'aws:SourceAccount': '999999999999' })).to.not.equal('Allowed');
    expect(await assume('ec2.amazonaws.com', { 'aws:SourceAccount': ACCOUNT_ID })).to.not.equal('Allowed');
  });

  describe('bucket policies', () => {
    const DIST = `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/EDFDVBD6EXAMPLE`;
    const media = mediaBucketPolicy({ bucketArn: A.mediaBucketArn, distributionArn: DIST });
    const segment = `${A.mediaBucketArn}/videos/0123456789abcdef0123/720p/seg-00001.ts`;

    it('uploads bucket: a task allowed by its role is still refused without TLS', async () => {
      const args = {
        identityPolicies: [taskPolicies.transcode],
        resourcePolicy: uploadsBucketPolicy(A.uploadsBucketArn),
        action: 's3:GetObject',
        resource: `${A.uploadsBucketArn}/sources/x/source`,
      };
      expect(await simulate(args)).to.equal('Allowed');
      expect(await simulate({ ...args, context: { 'aws:SecureTransport': 'false' } })).to.equal('ExplicitlyDenied');
    });

    it('media bucket: only this distribution, through OAC, reads videos/ and web/ — never records/', async () => {
      const cf = (resource: string, sourceArn: string) =>
        simulate({
          resourcePolicy: media,
          principal: 'cloudfront.amazonaws.com',
          action: 's3:GetObject',
          resource,
          context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': ACCOUNT_ID },
        });
      expect(await cf(segment, DIST)).to.equal('Allowed');
      expect(await cf(`${A.mediaBucketArn}/web/index.html`, DIST)).to.equal('Allowed');
      expect(await cf(`${A.mediaBucketArn}/records/0123456789abcdef0123.json`, DIST)).to.equal('ImplicitlyDenied');
      expect(await cf(segment, `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/EOTHERDIST`)).to.equal('ImplicitlyDenied');
      expect(await cf(segment, `arn:aws:cloudfront::999999999999:distribution/EDFDVBD6EXAMPLE`)).to.equal('ImplicitlyDenied');
      expect(
        await simulate({
          resourcePolicy: media,
          principal: 'cloudfront.amazonaws.com',
          action: 's3:PutObject',
          resource: segment,
          context: { 'aws:SourceArn': DIST },
        }),
      ).to.equal('ImplicitlyDenied');
    });

    it('media bucket: nothing is public — anonymous requests and other accounts are refused', async () => {
      for (const action of ['s3:GetObject', 's3:PutObject']) {
        expect(await simulate({ resourcePolicy: media, principal: 'anonymous', action, resource: segment }), action).to.not.equal('Allowed');
      }
      expect(
        await simulate({ resourcePolicy: media, principal: 'arn:aws:iam::999999999999:role/x', action: 's3:GetObject', resource: segment }),
      ).to.not.equal('Allowed');
    });

    it('media bucket: the stream task reads over TLS only', async () => {
      const args = { identityPolicies: [taskPolicies.stream], resourcePolicy: media, action: 's3:GetObject', resource: segment };
      expect(await simulate(args)).to.equal('Allowed');
      expect(await simulate({ ...args, context: { 'aws:SecureTransport': 'false' } })).to.equal('ExplicitlyDenied');
    });
  });

  it('the prefixes the policies scope to are the S3 key layout of the services (containers/shared/src/keys.ts)', () => {
    const id = '0123456789abcdef0123';
    expect(keys.source(id).startsWith(PREFIX.sources)).to.equal(true);
    expect(keys.session(id).startsWith(PREFIX.sessions)).to.equal(true);
    expect(keys.part(id, 1).startsWith(PREFIX.sessions)).to.equal(true);
    expect(keys.master(id).startsWith(PREFIX.videos)).to.equal(true);
    expect(keys.videoPrefix(id).startsWith(PREFIX.videos)).to.equal(true);
    expect(keys.record(id).startsWith(PREFIX.records)).to.equal(true);
    expect(keys.recordVideoId(keys.record(id))).to.equal(id);
  });
});
