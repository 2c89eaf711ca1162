import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** Inputs of {@link DomainCertificates}. */
export interface DomainCertificatesArgs {
  /** Viewer-facing name, e.g. `video.example.com`. */
  domainName: string;
  /** Route 53 public hosted zone that holds `domainName`; DNS validation records go here. */
  hostedZoneId: string;
  /** Label of the ALB's own name under `domainName`. Default `origin` → `origin.video.example.com`. */
  originLabel?: string;
}

/**
 * ACM certificates for a custom domain, DNS-validated in Route 53:
 * - the viewer certificate for CloudFront, which must live in us-east-1
 *   (CloudFront developer guide, "Requirements for using SSL/TLS certificates
 *   with CloudFront"), so it is created through a us-east-1 provider;
 * - a regional certificate for `origin.<domain>`, the ALB's HTTPS listener,
 *   so CloudFront → ALB traffic is TLS too. The alias record for the origin
 *   name is declared by the caller once the ALB exists.
 */
export class DomainCertificates extends pulumi.ComponentResource {
  /** Validated us-east-1 certificate for the distribution. */
  public readonly viewerCertificateArn: pulumi.Output<string>;
  /** Validated regional certificate for the ALB. */
  public readonly originCertificateArn: pulumi.Output<string>;
  /** `origin.<domain>`: the name CloudFront connects to. */
  public readonly originDomainName: string;

  constructor(name: string, args: DomainCertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('vod:infra:DomainCertificates', name, {}, opts);
    this.originDomainName = `${args.originLabel ?? 'origin'}.${args.domainName}`;
    const usEast1 = new aws.Provider(`${name}-us-east-1`, { region: 'us-east-1' }, { parent: this });

    const validated = (label: string, domainName: string, provider?: aws.Provider) => {
      const cert = new aws.acm.Certificate(
        `${name}-${label}`,
        { domainName, validationMethod: 'DNS', keyAlgorithm: 'RSA_2048' },
        { parent: this, provider },
      );
      const option = cert.domainValidationOptions.apply((o) => o[0]!);
      const record = new aws.route53.Record(
        `${name}-${label}-validation`,
        {
          zoneId: args.hostedZoneId,
          name: option.resourceRecordName,
          type: option.resourceRecordType,
          records: [option.resourceRecordValue],
          ttl: 300,
          allowOverwrite: true,
        },
        { parent: this },
      );
      return new aws.acm.CertificateValidation(
        `${name}-${label}`,
        { certificateArn: cert.arn, validationRecordFqdns: [record.fqdn] },
        { parent: this, provider },
      ).certificateArn;
    };

    this.viewerCertificateArn = validated('viewer', args.domainName, usEast1);
    this.originCertificateArn = validated('origin', this.originDomainName);
    this.registerOutputs({
      viewerCertificateArn: this.viewerCertificateArn,
      originCertificateArn: this.originCertificateArn,
    });
  }
}
