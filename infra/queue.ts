import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { JOBS_QUEUE_DEFAULTS, assertMaxReceiveCount, assertVisibilityFitsHeartbeat, heartbeatSeconds } from '@vod/contract';

/** Inputs of {@link JobQueue}. */
export interface JobQueueArgs {
  /**
   * Visibility timeout of the jobs queue, seconds. The transcode worker
   * extends a message's visibility every `heartbeatSeconds` while it works;
   * see the contract's `assertVisibilityFitsHeartbeat`. Default `JOBS_QUEUE_DEFAULTS`.
   */
  visibilityTimeoutSeconds?: number;
  /** The worker's visibility heartbeat interval, seconds. Default 60. */
  heartbeatSeconds?: number;
  /** Receives before a job moves to the dead-letter queue. Default 3. */
  maxReceiveCount?: number;
  /** How long an unprocessed job is kept, seconds. Default 4 days (SQS default). */
  messageRetentionSeconds?: number;
  /**
   * A FIFO queue (and FIFO dead-letter queue) named `{fifoName}.fifo` — the
   * control queue, one message group per video — instead of a standard queue.
   * FIFO queue names must end in `.fifo`, so they are given, not generated.
   */
  fifoName?: string;
  /** What the DLQ alarm says fired. Default: transcode jobs. */
  alarmDescription?: string;
  /**
   * E-mail address notified (through an SNS topic) when the DLQ alarm fires
   * or clears. AWS sends a confirmation mail first. Default none: the alarm
   * still shows in CloudWatch.
   */
  alarmEmail?: string;
}

/**
 * The transcode jobs queue and its dead-letter queue. The upload service
 * enqueues jobs itself (no S3 event notifications).
 *
 * - SSE with SQS-managed keys (SSE-SQS) on both queues: encrypted at rest
 *   with no KMS permissions for the tasks to need.
 * - Long polling (20 s receive wait) to cut empty receives.
 * - Redrive to the DLQ after `maxReceiveCount` receives; the DLQ accepts
 *   redrives from this queue only and keeps messages 14 days (the maximum).
 * - CloudWatch alarm when any message is visible in the DLQ, optionally
 *   mailed through an SNS topic.
 */
export class JobQueue extends pulumi.ComponentResource {
  public readonly queue: aws.sqs.Queue;
  public readonly deadLetterQueue: aws.sqs.Queue;
  public readonly queueUrl: pulumi.Output<string>;
  public readonly queueArn: pulumi.Output<string>;
  /** Queue name, the `QueueName` dimension of its CloudWatch metrics. */
  public readonly queueName: pulumi.Output<string>;
  public readonly deadLetterQueueUrl: pulumi.Output<string>;
  public readonly deadLetterQueueArn: pulumi.Output<string>;
  public readonly dlqAlarm: aws.cloudwatch.MetricAlarm;

  constructor(name: string, args: JobQueueArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    const visibility = args.visibilityTimeoutSeconds ?? JOBS_QUEUE_DEFAULTS.visibilityTimeoutSeconds;
    const heartbeat = args.heartbeatSeconds ?? heartbeatSeconds(visibility);
    const maxReceiveCount = args.maxReceiveCount ?? JOBS_QUEUE_DEFAULTS.maxReceiveCount;
    assertVisibilityFitsHeartbeat(visibility, heartbeat);
    assertMaxReceiveCount(maxReceiveCount);
    const fifo = args.fifoName
      ? (suffix: string) => ({
          name: `${args.fifoName}${suffix}.fifo`,
          fifoQueue: true,
          // High-throughput FIFO: ordering and deduplication per message group (one video).
          deduplicationScope: 'messageGroup',
          fifoThroughputLimit: 'perMessageGroupId',
        })
      : () => ({});
    super('vod:infra:JobQueue', name, {}, opts);

    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      { sqsManagedSseEnabled: true, messageRetentionSeconds: JOBS_QUEUE_DEFAULTS.deadLetterRetentionSeconds, ...fifo('-dlq') },
      { parent: this },
    );

    this.queue = new aws.sqs.Queue(
      `${name}-jobs`,
      {
        sqsManagedSseEnabled: true,
        visibilityTimeoutSeconds: visibility,
        receiveWaitTimeSeconds: JOBS_QUEUE_DEFAULTS.receiveWaitTimeSeconds,
        messageRetentionSeconds: args.messageRetentionSeconds ?? JOBS_QUEUE_DEFAULTS.messageRetentionSeconds,
        ...fifo(''),
        redrivePolicy: this.deadLetterQueue.arn.apply((deadLetterTargetArn) =>
          JSON.stringify({ deadLetterTargetArn, maxReceiveCount }),
        ),
      },
      { parent: this },
    );

    new aws.sqs.RedriveAllowPolicy(
      `${name}-dlq-redrive-allow`,
      {
        queueUrl: this.deadLetterQueue.url,
        redriveAllowPolicy: this.queue.arn.apply((arn) =>
          JSON.stringify({ redrivePermission: 'byQueue', sourceQueueArns: [arn] }),
        ),
      },
      { parent: this },
    );

    let alarmActions: pulumi.Input<string>[] = [];
    if (args.alarmEmail) {
      const topic = new aws.sns.Topic(`${name}-alarms`, {}, { parent: this });
      new aws.sns.TopicSubscription(
        `${name}-alarms-email`,
        { topic: topic.arn, protocol: 'email', endpoint: args.alarmEmail },
        { parent: this },
      );
      alarmActions = [topic.arn];
    }

    this.dlqAlarm = new aws.cloudwatch.MetricAlarm(
      `${name}-dlq-depth`,
      {
        alarmDescription: args.alarmDescription ?? 'Transcode jobs failed maxReceiveCount times and are waiting in the dead-letter queue.',
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: this.deadLetterQueue.name },
        statistic: 'Maximum',
        period: 300,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        treatMissingData: 'notBreaching',
        alarmActions,
        okActions: alarmActions,
      },
      { parent: this },
    );

    this.queueUrl = this.queue.url;
    this.queueArn = this.queue.arn;
    this.queueName = this.queue.name;
    this.deadLetterQueueUrl = this.deadLetterQueue.url;
    this.deadLetterQueueArn = this.deadLetterQueue.arn;
    this.registerOutputs({
      queueUrl: this.queueUrl,
      queueArn: this.queueArn,
      deadLetterQueueUrl: this.deadLetterQueueUrl,
      deadLetterQueueArn: this.deadLetterQueueArn,
    });
  }
}
