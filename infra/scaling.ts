import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** Inputs of {@link QueueBacklogScaling}. */
export interface QueueBacklogScalingArgs {
  clusterName: pulumi.Input<string>;
  serviceName: pulumi.Input<string>;
  /** The jobs queue's name (`QueueName` dimension of AWS/SQS metrics). */
  queueName: pulumi.Input<string>;
  /** Task bounds. `minTasks` 0 lets the worker scale to zero when the queue is empty. */
  minTasks: number;
  maxTasks: number;
  /** Jobs (waiting + in flight) per running task to aim for. Default 1: one job per worker at a time. */
  targetBacklogPerTask?: number;
  /** Seconds after a scale-in before the next one. Default 300. */
  scaleInCooldownSeconds?: number;
  /** Seconds after a scale-out before the next one. Default 60. */
  scaleOutCooldownSeconds?: number;
}

/** One query of a target tracking policy's metric math (Application Auto Scaling `TargetTrackingMetricDataQuery`). */
export interface MetricQuery {
  id: string;
  label: string;
  returnData: boolean;
  expression?: string;
  metricStat?: {
    metric: { namespace: string; metricName: string; dimensions: { name: string; value: string }[] };
    stat: string;
  };
}

/**
 * The metric math of the backlog-per-task target tracking policy
 * (Application Auto Scaling user guide, "Create a target tracking scaling
 * policy using metric math" → SQS backlog per task):
 *
 *   (ApproximateNumberOfMessagesVisible + ApproximateNumberOfMessagesNotVisible) / RunningTaskCount
 *
 * In-flight messages count as backlog: a worker busy with a long job keeps the
 * metric at 1, so target tracking does not scale it in mid-job (with only
 * visible messages the metric drops to 0 while every job is running).
 * `RunningTaskCount` comes from Container Insights (`ECS/ContainerInsights`).
 */
export function backlogPerTaskMetrics(queueName: string, clusterName: string, serviceName: string): MetricQuery[] {
  const sqs = (id: string, metricName: string): MetricQuery => ({
    id,
    label: metricName,
    returnData: false,
    metricStat: {
      metric: { namespace: 'AWS/SQS', metricName, dimensions: [{ name: 'QueueName', value: queueName }] },
      stat: 'Sum',
    },
  });
  return [
    sqs('visible', 'ApproximateNumberOfMessagesVisible'),
    sqs('inflight', 'ApproximateNumberOfMessagesNotVisible'),
    {
      id: 'running',
      label: 'RunningTaskCount',
      returnData: false,
      metricStat: {
        metric: {
          namespace: 'ECS/ContainerInsights',
          metricName: 'RunningTaskCount',
          dimensions: [
            { name: 'ClusterName', value: clusterName },
            { name: 'ServiceName', value: serviceName },
          ],
        },
        stat: 'Average',
      },
    },
    { id: 'backlogPerTask', label: 'Jobs per running task', expression: '(visible + inflight) / running', returnData: true },
  ];
}

/** Metric-math expression of the start-from-zero alarm: 1 when jobs wait and the service wants no task, else 0. */
export const START_FROM_ZERO_EXPRESSION = 'IF(visible > 0 AND FILL(desired, 0) == 0, 1, 0)';

/**
 * Queue-driven scaling of the transcode worker:
 * - a scalable target on the service's desired count, `minTasks`–`maxTasks`;
 * - target tracking on jobs per running task ({@link backlogPerTaskMetrics});
 * - because that ratio has no value while no task runs (division by zero), a
 *   step policy started by an alarm on {@link START_FROM_ZERO_EXPRESSION}
 *   sets the desired count to 1 when jobs are waiting and the service is at
 *   zero. It never fires once a task is wanted, so the two policies do not
 *   fight.
 */
export class QueueBacklogScaling extends pulumi.ComponentResource {
  public readonly target: aws.appautoscaling.Target;
  public readonly targetTrackingPolicy: aws.appautoscaling.Policy;
  public readonly startFromZeroPolicy: aws.appautoscaling.Policy;
  public readonly startFromZeroAlarm: aws.cloudwatch.MetricAlarm;

  constructor(name: string, args: QueueBacklogScalingArgs, opts?: pulumi.ComponentResourceOptions) {
    if (args.minTasks < 0 || args.maxTasks < 1 || args.minTasks > args.maxTasks) {
      throw new Error(`Transcode task bounds must satisfy 0 ≤ min ≤ max, max ≥ 1 (got ${args.minTasks}–${args.maxTasks}).`);
    }
    const targetValue = args.targetBacklogPerTask ?? 1;
    if (!(targetValue > 0)) throw new Error(`targetBacklogPerTask must be > 0 (got ${targetValue}).`);
    super('vod:infra:QueueBacklogScaling', name, {}, opts);

    const resourceId = pulumi.interpolate`service/${args.clusterName}/${args.serviceName}`;
    this.target = new aws.appautoscaling.Target(
      `${name}-target`,
      {
        serviceNamespace: 'ecs',
        scalableDimension: 'ecs:service:DesiredCount',
        resourceId,
        minCapacity: args.minTasks,
        maxCapacity: args.maxTasks,
      },
      { parent: this },
    );
    const scalable = {
      serviceNamespace: this.target.serviceNamespace,
      scalableDimension: this.target.scalableDimension,
      resourceId: this.target.resourceId,
    };

    this.targetTrackingPolicy = new aws.appautoscaling.Policy(
      `${name}-backlog-per-task`,
      {
        ...scalable,
        policyType: 'TargetTrackingScaling',
        targetTrackingScalingPolicyConfiguration: {
          targetValue,
          scaleInCooldown: args.scaleInCooldownSeconds ?? 300,
          scaleOutCooldown: args.scaleOutCooldownSeconds ?? 60,
          customizedMetricSpecification: {
            metrics: pulumi
              .all([args.queueName, args.clusterName, args.serviceName])
              .apply(([q, c, s]) => backlogPerTaskMetrics(q, c, s)),
          },
        },
      },
      { parent: this },
    );

    this.startFromZeroPolicy = new aws.appautoscaling.Policy(
      `${name}-start-from-zero`,
      {
        ...scalable,
        policyType: 'StepScaling',
        stepScalingPolicyConfiguration: {
          adjustmentType: 'ExactCapacity',
          cooldown: args.scaleOutCooldownSeconds ?? 60,
          metricAggregationType: 'Maximum',
          stepAdjustments: [{ metricIntervalLowerBound: '0', scalingAdjustment: 1 }],
        },
      },
      { parent: this },
    );

    this.startFromZeroAlarm = new aws.cloudwatch.MetricAlarm(
      `${name}-jobs-waiting-no-worker`,
      {
        alarmDescription: 'Jobs are waiting and the transcode service is at zero tasks: start one.',
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: 'notBreaching',
        metricQueries: [
          {
            id: 'visible',
            returnData: false,
            metric: {
              namespace: 'AWS/SQS',
              metricName: 'ApproximateNumberOfMessagesVisible',
              dimensions: { QueueName: args.queueName },
              period: 60,
              stat: 'Maximum',
            },
          },
          {
            id: 'desired',
            returnData: false,
            metric: {
              namespace: 'ECS/ContainerInsights',
              metricName: 'DesiredTaskCount',
              dimensions: { ClusterName: args.clusterName, ServiceName: args.serviceName },
              period: 60,
              stat: 'Maximum',
            },
          },
          { id: 'startFromZero', expression: START_FROM_ZERO_EXPRESSION, label: 'Jobs waiting, no worker wanted', returnData: true },
        ],
        alarmActions: [this.startFromZeroPolicy.arn],
      },
      { parent: this },
    );

    this.registerOutputs({ resourceId: this.target.resourceId });
  }
}
