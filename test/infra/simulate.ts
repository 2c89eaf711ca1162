/**
 * Least-privilege checks by evaluation: each request in a table is run
 * through @cloud-copilot/iam-simulate against the policy documents, and the
 * decision is compared with the expected one.
 */
import { anonymousPrincipal, runSimulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument } from '../../infra/policies.js';

export const ACCOUNT_ID = '123456789012';

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

/** One request of a table: action on resource, with context keys, and whether it must be allowed. */
export interface Case {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
  allowed: boolean;
  /** Why this case is in the table. */
  why?: string;
}

export interface SimulateArgs {
  identityPolicies?: PolicyDocument[];
  resourcePolicy?: PolicyDocument;
  /** Principal ARN, service principal, or `'anonymous'`. Default: a role of this account. */
  principal?: string;
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

/**
 * Evaluates one request. Requests are over TLS (`aws:SecureTransport=true`)
 * unless the context says otherwise.
 * @throws Error when the simulator rejects the input (invalid policy, unknown action, wrong resource type).
 */
export async function simulate(a: SimulateArgs): Promise<Decision> {
  const result = await runSimulation(
    {
      request: {
        principal: a.principal === 'anonymous' ? anonymousPrincipal : (a.principal ?? `arn:aws:iam::${ACCOUNT_ID}:role/task`),
        action: a.action,
        resource: { resource: a.resource, accountId: ACCOUNT_ID },
        contextVariables: { 'aws:SecureTransport': 'true', ...(a.context ?? {}) },
      },
      identityPolicies: (a.identityPolicies ?? []).map((policy, i) => ({ name: `policy${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(a.resourcePolicy ? { resourcePolicy: a.resourcePolicy } : {}),
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(`iam-simulate rejected ${a.action} on ${a.resource}: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult as Decision;
}

/** Runs every case against the identity policies; returns the mismatches as readable lines (empty = all as expected). */
export async function mismatches(identityPolicies: PolicyDocument[], cases: Case[]): Promise<string[]> {
  const out: string[] = [];
  for (const c of cases) {
    const decision = await simulate({ identityPolicies, action: c.action, resource: c.resource, context: c.context });
    if ((decision === 'Allowed') !== c.allowed) {
      out.push(
        `${c.allowed ? 'expected ALLOW' : 'expected DENY'} but ${decision}: ${c.action} ${c.resource}` +
          `${c.context ? ` ${JSON.stringify(c.context)}` : ''}${c.why ? ` (${c.why})` : ''}`,
      );
    }
  }
  return out;
}

/** ARNs the tables are written against. */
export interface Arns {
  uploadsBucketArn: string;
  mediaBucketArn: string;
  jobsQueueArn: string;
  deadLetterQueueArn: string;
  controlQueueArn: string;
  clusterTasksArn: string;
  signingKeyParameterArn: string;
  apiTokenParameterArn: string;
  originVerifyParameterArn: string;
  distributionArn: string;
}

/** Fixed ARNs for testing the pure policy functions. */
export const FAKE_ARNS: Arns = {
  uploadsBucketArn: 'arn:aws:s3:::vod-uploads',
  mediaBucketArn: 'arn:aws:s3:::vod-media',
  jobsQueueArn: `arn:aws:sqs:us-east-1:${ACCOUNT_ID}:vod-jobs`,
  deadLetterQueueArn: `arn:aws:sqs:us-east-1:${ACCOUNT_ID}:vod-dlq`,
  controlQueueArn: `arn:aws:sqs:us-east-1:${ACCOUNT_ID}:vod-dev-control.fifo`,
  clusterTasksArn: `arn:aws:ecs:us-east-1:${ACCOUNT_ID}:task/vod-cluster/*`,
  signingKeyParameterArn: `arn:aws:ssm:us-east-1:${ACCOUNT_ID}:parameter/vod/dev/cloudfront-private-key`,
  apiTokenParameterArn: `arn:aws:ssm:us-east-1:${ACCOUNT_ID}:parameter/vod/dev/api-token`,
  originVerifyParameterArn: `arn:aws:ssm:us-east-1:${ACCOUNT_ID}:parameter/vod/dev/origin-verify`,
  distributionArn: `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/E2MOCKDIST`,
};

const OTHER_BUCKET = 'arn:aws:s3:::someone-elses-bucket';
const VIDEO = '0123456789abcdef0123';
const UPLOAD = 'fedcba9876543210fedc';

/** Write-ish actions the stream service must never be granted on what it only reads or never touches. */
const WRITE_ACTIONS = ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:PutObjectTagging', 's3:DeleteObjectVersion'];

/**
 * The least-privilege tables, one per task role: what each service must be
 * able to do for its job, and a spread of neighbouring requests it must not.
 */
export function taskRoleTables(a: Arns): Record<'upload' | 'transcode' | 'stream', Case[]> {
  const up = (key: string) => `${a.uploadsBucketArn}/${key}`;
  const media = (key: string) => `${a.mediaBucketArn}/${key}`;
  const source = up(`sources/${VIDEO}/source`);
  const session = up(`sessions/${UPLOAD}.json`);
  const part = up(`sessions/${UPLOAD}/parts/3.json`);
  const record = media(`records/${VIDEO}.json`);
  const playlist = media(`videos/${VIDEO}/master.m3u8`);
  const segment = media(`videos/${VIDEO}/720p/seg-00001.ts`);
  const allow = (action: string, resource: string, context?: Case['context'], why?: string): Case => ({ action, resource, context, allowed: true, why });
  const deny = (action: string, resource: string, context?: Case['context'], why?: string): Case => ({ action, resource, context, allowed: false, why });

  const upload: Case[] = [
    allow('s3:PutObject', source, undefined, 'store the original (multipart parts too)'),
    allow('s3:AbortMultipartUpload', source),
    allow('s3:GetObject', source, undefined, 'HEAD the assembled original'),
    allow('s3:DeleteObject', source, undefined, 'drop a refused single-request upload'),
    allow('s3:PutObject', session),
    allow('s3:PutObject', part),
    allow('s3:GetObject', session, undefined, 'resume an upload'),
    allow('s3:GetObject', part),
    allow('s3:DeleteObject', part, undefined, 'abort forgets part records'),
    allow('s3:ListBucket', a.uploadsBucketArn, { 's3:prefix': `sessions/${UPLOAD}/parts/` }, 'list stored parts'),
    allow('s3:ListBucket', a.uploadsBucketArn, { 's3:prefix': `sessions/${UPLOAD}.json` }, '404 for unknown uploads'),
    allow('s3:PutObject', record, undefined, 'create the status record'),
    allow('s3:GetObject', record),
    allow('s3:DeleteObject', record, undefined, 'abort removes the record'),
    allow('s3:ListBucket', a.mediaBucketArn, { 's3:prefix': `records/${VIDEO}.json` }),
    allow('s3:GetObject', media(`deleted/${VIDEO}`), undefined, 'a video deleted while uploading is not completed'),
    allow('s3:ListBucket', a.mediaBucketArn, { 's3:prefix': `deleted/${VIDEO}` }, '404, not 403, for a live video'),
    deny('s3:PutObject', media(`deleted/${VIDEO}`), undefined, 'reads tombstones, never writes them'),
    allow('sqs:SendMessage', a.jobsQueueArn, undefined, 'enqueue the transcode job'),
    deny('s3:PutObject', up('other/file')),
    deny('s3:GetObject', up('other/file')),
    deny('s3:ListBucket', a.uploadsBucketArn, undefined, 'no unscoped listing'),
    deny('s3:ListBucket', a.uploadsBucketArn, { 's3:prefix': '' }),
    deny('s3:PutObject', playlist, undefined, 'only the worker publishes HLS'),
    deny('s3:GetObject', segment),
    deny('s3:DeleteObject', segment),
    deny('s3:PutObject', media('web/index.html')),
    deny('s3:ListBucket', a.mediaBucketArn, { 's3:prefix': 'videos/' }),
    deny('s3:PutBucketPolicy', a.uploadsBucketArn),
    deny('s3:PutObject', `${OTHER_BUCKET}/sources/x`),
    deny('s3:GetObject', `${OTHER_BUCKET}/sessions/x.json`),
    deny('sqs:ReceiveMessage', a.jobsQueueArn),
    deny('sqs:DeleteMessage', a.jobsQueueArn),
    deny('sqs:PurgeQueue', a.jobsQueueArn),
    deny('sqs:SendMessage', a.deadLetterQueueArn),
    deny('ssm:GetParameter', a.signingKeyParameterArn),
    deny('ssm:GetParameter', a.apiTokenParameterArn, undefined, 'the token arrives as an ECS secret'),
  ];

  const transcode: Case[] = [
    allow('s3:GetObject', source, undefined, 'read the original'),
    allow('s3:ListBucket', a.uploadsBucketArn, { 's3:prefix': `sources/${VIDEO}/source` }, '404 for a missing original'),
    allow('s3:PutObject', playlist, undefined, 'publish the ladder'),
    allow('s3:PutObject', segment),
    allow('s3:AbortMultipartUpload', segment),
    allow('s3:DeleteObject', segment, undefined, 'remove what it wrote for a video deleted meanwhile'),
    allow('s3:GetObject', record),
    allow('s3:PutObject', record, undefined, 'update the status'),
    allow('s3:DeleteObject', record, undefined, 'a deleted video loses the record the coordinator just wrote'),
    allow('s3:ListBucket', a.mediaBucketArn, { 's3:prefix': `records/${VIDEO}.json` }),
    allow('s3:GetObject', media(`pipeline/${VIDEO}/1/state.json`), undefined, "the run's state"),
    allow('s3:PutObject', media(`pipeline/${VIDEO}/1/attempts/chunk-2.json`)),
    allow('s3:GetObject', media(`deleted/${VIDEO}`), undefined, 'is the video deleted?'),
    allow('s3:ListBucket', a.mediaBucketArn, { 's3:prefix': `deleted/${VIDEO}` }, '404, not 403, for a live video'),
    allow('s3:ListBucket', a.mediaBucketArn, { 's3:prefix': `videos/${VIDEO}/` }),
    allow('sqs:ReceiveMessage', a.jobsQueueArn),
    allow('sqs:DeleteMessage', a.jobsQueueArn),
    allow('sqs:ChangeMessageVisibility', a.jobsQueueArn, undefined, 'heartbeat'),
    allow('sqs:GetQueueAttributes', a.jobsQueueArn),
    allow('sqs:SendMessage', a.jobsQueueArn, undefined, 'a plan sends its chunk and audio tasks'),
    allow('sqs:SendMessage', a.controlQueueArn, undefined, 'report to the coordinator'),
    allow('sqs:ReceiveMessage', a.controlQueueArn, undefined, 'coordinate'),
    allow('sqs:DeleteMessage', a.controlQueueArn),
    allow('ecs:UpdateTaskProtection', a.clusterTasksArn.replace('*', '0123456789abcdef0123456789abcdef'), undefined, 'scale-in protection while working'),
    deny('ecs:UpdateTaskProtection', `arn:aws:ecs:us-east-1:${ACCOUNT_ID}:task/other-cluster/0123456789abcdef0123456789abcdef`),
    deny('s3:DeleteObject', media(`pipeline/${VIDEO}/1/state.json`)),
    deny('s3:PutObject', media(`deleted/${VIDEO}`), undefined, 'reads tombstones, never writes them'),
    deny('s3:DeleteObject', source, undefined, 'may read an upload, not delete it'),
    deny('s3:PutObject', source),
    deny('s3:GetObject', session),
    deny('s3:ListBucket', a.uploadsBucketArn, { 's3:prefix': 'sessions/' }),
    deny('s3:GetObject', `${OTHER_BUCKET}/sources/${VIDEO}/source`, undefined, 'no other bucket'),
    allow('s3:GetObject', media(`videos/${VIDEO}/720p/seg_00000.ts`), undefined, 'reads segments back to remux the MP4 download'),
    allow('s3:PutObject', media(`videos/${VIDEO}/download.mp4`), undefined, 'writes the MP4 download and the poster'),
    deny('s3:PutObject', media('web/index.html')),
    deny('s3:PutObject', media('elsewhere/x')),
    deny('sqs:PurgeQueue', a.jobsQueueArn),
    deny('sqs:PurgeQueue', a.controlQueueArn),
    deny('sqs:ReceiveMessage', a.deadLetterQueueArn),
    deny('ssm:GetParameter', a.signingKeyParameterArn),
  ];

  const details = media(`details/${VIDEO}/title`);
  const stream: Case[] = [
    allow('s3:GetObject', playlist, undefined, 'serve and sign playlists'),
    allow('s3:GetObject', segment),
    allow('s3:GetObject', record, undefined, 'video status'),
    allow('s3:GetObject', details, undefined, 'the title'),
    allow('s3:ListBucket', a.mediaBucketArn, { 's3:prefix': 'records/' }, 'GET /api/videos'),
    allow('s3:ListBucket', a.mediaBucketArn, { 's3:prefix': `videos/${VIDEO}/master.m3u8` }, '404 for a missing playlist'),
    allow('s3:GetObject', source, undefined, 'GET /api/videos/:id/source'),
    allow('s3:ListBucket', a.uploadsBucketArn, { 's3:prefix': `sources/${VIDEO}/source` }),
    allow('ssm:GetParameter', a.signingKeyParameterArn, undefined, 'its one signing key'),
    // PATCH, DELETE, retry:
    allow('s3:PutObject', details, undefined, 'PATCH /api/videos/:id'),
    allow('s3:DeleteObject', details, undefined, 'PATCH removes a title; DELETE'),
    allow('s3:PutObject', record, undefined, 'retry: failed → queued'),
    allow('s3:PutObject', media(`deleted/${VIDEO}`), undefined, 'DELETE writes the tombstone first'),
    allow('s3:PutObject', media(`videos/${VIDEO}/thumbnails/8300-640.jpg`), undefined, 'GET …/thumbnail stores what it made'),
    allow('s3:DeleteObject', media(`videos/${VIDEO}/thumbnails/8300-640.jpg`), undefined, 'a thumbnail written during a DELETE is taken back'),
    deny('s3:PutObject', media(`videos/${VIDEO}/poster/poster-640.jpg`), undefined, 'thumbnails only, not the pipeline\'s images'),
    deny('s3:PutObject', media(`videos/${VIDEO}/download.mp4`)),
    allow('s3:GetObject', media(`deleted/${VIDEO}`), undefined, 'PATCH: was the video deleted meanwhile?'),
    allow('s3:ListBucket', a.mediaBucketArn, { 's3:prefix': `deleted/${VIDEO}` }, '404, not 403, for a live video'),
    deny('s3:DeleteObject', media(`deleted/${VIDEO}`), undefined, 'a tombstone stays'),
    // Captions: a ready video's text tracks, their records, and the master that lists them.
    allow('s3:PutObject', media(`videos/${VIDEO}/captions/en_0a1b2c3d/seg_00000.vtt`), undefined, 'POST …/captions: segmented WebVTT'),
    allow('s3:PutObject', media(`videos/${VIDEO}/captions/en_0a1b2c3d/index.m3u8`), undefined, "the track's playlist"),
    allow('s3:PutObject', media(`videos/${VIDEO}/master.m3u8`), undefined, 'the master lists the tracks'),
    allow('s3:DeleteObject', media(`videos/${VIDEO}/captions/en_0a1b2c3d/seg_00000.vtt`), undefined, 'DELETE …/captions/:language'),
    ...(['s3:PutObject', 's3:GetObject', 's3:DeleteObject'] as const).map((action) => allow(action, media(`captions/${VIDEO}/en.json`), undefined, 'caption records')),
    allow('s3:ListBucket', a.mediaBucketArn, { 's3:prefix': `captions/${VIDEO}/` }, "a video's text tracks"),
    ...[source, playlist, segment, record, media(`pipeline/${VIDEO}/1/state.json`)].map((r) => allow('s3:DeleteObject', r, undefined, 'DELETE removes everything of the video')),
    allow('s3:ListBucket', a.mediaBucketArn, { 's3:prefix': `pipeline/${VIDEO}/` }, 'DELETE and retry clear the pipeline state'),
    allow('s3:ListBucket', a.mediaBucketArn, { 's3:prefix': `details/${VIDEO}/` }),
    allow('s3:GetObject', media(`pipeline/${VIDEO}/2/plan.json`), undefined, 'retry: has the run started?'),
    allow('sqs:SendMessage', a.jobsQueueArn, undefined, "retry sends the run's job; redrive moves jobs back"),
    allow('sqs:ReceiveMessage', a.deadLetterQueueArn, undefined, 'redrive'),
    allow('sqs:DeleteMessage', a.deadLetterQueueArn, undefined, 'redrive, once moved'),
    allow('cloudfront:CreateInvalidation', a.distributionArn, undefined, "a deleted video's cached segments"),
    deny('cloudfront:CreateInvalidation', `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/EOTHERDIST`, undefined, 'only its own distribution'),
    deny('cloudfront:UpdateDistribution', a.distributionArn),
    deny('s3:GetObject', session),
    deny('s3:ListBucket', a.uploadsBucketArn, { 's3:prefix': 'sessions/' }),
    deny('s3:ListBucket', a.mediaBucketArn, undefined, 'no unscoped listing'),
    deny('s3:ListBucket', a.mediaBucketArn, { 's3:prefix': 'web/' }),
    deny('s3:GetObject', `${OTHER_BUCKET}/videos/x`),
    deny('s3:DeleteObject', `${OTHER_BUCKET}/videos/x`),
    deny('ssm:GetParameter', a.apiTokenParameterArn, undefined, 'not the API token'),
    deny('ssm:GetParameter', a.originVerifyParameterArn),
    deny('ssm:PutParameter', a.signingKeyParameterArn),
    deny('sqs:ReceiveMessage', a.jobsQueueArn, undefined, 'never takes work'),
    deny('sqs:DeleteMessage', a.jobsQueueArn),
    deny('sqs:PurgeQueue', a.jobsQueueArn),
    deny('sqs:PurgeQueue', a.deadLetterQueueArn),
    deny('sqs:SendMessage', a.deadLetterQueueArn),
    deny('sqs:SendMessage', a.controlQueueArn, undefined, 'only workers talk to the coordinator'),
    // It never publishes the ladder (only masters and text tracks), stores originals or touches the web app and upload sessions:
    ...[segment, source].map((r) => deny('s3:PutObject', r, undefined, 'never writes media or originals')),
    ...[playlist, segment, source].map((r) => deny('s3:AbortMultipartUpload', r, undefined, 'never writes media or originals')),
    deny('s3:PutObject', media(`videos/${VIDEO}/720p/index.m3u8`), undefined, "never a rendition's playlist"),
    ...WRITE_ACTIONS.flatMap((action) => [session, media('web/index.html')].map((r) => deny(action, r, undefined, 'not its business'))),
    ...['s3:PutObjectTagging', 's3:DeleteObjectVersion'].flatMap((action) => [playlist, record, source].map((r) => deny(action, r))),
  ];

  return { upload, transcode, stream };
}

/** ARNs of the webhooks queue and its dead-letter queue, and the secret parameter, for the webhook tables. */
export interface WebhookArns {
  webhooksQueueArn: string;
  webhooksDlqArn: string;
  webhookSecretParameterArn: string;
}

export const FAKE_WEBHOOK_ARNS: WebhookArns = {
  webhooksQueueArn: `arn:aws:sqs:us-east-1:${ACCOUNT_ID}:vod-webhooks`,
  webhooksDlqArn: `arn:aws:sqs:us-east-1:${ACCOUNT_ID}:vod-webhooks-dlq`,
  webhookSecretParameterArn: `arn:aws:ssm:us-east-1:${ACCOUNT_ID}:parameter/vod/dev/webhook-secret`,
};

/**
 * The webhook delivery worker's task role: its one queue, for consuming,
 * delaying retries and fanning out — and nothing of the pipeline.
 */
export function webhooksRoleTable(a: Arns, w: WebhookArns): Case[] {
  const allow = (action: string, resource: string, why?: string): Case => ({ action, resource, allowed: true, why });
  const deny = (action: string, resource: string, why?: string): Case => ({ action, resource, allowed: false, why });
  return [
    allow('sqs:ReceiveMessage', w.webhooksQueueArn),
    allow('sqs:DeleteMessage', w.webhooksQueueArn, 'delivered'),
    allow('sqs:ChangeMessageVisibility', w.webhooksQueueArn, 'back off before a retry'),
    allow('sqs:SendMessage', w.webhooksQueueArn, 'one delivery per receiver'),
    deny('sqs:PurgeQueue', w.webhooksQueueArn),
    deny('sqs:DeleteQueue', w.webhooksQueueArn),
    deny('sqs:SetQueueAttributes', w.webhooksQueueArn),
    deny('sqs:ReceiveMessage', w.webhooksDlqArn, 'dead letters are for a person'),
    deny('sqs:SendMessage', a.jobsQueueArn),
    deny('sqs:ReceiveMessage', a.jobsQueueArn),
    deny('sqs:SendMessage', a.controlQueueArn),
    deny('s3:GetObject', `${a.mediaBucketArn}/records/0123456789abcdef0123.json`),
    deny('s3:GetObject', `${a.uploadsBucketArn}/sources/0123456789abcdef0123/source`),
    deny('ssm:GetParameter', w.webhookSecretParameterArn, 'the secret comes through the execution role'),
    deny('ssm:GetParameter', a.apiTokenParameterArn),
  ];
}

/** A service that changes status records: may only send to the webhooks queue, and only when webhooks are on. */
export function webhookProducerCases(w: WebhookArns, on: boolean): Case[] {
  return [
    { action: 'sqs:SendMessage', resource: w.webhooksQueueArn, allowed: on, why: on ? 'queue the event of a status change' : 'webhooks are off' },
    { action: 'sqs:ReceiveMessage', resource: w.webhooksQueueArn, allowed: false },
    { action: 'sqs:DeleteMessage', resource: w.webhooksQueueArn, allowed: false },
    { action: 'sqs:SendMessage', resource: w.webhooksDlqArn, allowed: false },
  ];
}
