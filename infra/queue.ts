import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { assertVisibilityFitsHeartbeat } from './sizing.js';

/** Inputs of {@link JobQueue}. */
export interface JobQueueArgs {
  /**
   * Visibility timeout of the jobs queue, seconds. The transcode worker
   * extends a message's visibility every `heartbeatSeconds` while it works;
   * see {@link assertVisibilityFitsHeartbeat}. Default 300.
   */
  visibilityTimeoutSeconds?: number;
  /** The worker's visibility heartbeat interval, seconds. Default 60. */
  heartbeatSeconds?: number;
  /** Receives before a job moves to the dead-letter queue. Default 3. */
  maxReceiveCount?: number;
  /** How long an unprocessed job is kept, seconds. Default 4 days (SQS default). */
  messageRetentionSeconds?: number;
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
    const visibility = args.visibilityTimeoutSeconds ?? 300;
    const heartbeat = args.heartbeatSeconds ?? 60;
    const maxReceiveCount = args.maxReceiveCount ?? 3;
    assertVisibilityFitsHeartbeat(visibility, heartbeat);
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
      throw new Error(`maxReceiveCount must be 1–1000 (got ${maxReceiveCount}).`);
    }
    super('vod:infra:JobQueue', name, {}, opts);

    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      { sqsManagedSseEnabled: true, messageRetentionSeconds: 1_209_600 },
      { parent: this },
    );

    this.queue = new aws.sqs.Queue(
      `${name}-jobs`,
      {
        sqsManagedSseEnabled: true,
        visibilityTimeoutSeconds: visibility,
        receiveWaitTimeSeconds: 20,
        messageRetentionSeconds: args.messageRetentionSeconds ?? 345_600,
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
        alarmDescription: 'Transcode jobs failed maxReceiveCount times and are waiting in the dead-letter queue.',
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
