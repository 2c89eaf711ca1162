/**
 * What can go wrong in a transcode, as the worker decides on it:
 *
 * - `InvalidMediaError`: the upload itself is bad (not audio/video, no
 *   streams, a still image, zero duration). Permanent: the video ends
 *   `failed` with this message, which is written for the uploader.
 * - `ProbeError`: ffprobe could not read the input for a reason that is not
 *   the file's fault (network error, expired presigned URL, ffprobe missing).
 *   Retried.
 * - `TranscodeError`: ffmpeg failed or its output is unusable (retried), or
 *   it was stopped because the job was aborted (`aborted: true`: the job is
 *   released, not failed).
 */

/** A failure reading the source, with ffprobe's own words when there were some. */
abstract class SourceError extends Error {
  /** Raw reason reported by ffprobe (path/URL stripped), when there was one. */
  readonly detail?: string;

  constructor(message: string, options?: { detail?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.detail = options?.detail;
  }
}

/** The uploaded file is not something we can turn into a video/audio stream (permanent). */
export class InvalidMediaError extends SourceError {}

/** ffprobe could not be run or could not reach the input (retryable). */
export class ProbeError extends SourceError {}

/** The ffmpeg encode failed, or was stopped by an abort. */
export class TranscodeError extends Error {
  /** True when the caller's AbortSignal stopped ffmpeg (not a failure of the job). */
  readonly aborted: boolean;
  /** Last lines ffmpeg wrote to stderr (progress lines dropped, URL query strings redacted). */
  readonly stderrTail: string[];
  /** ffmpeg's exit code, when it exited on its own. */
  readonly exitCode?: number;

  constructor(message: string, options: { aborted?: boolean; stderrTail?: string[]; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TranscodeError';
    this.aborted = options.aborted ?? false;
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
