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

/**
 * The VPC: public subnets (ALB, NAT gateway) and private subnets (container
 * instances and every task's ENI), built by `awsx.ec2.Vpc`. An S3 gateway
 * endpoint routes S3 traffic — uploads, transcode reads and writes, ECR image
 * layers — around the NAT gateway, so those bytes carry no NAT processing
 * charge (VPC user guide, "Gateway endpoints for Amazon S3").
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

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    const azs = args.availabilityZones ?? 2;
    if (!Number.isInteger(azs) || azs < 2 || azs > 6) throw new Error(`availabilityZones must be 2–6 (got ${azs}); the ALB needs two zones.`);
    if (args.natGateways && !['Single', 'OnePerAz'].includes(args.natGateways)) {
      throw new Error(`natGateways must be Single or OnePerAz (got ${args.natGateways}).`);
    }
    super('vod:infra:Network', name, {}, opts);

    this.vpc = new awsx.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: args.cidrBlock ?? '10.0.0.0/16',
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
    this.registerOutputs({ vpcId: this.vpcId, publicSubnetIds: this.publicSubnetIds, privateSubnetIds: this.privateSubnetIds });
  }
}
