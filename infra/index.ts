/**
 * The vod platform on AWS. Reads typed stack config (`Pulumi.<stack>.yaml`,
 * documented in Pulumi.dev.yaml and the README's "Deploy to AWS"), validates it with the
 * pure checks of capacity.ts, task-sizing.ts and config-checks.ts, wires the components together and exports the
 * stack outputs. Every resource lives in a component; nothing is declared here.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import {
  CONTROL_QUEUE_DEFAULTS,
  DEFAULT_UPLOAD_EXPIRY_DAYS,
  JOBS_QUEUE_DEFAULTS,
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_QUEUE_DEFAULTS,
  heartbeatSeconds,
  selectLadder,
  webhookUrlProblem,
} from '@vod/contract';
import { Cdn } from './cdn.js';
import { ECS_SERVICE_LINKED_ROLE, SpotCluster } from './cluster.js';
import { DomainCertificates } from './domain.js';
import { OriginLoadBalancer } from './loadBalancer.js';
import { Network } from './network.js';
import { streamTaskPolicy, transcodeTaskPolicy, uploadTaskPolicy, webhooksTaskPolicy } from './policies.js';
import { JobQueue } from './queue.js';
import { QueueBacklogScaling } from './scaling.js';
import { AppSecrets } from './secrets.js';
import { EcsService } from './service.js';
import { instancesNeeded, smallestInstanceType, validateCapacity, validateInstanceTypes } from './capacity.js';
import { assertLogRetentionDays, assertPriceClass } from './config-checks.js';
import { dockerPlatform } from './ecs-host.js';
import { transcodeTaskSize, type TaskSize } from './task-sizing.js';
import { Storage } from './storage.js';
import { WebApp } from './webapp.js';

// ---------------------------------------------------------------- config --
const awsConfig = new pulumi.Config('aws');
const config = new pulumi.Config('vod');
const stack = pulumi.getStack();

const region = awsConfig.require('region');

const int = (key: string, fallback: number): number => {
  const v = config.getNumber(key) ?? fallback;
  if (!Number.isInteger(v)) throw new Error(`vod:${key} must be a whole number (got ${v}).`);
  return v;
};
const strings = (key: string, fallback?: string[]): string[] => {
  const v = fallback ? (config.getObject<unknown>(key) ?? fallback) : config.requireObject<unknown>(key);
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`vod:${key} must be a list of strings.`);
  return v as string[];
};
const numbers = (key: string, fallback: number[]): number[] => {
  const v = config.getObject<unknown>(key) ?? fallback;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) throw new Error(`vod:${key} must be a list of numbers.`);
  return v as number[];
};
const taskSize = (key: string, fallback: TaskSize): TaskSize => {
  const v = config.getObject<Partial<TaskSize>>(key);
  if (v === undefined) return fallback;
  if (!Number.isInteger(v.cpu) || !Number.isInteger(v.memory)) throw new Error(`vod:${key} must be {"cpu": units, "memory": MiB}.`);
  return { cpu: v.cpu!, memory: v.memory! };
};

/** Ports the services listen on (containers/*: PORT / HEALTH_PORT). */
const PORTS = { upload: 8081, stream: 8082, transcodeHealth: 8083, webhooksHealth: 8084 } as const;
/** The transcode worker handles SIGTERM within this; the ECS agent waits this long before SIGKILL. */
const STOP_TIMEOUT_SECONDS = 120;

const logLevel = config.get('logLevel') ?? 'info';
const logRetentionDays = assertLogRetentionDays(int('logRetentionDays', 14));
const priceClass = assertPriceClass(config.get('priceClass') ?? 'PriceClass_100');

// Cluster sizing: the ladder sets the transcode task; every task must fit on every instance type.
const instanceTypes = strings('instanceTypes');
// The rungs the worker encodes (the contract's default ladder, or the ones `vod:ladder` keeps);
// the task is sized for exactly these, and the worker is told them (LADDER).
const ladder = selectLadder(numbers('ladder', []));
const ladderShortSides = ladder.map((r) => r.shortSide);
const httpTask = taskSize('httpTaskSize', { cpu: 256, memory: 512 });
const transcodeTask = taskSize('transcodeTaskSize', transcodeTaskSize(ladderShortSides));
const uploadCount = int('uploadDesiredCount', 1);
const streamCount = int('streamDesiredCount', 1);

// Webhooks: receivers of the video events (http(s) URLs, the same rule the worker checks).
// None: no events are queued and the delivery worker runs no task.
const webhookUrls = [...new Set(strings('webhookUrls', []))];
const badWebhookUrls = webhookUrls.map(webhookUrlProblem).filter((p): p is string => p !== undefined);
if (badWebhookUrls.length) throw new Error(`vod:webhookUrls: ${badWebhookUrls.join('; ')}.`);
const webhooksOn = webhookUrls.length > 0;
/** The delivery worker: a small task (one Node process polling SQS, POSTing JSON). */
const webhooksTask: TaskSize = { cpu: 128, memory: 256 };
/** Ports the worker must reach: each receiver's (default 80 for http, 443 for https). */
const webhookPorts = webhookUrls.map((u) => {
  const url = new URL(u);
  return Number(url.port || (url.protocol === 'http:' ? 80 : 443));
});
const architecture = validateInstanceTypes(instanceTypes, [
  { name: 'upload', size: httpTask },
  { name: 'stream', size: httpTask },
  { name: 'transcode', size: transcodeTask },
  { name: 'webhooks', size: webhooksTask },
]);
const capacity = { minSize: int('asgMinSize', 1), maxSize: int('asgMaxSize', 4), onDemandBase: int('onDemandBase', 0) };
validateCapacity(
  capacity,
  instancesNeeded(smallestInstanceType(instanceTypes), [
    ...Array<TaskSize>(uploadCount + streamCount).fill(httpTask),
    ...(webhooksOn ? [webhooksTask] : []),
    transcodeTask,
  ]),
);

// Custom domain: with a hosted zone, certificates and DNS are managed here;
// with only a certificate ARN (us-east-1), point DNS at the distribution yourself.
const domainName = config.get('domainName');
const hostedZoneId = config.get('hostedZoneId');
const certificateArn = config.get('certificateArn');
if ((hostedZoneId || certificateArn) && !domainName) throw new Error('vod:hostedZoneId / vod:certificateArn need vod:domainName.');
if (domainName && !hostedZoneId && !certificateArn) throw new Error('vod:domainName needs vod:hostedZoneId or vod:certificateArn.');

const publicKeyPem = config.get('cloudfrontPublicKeyPem');
const privateKeyPem = config.getSecret('cloudfrontPrivateKeyPem');
if (!!publicKeyPem !== !!privateKeyPem) {
  throw new Error('Set both vod:cloudfrontPublicKeyPem and vod:cloudfrontPrivateKeyPem (secret), or neither to generate a key pair.');
}

const accountId = aws.getCallerIdentityOutput().accountId;
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

// ------------------------------------------------------------- components --
const network = new Network('vod-network', {
  region,
  availabilityZones: int('availabilityZones', 2),
  natGateways: (config.get('natGateways') ?? 'Single') as 'Single' | 'OnePerAz',
});

// One number for both: S3 aborts incomplete multipart uploads and the upload service expires their sessions.
const uploadExpiryDays = int('abortIncompleteUploadDays', DEFAULT_UPLOAD_EXPIRY_DAYS);
const storage = new Storage('vod-storage', {
  abortIncompleteUploadAfterDays: uploadExpiryDays,
  forceDestroy: config.getBoolean('forceDestroyBuckets') ?? false,
});

const visibilityTimeoutSeconds = int('visibilityTimeoutSeconds', JOBS_QUEUE_DEFAULTS.visibilityTimeoutSeconds);
const maxReceiveCount = int('maxReceiveCount', JOBS_QUEUE_DEFAULTS.maxReceiveCount);
const queue = new JobQueue('vod-queue', {
  visibilityTimeoutSeconds,
  heartbeatSeconds: heartbeatSeconds(visibilityTimeoutSeconds),
  maxReceiveCount,
  alarmEmail: config.get('alarmEmail'),
});
// The coordinator's queue: FIFO, one message group per video (containers/transcode/src/coordinator.ts).
const controlQueue = new JobQueue('vod-control', {
  fifoName: `vod-${stack}-control`,
  visibilityTimeoutSeconds: CONTROL_QUEUE_DEFAULTS.visibilityTimeoutSeconds,
  maxReceiveCount: CONTROL_QUEUE_DEFAULTS.maxReceiveCount,
  alarmDescription: 'Transcode events the coordinator could not handle are waiting in the dead-letter queue.',
  alarmEmail: config.get('alarmEmail'),
});

// Webhook events and per-receiver deliveries (containers/upload/src/webhook-delivery.ts): a standard
// queue, so one receiver's retries hold nothing else back; after the last attempt, the dead-letter queue.
const webhooksQueue = new JobQueue('vod-webhooks', {
  visibilityTimeoutSeconds: WEBHOOK_QUEUE_DEFAULTS.visibilityTimeoutSeconds,
  maxReceiveCount: WEBHOOK_MAX_ATTEMPTS,
  messageRetentionSeconds: WEBHOOK_QUEUE_DEFAULTS.messageRetentionSeconds,
  alarmDescription: 'Webhook deliveries failed every attempt and are waiting in the dead-letter queue.',
  alarmEmail: config.get('alarmEmail'),
});

const secrets = new AppSecrets('vod-secrets', {
  parameterPrefix: `/vod/${stack}`,
  apiToken: config.getSecret('apiToken'),
  originVerifySecret: config.getSecret('originVerifySecret'),
  signingKey: publicKeyPem && privateKeyPem ? { publicKeyPem, privateKeyPem } : undefined,
  webhookSecret: config.getSecret('webhookSecret'),
});

const certificates =
  domainName && hostedZoneId ? new DomainCertificates('vod-domain', { domainName, hostedZoneId }) : undefined;

const origin = new OriginLoadBalancer('vod-origin', {
  vpcId: network.vpcId,
  privateSubnetIds: network.privateSubnetIds,
  originVerifySecret: secrets.originVerifySecret,
  ports: { upload: PORTS.upload, stream: PORTS.stream },
  certificateArn: certificates?.originCertificateArn,
  dnsAlias: certificates && hostedZoneId ? { name: certificates.originDomainName, hostedZoneId } : undefined,
});

const cdn = new Cdn('vod-cdn', {
  originLoadBalancerArn: origin.arn,
  originDomainName: certificates ? certificates.originDomainName : origin.dnsName,
  originProtocol: origin.protocol,
  originVerifySecret: secrets.originVerifySecret,
  mediaBucketName: storage.mediaBucketName,
  mediaBucketArn: storage.mediaBucketArn,
  mediaBucketRegionalDomainName: storage.mediaBucketRegionalDomainName,
  mediaPublicAccessBlock: storage.mediaPublicAccessBlock,
  signingPublicKeyPem: secrets.signingPublicKeyPem,
  priceClass,
  corsAllowedOrigins: strings('corsAllowedOrigins', ['*']),
  customDomain: domainName
    ? {
        domainName,
        certificateArn: certificates ? certificates.viewerCertificateArn : certificateArn!,
        hostedZoneId,
      }
    : undefined,
});

// A new account may lack the ECS service-linked role, without which the
// capacity provider cannot be created: look it up and create it if missing
// (`vod:createEcsServiceLinkedRole` overrides the lookup).
const ecsServiceLinkedRoleMissing =
  config.getBoolean('createEcsServiceLinkedRole') ??
  (await aws.iam.getRoles({ pathPrefix: ECS_SERVICE_LINKED_ROLE.pathPrefix, nameRegex: `^${ECS_SERVICE_LINKED_ROLE.name}$` })).names
    .length === 0;

const cluster = new SpotCluster('vod-ecs', {
  createServiceLinkedRole: ecsServiceLinkedRoleMissing,
  vpcId: network.vpcId,
  privateSubnetIds: network.privateSubnetIds,
  instanceTypes,
  architecture,
  ...capacity,
  targetCapacityPercent: int('targetCapacityPercent', 100),
  rootVolumeGiB: int('rootVolumeGiB', 60),
  stopTimeoutSeconds: STOP_TIMEOUT_SECONDS,
  // Always on: the transcode scaling divides by its RunningTaskCount metric.
  containerInsights: true,
});

const commonEnv = {
  AWS_REGION: region,
  UPLOADS_BUCKET: storage.uploadsBucketName,
  MEDIA_BUCKET: storage.mediaBucketName,
  JOBS_QUEUE_URL: queue.queueUrl,
  LOG_LEVEL: logLevel,
};
const serviceBase = {
  clusterArn: cluster.clusterArn,
  capacityProviderName: cluster.capacityProviderName,
  vpcId: network.vpcId,
  privateSubnetIds: network.privateSubnetIds,
  egress: network.taskEgress,
  architecture,
  accountId,
  region,
  logRetentionDays,
  stopTimeoutSeconds: STOP_TIMEOUT_SECONDS,
};
const image = (service: string) => ({
  context: repoRoot,
  dockerfile: `${repoRoot}containers/${service}/Dockerfile`,
  platform: dockerPlatform(architecture),
});
const buckets = { uploadsBucketArn: storage.uploadsBucketArn, mediaBucketArn: storage.mediaBucketArn };
/** What a service that changes status records needs to queue webhook events (nothing when webhooks are off). */
const eventsEnv: Record<string, pulumi.Input<string>> = webhooksOn ? { WEBHOOKS_QUEUE_URL: webhooksQueue.queueUrl } : {};
const eventsQueueArn = webhooksOn ? webhooksQueue.queueArn : pulumi.output(undefined);

const upload = new EcsService('upload', {
  ...serviceBase,
  image: image('upload'),
  size: httpTask,
  containerPort: PORTS.upload,
  healthPort: PORTS.upload,
  desiredCount: uploadCount,
  environment: {
    ...commonEnv,
    PORT: `${PORTS.upload}`,
    MAX_UPLOAD_BYTES: `${int('maxUploadBytes', 50 * 1024 ** 3)}`,
    UPLOAD_EXPIRY_DAYS: `${uploadExpiryDays}`,
    ...eventsEnv,
  },
  secrets: { VOD_API_TOKEN: secrets.apiTokenParameterArn, ORIGIN_VERIFY_SECRET: secrets.originVerifyParameterArn },
  taskPolicy: pulumi
    .all([buckets.uploadsBucketArn, buckets.mediaBucketArn, queue.queueArn, eventsQueueArn])
    .apply(([uploadsBucketArn, mediaBucketArn, jobsQueueArn, webhooksQueueArn]) =>
      uploadTaskPolicy({ uploadsBucketArn, mediaBucketArn, jobsQueueArn, webhooksQueueArn }),
    ),
  loadBalancing: { targetGroupArn: origin.targetGroupArns.upload, loadBalancerSecurityGroupId: origin.securityGroupId },
  serviceDependsOn: [cluster.clusterCapacityProviders, ...origin.rules],
});

const stream = new EcsService('stream', {
  ...serviceBase,
  image: image('stream'),
  size: httpTask,
  containerPort: PORTS.stream,
  healthPort: PORTS.stream,
  desiredCount: streamCount,
  environment: {
    ...commonEnv,
    PORT: `${PORTS.stream}`,
    PUBLIC_BASE_URL: pulumi.interpolate`https://${cdn.publicDomainName}`,
    CLOUDFRONT_KEY_PAIR_ID: cdn.keyPairId,
    SIGNED_URL_TTL_SECONDS: `${int('signedUrlTtlSeconds', 14_400)}`,
    // Retry and redrive (containers/stream/src/video-admin.ts); a deleted video's CDN cache is invalidated.
    JOBS_DLQ_URL: queue.deadLetterQueueUrl,
    CLOUDFRONT_DISTRIBUTION_ID: cdn.distributionId,
    ...eventsEnv,
  },
  // The CloudFront API (invalidations) has no VPC endpoint: HTTPS out through the NAT.
  internetEgressPorts: [443],
  // The stream service also requires the API token on /api/* (containers/stream/src/server.ts).
  secrets: {
    CLOUDFRONT_PRIVATE_KEY: secrets.signingKeyParameterArn,
    ORIGIN_VERIFY_SECRET: secrets.originVerifyParameterArn,
    VOD_API_TOKEN: secrets.apiTokenParameterArn,
  },
  taskPolicy: pulumi
    .all([buckets.uploadsBucketArn, buckets.mediaBucketArn, secrets.signingKeyParameterArn, queue.queueArn, queue.deadLetterQueueArn, cdn.distributionArn, eventsQueueArn])
    .apply(([uploadsBucketArn, mediaBucketArn, signingKeyParameterArn, jobsQueueArn, deadLetterQueueArn, distributionArn, webhooksQueueArn]) =>
      streamTaskPolicy({ uploadsBucketArn, mediaBucketArn, signingKeyParameterArn, jobsQueueArn, deadLetterQueueArn, distributionArn, webhooksQueueArn }),
    ),
  loadBalancing: { targetGroupArn: origin.targetGroupArns.stream, loadBalancerSecurityGroupId: origin.securityGroupId },
  serviceDependsOn: [cluster.clusterCapacityProviders, ...origin.rules],
});

const transcodeMin = int('transcodeMinTasks', 0);
const transcode = new EcsService('transcode', {
  ...serviceBase,
  image: image('transcode'),
  size: transcodeTask,
  healthPort: PORTS.transcodeHealth,
  desiredCount: transcodeMin,
  autoscaled: true,
  environment: {
    ...commonEnv,
    HEALTH_PORT: `${PORTS.transcodeHealth}`,
    // The worker must agree with the queues: it heartbeats against their
    // visibility timeouts and fails a video on the control queue's last receive.
    VISIBILITY_TIMEOUT_SECONDS: `${visibilityTimeoutSeconds}`,
    LADDER: ladderShortSides.join(','),
    CONTROL_QUEUE_URL: controlQueue.queueUrl,
    CONTROL_VISIBILITY_TIMEOUT_SECONDS: `${CONTROL_QUEUE_DEFAULTS.visibilityTimeoutSeconds}`,
    CONTROL_MAX_RECEIVE_COUNT: `${CONTROL_QUEUE_DEFAULTS.maxReceiveCount}`,
    SPOT_PRICE_PER_VCPU_HOUR: `${config.getNumber('spotPricePerVcpuHour') ?? 0.015}`,
    ...eventsEnv,
  },
  taskPolicy: pulumi
    .all([buckets.uploadsBucketArn, buckets.mediaBucketArn, queue.queueArn, controlQueue.queueArn, accountId, cluster.clusterName, eventsQueueArn])
    .apply(([uploadsBucketArn, mediaBucketArn, jobsQueueArn, controlQueueArn, account, clusterName, webhooksQueueArn]) =>
      transcodeTaskPolicy({
        uploadsBucketArn,
        mediaBucketArn,
        jobsQueueArn,
        controlQueueArn,
        clusterTasksArn: `arn:aws:ecs:${region}:${account}:task/${clusterName}/*`,
        webhooksQueueArn,
      }),
    ),
  serviceDependsOn: [cluster.clusterCapacityProviders],
});

new QueueBacklogScaling('transcode-scaling', {
  clusterName: cluster.clusterName,
  serviceName: transcode.serviceName,
  queueName: queue.queueName,
  minTasks: transcodeMin,
  maxTasks: int('transcodeMaxTasks', 3),
  targetBacklogPerTask: config.getNumber('targetBacklogPerTask') ?? 1,
});

// The webhook delivery worker: the upload image's second entry point, its own small service and role.
// No receivers: no task (and no ENI on the instances).
const webhooks = new EcsService('webhooks', {
  ...serviceBase,
  image: image('upload'),
  command: ['node', '--import', 'tsx', 'src/webhook-server.ts'],
  size: webhooksTask,
  healthPort: PORTS.webhooksHealth,
  desiredCount: webhooksOn ? 1 : 0,
  internetEgressPorts: webhookPorts,
  environment: {
    AWS_REGION: region,
    LOG_LEVEL: logLevel,
    HEALTH_PORT: `${PORTS.webhooksHealth}`,
    WEBHOOKS_QUEUE_URL: webhooksQueue.queueUrl,
    VOD_WEBHOOK_URLS: webhookUrls.join(','),
  },
  secrets: { VOD_WEBHOOK_SECRET: secrets.webhookSecretParameterArn },
  taskPolicy: webhooksQueue.queueArn.apply((webhooksQueueArn) => webhooksTaskPolicy({ webhooksQueueArn })),
  serviceDependsOn: [cluster.clusterCapacityProviders],
});

const webApp = new WebApp('vod-web', {
  bucketName: storage.mediaBucketName,
  distDir: path.resolve(repoRoot, config.get('webDistDir') ?? path.join('web', 'dist')),
});

// ---------------------------------------------------------------- outputs --
/** Base URL of the HTTP API, e.g. `https://d111111abcdef8.cloudfront.net/api`. */
export const apiBaseUrl = pulumi.interpolate`https://${cdn.publicDomainName}/api`;
/** Host viewers and the CLI use (custom domain or `*.cloudfront.net`). */
export const cdnDomain = cdn.publicDomainName;
/** The platform's URL: web app at `/`, the CLI's `VOD_URL`. */
export const publicUrl = pulumi.interpolate`https://${cdn.publicDomainName}`;
export const cloudfrontDomain = cdn.cloudfrontDomainName;
export const cloudfrontDistributionId = cdn.distributionId;
export const cloudfrontKeyPairId = cdn.keyPairId;
export const uploadsBucketName = storage.uploadsBucketName;
export const mediaBucketName = storage.mediaBucketName;
/** Where the web app's static files go: served at `/`. */
export const webAppLocation = pulumi.interpolate`s3://${storage.mediaBucketName}/web/`;
/** Files of `web/dist` published by this update (0: run `npm run build:web` first). */
export const webAppFileCount = webApp.fileCount;
export const jobsQueueUrl = queue.queueUrl;
export const jobsQueueArn = queue.queueArn;
export const deadLetterQueueUrl = queue.deadLetterQueueUrl;
export const controlQueueUrl = controlQueue.queueUrl;
export const webhooksQueueUrl = webhooksQueue.queueUrl;
export const webhooksDeadLetterQueueUrl = webhooksQueue.deadLetterQueueUrl;
/** The secret webhook receivers verify with (`pulumi stack output webhookSecret --show-secrets`). */
export const webhookSecret = secrets.webhookSecret;
export const clusterName = cluster.clusterName;
export const serviceNames = {
  upload: upload.serviceName,
  stream: stream.serviceName,
  transcode: transcode.serviceName,
  webhooks: webhooks.serviceName,
};
/** The upload API token (`pulumi stack output apiToken --show-secrets`). */
export const apiToken = secrets.apiToken;
