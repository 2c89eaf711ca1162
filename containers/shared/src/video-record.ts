/**
 * The video status record: the shape the API returns for a video. Types only
 * (no imports), so the browser client can share them.
 */
export type VideoStatus = 'uploading' | 'queued' | 'processing' | 'ready' | 'failed';

export interface RenditionSummary {
  name: string;
  /** Pixels; 0 for the audio-only rendition. */
  width: number;
  height: number;
  /** Peak bits per second, as in the master playlist's BANDWIDTH. */
  bandwidth: number;
}

export interface VideoRecord {
  videoId: string;
  status: VideoStatus;
  /** 0–100. */
  progress: number;
  /** Human-readable reason, when `failed`. */
  error?: string;
  durationSeconds?: number;
  renditions?: RenditionSummary[];
  /** The client's file name, kept as metadata only. */
  filename?: string;
  /** Bytes of the original upload. */
  sizeBytes?: number;
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
}
