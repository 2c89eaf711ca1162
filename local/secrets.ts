/**
 * Local secrets, made on first start and kept in the data directory:
 * the API token, the webhook signing secret and a CloudFront-style RSA key pair for signed URLs
 * (in AWS: a Secrets Manager/SSM secret and a CloudFront public key in a trusted key group).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface LocalKeyPair {
  /** Stands in for a CloudFront public key id (e.g. K2JCJMDEHXQW5F). */
  keyPairId: string;
  privateKeyPem: string;
  publicKeyFile: string;
}

/** `envToken` if set, else the token kept in `dataDir/api-token` (made on first call). */
export function ensureApiToken(dataDir: string, envToken?: string): string {
  if (envToken) return envToken;
  const file = path.join(dataDir, 'api-token');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, randomBytes(24).toString('base64url') + '\n', { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

/** `envSecret` if set, else the `whsec_…` webhook signing secret kept in `dataDir/webhook-secret` (24 random bytes, made on first call). */
export function ensureWebhookSecret(dataDir: string, envSecret?: string): string {
  if (envSecret) return envSecret;
  const file = path.join(dataDir, 'webhook-secret');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `whsec_${randomBytes(24).toString('base64')}\n`, { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

/** The RSA-2048 key pair in `dataDir/cloudfront/` (made on first call; CloudFront requires 2048-bit RSA). */
export function ensureKeyPair(dataDir: string): LocalKeyPair {
  const dir = path.join(dataDir, 'cloudfront');
  const privFile = path.join(dir, 'private_key.pem');
  const pubFile = path.join(dir, 'public_key.pem');
  const idFile = path.join(dir, 'key-pair-id');
  if (!existsSync(privFile) || !existsSync(pubFile) || !existsSync(idFile)) {
    mkdirSync(dir, { recursive: true });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    writeFileSync(privFile, privateKey, { mode: 0o600 });
    writeFileSync(pubFile, publicKey);
    writeFileSync(idFile, 'K' + randomBytes(7).toString('hex').toUpperCase() + '\n');
  }
  return {
    keyPairId: readFileSync(idFile, 'utf8').trim(),
    privateKeyPem: readFileSync(privFile, 'utf8'),
    publicKeyFile: pubFile,
  };
}
