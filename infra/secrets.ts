import { createHash } from 'node:crypto';
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as tls from '@pulumi/tls';
import { SHARED_SECRET_PATTERN, SHARED_SECRET_RULE, WEBHOOK_SECRET_PATTERN, WEBHOOK_SECRET_RULE } from '@vod/contract';

/** The one rule for shared secrets (the contract's): the services check the same. */
export { SHARED_SECRET_PATTERN };

/** @throws Error naming `what` if `value` does not match the shared-secret rule. */
export function assertSharedSecret(what: string, value: string): string {
  if (!SHARED_SECRET_PATTERN.test(value)) throw new Error(`${what} must be ${SHARED_SECRET_RULE}.`);
  return value;
}

/** A CloudFront signing key pair supplied in config instead of generated. */
export interface SuppliedSigningKey {
  /** RSA 2048 public key, PEM (`-----BEGIN PUBLIC KEY-----`). */
  publicKeyPem: string;
  /** Its private key, PEM; keep it a Pulumi secret. */
  privateKeyPem: pulumi.Input<string>;
}

/** Inputs of {@link AppSecrets}. */
export interface AppSecretsArgs {
  /** SSM Parameter Store path prefix, e.g. `/vod/dev` (no trailing slash). */
  parameterPrefix: string;
  /** Bearer token of the upload API (`VOD_API_TOKEN`). Generated when absent. */
  apiToken?: pulumi.Input<string>;
  /** Value of the `x-origin-verify` header CloudFront adds (`ORIGIN_VERIFY_SECRET`). Generated when absent. */
  originVerifySecret?: pulumi.Input<string>;
  /** CloudFront signing key pair. An RSA 2048 pair is generated with @pulumi/tls when absent. */
  signingKey?: SuppliedSigningKey;
  /** Webhook signing secret, `whsec_…` (`VOD_WEBHOOK_SECRET`). Generated when absent. */
  webhookSecret?: pulumi.Input<string>;
}

/**
 * The platform's secrets, stored as SSM Parameter Store SecureStrings (default
 * `aws/ssm` key; standard tier, free) and handed to tasks only through ECS
 * `secrets` — never as plain environment variables:
 * - `{prefix}/api-token` → upload service `VOD_API_TOKEN`
 * - `{prefix}/origin-verify` → upload and stream `ORIGIN_VERIFY_SECRET`
 * - `{prefix}/cloudfront-private-key` → stream `CLOUDFRONT_PRIVATE_KEY`
 * - `{prefix}/webhook-secret` → webhook delivery worker `VOD_WEBHOOK_SECRET`
 *   (`whsec_` + base64 of 32 bytes when generated; receivers need it: stack output `webhookSecret`)
 *
 * Missing values are generated once and kept (encrypted) in the stack state:
 * the signing key as a @pulumi/tls RSA 2048 key, the tokens as SHA-256 hex of
 * a @pulumi/tls Ed25519 key (the tls key is the stored source of randomness;
 * @pulumi/random is not a dependency).
 */
export class AppSecrets extends pulumi.ComponentResource {
  /** The API token (secret output). */
  public readonly apiToken: pulumi.Output<string>;
  /** The origin header secret (secret output). */
  public readonly originVerifySecret: pulumi.Output<string>;
  /** Public half of the signing key, PEM, for the CloudFront key group. */
  public readonly signingPublicKeyPem: pulumi.Output<string>;
  public readonly apiTokenParameterArn: pulumi.Output<string>;
  public readonly originVerifyParameterArn: pulumi.Output<string>;
  public readonly signingKeyParameterArn: pulumi.Output<string>;
  /** The webhook signing secret (secret output). */
  public readonly webhookSecret: pulumi.Output<string>;
  public readonly webhookSecretParameterArn: pulumi.Output<string>;

  constructor(name: string, args: AppSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    if (!/^\/[A-Za-z0-9_.\-/]+[^/]$/.test(args.parameterPrefix)) {
      throw new Error(`parameterPrefix must look like /vod/dev (got ${args.parameterPrefix}).`);
    }
    if (args.signingKey && !args.signingKey.publicKeyPem.includes('BEGIN PUBLIC KEY')) {
      throw new Error('vod:cloudfrontPublicKeyPem must be a PEM public key (-----BEGIN PUBLIC KEY-----).');
    }
    super('vod:infra:AppSecrets', name, {}, opts);

    const generated = (label: string) =>
      new tls.PrivateKey(`${name}-${label}-seed`, { algorithm: 'ED25519' }, { parent: this }).privateKeyOpenssh.apply((k) =>
        createHash('sha256').update(`${label}\n${k}`).digest('hex'),
      );

    this.apiToken = pulumi.secret(
      args.apiToken
        ? pulumi.output(args.apiToken).apply((v) => assertSharedSecret('vod:apiToken', v))
        : generated('api-token'),
    );
    this.originVerifySecret = pulumi.secret(
      args.originVerifySecret
        ? pulumi.output(args.originVerifySecret).apply((v) => assertSharedSecret('vod:originVerifySecret', v))
        : generated('origin-verify'),
    );

    this.webhookSecret = pulumi.secret(
      args.webhookSecret
        ? pulumi.output(args.webhookSecret).apply((v) => {
            if (!WEBHOOK_SECRET_PATTERN.test(v)) throw new Error(`vod:webhookSecret must be ${WEBHOOK_SECRET_RULE}.`);
            return v;
          })
        : generated('webhook-secret').apply((hex) => `whsec_${Buffer.from(hex, 'hex').toString('base64')}`),
    );

    let privateKeyPem: pulumi.Output<string>;
    if (args.signingKey) {
      this.signingPublicKeyPem = pulumi.output(args.signingKey.publicKeyPem);
      privateKeyPem = pulumi.secret(args.signingKey.privateKeyPem);
    } else {
      // CloudFront key groups take RSA 2048 public keys (CloudFront developer guide,
      // "Create key pairs for your signers").
      const key = new tls.PrivateKey(`${name}-cloudfront-signing`, { algorithm: 'RSA', rsaBits: 2048 }, { parent: this });
      this.signingPublicKeyPem = key.publicKeyPem;
      privateKeyPem = pulumi.secret(key.privateKeyPem);
    }

    const parameter = (label: string, description: string, value: pulumi.Input<string>) =>
      new aws.ssm.Parameter(
        `${name}-${label}`,
        { name: `${args.parameterPrefix}/${label}`, description, type: 'SecureString', tier: 'Standard', value },
        { parent: this },
      );
    this.apiTokenParameterArn = parameter('api-token', 'Upload API bearer token (VOD_API_TOKEN)', this.apiToken).arn;
    this.originVerifyParameterArn = parameter(
      'origin-verify',
      'x-origin-verify header value CloudFront sends (ORIGIN_VERIFY_SECRET)',
      this.originVerifySecret,
    ).arn;
    this.signingKeyParameterArn = parameter(
      'cloudfront-private-key',
      'CloudFront URL signing private key, PEM (CLOUDFRONT_PRIVATE_KEY)',
      privateKeyPem,
    ).arn;

    this.webhookSecretParameterArn = parameter(
      'webhook-secret',
      'Standard Webhooks signing secret, whsec_… (VOD_WEBHOOK_SECRET)',
      this.webhookSecret,
    ).arn;

    this.registerOutputs({
      webhookSecretParameterArn: this.webhookSecretParameterArn,
      apiTokenParameterArn: this.apiTokenParameterArn,
      originVerifyParameterArn: this.originVerifyParameterArn,
      signingKeyParameterArn: this.signingKeyParameterArn,
    });
  }
}
