/**
 * Typed errors raised by the transcode pipeline.
 *
 * Each error carries a stable machine-readable `code` so the worker can decide
 * what to do without parsing messages:
 *
 * - `invalid_media`: the upload itself is bad (not audio/video, no streams, a
 *   still image, zero duration). Permanent: retrying will not help; the
 *   message is written to be shown to the uploader.
 * - `probe_failed`: ffprobe could not read the input for an infrastructure
 *   reason (network error, HTTP 403 from an expired presigned URL, missing
 *   file, ffprobe not installed). Retryable.
 * - `transcode_failed`: ffmpeg exited non-zero or produced unusable output.
 * - `transcode_aborted`: the caller's AbortSignal fired and ffmpeg was killed.
 */

export type TranscodeErrorCode = 'transcode_failed' | 'transcode_aborted';

/** The uploaded file is not something we can turn into a video/audio stream. */
export class InvalidMediaError extends Error {
  readonly code = 'invalid_media' as const;
  /** Raw reason reported by ffprobe (path/URL stripped), when there was one. */
  readonly detail?: string;

  constructor(message: string, options?: { detail?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InvalidMediaError';
    this.detail = options?.detail;
  }
}

/** ffprobe could not be run or could not reach the input (retryable). */
export class ProbeError extends Error {
  readonly code = 'probe_failed' as const;
  readonly detail?: string;

  constructor(message: string, options?: { detail?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProbeError';
    this.detail = options?.detail;
  }
}

/** The ffmpeg encode failed or was aborted. */
export class TranscodeError extends Error {
  readonly code: TranscodeErrorCode;
  /** Last lines ffmpeg wrote to stderr (progress lines dropped, URL query strings redacted). */
  readonly stderrTail: string[];
  /** ffmpeg's exit code, when it exited on its own. */
  readonly exitCode?: number;

  constructor(
    message: string,
    options: { code?: TranscodeErrorCode; stderrTail?: string[]; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TranscodeError';
    this.code = options.code ?? 'transcode_failed';
    this.stderrTail = options.stderrTail ?? [];
    this.exitCode = options.exitCode;
  }
}

/**
 * Replace the query string of every http(s) URL in `text` with `?<redacted>`.
 * Presigned S3 URLs carry credentials (X-Amz-Signature, X-Amz-Credential,
 * X-Amz-Security-Token) in the query, and ffmpeg/ffprobe echo the input URL
 * in their messages; those messages end up in logs and job records.
 */
export function redactUrls(text: string): string {
  return text.replace(/(https?:\/\/[^\s'"?]+)\?[^\s'"]*/gi, '$1?<redacted>');
}
