/**
 * IAM policy documents, as pure functions of resolved ARNs. Components call
 * them inside `pulumi.all(...).apply(...)` and serialise the result; tests
 * (test/infra/policies.test.ts) evaluate the same documents with
 * @cloud-copilot/iam-simulate, so least privilege is checked by evaluation,
 * not by string matching.
 *
 * Rules of this file:
 * - No `"*"` action anywhere.
 * - No `"*"` resource except where the action has no resource-level
 *   permissions (each such statement says so).
 * - S3 object access is scoped to the key prefixes of the S3 key layout
 *   (`PREFIX` of `packages/contract/src/keys.ts`; test/infra/policies.test.ts checks the
 *   prefixes below against it).
 */

/** An IAM policy statement (IAM User Guide, "IAM JSON policy element reference"). */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | { AWS?: string | string[]; Service?: string | string[] };
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** An IAM policy document, version 2012-10-17. */
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

import { CAPTIONS_DIR, MASTER_PLAYLIST, PREFIX, THUMBNAIL_DIR } from '@vod/contract';

/** Key prefixes of the S3 layout: the contract's (`packages/contract/src/keys.ts`). */
export { PREFIX };

const doc = (...statements: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });

/** Object ARN pattern for every key under `prefix` in `bucketArn`. */
export const objects = (bucketArn: string, prefix: string): string => `${bucketArn}/${prefix}*`;

/**
 * Denies every S3 request to the bucket that is not over TLS.
 * S3 user guide, "Security best practices for Amazon S3" → enforce encryption
 * of data in transit with `aws:SecureTransport`.
 */
export function denyInsecureTransport(bucketArn: string): PolicyStatement {
  return {
    Sid: 'DenyInsecureTransport',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
}

/** Bucket policy of the uploads bucket: TLS only; access otherwise comes from the task roles alone. */
export function uploadsBucketPolicy(bucketArn: string): PolicyDocument {
  return doc(denyInsecureTransport(bucketArn));
}

/** Inputs of {@link mediaBucketPolicy}. */
export interface MediaBucketPolicyArgs {
  bucketArn: string;
  /** ARN of the one CloudFront distribution allowed to read, `arn:aws:cloudfront::{account}:distribution/{id}`. */
  distributionArn: string;
  /** Key prefixes CloudFront may read. Default: `videos/` (HLS) and `web/` (web app). Never `records/`. */
  cloudFrontPrefixes?: readonly string[];
}

/**
 * Bucket policy of the media bucket: TLS only, and CloudFront — this
 * distribution only — may `s3:GetObject` the HLS and web prefixes through
 * Origin Access Control. CloudFront developer guide, "Restrict access to an
 * Amazon S3 origin" → give the origin access control permission: principal
 * `cloudfront.amazonaws.com`, condition `AWS:SourceArn` = the distribution ARN.
 */
export function mediaBucketPolicy(args: MediaBucketPolicyArgs): PolicyDocument {
  const prefixes = args.cloudFrontPrefixes ?? [PREFIX.videos, PREFIX.web];
  return doc(denyInsecureTransport(args.bucketArn), {
    Sid: 'AllowCloudFrontOriginAccessControl',
    Effect: 'Allow',
    Principal: { Service: 'cloudfront.amazonaws.com' },
    Action: 's3:GetObject',
    Resource: prefixes.map((p) => objects(args.bucketArn, p)),
    Condition: { StringEquals: { 'AWS:SourceArn': args.distributionArn } },
  });
}

/**
 * Trust policy letting ECS tasks of this account assume a role. ECS developer
 * guide, "Amazon ECS task IAM role" → the `aws:SourceAccount` condition guards
 * against the confused-deputy problem.
 */
export function ecsTasksTrustPolicy(accountId: string): PolicyDocument {
  return doc({
    Effect: 'Allow',
    Principal: { Service: 'ecs-tasks.amazonaws.com' },
    Action: 'sts:AssumeRole',
    Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
  });
}

/** Trust policy for the EC2 container instances' role. */
export function ec2TrustPolicy(): PolicyDocument {
  return doc({
    Effect: 'Allow',
    Principal: { Service: 'ec2.amazonaws.com' },
    Action: 'sts:AssumeRole',
  });
}

/**
 * AWS-managed policy for ECS container instances (register with the cluster,
 * poll for tasks, pull from ECR, send logs). It uses `"Resource": "*"` because
 * the ECS agent actions it grants mostly lack resource-level permissions;
 * tasks cannot use it (`ECS_AWSVPC_BLOCK_IMDS=true`, see ecs-host.ts).
 */
export const ECS_INSTANCE_MANAGED_POLICY = 'arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role';

/**
 * Lets a role list the bucket, but only under `prefixes`. Besides listing,
 * this makes S3 answer 404 instead of 403 for a missing key under those
 * prefixes: S3 returns NoSuchKey only to callers allowed to `s3:ListBucket`,
 * evaluated with `s3:prefix` = the requested key (S3 API reference,
 * GetObject/HeadObject → Permissions). The services map NoSuchKey/404 to
 * "not found" (`isNotFound` of `packages/service-kit/src/aws.ts`).
 */
function listUnder(bucketArn: string, sid: string, prefixes: readonly string[]): PolicyStatement {
  return {
    Sid: sid,
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: bucketArn,
    Condition: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } },
  };
}

/** ARNs the upload service's task role is scoped to. */
export interface UploadPolicyArgs {
  uploadsBucketArn: string;
  mediaBucketArn: string;
  jobsQueueArn: string;
  /** The webhooks queue, when webhooks are on: status changes queue their events there. */
  webhooksQueueArn?: string;
}

/**
 * Task role of the upload service (containers/upload):
 * - writes originals (`sources/*`) and session/part records (`sessions/*`) in
 *   the uploads bucket. `s3:PutObject` also authorises CreateMultipartUpload,
 *   UploadPart and CompleteMultipartUpload (S3 user guide, "Multipart upload
 *   API and permissions"); AbortMultipartUpload is its own action. The part
 *   upload URLs it signs for clients (presigned UploadPart) act with this
 *   role's permission, so they too reach `sources/*` only.
 * - reads session/part records and HEADs the assembled original to check its
 *   size (HeadObject is authorised by `s3:GetObject`).
 * - deletes part records when an upload is aborted and the partial original
 *   when a single-request upload is refused (DeleteObjects is authorised per
 *   key by `s3:DeleteObject`).
 * - lists `sessions/` (stored parts) and `sources/` (404s for missing keys).
 * - creates, updates and (on abort) deletes status records (`records/*`) in
 *   the media bucket, and lists `records/` for honest 404s.
 * - sends transcode jobs to the jobs queue, and (webhooks on) webhook events
 *   to the webhooks queue;
 * - reads tombstones (`deleted/*`): a video deleted while uploading is not
 *   completed (and lists `deleted/` so a live video's is a 404).
 * It can neither read nor write the published HLS (`videos/*`).
 */
export function uploadTaskPolicy(a: UploadPolicyArgs): PolicyDocument {
  const uploads = [objects(a.uploadsBucketArn, PREFIX.sources), objects(a.uploadsBucketArn, PREFIX.sessions)];
  return doc(
    {
      Sid: 'WriteUploads',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject', 's3:DeleteObject'],
      Resource: uploads,
    },
    listUnder(a.uploadsBucketArn, 'ListUploads', [PREFIX.sessions, PREFIX.sources]),
    {
      Sid: 'ReadWriteRecords',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: objects(a.mediaBucketArn, PREFIX.records),
    },
    {
      Sid: 'ReadTombstones',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: objects(a.mediaBucketArn, PREFIX.deleted),
    },
    listUnder(a.mediaBucketArn, 'ListRecords', [PREFIX.records, PREFIX.deleted]),
    {
      Sid: 'EnqueueJobs',
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Resource: a.jobsQueueArn,
    },
    ...queueWebhookEvents(a.webhooksQueueArn),
  );
}

/**
 * Producers of webhook events (every service that changes status records)
 * may send to the webhooks queue, and only send — when webhooks are on.
 */
function queueWebhookEvents(webhooksQueueArn: string | undefined): PolicyStatement[] {
  return webhooksQueueArn ? [{ Sid: 'QueueWebhookEvents', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: webhooksQueueArn }] : [];
}

/** ARNs the webhook delivery worker's task role is scoped to. */
export interface WebhooksPolicyArgs {
  webhooksQueueArn: string;
}

/**
 * Task role of the webhook delivery worker (containers/upload/src/webhook-server.ts):
 * takes events and deliveries from the webhooks queue, sends the per-receiver
 * deliveries back to it (fan-out; SendMessageBatch is authorised by
 * sqs:SendMessage), and delays retries (ChangeMessageVisibility). Nothing else:
 * no bucket, no other queue. Its signing secret reaches it as an ECS secret
 * through the execution role.
 */
export function webhooksTaskPolicy(a: WebhooksPolicyArgs): PolicyDocument {
  return doc({
    Sid: 'DeliverWebhooks',
    Effect: 'Allow',
    Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:SendMessage'],
    Resource: a.webhooksQueueArn,
  });
}

/** ARNs the transcode worker's task role is scoped to. */
export interface TranscodePolicyArgs {
  uploadsBucketArn: string;
  mediaBucketArn: string;
  jobsQueueArn: string;
  /** The FIFO control queue the workers' coordinator reads and the tasks report to. */
  controlQueueArn: string;
  /** The cluster's tasks, `arn:aws:ecs:{region}:{account}:task/{cluster}/*` (scale-in protection of its own task). */
  clusterTasksArn: string;
  /** The webhooks queue, when webhooks are on: status changes queue their events there. */
  webhooksQueueArn?: string;
}

/**
 * Task role of the transcode worker (containers/transcode):
 * - reads originals (`sources/*`) from the uploads bucket (ffmpeg fetches
 *   them through a presigned GetObject URL signed with this role);
 * - writes segments, playlists, posters and the MP4 download (`videos/*`)
 *   to the media bucket (multipart for the MP4), and deletes what it wrote
 *   when the video was deleted meanwhile (listing `videos/` to find it);
 * - reads the published segments back (`videos/*`) to remux the MP4 download;
 * - reads, writes and (for a deleted video) removes status records (`records/*`);
 * - reads and writes the runs' working state (`pipeline/*`) and reads
 *   tombstones of deleted videos (`deleted/*`);
 * - lists those prefixes only so missing keys are 404s, not 403s;
 * - takes tasks from the jobs queue and sends the chunk and audio tasks a
 *   plan makes (SendMessageBatch is authorised by sqs:SendMessage);
 * - reports to and coordinates from the FIFO control queue;
 * - protects its own task from scale-in while it works (ECS task protection);
 * - (webhooks on) sends webhook events to the webhooks queue.
 * It cannot read the upload sessions or any secret.
 */
export function transcodeTaskPolicy(a: TranscodePolicyArgs): PolicyDocument {
  const consume = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:SendMessage'];
  return doc(
    {
      Sid: 'ReadSources',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: objects(a.uploadsBucketArn, PREFIX.sources),
    },
    listUnder(a.uploadsBucketArn, 'ListSources', [PREFIX.sources]),
    {
      Sid: 'WriteHls',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject'],
      Resource: objects(a.mediaBucketArn, PREFIX.videos),
    },
    {
      Sid: 'ReadWriteRecords',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: objects(a.mediaBucketArn, PREFIX.records),
    },
    {
      Sid: 'RunState',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: objects(a.mediaBucketArn, PREFIX.pipeline),
    },
    {
      Sid: 'ReadTombstones',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: objects(a.mediaBucketArn, PREFIX.deleted),
    },
    listUnder(a.mediaBucketArn, 'ListMedia', [PREFIX.records, PREFIX.pipeline, PREFIX.deleted, PREFIX.videos]),
    { Sid: 'Tasks', Effect: 'Allow', Action: consume, Resource: a.jobsQueueArn },
    { Sid: 'Coordinate', Effect: 'Allow', Action: consume, Resource: a.controlQueueArn },
    { Sid: 'ScaleInProtection', Effect: 'Allow', Action: 'ecs:UpdateTaskProtection', Resource: a.clusterTasksArn },
    ...queueWebhookEvents(a.webhooksQueueArn),
  );
}

/** ARNs the stream service's task role is scoped to. */
export interface StreamPolicyArgs {
  uploadsBucketArn: string;
  mediaBucketArn: string;
  /** The SSM SecureString parameter holding the CloudFront signing key. */
  signingKeyParameterArn: string;
  /** The jobs queue (retry sends a run's job; redrive moves jobs back to it). */
  jobsQueueArn: string;
  /** The jobs queue's dead-letter queue (redrive takes jobs from it). */
  deadLetterQueueArn: string;
  /** The CloudFront distribution, `arn:aws:cloudfront::{account}:distribution/{id}` (invalidations of deleted videos). */
  distributionArn: string;
  /** The webhooks queue, when webhooks are on: status changes queue their events there. */
  webhooksQueueArn?: string;
}

/**
 * Task role of the stream service (containers/stream): it serves viewers and
 * the video API, including the API's changes to a video.
 * - reads playlists (`videos/*`), status records (`records/*`), titles and
 *   descriptions (`details/*`), for a retry whether a run has started
 *   (`pipeline/*`), and after a PATCH whether the video was deleted meanwhile
 *   (`deleted/*`) in the media bucket, and lists those prefixes (the list of
 *   videos, deleting a prefix, 404s);
 * - reads originals (`sources/*`) to serve `GET /api/videos/:id/source`, and
 *   lists `sources/` (404s, deleting a video's original);
 * - PATCH writes `details/*`; retry rewrites the record (`records/*`);
 *   DELETE writes the tombstone (`deleted/*`) and deletes the video's
 *   original, published HLS, pipeline state, details, caption records and
 *   record. Captions write a ready video's text tracks (segmented WebVTT,
 *   their playlists) and its master under `videos/*`, and their records
 *   (`captions/*`, also read, listed and deleted). It never writes originals,
 *   and cannot read upload sessions;
 * - writes the thumbnails it makes on demand (`videos/{id}/thumbnails/…`, and
 *   deletes one written while its video was being deleted);
 * - sends a retried video's job to the jobs queue, and moves dead-lettered
 *   jobs back (receive and delete on the dead-letter queue only);
 * - invalidates its own distribution's cache of a deleted video
 *   (`cloudfront:CreateInvalidation` is authorised on the distribution ARN);
 * - reads its one signing-key parameter. ECS injects the key as the
 *   `CLOUDFRONT_PRIVATE_KEY` secret through the execution role; this grant
 *   lets the service re-read the key after a rotation without a redeploy.
 */
export function streamTaskPolicy(a: StreamPolicyArgs): PolicyDocument {
  const media = (...prefixes: string[]) => prefixes.map((p) => objects(a.mediaBucketArn, p));
  return doc(
    {
      Sid: 'ReadMedia',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: media(PREFIX.videos, PREFIX.records, PREFIX.details, PREFIX.pipeline, PREFIX.deleted, PREFIX.captions),
    },
    listUnder(a.mediaBucketArn, 'ListMedia', [PREFIX.records, PREFIX.videos, PREFIX.details, PREFIX.pipeline, PREFIX.deleted, PREFIX.captions]),
    {
      Sid: 'ReadSources',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: objects(a.uploadsBucketArn, PREFIX.sources),
    },
    listUnder(a.uploadsBucketArn, 'ListSources', [PREFIX.sources]),
    {
      Sid: 'WriteRecordsDetailsTombstonesCaptionRecords',
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: media(PREFIX.records, PREFIX.details, PREFIX.deleted, PREFIX.captions),
    },
    {
      // Only a video's master and its text tracks: never the ladder the transcode published.
      Sid: 'WriteMastersAndTextTracks',
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: [`${a.mediaBucketArn}/${PREFIX.videos}*/${MASTER_PLAYLIST}`, `${a.mediaBucketArn}/${PREFIX.videos}*/${CAPTIONS_DIR}/*`],
    },
    {
      Sid: 'WriteThumbnails',
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: objects(a.mediaBucketArn, `${PREFIX.videos}*/${THUMBNAIL_DIR}/`),
    },
    {
      Sid: 'DeleteVideos',
      Effect: 'Allow',
      Action: 's3:DeleteObject',
      Resource: [...media(PREFIX.videos, PREFIX.records, PREFIX.details, PREFIX.pipeline, PREFIX.captions), objects(a.uploadsBucketArn, PREFIX.sources)],
    },
    { Sid: 'QueueJobs', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: a.jobsQueueArn },
    { Sid: 'RedriveDeadLetters', Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], Resource: a.deadLetterQueueArn },
    { Sid: 'InvalidateDeletedVideos', Effect: 'Allow', Action: 'cloudfront:CreateInvalidation', Resource: a.distributionArn },
    {
      Sid: 'ReadSigningKey',
      Effect: 'Allow',
      Action: 'ssm:GetParameter',
      Resource: a.signingKeyParameterArn,
    },
    ...queueWebhookEvents(a.webhooksQueueArn),
  );
}

/** What one service's task execution role needs to start its task. */
export interface ExecutionPolicyArgs {
  /** The service's ECR repository. */
  repositoryArn: string;
  /** The service's CloudWatch log group, `arn:aws:logs:{region}:{account}:log-group:{name}`. */
  logGroupArn: string;
  /** SSM parameters injected as ECS `secrets` (none for the transcode worker). */
  secretParameterArns: readonly string[];
}

/**
 * Task execution role of one service (used by the ECS agent, never by the
 * app): pull the service's image, write its log streams, fetch its secrets.
 * ECS developer guide, "Amazon ECS task execution IAM role" and "Pass
 * Systems Manager parameters as environment variables" (`ssm:GetParameters`;
 * no `kms:Decrypt` is needed for SecureStrings under the default `aws/ssm` key).
 */
export function executionRolePolicy(a: ExecutionPolicyArgs): PolicyDocument {
  const statements: PolicyStatement[] = [
    {
      // ecr:GetAuthorizationToken has no resource-level permissions (Service
      // Authorization Reference, Amazon ECR): its Resource must be "*".
      Sid: 'EcrAuth',
      Effect: 'Allow',
      Action: 'ecr:GetAuthorizationToken',
      Resource: '*',
    },
    {
      Sid: 'PullImage',
      Effect: 'Allow',
      Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
      Resource: a.repositoryArn,
    },
    {
      Sid: 'WriteLogs',
      Effect: 'Allow',
      // Both actions are authorised on log-stream ARNs (Service Authorization Reference, CloudWatch Logs).
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: `${a.logGroupArn}:log-stream:*`,
    },
  ];
  if (a.secretParameterArns.length > 0) {
    statements.push({
      Sid: 'ReadSecrets',
      Effect: 'Allow',
      Action: 'ssm:GetParameters',
      Resource: [...a.secretParameterArns],
    });
  }
  return doc(...statements);
}

/**
 * Every `Action` and `Resource` of a document, for the invariant checks in
 * tests (no `*` action; `*` resource only for actions listed in
 * {@link ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS}).
 */
export function statementsOf(d: PolicyDocument): { actions: string[]; resources: string[] }[] {
  return d.Statement.map((s) => ({
    actions: Array.isArray(s.Action) ? s.Action : [s.Action],
    resources: s.Resource === undefined ? [] : Array.isArray(s.Resource) ? s.Resource : [s.Resource],
  }));
}

/** Actions that AWS only authorises with `"Resource": "*"`. */
export const ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS: readonly string[] = ['ecr:GetAuthorizationToken'];
