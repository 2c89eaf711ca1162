import * as aws from '@pulumi/aws';
import * as awsx from '@pulumi/awsx';
import * as pulumi from '@pulumi/pulumi';
import type { TaskEgress } from './network.js';
import { ecsTasksTrustPolicy, executionRolePolicy, type PolicyDocument } from './policies.js';
import type { Architecture } from './instance-types.js';
import type { TaskSize } from './task-sizing.js';

/**
 * Container health check command: `GET http://127.0.0.1:{port}/healthz` with
 * Node's built-in fetch (the images are Node 22; no curl/wget needed).
 * ECS task definition `healthCheck.command`, exec form.
 */
export function healthCheckCommand(port: number): string[] {
  return [
    'CMD',
    'node',
    '-e',
    `fetch('http://127.0.0.1:${port}/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))`,
  ];
}

/** How a service's image is built: `docker build -f {dockerfile} {context}` for `platform`, pushed to its own ECR repository by awsx. */
export interface ImageBuild {
  /** Build context (the repo root). */
  context: string;
  /** Dockerfile path, e.g. `containers/upload/Dockerfile` (relative to `context`). */
  dockerfile: string;
  /** Docker platform, `linux/amd64` or `linux/arm64` (see `dockerPlatform`). */
  platform: string;
}

/** A service behind the ALB. */
export interface ServiceLoadBalancing {
  targetGroupArn: pulumi.Input<string>;
  /** The ALB's security group: admitted to the task port; its egress to the task group is declared here. */
  loadBalancerSecurityGroupId: pulumi.Input<string>;
}

/** Inputs of {@link EcsService}. */
export interface EcsServiceArgs {
  clusterArn: pulumi.Input<string>;
  /** Capacity provider the service places tasks with (never a launch type). */
  capacityProviderName: pulumi.Input<string>;
  vpcId: pulumi.Input<string>;
  /** Task ENIs go here (`awsvpc`, no public IP). */
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  image: ImageBuild;
  architecture: Architecture;
  /** Task-level CPU units and memory (MiB); the single container gets all of it. */
  size: TaskSize;
  /** Port the container serves traffic on (the ALB target port). Absent for workers. */
  containerPort?: number;
  /** Port of `GET /healthz` for the container health check. */
  healthPort: number;
  /** Overrides the image's CMD (another entry point of the same image, e.g. the webhook delivery worker). */
  command?: string[];
  /** Plain environment variables. Secrets never go here. */
  environment: Record<string, pulumi.Input<string>>;
  /** Environment variables ECS fills from SSM parameters at start: env name → parameter ARN. */
  secrets?: Record<string, pulumi.Input<string>>;
  /** The task role's permissions (see policies.ts). */
  taskPolicy: pulumi.Input<PolicyDocument>;
  /** Account id, for the task roles' `aws:SourceAccount` trust condition. */
  accountId: pulumi.Input<string>;
  region: string;
  /** CloudWatch Logs retention, days (one of the values CloudWatch Logs accepts). */
  logRetentionDays: number;
  /** SIGTERM → SIGKILL grace, seconds. */
  stopTimeoutSeconds: number;
  /** Initial desired task count. */
  desiredCount: number;
  /** Application Auto Scaling owns the desired count after creation. */
  autoscaled?: boolean;
  loadBalancing?: ServiceLoadBalancing;
  /** Where the tasks may connect: S3 and SQS over AWS's network (see `Network.taskEgress`). */
  egress: TaskEgress;
  /**
   * Ports the tasks may also reach on the internet, through the NAT gateway:
   * for a service whose job is to call out (webhook receivers; the CloudFront
   * API, which has no VPC endpoint). None of the media path does. Default none.
   */
  internetEgressPorts?: number[];
  /** Resources the ECS service must wait for (capacity provider attachment, listener rules). */
  serviceDependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * One ECS service on the spot cluster, from its Dockerfile to running tasks:
 * ECR repository (scan on push, keeps the last 10 images) + `awsx.ecr.Image`
 * build; a log group with retention; a task execution role (pull this image,
 * write this log group, read this service's secrets) and a task role (the
 * given policy); a task security group (out: S3 and SQS only, plus
 * `internetEgressPorts`; in: from the ALB only, on the service port, if load
 * balanced); an `awsvpc` EC2 task definition with
 * health check and stop timeout; and the service, placed by the capacity
 * provider strategy, with the deployment circuit breaker on.
 */
export class EcsService extends pulumi.ComponentResource {
  public readonly service: aws.ecs.Service;
  public readonly serviceName: pulumi.Output<string>;
  public readonly taskDefinition: aws.ecs.TaskDefinition;
  public readonly taskRole: aws.iam.Role;
  public readonly executionRole: aws.iam.Role;
  public readonly logGroup: aws.cloudwatch.LogGroup;
  public readonly repositoryUrl: pulumi.Output<string>;
  public readonly imageUri: pulumi.Output<string>;
  public readonly securityGroupId: pulumi.Output<string>;

  constructor(name: string, args: EcsServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super('vod:infra:EcsService', name, {}, opts);
    const container = name;

    const repository = new aws.ecr.Repository(
      `${name}-repo`,
      {
        imageScanningConfiguration: { scanOnPush: true },
        imageTagMutability: 'MUTABLE',
        encryptionConfigurations: [{ encryptionType: 'AES256' }],
        forceDelete: true,
      },
      { parent: this },
    );
    new aws.ecr.LifecyclePolicy(
      `${name}-repo-lifecycle`,
      {
        repository: repository.name,
        policy: JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              description: 'Keep the last 10 images',
              selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 },
              action: { type: 'expire' },
            },
          ],
        }),
      },
      { parent: this },
    );
    const image = new awsx.ecr.Image(
      `${name}-image`,
      {
        repositoryUrl: repository.repositoryUrl,
        context: args.image.context,
        dockerfile: args.image.dockerfile,
        platform: args.image.platform,
      },
      { parent: this },
    );

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/vod/${pulumi.getStack()}/${name}`, retentionInDays: args.logRetentionDays },
      { parent: this },
    );

    const trust = pulumi.output(args.accountId).apply((id) => JSON.stringify(ecsTasksTrustPolicy(id)));
    this.executionRole = new aws.iam.Role(
      `${name}-execution`,
      { assumeRolePolicy: trust, description: `ECS agent for ${name}: pull image, write logs, read secrets` },
      { parent: this },
    );
    const secretArns = Object.values(args.secrets ?? {});
    new aws.iam.RolePolicy(
      `${name}-execution`,
      {
        role: this.executionRole.id,
        policy: pulumi
          .all([repository.arn, this.logGroup.arn, pulumi.all(secretArns)])
          .apply(([repositoryArn, logGroupArn, secretParameterArns]) =>
            JSON.stringify(executionRolePolicy({ repositoryArn, logGroupArn, secretParameterArns })),
          ),
      },
      { parent: this },
    );

    this.taskRole = new aws.iam.Role(
      `${name}-task`,
      { assumeRolePolicy: trust, description: `Task role of the ${name} service` },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-task`,
      { role: this.taskRole.id, policy: pulumi.output(args.taskPolicy).apply((d) => JSON.stringify(d)) },
      { parent: this },
    );

    const sg = new aws.ec2.SecurityGroup(
      `${name}-tasks`,
      {
        vpcId: args.vpcId,
        description: args.loadBalancing ? `${name} tasks: inbound from the ALB only` : `${name} tasks: no inbound`,
      },
      { parent: this },
    );
    // Only what the service needs: ffmpeg reading hostile media must not be
    // able to reach anything else (task credentials and the task protection
    // endpoint are link-local, served by the ECS agent, not filtered here).
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-tasks-to-s3`,
      { securityGroupId: sg.id, ipProtocol: 'tcp', fromPort: 443, toPort: 443, prefixListId: args.egress.s3PrefixListId, description: 'S3 (gateway endpoint)' },
      { parent: this },
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-tasks-to-endpoints`,
      {
        securityGroupId: sg.id,
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        referencedSecurityGroupId: args.egress.endpointsSecurityGroupId,
        description: 'SQS (interface endpoint)',
      },
      { parent: this },
    );
    for (const port of [...new Set(args.internetEgressPorts ?? [])]) {
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-tasks-out-${port}`,
        { securityGroupId: sg.id, ipProtocol: 'tcp', fromPort: port, toPort: port, cidrIpv4: '0.0.0.0/0', description: `internet, port ${port} (NAT)` },
        { parent: this },
      );
    }
    if (args.loadBalancing) {
      if (args.containerPort === undefined) throw new Error(`${name}: a load-balanced service needs containerPort.`);
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-tasks-from-alb`,
        {
          securityGroupId: sg.id,
          ipProtocol: 'tcp',
          fromPort: args.containerPort,
          toPort: args.containerPort,
          referencedSecurityGroupId: args.loadBalancing.loadBalancerSecurityGroupId,
          description: 'ALB',
        },
        { parent: this },
      );
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-alb-to-tasks`,
        {
          securityGroupId: args.loadBalancing.loadBalancerSecurityGroupId,
          ipProtocol: 'tcp',
          fromPort: args.containerPort,
          toPort: args.containerPort,
          referencedSecurityGroupId: sg.id,
          description: `${name} tasks`,
        },
        { parent: this },
      );
    }
    this.securityGroupId = sg.id;

    const environment = pulumi
      .all(Object.entries(args.environment).map(([k, v]) => pulumi.all([k, v])))
      .apply((pairs) => pairs.map(([name, value]) => ({ name, value })).sort((a, b) => a.name.localeCompare(b.name)));
    const secrets = pulumi
      .all(Object.entries(args.secrets ?? {}).map(([k, v]) => pulumi.all([k, v])))
      .apply((pairs) => pairs.map(([name, valueFrom]) => ({ name, valueFrom })).sort((a, b) => a.name.localeCompare(b.name)));

    this.taskDefinition = new aws.ecs.TaskDefinition(
      `${name}-task`,
      {
        family: `vod-${pulumi.getStack()}-${name}`,
        networkMode: 'awsvpc',
        requiresCompatibilities: ['EC2'],
        cpu: `${args.size.cpu}`,
        memory: `${args.size.memory}`,
        executionRoleArn: this.executionRole.arn,
        taskRoleArn: this.taskRole.arn,
        runtimePlatform: {
          operatingSystemFamily: 'LINUX',
          cpuArchitecture: args.architecture === 'arm64' ? 'ARM64' : 'X86_64',
        },
        containerDefinitions: pulumi
          .all([image.imageUri, environment, secrets, this.logGroup.name])
          .apply(([imageUri, env, sec, logGroup]) =>
            JSON.stringify([
              {
                name: container,
                image: imageUri,
                essential: true,
                cpu: args.size.cpu,
                memory: args.size.memory,
                ...(args.command ? { command: args.command } : {}),
                portMappings:
                  args.containerPort === undefined ? [] : [{ containerPort: args.containerPort, protocol: 'tcp' }],
                environment: env,
                secrets: sec,
                healthCheck: {
                  command: healthCheckCommand(args.healthPort),
                  interval: 30,
                  timeout: 5,
                  retries: 3,
                  startPeriod: 30,
                },
                stopTimeout: args.stopTimeoutSeconds,
                linuxParameters: { initProcessEnabled: true },
                logConfiguration: {
                  logDriver: 'awslogs',
                  options: {
                    'awslogs-group': logGroup,
                    'awslogs-region': args.region,
                    'awslogs-stream-prefix': container,
                  },
                },
              },
            ]),
          ),
      },
      { parent: this },
    );

    this.service = new aws.ecs.Service(
      `${name}-service`,
      {
        cluster: args.clusterArn,
        taskDefinition: this.taskDefinition.arn,
        desiredCount: args.desiredCount,
        capacityProviderStrategies: [{ capacityProvider: args.capacityProviderName, weight: 1, base: 0 }],
        networkConfiguration: { subnets: args.privateSubnetIds, securityGroups: [sg.id], assignPublicIp: false },
        ...(args.loadBalancing
          ? {
              loadBalancers: [
                { targetGroupArn: args.loadBalancing.targetGroupArn, containerName: container, containerPort: args.containerPort! },
              ],
              healthCheckGracePeriodSeconds: 60,
            }
          : {}),
        deploymentCircuitBreaker: { enable: true, rollback: true },
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        orderedPlacementStrategies: [{ type: 'binpack', field: 'memory' }],
        enableEcsManagedTags: true,
        propagateTags: 'SERVICE',
        // A service behind the ALB waits until its tasks are healthy, so a
        // crash-looping deploy fails `pulumi up` (the circuit breaker rolls it
        // back). Autoscaled workers may rightly run zero tasks.
        waitForSteadyState: !args.autoscaled,
      },
      {
        parent: this,
        dependsOn: args.serviceDependsOn,
        ignoreChanges: args.autoscaled ? ['desiredCount'] : [],
      },
    );

    this.serviceName = this.service.name;
    this.repositoryUrl = repository.repositoryUrl;
    this.imageUri = image.imageUri;
    this.registerOutputs({
      serviceName: this.serviceName,
      repositoryUrl: this.repositoryUrl,
      imageUri: this.imageUri,
      logGroupName: this.logGroup.name,
    });
  }
}
