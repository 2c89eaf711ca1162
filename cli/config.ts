/**
 * Where the CLI finds the API: flags, then environment, then (token only)
 * `.data/api-token` in the working directory, which the local stack writes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
export const LOCAL_TOKEN_FILE = path.join('.data', 'api-token');

export interface CliConfig {
  baseUrl: string;
  token?: string;
  /** Where the token came from, for error hints. */
  tokenSource: 'flag' | 'env' | 'file' | 'none';
}

export interface ConfigSources {
  flags: { url?: string; token?: string };
  env: Record<string, string | undefined>;
  cwd: string;
  readFile?: (file: string) => string;
}

export function resolveConfig({ flags, env, cwd, readFile = (f) => readFileSync(f, 'utf8') }: ConfigSources): CliConfig {
  const rawUrl = flags.url || env.VOD_URL || DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new Error(`Invalid API URL "${rawUrl}" (expected e.g. ${DEFAULT_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`Invalid API URL "${rawUrl}": use http:// or https://`);
  const baseUrl = url.toString().replace(/\/+$/, '');

  if (flags.token) return { baseUrl, token: flags.token.trim(), tokenSource: 'flag' };
  if (env.VOD_API_TOKEN) return { baseUrl, token: env.VOD_API_TOKEN.trim(), tokenSource: 'env' };
  try {
    const token = readFile(path.join(cwd, LOCAL_TOKEN_FILE)).trim();
    if (token) return { baseUrl, token, tokenSource: 'file' };
  } catch {
    /* no local stack here */
  }
  return { baseUrl, tokenSource: 'none' };
}
