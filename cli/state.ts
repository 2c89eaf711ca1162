/**
 * Remembers unfinished uploads so a rerun of `vod upload FILE` resumes:
 * `~/.vod/uploads.json` (or `$VOD_HOME/uploads.json`), keyed by server,
 * absolute path, size and modification time — a changed file starts over.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface PendingUpload {
  uploadId: string;
  videoId: string;
  startedAt: string;
}

export function defaultStatePath(env: Record<string, string | undefined> = process.env): string {
  return path.join(env.VOD_HOME || path.join(os.homedir(), '.vod'), 'uploads.json');
}

export function uploadKey(baseUrl: string, absPath: string, size: number, mtimeMs: number): string {
  return `${baseUrl}|${absPath}|${size}|${Math.floor(mtimeMs)}`;
}

export class UploadStateStore {
  constructor(readonly file: string) {}

  private read(): Record<string, PendingUpload> {
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      return data && typeof data === 'object' ? (data as Record<string, PendingUpload>) : {};
    } catch {
      return {};
    }
  }

  private write(all: Record<string, PendingUpload>): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  get(key: string): PendingUpload | undefined {
    return this.read()[key];
  }

  set(key: string, value: PendingUpload): void {
    const all = this.read();
    all[key] = value;
    this.write(all);
  }

  delete(key: string): void {
    const all = this.read();
    if (key in all) {
      delete all[key];
      this.write(all);
    }
  }
}
