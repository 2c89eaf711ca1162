import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { DEFAULT_UPLOAD_EXPIRY_DAYS, UPLOADS_BUCKET_CORS } from '@vod/contract';
import { uploadsBucketPolicy } from './policies.js';

/**
 * The `corsRules` of the uploads bucket, from the contract's
 * UPLOADS_BUCKET_CORS: browsers PUT chunked-upload parts straight to S3
 * through presigned UploadPart URLs and must read each part's `ETag` from the
 * response, which a cross-origin page can only do if the bucket's CORS allows
 * the PUT and exposes the header (S3 user guide, "Using cross-origin resource
 * sharing (CORS)"). The media bucket has none: CloudFront serves it.
 */
export function uploadsCorsRules(): aws.types.input.s3.BucketCorsConfigurationCorsRule[] {
  const c = UPLOADS_BUCKET_CORS;
  return [
    {
      id: 'browser-part-uploads',
      allowedOrigins: [...c.allowedOrigins],
      allowedMethods: [...c.allowedMethods],
      allowedHeaders: [...c.allowedHeaders],
      exposeHeaders: [...c.exposeHeaders],
      maxAgeSeconds: c.maxAgeSeconds,
    },
  ];
}

/** Inputs of {@link Storage}. */
export interface StorageArgs {
  /**
   * Days after which S3 aborts a multipart upload that was never completed in
   * the uploads bucket, freeing its parts (S3 user guide, "Configuring a
   * bucket lifecycle configuration to delete incomplete multipart uploads").
   * Default the contract's DEFAULT_UPLOAD_EXPIRY_DAYS; the upload service must
   * be told the same number (`UPLOAD_EXPIRY_DAYS`) so sessions expire with their uploads.
   */
  abortIncompleteUploadAfterDays?: number;
  /**
   * Let `pulumi destroy` delete the buckets and every object in them. Default
   * false: `pulumi destroy` leaves both buckets and your videos in the account
   * (Pulumi `retainOnDelete`) instead of failing with BucketNotEmpty.
   */
  forceDestroy?: boolean;
}

/**
 * The two private buckets.
 *
 * - uploads: originals (`sources/…`) and upload sessions (`sessions/…`);
 *   aborts incomplete multipart uploads, and has a CORS rule so browsers can
 *   PUT parts through presigned URLs and read their ETag ({@link uploadsCorsRules}).
 * - media: the HLS ladder (`videos/…`, readable by CloudFront only), status
 *   records (`records/…`, never public) and the web app (`web/…`); no CORS
 *   (CloudFront serves it).
 *
 * Both: all four Block Public Access settings on, object ownership
 * `BucketOwnerEnforced` (ACLs disabled), default encryption SSE-S3 (AES256:
 * no KMS key policy for CloudFront OAC or the tasks to need). The uploads
 * bucket policy denies non-TLS requests; the media bucket's policy — TLS-only
 * plus the CloudFront OAC grant — needs the distribution ARN, so
 * {@link import('./cdn.js').Cdn} declares it.
 */
export class Storage extends pulumi.ComponentResource {
  public readonly uploadsBucket: aws.s3.Bucket;
  public readonly mediaBucket: aws.s3.Bucket;
  /** Name of the uploads bucket (env `UPLOADS_BUCKET`). */
  public readonly uploadsBucketName: pulumi.Output<string>;
  /** Name of the media bucket (env `MEDIA_BUCKET`). */
  public readonly mediaBucketName: pulumi.Output<string>;
  public readonly uploadsBucketArn: pulumi.Output<string>;
  public readonly mediaBucketArn: pulumi.Output<string>;
  /** Regional domain name of the media bucket, the CloudFront S3 origin. */
  public readonly mediaBucketRegionalDomainName: pulumi.Output<string>;
  /** Declared Block Public Access of the media bucket, for resources that must follow it. */
  public readonly mediaPublicAccessBlock: aws.s3.BucketPublicAccessBlock;

  constructor(name: string, args: StorageArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    const abortDays = args.abortIncompleteUploadAfterDays ?? DEFAULT_UPLOAD_EXPIRY_DAYS;
    if (!Number.isInteger(abortDays) || abortDays < 1) throw new Error(`abortIncompleteUploadAfterDays must be a whole number ≥ 1 (got ${abortDays}).`);
    super('vod:infra:Storage', name, {}, opts);

    const uploads = this.privateBucket(`${name}-uploads`, args.forceDestroy ?? false);
    const media = this.privateBucket(`${name}-media`, args.forceDestroy ?? false);
    this.uploadsBucket = uploads.bucket;
    this.mediaBucket = media.bucket;
    this.mediaPublicAccessBlock = media.publicAccessBlock;

    new aws.s3.BucketPolicy(
      `${name}-uploads-policy`,
      { bucket: uploads.bucket.id, policy: uploads.bucket.arn.apply((arn) => JSON.stringify(uploadsBucketPolicy(arn))) },
      { parent: this, dependsOn: [uploads.publicAccessBlock] },
    );

    new aws.s3.BucketLifecycleConfiguration(
      `${name}-uploads-lifecycle`,
      {
        bucket: uploads.bucket.id,
        rules: [
          {
            id: 'abort-incomplete-multipart-uploads',
            status: 'Enabled',
            filter: { prefix: '' },
            abortIncompleteMultipartUpload: { daysAfterInitiation: abortDays },
          },
        ],
      },
      { parent: this },
    );

    new aws.s3.BucketCorsConfiguration(
      `${name}-uploads-cors`,
      { bucket: uploads.bucket.id, corsRules: uploadsCorsRules() },
      { parent: this },
    );

    this.uploadsBucketName = uploads.bucket.bucket;
    this.mediaBucketName = media.bucket.bucket;
    this.uploadsBucketArn = uploads.bucket.arn;
    this.mediaBucketArn = media.bucket.arn;
    this.mediaBucketRegionalDomainName = media.bucket.bucketRegionalDomainName;

    this.registerOutputs({
      uploadsBucketName: this.uploadsBucketName,
      mediaBucketName: this.mediaBucketName,
      uploadsBucketArn: this.uploadsBucketArn,
      mediaBucketArn: this.mediaBucketArn,
    });
  }

  private privateBucket(name: string, forceDestroy: boolean) {
    const bucket = new aws.s3.Bucket(name, { forceDestroy }, { parent: this, retainOnDelete: !forceDestroy });
    const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      { parent: this },
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } },
      { parent: this },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] },
      { parent: this },
    );
    return { bucket, publicAccessBlock };
  }
}
