import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ECS_INSTANCE_MANAGED_POLICY, ec2TrustPolicy } from './policies.js';
import { ecsAmiParameter, ecsUserData } from './ecs-host.js';
import type { Architecture } from './instance-types.js';

/** Inputs of {@link SpotCluster}. */
export interface SpotClusterArgs {
  vpcId: pulumi.Input<string>;
  /** Subnets the instances launch into (private). */
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Instance types the Auto Scaling group may launch, all of `architecture`
   * (checked by `validateInstanceTypes` in capacity.ts). More types mean more
   * spot pools and fewer interruptions.
   */
  instanceTypes: string[];
  architecture: Architecture;
  /** Auto Scaling group bounds, instances. ECS managed scaling moves the desired count between them. */
  minSize: number;
  maxSize: number;
  /** On-demand instances below the spot capacity; above this base the group is 100 % spot. Default 0. */
  onDemandBase?: number;
  /**
   * ECS managed scaling target, percent of instance capacity that tasks should
   * use (ECS developer guide, "Amazon ECS cluster auto scaling"). 100 packs
   * tightly (cheapest); lower keeps spare room for faster task starts. Default 100.
   */
  targetCapacityPercent?: number;
  /** Root EBS volume (gp3, encrypted), GiB: holds images and the worker's scratch files. Default 60. */
  rootVolumeGiB?: number;
  /** Default SIGTERM→SIGKILL grace for containers without their own stopTimeout, seconds. Default 120. */
  stopTimeoutSeconds?: number;
  /**
   * CloudWatch Container Insights. Needed for the `RunningTaskCount` metric
   * that the transcode worker's backlog-per-task scaling divides by. Default true.
   */
  containerInsights?: boolean;
  /**
   * Create the ECS service-linked role `AWSServiceRoleForECS`. ECS creates it
   * on first use of the console, but an account that has only ever used the
   * API may not have it, and then the capacity provider fails to create (ECS
   * developer guide, "Using service-linked roles for Amazon ECS"). The
   * program looks it up ({@link ECS_SERVICE_LINKED_ROLE}) and passes whether
   * it is missing. Default false.
   */
  createServiceLinkedRole?: boolean;
}

/** Where the ECS service-linked role lives (IAM path) and its name. */
export const ECS_SERVICE_LINKED_ROLE = { pathPrefix: '/aws-service-role/ecs.amazonaws.com/', name: 'AWSServiceRoleForECS' } as const;

/**
 * ECS cluster whose capacity is an EC2 Auto Scaling group on spot.
 *
 * - Launch template: ECS-optimized Amazon Linux 2023 AMI from its public SSM
 *   parameter, IMDSv2 required, encrypted gp3 root volume, user data from
 *   `ecsUserData` (spot draining on, IMDS blocked for tasks).
 * - Auto Scaling group: mixed instances policy over `instanceTypes`,
 *   `onDemandBase` on-demand then 0 % on-demand above it, allocation strategy
 *   `price-capacity-optimized` (EC2 Auto Scaling user guide, "Allocation
 *   strategies for multiple instance types"), capacity rebalancing on,
 *   instances protected from scale-in and tagged `AmazonECSManaged` as managed
 *   termination protection requires (ECS developer guide, "Auto Scaling group
 *   capacity providers").
 * - Capacity provider with managed scaling, managed termination protection and
 *   managed draining, attached to the cluster with ClusterCapacityProviders as
 *   the default strategy.
 */
export class SpotCluster extends pulumi.ComponentResource {
  public readonly cluster: aws.ecs.Cluster;
  public readonly clusterName: pulumi.Output<string>;
  public readonly clusterArn: pulumi.Output<string>;
  public readonly autoScalingGroup: aws.autoscaling.Group;
  public readonly capacityProvider: aws.ecs.CapacityProvider;
  /** Resolves once the capacity provider is attached to the cluster; use it in service strategies. */
  public readonly capacityProviderName: pulumi.Output<string>;
  public readonly clusterCapacityProviders: aws.ecs.ClusterCapacityProviders;
  public readonly instanceSecurityGroupId: pulumi.Output<string>;

  constructor(name: string, args: SpotClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    const stopTimeout = args.stopTimeoutSeconds ?? 120;
    const target = args.targetCapacityPercent ?? 100;
    if (target < 1 || target > 100) throw new Error(`targetCapacityPercent must be 1–100 (got ${target}).`);
    if (args.instanceTypes.length === 0) throw new Error('SpotCluster needs at least one instance type.');
    super('vod:infra:SpotCluster', name, {}, opts);

    // Retained on destroy: other clusters of the account depend on it, and
    // deleting a service-linked role in use fails.
    const serviceLinkedRole = args.createServiceLinkedRole
      ? new aws.iam.ServiceLinkedRole(
          `${name}-ecs-service-linked-role`,
          { awsServiceName: 'ecs.amazonaws.com', description: 'Lets ECS manage the cluster capacity provider and ENIs' },
          { parent: this, retainOnDelete: true },
        )
      : undefined;

    this.cluster = new aws.ecs.Cluster(
      `${name}-cluster`,
      { settings: [{ name: 'containerInsights', value: args.containerInsights === false ? 'disabled' : 'enabled' }] },
      { parent: this },
    );

    const role = new aws.iam.Role(
      `${name}-instance-role`,
      { assumeRolePolicy: JSON.stringify(ec2TrustPolicy()), description: 'ECS container instances (agent only; tasks are blocked from IMDS)' },
      { parent: this },
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-instance-ecs`,
      { role: role.name, policyArn: ECS_INSTANCE_MANAGED_POLICY },
      { parent: this },
    );
    const profile = new aws.iam.InstanceProfile(`${name}-instance-profile`, { role: role.name }, { parent: this });

    const sg = new aws.ec2.SecurityGroup(
      `${name}-instances`,
      { vpcId: args.vpcId, description: 'ECS container instances: no inbound; HTTPS out to AWS APIs and ECR' },
      { parent: this },
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-instances-https-out`,
      { securityGroupId: sg.id, ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0', description: 'AWS APIs, ECR, S3' },
      { parent: this },
    );
    this.instanceSecurityGroupId = sg.id;

    const ami = aws.ssm.getParameterOutput({ name: ecsAmiParameter(args.architecture) }, { parent: this });

    const launchTemplate = new aws.ec2.LaunchTemplate(
      `${name}-lt`,
      {
        imageId: ami.insecureValue,
        iamInstanceProfile: { arn: profile.arn },
        vpcSecurityGroupIds: [sg.id],
        userData: this.cluster.name.apply((n) => Buffer.from(ecsUserData(n, stopTimeout)).toString('base64')),
        metadataOptions: {
          httpEndpoint: 'enabled',
          httpTokens: 'required',
          // The ECS agent (host network) needs IMDS; tasks are cut off by ECS_AWSVPC_BLOCK_IMDS.
          httpPutResponseHopLimit: 2,
        },
        blockDeviceMappings: [
          {
            deviceName: '/dev/xvda',
            ebs: { volumeSize: args.rootVolumeGiB ?? 60, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' },
          },
        ],
        monitoring: { enabled: false },
        updateDefaultVersion: true,
        tagSpecifications: [
          { resourceType: 'instance', tags: { Name: `${name}-ecs` } },
          { resourceType: 'volume', tags: { Name: `${name}-ecs` } },
        ],
      },
      { parent: this },
    );

    this.autoScalingGroup = new aws.autoscaling.Group(
      `${name}-asg`,
      {
        vpcZoneIdentifiers: args.privateSubnetIds,
        minSize: args.minSize,
        maxSize: args.maxSize,
        protectFromScaleIn: true,
        capacityRebalance: true,
        healthCheckGracePeriod: 120,
        defaultInstanceWarmup: 120,
        // Protected instances would otherwise block `pulumi destroy`.
        forceDelete: true,
        // ECS managed scaling owns the capacity: with minSize 0 there is
        // nothing to wait for, and spot may be short at `pulumi up`.
        waitForCapacityTimeout: '0',
        mixedInstancesPolicy: {
          instancesDistribution: {
            onDemandBaseCapacity: args.onDemandBase ?? 0,
            onDemandPercentageAboveBaseCapacity: 0,
            spotAllocationStrategy: 'price-capacity-optimized',
          },
          launchTemplate: {
            launchTemplateSpecification: {
              launchTemplateId: launchTemplate.id,
              version: launchTemplate.latestVersion.apply((v) => `${v}`),
            },
            overrides: args.instanceTypes.map((instanceType) => ({ instanceType })),
          },
        },
        tags: [
          { key: 'AmazonECSManaged', value: '', propagateAtLaunch: true },
          { key: 'Name', value: `${name}-ecs`, propagateAtLaunch: true },
        ],
      },
      // ECS managed scaling owns the desired capacity.
      { parent: this, ignoreChanges: ['desiredCapacity'] },
    );

    this.capacityProvider = new aws.ecs.CapacityProvider(
      `${name}-spot`,
      {
        autoScalingGroupProvider: {
          autoScalingGroupArn: this.autoScalingGroup.arn,
          managedTerminationProtection: 'ENABLED',
          managedDraining: 'ENABLED',
          managedScaling: {
            status: 'ENABLED',
            targetCapacity: target,
            minimumScalingStepSize: 1,
            maximumScalingStepSize: 4,
            instanceWarmupPeriod: 120,
          },
        },
      },
      { parent: this, dependsOn: serviceLinkedRole ? [serviceLinkedRole] : [] },
    );

    this.clusterCapacityProviders = new aws.ecs.ClusterCapacityProviders(
      `${name}-capacity`,
      {
        clusterName: this.cluster.name,
        capacityProviders: [this.capacityProvider.name],
        defaultCapacityProviderStrategies: [{ capacityProvider: this.capacityProvider.name, weight: 1, base: 0 }],
      },
      { parent: this },
    );

    this.clusterName = this.cluster.name;
    this.clusterArn = this.cluster.arn;
    // Carries a dependency on the attachment, so services wait for it.
    this.capacityProviderName = pulumi
      .all([this.clusterCapacityProviders.id, this.capacityProvider.name])
      .apply(([, cpName]) => cpName);

    this.registerOutputs({
      clusterName: this.clusterName,
      clusterArn: this.clusterArn,
      capacityProviderName: this.capacityProviderName,
      autoScalingGroupName: this.autoScalingGroup.name,
    });
  }
}
