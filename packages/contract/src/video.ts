/**
 * The video record — what the API returns for a video — and the pipeline's
 * state machine:
 *
 *   uploading → queued → processing → ready
 *                  ↑          ↓  ↘
 *                  └──────────┘    failed → processing (redelivered job)
 *                  ↑                  │
 *                  └──────────────────┘  failed → queued (`POST …/retry`: a new run)
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
  failed: ['queued', 'processing', 'failed'],
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
  /** Set with `PATCH /api/videos/:id` (VIDEO_TEXT_LIMITS); absent until set. */
  title: z.string().optional(),
  /** Set with `PATCH /api/videos/:id` (VIDEO_TEXT_LIMITS); absent until set. */
  description: z.string().optional(),
  /** Bytes of the original upload. */
  sizeBytes: z.number().int().min(0).optional(),
  /**
   * While `processing`: the first part is published and plays (its playlists
   * grow as more is encoded). Always true once `ready`.
   */
  playable: z.boolean().optional(),
  /** Once ready: CPU-seconds the encoders used, all tasks together. */
  cpuSeconds: z.number().min(0).optional(),
  /** Once ready: worker seconds spent on the video (wall time of all tasks added up). */
  encodeSeconds: z.number().min(0).optional(),
  /** Once ready: `cpuSeconds` at the deployment's spot price per vCPU-hour, US dollars. */
  estimatedCostUsd: z.number().min(0).optional(),
  /** ISO 8601. */
  createdAt: z.string(),
  /** ISO 8601. */
  updatedAt: z.string(),
});
export type VideoRecord = z.infer<typeof videoRecordSchema>;

/**
 * The record as stored: the API's record plus what only the pipeline reads.
 * The API answers with `videoRecordSchema`, which drops these fields.
 */
export const storedVideoRecordSchema = videoRecordSchema.extend({
  /** The current transcode run (1, then +1 per retry); messages of other runs are ignored. */
  run: z.number().int().min(1).optional(),
  /** ISO 8601: when the current run started processing. */
  processingStartedAt: z.string().optional(),
});
export type StoredVideoRecord = z.infer<typeof storedVideoRecordSchema>;

/** Longest title and description `PATCH /api/videos/:id` accepts, in characters (UTF-16 code units). */
export const VIDEO_TEXT_LIMITS = { title: 200, description: 5000 } as const;

/** The editable text of a video (title, description). */
export type VideoDetails = Pick<VideoRecord, 'title' | 'description'>;
export const VIDEO_DETAIL_FIELDS = ['title', 'description'] as const satisfies readonly (keyof VideoDetails)[];

/** Whether the video can be watched: ready, or still encoding with its start published. */
export function isPlayable(record: Pick<VideoRecord, 'status' | 'playable'>): boolean {
  return record.status === 'ready' || (record.status === 'processing' && record.playable === true);
}

/** The record as the API shows it: the pipeline's own fields dropped. */
export function publicRecord(record: StoredVideoRecord): VideoRecord {
  return videoRecordSchema.parse(record);
}
