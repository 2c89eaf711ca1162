/**
 * The page's upload queue: files wait their turn, a couple upload at once
 * (each with a few parts in flight via client/upload-client), and every item
 * can be paused, resumed, cancelled or retried. Resumable across reloads
 * through storage.ts. React reads it with useSyncExternalStore.
 */
import { ApiError, cancelUpload, isAbortError, uploadFile } from '@vod/client';
import { fileKey, loadPending, savePending } from './storage.js';

export type ItemStatus = 'queued' | 'uploading' | 'paused' | 'error' | 'done' | 'canceled';

export interface UploadItem {
  id: string;
  key: string;
  file: File;
  status: ItemStatus;
  uploadedBytes: number;
  totalBytes: number;
  partsDone: number;
  partCount: number;
  /** Bytes per second over the last few seconds (0 when unknown). */
  rate: number;
  /** Seconds left (NaN when unknown). */
  eta: number;
  uploadId?: string;
  videoId?: string;
  /** Parts found on the server when the upload (re)started. */
  resumedParts?: number;
  error?: string;
}

export interface QueueOptions {
  getToken: () => string;
  baseUrl?: string;
  /** Files uploading at once. */
  maxActive?: number;
  /** Parts in flight per file. */
  concurrency?: number;
  /** The server rejected the token (401). */
  onUnauthorized?: () => void;
  /** Injectable for tests. */
  fetch?: typeof fetch;
}

const RATE_WINDOW_MS = 8000;

export class UploadQueue {
  private items: UploadItem[] = [];
  private listeners = new Set<() => void>();
  private controllers = new Map<string, AbortController>();
  private seq = 0;

  constructor(private readonly opts: QueueOptions) {
    if (typeof window !== 'undefined') window.addEventListener('online', () => this.retryErrored());
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getSnapshot = (): readonly UploadItem[] => this.items;

  private emit() {
    for (const fn of this.listeners) fn();
  }

  private patch(id: string, changes: Partial<UploadItem>) {
    this.items = this.items.map((it) => (it.id === id ? { ...it, ...changes } : it));
    this.emit();
  }

  private get(id: string): UploadItem | undefined {
    return this.items.find((it) => it.id === id);
  }

  /** Queues files; a file already uploading or waiting is not added twice. */
  add(files: Iterable<File>): void {
    for (const file of files) {
      const key = fileKey(file);
      if (this.items.some((it) => it.key === key && ['queued', 'uploading', 'paused', 'error'].includes(it.status))) continue;
      this.items = [
        ...this.items,
        {
          id: `f${++this.seq}`,
          key,
          file,
          status: 'queued',
          uploadedBytes: 0,
          totalBytes: file.size,
          partsDone: 0,
          partCount: 0,
          rate: 0,
          eta: Number.NaN,
          uploadId: loadPending()[key]?.uploadId,
        },
      ];
    }
    this.emit();
    this.pump();
  }

  pause(id: string): void {
    const it = this.get(id);
    if (!it) return;
    if (it.status === 'uploading') this.controllers.get(id)?.abort();
    else if (it.status === 'queued') this.patch(id, { status: 'paused' });
  }

  resume(id: string): void {
    const it = this.get(id);
    if (it && (it.status === 'paused' || it.status === 'error')) {
      this.patch(id, { status: 'queued', error: undefined });
      this.pump();
    }
  }

  async cancel(id: string): Promise<void> {
    const it = this.get(id);
    if (!it || it.status === 'done' || it.status === 'canceled') return;
    this.controllers.get(id)?.abort();
    this.patch(id, { status: 'canceled', rate: 0, eta: Number.NaN });
    savePending(it.key, null);
    const uploadId = this.get(id)?.uploadId;
    if (uploadId) {
      try {
        await cancelUpload({ baseUrl: this.opts.baseUrl ?? '', token: this.opts.getToken(), uploadId, fetch: this.opts.fetch });
      } catch {
        /* the server forgets unfinished uploads eventually anyway */
      }
    }
  }

  /** Drops a finished, cancelled or failed item from the list. */
  remove(id: string): void {
    const it = this.get(id);
    if (!it || it.status === 'uploading') return;
    this.items = this.items.filter((x) => x.id !== id);
    this.emit();
  }

  retryErrored(): void {
    let any = false;
    this.items = this.items.map((it) => (it.status === 'error' ? ((any = true), { ...it, status: 'queued' as const, error: undefined }) : it));
    if (any) {
      this.emit();
      this.pump();
    }
  }

  private pump(): void {
    const max = this.opts.maxActive ?? 2;
    let active = this.items.filter((it) => it.status === 'uploading').length;
    for (const it of this.items) {
      if (active >= max) break;
      if (it.status !== 'queued') continue;
      active++;
      void this.run(it.id);
    }
  }

  private async run(id: string): Promise<void> {
    const item = this.get(id)!;
    const controller = new AbortController();
    this.controllers.set(id, controller);
    this.patch(id, { status: 'uploading', error: undefined, rate: 0, eta: Number.NaN });
    const samples: { t: number; bytes: number }[] = [];
    try {
      const res = await uploadFile({
        baseUrl: this.opts.baseUrl ?? '',
        token: this.opts.getToken(),
        file: item.file,
        filename: item.file.name,
        contentType: item.file.type || undefined,
        concurrency: this.opts.concurrency ?? 4,
        resumeUploadId: item.uploadId,
        signal: controller.signal,
        fetch: this.opts.fetch,
        onSession: (s) => {
          savePending(item.key, {
            uploadId: s.uploadId,
            videoId: s.videoId,
            filename: item.file.name,
            size: item.file.size,
            lastModified: item.file.lastModified,
            savedAt: new Date().toISOString(),
          });
          this.patch(id, { uploadId: s.uploadId, videoId: s.videoId, partCount: s.partCount, resumedParts: s.resumed ? s.storedParts : undefined });
        },
        onProgress: (p) => {
          const now = performance.now();
          samples.push({ t: now, bytes: p.uploadedBytes });
          while (samples.length > 2 && now - samples[1].t > RATE_WINDOW_MS) samples.shift();
          const first = samples[0];
          const span = (now - first.t) / 1000;
          const rate = span > 0.2 ? (p.uploadedBytes - first.bytes) / span : 0;
          this.patch(id, {
            uploadedBytes: p.uploadedBytes,
            totalBytes: p.totalBytes,
            partsDone: p.partsDone,
            partCount: p.partCount,
            rate,
            eta: rate > 0 ? (p.totalBytes - p.uploadedBytes) / rate : Number.NaN,
          });
        },
      });
      savePending(item.key, null);
      this.patch(id, { status: 'done', uploadId: res.uploadId, videoId: res.videoId, uploadedBytes: item.file.size, rate: 0, eta: 0 });
    } catch (err) {
      const current = this.get(id);
      if (current?.status === 'canceled') {
        /* cancel() already updated the item */
      } else if (isAbortError(err)) {
        this.patch(id, { status: 'paused', rate: 0, eta: Number.NaN });
      } else {
        const message = err instanceof Error ? err.message : String(err);
        this.patch(id, { status: 'error', error: message, rate: 0, eta: Number.NaN });
        if (err instanceof ApiError && err.status === 401) this.opts.onUnauthorized?.();
      }
    } finally {
      this.controllers.delete(id);
      this.pump();
    }
  }
}
