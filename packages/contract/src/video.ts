/**
 * The video record — what the API returns for a video — and the pipeline's
 * state machine:
 *
 *   uploading → queued → processing → ready
 *                  ↑          ↓  ↘
 *                  └──────────┘    failed → processing (redelivered job)
 *
 * `ready` is terminal: a redelivered job for a ready video is a no-op.
 */
import { z } from 'zod';
import { idSchema } from './ids.js';

export const VIDEO_STATUSES = ['uploading', 'queued', 'processing', 'ready', 'failed'] as const;
export const videoStatusSchema = z.enum(VIDEO_STATUSES);
export type VideoStatus = z.infer<typeof videoStatusSchema>;

/** Allowed moves; staying in the same state (a progress update) is listed explicitly. */
export const TRANSITIONS: Readonly<Record<VideoStatus, readonly VideoStatus[]>> = {
  uploading: ['uploading', 'queued', 'failed'],
  queued: ['queued', 'processing', 'failed'],
  processing: ['processing', 'queued', 'ready', 'failed'],
  failed: ['processing', 'failed'],
  ready: [],
};

/** True if the state machine allows `from → to`. */
export function canTransition(from: VideoStatus, to: VideoStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export const renditionSummarySchema = z.object({
  name: z.string(),
  /** Pixels; 0 for the audio-only rendition. */
  width: z.number().int().min(0),
  height: z.number().int().min(0),
  /** Peak bit/s, as in the multivariant playlist's BANDWIDTH. */
  bandwidth: z.number().int().min(0),
});
export type RenditionSummary = z.infer<typeof renditionSummarySchema>;

export const videoRecordSchema = z.object({
  videoId: idSchema,
  status: videoStatusSchema,
  /** 0–100. */
  progress: z.number().min(0).max(100),
  /** Human-readable reason, when `failed`. */
  error: z.string().optional(),
  /** Seconds. */
  durationSeconds: z.number().min(0).optional(),
  renditions: z.array(renditionSummarySchema).optional(),
  /** The client's file name, kept as metadata only. */
  filename: z.string().optional(),
  /** Bytes of the original upload. */
  sizeBytes: z.number().int().min(0).optional(),
  /** ISO 8601. */
  createdAt: z.string(),
  /** ISO 8601. */
  updatedAt: z.string(),
});
export type VideoRecord = z.infer<typeof videoRecordSchema>;
