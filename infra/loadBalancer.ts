import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { HEALTH_PATH, ORIGIN_IDLE_TIMEOUT_SECONDS, ORIGIN_VERIFY_HEADER, SERVICE_ROUTES, type Service, type ServiceRoute } from '@vod/contract';

/** The HTTP services behind the ALB. */
export type OriginService = Service;

export { ORIGIN_VERIFY_HEADER };

/**
 * How the ALB splits CloudFront's `services` traffic between the services:
 * the contract's `SERVICE_ROUTES`, the same table the local edge routes with.
 * Every rule also requires `x-origin-verify: <secret>`, so each rule has at
 * most 1 + paths + methods condition values, under the ALB limit of 5 (ELB
 * user guide, "Quotas for your Application Load Balancers"). Requests that
 * match nothing get the listener's fixed 403/404.
 */
export function originRoutes(): readonly ServiceRoute[] {
  return SERVICE_ROUTES;
}

/** Managed prefix list of CloudFront's origin-facing addresses (CloudFront developer guide, "Restrict access to Application Load Balancers"). */
export const CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST = 'com.amazonaws.global.cloudfront.origin-facing';

/** Inputs of {@link OriginLoadBalancer}. */
export interface OriginLoadBalancerArgs {
  vpcId: pulumi.Input<string>;
  /** Where the (internal) ALB's nodes live: the private subnets, no public address. */
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Value CloudFront sends in `x-origin-verify`; every listener rule requires it. */
  originVerifySecret: pulumi.Input<string>;
  /** Container ports of the fronted services. */
  ports: Record<OriginService, number>;
  /**
   * Regional ACM certificate for an HTTPS listener on 443 (CloudFront then
   * connects with `https-only`). Without it the listener is HTTP on 80; the
   * traffic still never leaves AWS's private network (a VPC origin).
   */
  certificateArn?: pulumi.Input<string>;
  /** ALB idle timeout, seconds. Default the contract's ORIGIN_IDLE_TIMEOUT_SECONDS (the services' keep-alive outlasts it). */
  idleTimeoutSeconds?: number;
  /** Route 53 alias `name` → the ALB, for the name `certificateArn` covers. */
  dnsAlias?: { name: string; hostedZoneId: string };
}

/**
 * Internal ALB in the private subnets that only CloudFront can reach, as a
 * CloudFront VPC origin (see cdn.ts): it has no public address at all, so
 * tokens and uploads never cross the internet between CloudFront and the
 * services, with or without a custom domain (CloudFront developer guide,
 * "Restrict access with VPC origins"). Defence in depth:
 * - its security group admits the listener port from the CloudFront
 *   origin-facing managed prefix list only (no 0.0.0.0/0), which is also what
 *   VPC origins connect from. The prefix list counts as ~55 rules against the
 *   60-rules-per-group quota, so the group holds one such rule — one port.
 * - every listener rule also requires the secret `x-origin-verify` header
 *   (CloudFront adds it; the services check it again).
 * Target groups are `ip` type (tasks use `awsvpc`), health-checked on
 * `GET /healthz`. Egress from the ALB to each service's task security group is
 * declared by that service (see service.ts).
 */
export class OriginLoadBalancer extends pulumi.ComponentResource {
  public readonly loadBalancer: aws.lb.LoadBalancer;
  /** The ALB's ARN, what a CloudFront VPC origin points at. */
  public readonly arn: pulumi.Output<string>;
  public readonly dnsName: pulumi.Output<string>;
  public readonly securityGroupId: pulumi.Output<string>;
  public readonly listener: aws.lb.Listener;
  /** Listener port CloudFront connects to: 443 with a certificate, else 80. */
  public readonly port: number;
  public readonly protocol: 'HTTP' | 'HTTPS';
  public readonly targetGroupArns: Record<OriginService, pulumi.Output<string>>;
  /** The listener rules; ECS services behind a target group must be created after its rule. */
  public readonly rules: aws.lb.ListenerRule[] = [];

  constructor(name: string, args: OriginLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('vod:infra:OriginLoadBalancer', name, {}, opts);
    this.protocol = args.certificateArn ? 'HTTPS' : 'HTTP';
    this.port = args.certificateArn ? 443 : 80;

    const prefixList = aws.ec2.getManagedPrefixListOutput({ name: CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST }, { parent: this });

    const sg = new aws.ec2.SecurityGroup(
      `${name}-alb`,
      { vpcId: args.vpcId, description: 'Origin ALB: inbound from CloudFront origin-facing addresses only' },
      { parent: this },
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-alb-from-cloudfront`,
      {
        securityGroupId: sg.id,
        ipProtocol: 'tcp',
        fromPort: this.port,
        toPort: this.port,
        prefixListId: prefixList.id,
        description: 'CloudFront origin-facing',
      },
      { parent: this },
    );
    this.securityGroupId = sg.id;

    this.loadBalancer = new aws.lb.LoadBalancer(
      `${name}-alb`,
      {
        loadBalancerType: 'application',
        // Private: CloudFront reaches it as a VPC origin; nothing else can route to it.
        internal: true,
        securityGroups: [sg.id],
        subnets: args.privateSubnetIds,
        idleTimeout: args.idleTimeoutSeconds ?? ORIGIN_IDLE_TIMEOUT_SECONDS,
        dropInvalidHeaderFields: true,
        enableHttp2: true,
      },
      { parent: this },
    );

    const services: OriginService[] = ['upload', 'stream'];
    const targetGroups = Object.fromEntries(
      services.map((svc) => [
        svc,
        new aws.lb.TargetGroup(
          `${name}-${svc}`,
          {
            vpcId: args.vpcId,
            targetType: 'ip',
            protocol: 'HTTP',
            port: args.ports[svc],
            deregistrationDelay: 30,
            healthCheck: {
              path: HEALTH_PATH,
              protocol: 'HTTP',
              matcher: '200',
              interval: 15,
              timeout: 5,
              healthyThreshold: 2,
              unhealthyThreshold: 3,
            },
          },
          { parent: this },
        ),
      ]),
    ) as Record<OriginService, aws.lb.TargetGroup>;

    this.listener = new aws.lb.Listener(
      `${name}-${this.protocol.toLowerCase()}`,
      {
        loadBalancerArn: this.loadBalancer.arn,
        port: this.port,
        protocol: this.protocol,
        ...(args.certificateArn ? { certificateArn: args.certificateArn, sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' } : {}),
        defaultActions: [
          {
            type: 'fixed-response',
            fixedResponse: {
              contentType: 'application/json',
              statusCode: '403',
              messageBody: JSON.stringify({ error: { code: 'forbidden', message: 'Requests must come through the CDN' } }),
            },
          },
        ],
      },
      { parent: this },
    );

    const verify = { httpHeader: { httpHeaderName: ORIGIN_VERIFY_HEADER, values: [args.originVerifySecret] } };
    for (const route of originRoutes()) {
      const rule = new aws.lb.ListenerRule(
        `${name}-rule-${route.priority}`,
        {
          listenerArn: this.listener.arn,
          priority: route.priority,
          conditions: [
            verify,
            { pathPattern: { values: [...route.paths] } },
            ...(route.methods ? [{ httpRequestMethod: { values: [...route.methods] } }] : []),
          ],
          actions: [{ type: 'forward', targetGroupArn: targetGroups[route.service].arn }],
        },
        { parent: this },
      );
      this.rules.push(rule);
    }
    // Through CloudFront (header present) but no route: a plain 404.
    new aws.lb.ListenerRule(
      `${name}-rule-not-found`,
      {
        listenerArn: this.listener.arn,
        priority: 1000,
        conditions: [verify],
        actions: [
          {
            type: 'fixed-response',
            fixedResponse: {
              contentType: 'application/json',
              statusCode: '404',
              messageBody: JSON.stringify({ error: { code: 'not_found', message: 'No such route' } }),
            },
          },
        ],
      },
      { parent: this },
    );

    if (args.dnsAlias) {
      new aws.route53.Record(
        `${name}-origin-alias`,
        {
          zoneId: args.dnsAlias.hostedZoneId,
          name: args.dnsAlias.name,
          type: 'A',
          aliases: [{ name: this.loadBalancer.dnsName, zoneId: this.loadBalancer.zoneId, evaluateTargetHealth: false }],
        },
        { parent: this },
      );
    }

    this.dnsName = this.loadBalancer.dnsName;
    this.arn = this.loadBalancer.arn;
    this.targetGroupArns = { upload: targetGroups.upload.arn, stream: targetGroups.stream.arn };
    this.registerOutputs({ dnsName: this.dnsName, securityGroupId: this.securityGroupId });
  }
}
