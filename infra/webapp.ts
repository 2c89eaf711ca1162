/**
 * The web app's static files (`npm run build:web` → `web/dist`), published to
 * the media bucket under `web/` and served by CloudFront at `/` (through the
 * same Origin Access Control as the segments).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface WebAppFile {
  /** Path below the dist folder, `/`-separated. */
  rel: string;
  contentType: string;
  cacheControl: string;
}

/**
 * The files of a built web app with their headers: Vite's hashed assets
 * (`assets/…`) never change, so they are cached for a year; everything else
 * (index.html) is revalidated so a new deploy shows at once.
 * Returns [] if `distDir` does not exist.
 */
export function webAppFiles(distDir: string): WebAppFile[] {
  if (!existsSync(distDir)) return [];
  const out: WebAppFile[] = [];
  const walk = (prefix: string) => {
    for (const entry of readdirSync(path.join(distDir, prefix), { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else if (entry.isFile())
        out.push({
          rel,
          contentType: CONTENT_TYPES[path.extname(rel).toLowerCase()] ?? 'application/octet-stream',
          cacheControl: rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        });
    }
  };
  walk('');
  return out.sort((a, b) => a.rel.localeCompare(b.rel));
}

export interface WebAppArgs {
  /** The media bucket's name. */
  bucketName: pulumi.Input<string>;
  /** The built app (`web/dist`); build it before `pulumi up`. */
  distDir: string;
  /** Key prefix in the bucket; CloudFront's default behaviour serves it at `/`. */
  prefix?: string;
}

export class WebApp extends pulumi.ComponentResource {
  /** Number of files published. */
  public readonly fileCount: number;

  constructor(name: string, args: WebAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super('vod:web:WebApp', name, {}, opts);
    const prefix = args.prefix ?? 'web/';
    const files = webAppFiles(args.distDir);
    // Without the build the site would answer AccessDenied at `/`: refuse to deploy that.
    if (!files.some((f) => f.rel === 'index.html')) {
      throw new Error(`No web app build at ${args.distDir} (no index.html): run "npm run build:web" before "pulumi up".`);
    }
    for (const f of files) {
      new aws.s3.BucketObjectv2(
        `${name}-${f.rel.replace(/[^A-Za-z0-9]+/g, '-')}`,
        {
          bucket: args.bucketName,
          key: `${prefix}${f.rel}`,
          source: new pulumi.asset.FileAsset(path.join(args.distDir, f.rel)),
          contentType: f.contentType,
          cacheControl: f.cacheControl,
        },
        { parent: this },
      );
    }
    this.fileCount = files.length;
    this.registerOutputs({ fileCount: this.fileCount });
  }
}
