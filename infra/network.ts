import * as aws from '@pulumi/aws';
import * as awsx from '@pulumi/awsx';
import * as pulumi from '@pulumi/pulumi';

/** Inputs of {@link Network}. */
export interface NetworkArgs {
  /** AWS region, for the S3 gateway endpoint's service name. */
  region: string;
  /** VPC CIDR block. Default 10.0.0.0/16. */
  cidrBlock?: string;
  /** Availability zones to spread subnets over. The ALB needs ≥ 2. Default 2. */
  availabilityZones?: number;
  /**
   * NAT gateways for the private subnets' outbound traffic (ECR, SQS, SSM,
   * CloudWatch Logs): `Single` (one, cheapest; a zone outage cuts egress) or
   * `OnePerAz`. Default `Single`.
   */
  natGateways?: 'Single' | 'OnePerAz';
}

/** Where a task may open connections (see `EcsService`): AWS's private paths to S3 and SQS, and optionally the internet. */
export interface TaskEgress {
  /** AWS-managed prefix list of S3 in the region: reached through the gateway endpoint. */
  s3PrefixListId: pulumi.Input<string>;
  /** Security group of the interface endpoints (SQS): tasks reach them on 443. */
  endpointsSecurityGroupId: pulumi.Input<string>;
}

/**
 * The VPC: public subnets (NAT gateway) and private subnets (the internal
 * ALB, container instances and every task's ENI), built by `awsx.ec2.Vpc`.
 *
 * Tasks talk to AWS without the internet: an S3 gateway endpoint routes S3
 * traffic — uploads, transcode reads and writes, ECR image layers — around
 * the NAT gateway (no NAT processing charge; VPC user guide, "Gateway
 * endpoints for Amazon S3"), and an SQS interface endpoint with private DNS
 * answers `sqs.{region}.amazonaws.com` inside the VPC. So a task's security
 * group can allow exactly those two destinations ({@link TaskEgress}) and a
 * compromised ffmpeg cannot reach anything else. The container instances (the
 * ECS agent: ECR, ECS, CloudWatch Logs, SSM) keep HTTPS out through the NAT.
 *
 * awsx components run in the awsx provider plugin: under Pulumi mocks only
 * their inputs and the outputs the mock returns are visible.
 */
export class Network extends pulumi.ComponentResource {
  public readonly vpc: awsx.ec2.Vpc;
  public readonly vpcId: pulumi.Output<string>;
  /** Subnets of the ALB and the NAT gateway. */
  public readonly publicSubnetIds: pulumi.Output<string[]>;
  /** Subnets of the container instances and tasks; no public IPs. */
  public readonly privateSubnetIds: pulumi.Output<string[]>;
  /** What tasks may reach (S3 and SQS over AWS's network). */
  public readonly taskEgress: TaskEgress;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    const azs = args.availabilityZones ?? 2;
    if (!Number.isInteger(azs) || azs < 2 || azs > 6) throw new Error(`availabilityZones must be 2–6 (got ${azs}); the ALB needs two zones.`);
    if (args.natGateways && !['Single', 'OnePerAz'].includes(args.natGateways)) {
      throw new Error(`natGateways must be Single or OnePerAz (got ${args.natGateways}).`);
    }
    super('vod:infra:Network', name, {}, opts);
    const cidrBlock = args.cidrBlock ?? '10.0.0.0/16';

    this.vpc = new awsx.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock,
        numberOfAvailabilityZones: azs,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        subnetStrategy: 'Auto',
        subnetSpecs: [
          { type: 'Public', cidrMask: 22 },
          { type: 'Private', cidrMask: 20 },
        ],
        natGateways: { strategy: args.natGateways ?? 'Single' },
        vpcEndpointStrategy: 'Auto',
        vpcEndpointSpecs: [{ serviceName: `com.amazonaws.${args.region}.s3`, vpcEndpointType: 'Gateway' }],
      },
      { parent: this },
    );

    this.vpcId = this.vpc.vpcId;
    this.publicSubnetIds = this.vpc.publicSubnetIds;
    this.privateSubnetIds = this.vpc.privateSubnetIds;

    const endpointsSg = new aws.ec2.SecurityGroup(
      `${name}-endpoints`,
      { vpcId: this.vpcId, description: 'Interface VPC endpoints (SQS): HTTPS from inside the VPC' },
      { parent: this },
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-endpoints-https-in`,
      { securityGroupId: endpointsSg.id, ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: cidrBlock, description: 'VPC' },
      { parent: this },
    );
    new aws.ec2.VpcEndpoint(
      `${name}-sqs`,
      {
        vpcId: this.vpcId,
        serviceName: `com.amazonaws.${args.region}.sqs`,
        vpcEndpointType: 'Interface',
        privateDnsEnabled: true,
        subnetIds: this.privateSubnetIds,
        securityGroupIds: [endpointsSg.id],
      },
      { parent: this },
    );
    const s3PrefixList = aws.ec2.getManagedPrefixListOutput({ name: `com.amazonaws.${args.region}.s3` }, { parent: this });
    this.taskEgress = { s3PrefixListId: s3PrefixList.id, endpointsSecurityGroupId: endpointsSg.id };
    this.registerOutputs({ vpcId: this.vpcId, publicSubnetIds: this.publicSubnetIds, privateSubnetIds: this.privateSubnetIds });
  }
}
