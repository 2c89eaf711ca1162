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

/** Image formats of the poster, each at every poster width (JPEG for everything, WebP smaller where supported). */
export const POSTER_FORMATS = ['jpeg', 'webp'] as const;
export type PosterFormat = (typeof POSTER_FORMATS)[number];
/** Poster widths, pixels; a source narrower than one gets it at its own width (never upscaled). */
export const POSTER_WIDTHS = [320, 640, 1280] as const;

export const posterImageSchema = z.object({
  format: z.enum(POSTER_FORMATS),
  /** Pixels, upright and square-pixel (rotation and pixel aspect ratio applied). */
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** Bytes. */
  bytes: z.number().int().positive(),
  /** Path under the video's prefix, e.g. `poster/poster-640.jpg`. */
  path: z.string(),
  /** In API answers: a signed URL of the image (same policy as the playlists). */
  url: z.string().url().optional(),
});
export type PosterImage = z.infer<typeof posterImageSchema>;

/** Why a video has no poster: its source has no picture (audio only), or making one failed (the video is still fine). */
export const NO_POSTER_REASONS = ['no_picture', 'failed'] as const;

/**
 * The video's poster: a representative frame (not black, not a fade; see
 * transcode's poster.ts) in every format and width — or why there is none,
 * which is not an error of the video.
 */
export const posterSchema = z.discriminatedUnion('available', [
  z.object({
    available: z.literal(true),
    /** Source time of the frame, seconds. */
    atSeconds: z.number().min(0),
    images: z.array(posterImageSchema).min(1),
  }),
  z.object({
    available: z.literal(false),
    reason: z.enum(NO_POSTER_REASONS),
    /** For people: "The source has no picture". */
    message: z.string(),
  }),
]);
export type Poster = z.infer<typeof posterSchema>;

/**
 * The progressive MP4 download (H.264/AAC, `+faststart`) of one rendition,
 * remuxed from its published segments and the audio — or why there is none.
 * Its URL comes from `GET /api/videos/:id/download`.
 */
export const downloadSchema = z.discriminatedUnion('available', [
  z.object({
    available: z.literal(true),
    /** The rendition it was made of, e.g. "720p". */
    rendition: z.string(),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    /** Bytes. */
    bytes: z.number().int().positive(),
    /** The name a browser saves it under (Content-Disposition), e.g. "holiday.mp4". */
    filename: z.string(),
  }),
  z.object({
    available: z.literal(false),
    /** For people: why there is no download. */
    message: z.string(),
  }),
]);
export type Download = z.infer<typeof downloadSchema>;

const signedFileSchema = z.object({
  /** Path under the video's prefix, e.g. `storyboard/sheet-000.jpg`. */
  path: z.string(),
  /** In API answers: a signed URL of the file. */
  url: z.string().url().optional(),
});

/**
 * Seek previews: tiles of `tileWidth`×`tileHeight` pixels, one every
 * `intervalSeconds`, laid out row by row in sheets of `columns`×`rows`.
 * Tile i shows the picture at i·interval s and sits in sheet
 * ⌊i ÷ (columns·rows)⌋ at x = (i mod columns)·tileWidth, y = ⌊(i mod
 * columns·rows) ÷ columns⌋·tileHeight. Also as a WebVTT thumbnails track
 * (`#xywh=` cues) and as JSON listing every tile.
 */
export const storyboardSchema = z.discriminatedUnion('available', [
  z.object({
    available: z.literal(true),
    intervalSeconds: z.number().positive(),
    count: z.number().int().positive(),
    tileWidth: z.number().int().positive(),
    tileHeight: z.number().int().positive(),
    columns: z.number().int().positive(),
    rows: z.number().int().positive(),
    sheets: z.array(signedFileSchema).min(1),
    vtt: signedFileSchema,
    json: signedFileSchema,
  }),
  z.object({ available: z.literal(false), message: z.string() }),
]);
export type Storyboard = z.infer<typeof storyboardSchema>;

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
  /** The poster, once made (it can arrive while `processing`); for an audio-only source, `available: false, reason: "no_picture"`. */
  poster: posterSchema.optional(),
  /** Once ready, for a video with a picture: seek previews (or why there are none). */
  storyboard: storyboardSchema.optional(),
  /** Once ready, when the deployment makes downloads: the MP4 download (or why there is none). */
  download: downloadSchema.optional(),
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
