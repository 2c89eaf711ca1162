/** The work behind `vod upload`, `status`, `url`, `edit`, `rm`, `retry` and `redrive`. */
import { openAsBlob } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { ApiError, isAbortError, VodApi, type VideoRecord, type VideoStatus } from '@vod/client';
import { sleep, uploadFile, type UploadProgress } from '@vod/client';
import type { CliConfig } from './config.js';
import { escapeControl, formatBytes, formatCost, formatDuration, formatEta, formatRate, formatRenditions, formatStatus, formatVideoDetail, formatVideoTable, guessContentType } from './format.js';
import { UploadStateStore, uploadKey } from './state.js';

/** An error whose message is shown as is; exit code 1 unless given. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code = 'cli_error',
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface Io {
  /** Results (URL, JSON, tables). */
  out: (text: string) => void;
  /** Messages and progress. */
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface Context {
  config: CliConfig;
  json: boolean;
  io: Io;
  statePath: string;
  fetch?: typeof fetch;
  /** Status poll interval while waiting for the transcode, ms. */
  pollMs?: number;
  /** Aborted on Ctrl-C. */
  signal?: AbortSignal;
}

export interface UploadCommandOptions {
  concurrency: number;
  wait: boolean;
  resume: boolean;
  /** Give up waiting for the transcode after this many seconds (0 = never). */
  timeout: number;
}

function api(ctx: Context): VodApi {
  return new VodApi({ baseUrl: ctx.config.baseUrl, token: ctx.config.token, fetch: ctx.fetch });
}

function say(ctx: Context, line: string): void {
  if (!ctx.json) ctx.io.err.write(`${line}\n`);
}

function requireToken(ctx: Context): string {
  if (ctx.config.token) return ctx.config.token;
  throw new CliError('No API token. Pass --token, set VOD_API_TOKEN, or run from the directory holding .data/api-token (the local stack writes it there).', 'no_token');
}

/** A byte-progress bar on a TTY; a few plain lines otherwise; nothing with --json. */
function uploadBar(ctx: Context, label: string) {
  const tty = !ctx.json && Boolean(ctx.io.err.isTTY);
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          stream: ctx.io.err,
          format: `${label} {bar} {percentage}% | {done} / {size} | {speed} | ETA {etaText}`,
          barCompleteChar: '█',
          barIncompleteChar: '░',
          hideCursor: true,
          fps: 8,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  let t0 = 0;
  let base = 0;
  let lastPct = -1;
  return {
    update(p: UploadProgress) {
      const now = performance.now();
      if (!started) {
        started = true;
        t0 = now;
        base = p.uploadedBytes;
        bar?.start(p.totalBytes, p.uploadedBytes, { done: formatBytes(p.uploadedBytes), size: formatBytes(p.totalBytes), speed: formatRate(0), etaText: '–' });
        return;
      }
      const secs = (now - t0) / 1000;
      const rate = secs > 0 ? (p.uploadedBytes - base) / secs : 0;
      const eta = rate > 0 ? (p.totalBytes - p.uploadedBytes) / rate : Number.NaN;
      bar?.update(p.uploadedBytes, { done: formatBytes(p.uploadedBytes), size: formatBytes(p.totalBytes), speed: formatRate(rate), etaText: formatEta(eta) });
      const pct = Math.floor((p.uploadedBytes / p.totalBytes) * 4) * 25;
      if (!bar && !ctx.json && pct > lastPct) {
        lastPct = pct;
        ctx.io.err.write(`  ${pct}% (${formatBytes(p.uploadedBytes)} of ${formatBytes(p.totalBytes)}, ${formatRate(rate)})\n`);
      }
    },
    stop() {
      bar?.stop();
    },
    /** Bytes sent in this run and seconds it took. */
    stats(total: number) {
      return { bytes: total - base, seconds: started ? (performance.now() - t0) / 1000 : 0 };
    },
  };
}

export async function uploadCommand(file: string, opts: UploadCommandOptions, ctx: Context): Promise<void> {
  const token = requireToken(ctx);
  const absPath = path.resolve(file);
  const info = await stat(absPath).catch(() => undefined);
  if (!info) throw new CliError(`File not found: ${file}`, 'file_not_found');
  if (!info.isFile()) throw new CliError(`Not a file: ${file}`, 'not_a_file');
  if (info.size === 0) throw new CliError(`File is empty: ${file}`, 'empty_file');
  const filename = path.basename(absPath);
  const contentType = guessContentType(filename);
  const blob = await openAsBlob(absPath, { type: contentType });

  const store = new UploadStateStore(ctx.statePath);
  const key = uploadKey(ctx.config.baseUrl, absPath, info.size, info.mtimeMs);
  const pending = opts.resume ? store.get(key) : undefined;

  say(ctx, `Uploading ${escapeControl(filename)} (${formatBytes(info.size)}) to ${ctx.config.baseUrl}`);
  const bar = uploadBar(ctx, 'Upload    ');
  let uploadId = pending?.uploadId;
  let partsStored = 0;
  let partCount = 0;
  let result: { uploadId: string; videoId: string };
  try {
    result = await uploadFile({
      baseUrl: ctx.config.baseUrl,
      token,
      file: blob,
      filename,
      contentType,
      concurrency: opts.concurrency,
      resumeUploadId: pending?.uploadId,
      signal: ctx.signal,
      fetch: ctx.fetch,
      onSession: (s) => {
        uploadId = s.uploadId;
        partCount = s.partCount;
        partsStored = s.storedParts;
        if (s.resumed) say(ctx, `Resuming upload ${s.uploadId}: ${s.storedParts} of ${s.partCount} parts already stored`);
        else if (pending) say(ctx, `Previous upload ${pending.uploadId} can no longer be resumed; starting over`);
        store.set(key, { uploadId: s.uploadId, videoId: s.videoId, startedAt: pending?.startedAt ?? new Date().toISOString() });
      },
      onProgress: (p) => {
        partsStored = p.partsDone;
        bar.update(p);
      },
      onRetry: ({ what, delayMs, error }) => {
        if (!ctx.json && !ctx.io.err.isTTY) say(ctx, `  retrying ${what} in ${delayMs} ms (${(error as Error).message})`);
      },
    });
  } catch (err) {
    bar.stop();
    if (isAbortError(err)) {
      throw new CliError(
        uploadId
          ? `Upload paused with at least ${partsStored} of ${partCount} parts stored. Run the same command again to resume.`
          : 'Upload interrupted before it started.',
        'interrupted',
        130,
      );
    }
    throw err;
  }
  bar.stop();
  store.delete(key);
  const { bytes, seconds } = bar.stats(info.size);
  say(ctx, `Uploaded in ${seconds.toFixed(1)} s (${formatRate(seconds > 0 ? bytes / seconds : 0)}) — video ${result.videoId}`);

  if (!opts.wait) {
    if (ctx.json) ctx.io.out(JSON.stringify({ videoId: result.videoId, uploadId: result.uploadId, status: 'queued' }));
    else ctx.io.out(result.videoId);
    return;
  }

  const t0 = performance.now();
  let playableSeconds: number | undefined;
  const video = await waitForTranscode(result.videoId, opts.timeout, ctx, async () => {
    // The start is encoded and plays now; the rest follows while it plays.
    playableSeconds = (performance.now() - t0) / 1000;
    if (ctx.json) return;
    const early = await api(ctx).getPlayback(result.videoId, ctx.signal);
    say(ctx, `Playable after ${playableSeconds.toFixed(1)} s (still encoding; the playlist grows as it goes):`);
    ctx.io.out(early.url);
  });
  const transcodeSeconds = (performance.now() - t0) / 1000;
  const playback = await api(ctx).getPlayback(result.videoId, ctx.signal);
  if (ctx.json) {
    ctx.io.out(
      JSON.stringify({
        videoId: result.videoId,
        uploadId: result.uploadId,
        status: video.status,
        durationSeconds: video.durationSeconds,
        renditions: video.renditions,
        playbackUrl: playback.url,
        expiresAt: playback.expiresAt,
        uploadSeconds: Number(seconds.toFixed(3)),
        playableSeconds: playableSeconds === undefined ? undefined : Number(playableSeconds.toFixed(3)),
        transcodeSeconds: Number(transcodeSeconds.toFixed(3)),
        cpuSeconds: video.cpuSeconds,
        estimatedCostUsd: video.estimatedCostUsd,
      }),
    );
  } else {
    say(ctx, `Ready in ${transcodeSeconds.toFixed(1)} s: ${formatDuration(video.durationSeconds)}, renditions ${formatRenditions(video)}${video.cpuSeconds !== undefined ? `, ${formatCost(video)}` : ''}`);
    say(ctx, `Playback URL (expires ${playback.expiresAt}):`);
    ctx.io.out(playback.url);
  }
}

/**
 * Polls the video until ready (resolves) or failed (throws). `onPlayable`
 * runs once, when the video first plays while still encoding.
 */
export async function waitForTranscode(
  videoId: string,
  timeoutSeconds: number,
  ctx: Context,
  onPlayable?: (v: VideoRecord) => Promise<void>,
): Promise<VideoRecord> {
  const client = api(ctx);
  const tty = !ctx.json && Boolean(ctx.io.err.isTTY);
  const bar = tty
    ? new cliProgress.SingleBar(
        { stream: ctx.io.err, format: 'Transcode  {bar} {percentage}% | {state}', barCompleteChar: '█', barIncompleteChar: '░', hideCursor: true, fps: 8 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(100, 0, { state: 'queued' });
  const deadline = timeoutSeconds > 0 ? Date.now() + timeoutSeconds * 1000 : Infinity;
  let last = '';
  let announced = false;
  try {
    for (;;) {
      let v: VideoRecord;
      try {
        v = await client.getVideo(videoId, ctx.signal);
      } catch (err) {
        // Keep waiting through brief outages; give up on anything else.
        if (!(err instanceof ApiError && (err.status === 0 || err.status >= 500))) throw err;
        v = undefined as unknown as VideoRecord;
      }
      if (v) {
        const state = formatStatus(v);
        bar?.update(v.status === 'ready' ? 100 : Math.round(v.progress ?? 0), { state: v.status });
        if (!bar && state !== last && v.status !== 'ready') say(ctx, `  ${state}`);
        last = state;
        if (v.status === 'processing' && v.playable && !announced) {
          announced = true;
          bar?.stop();
          await onPlayable?.(v);
          bar?.start(100, Math.round(v.progress ?? 0), { state: v.status });
        }
        if (v.status === 'ready') return v;
        if (v.status === 'failed') throw new CliError(`Transcoding failed: ${v.error ?? 'no reason given'}`, 'transcode_failed');
      }
      if (Date.now() > deadline) throw new CliError(`Gave up waiting after ${timeoutSeconds} s; the video is ${last || 'unknown'}. Check later with: vod status ${videoId}`, 'timeout');
      try {
        await sleep(ctx.pollMs ?? 1000, ctx.signal);
      } catch (err) {
        if (isAbortError(err)) throw new CliError(`Stopped waiting; the video keeps processing. Check with: vod status ${videoId}`, 'interrupted', 130);
        throw err;
      }
    }
  } catch (err) {
    if (isAbortError(err)) throw new CliError(`Stopped waiting; the video keeps processing. Check with: vod status ${videoId}`, 'interrupted', 130);
    throw err;
  } finally {
    bar?.stop();
  }
}

export interface StatusCommandOptions {
  /** Videos per page (default: the server's, 25). */
  limit?: number;
  /** Continue after this page (a `nextCursor` printed before). */
  cursor?: string;
  /** Only videos in this state. */
  status?: VideoStatus;
  /** Every page, not just one. */
  all?: boolean;
}

/**
 * One video, or the list: one page (newest first) with a hint for the next,
 * or every page with `all`. `--json` prints `{videos, nextCursor}`.
 */
export async function statusCommand(videoId: string | undefined, ctx: Context, opts: StatusCommandOptions = {}): Promise<void> {
  if (videoId) {
    const v = await api(ctx).getVideo(videoId, ctx.signal);
    ctx.io.out(ctx.json ? JSON.stringify(v) : formatVideoDetail(v));
    return;
  }
  const client = api(ctx);
  const query = { limit: opts.limit, status: opts.status };
  let videos: VideoRecord[];
  let nextCursor: string | null;
  if (opts.all) {
    videos = [];
    for await (const v of client.iterateVideos({ ...query, limit: opts.limit ?? 100 }, ctx.signal)) videos.push(v);
    nextCursor = null;
  } else {
    ({ videos, nextCursor } = await client.listVideosPage({ ...query, cursor: opts.cursor }, ctx.signal));
  }
  if (ctx.json) return ctx.io.out(JSON.stringify({ videos, nextCursor }));
  ctx.io.out(videos.length === 0 && (opts.status || opts.cursor) ? `No ${opts.status ?? ''} videos${opts.cursor ? ' on this page' : ''}.`.replace('  ', ' ') : formatVideoTable(videos));
  if (nextCursor) {
    const flags = [opts.status && `--status ${opts.status}`, opts.limit && `--limit ${opts.limit}`].filter(Boolean).join(' ');
    say(ctx, `More videos: vod status ${flags ? `${flags} ` : ''}--cursor ${nextCursor}   (or --all)`);
  }
}

export interface EditCommandOptions {
  title?: string;
  description?: string;
}

/** Sets the title and/or description (an empty string removes one). */
export async function editCommand(videoId: string, opts: EditCommandOptions, ctx: Context): Promise<void> {
  if (opts.title === undefined && opts.description === undefined) throw new CliError('Nothing to change: pass --title and/or --description.', 'nothing_to_change');
  const v = await api(ctx).updateVideo(videoId, { title: opts.title, description: opts.description }, ctx.signal);
  ctx.io.out(ctx.json ? JSON.stringify(v) : formatVideoDetail(v));
}

/** Deletes a video and everything published for it. */
export async function removeCommand(videoId: string, ctx: Context): Promise<void> {
  await api(ctx).deleteVideo(videoId, ctx.signal);
  ctx.io.out(ctx.json ? JSON.stringify({ videoId, deleted: true }) : `Deleted ${videoId}`);
}

export interface RetryCommandOptions {
  /** Follow the new transcode until ready (or failed), like `vod upload`. */
  wait: boolean;
  /** Seconds to wait at most (0 = forever). */
  timeout: number;
}

/** Transcodes a failed video again from its stored source. */
export async function retryCommand(videoId: string, opts: RetryCommandOptions, ctx: Context): Promise<void> {
  const queued = await api(ctx).retryVideo(videoId, ctx.signal);
  if (!opts.wait) {
    ctx.io.out(ctx.json ? JSON.stringify(queued) : `Retry queued: ${videoId} (run ${queued.run})`);
    return;
  }
  say(ctx, `Retry queued: ${videoId} (run ${queued.run})`);
  const v = await waitForTranscode(videoId, opts.timeout, ctx);
  ctx.io.out(ctx.json ? JSON.stringify(v) : `Ready: ${videoId} — ${formatDuration(v.durationSeconds)}, renditions ${formatRenditions(v)}`);
}

/** Moves dead-lettered transcode jobs back to the jobs queue. */
export async function redriveCommand(opts: { max?: number }, ctx: Context): Promise<void> {
  const { moved } = await api(ctx).redriveJobs(opts.max, ctx.signal);
  ctx.io.out(ctx.json ? JSON.stringify({ moved }) : moved === 0 ? 'The dead-letter queue is empty: nothing to move.' : `Moved ${moved} job${moved === 1 ? '' : 's'} back to the jobs queue.`);
}

export async function urlCommand(videoId: string, ctx: Context): Promise<void> {
  let playback;
  try {
    playback = await api(ctx).getPlayback(videoId, ctx.signal);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) {
      const v = await api(ctx).getVideo(videoId, ctx.signal).catch(() => undefined);
      if (v) throw new CliError(`Video ${videoId} is not ready (${formatStatus(v)})`, 'not_ready');
    }
    throw err;
  }
  ctx.io.out(ctx.json ? JSON.stringify({ videoId, ...playback }) : playback.url);
}

/** `vod download ID`: a signed URL of the MP4 download (the file is saved under the video's original name). */
export async function downloadCommand(videoId: string, ctx: Context): Promise<void> {
  let download;
  try {
    download = await api(ctx).getDownload(videoId, ctx.signal);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) {
      const v = await api(ctx).getVideo(videoId, ctx.signal).catch(() => undefined);
      if (v) throw new CliError(`Video ${videoId} is not ready (${formatStatus(v)})`, 'not_ready');
    }
    throw err;
  }
  ctx.io.out(ctx.json ? JSON.stringify({ videoId, ...download }) : download.url);
}

/** `vod thumbnail ID --time S [--width W]`: a signed URL of a JPEG of the video at that time, made on demand. */
export async function thumbnailCommand(videoId: string, opts: { time: string; width?: number }, ctx: Context): Promise<void> {
  let url;
  try {
    url = await api(ctx).getThumbnailUrl(videoId, { time: opts.time, width: opts.width }, ctx.signal);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) {
      const v = await api(ctx).getVideo(videoId, ctx.signal).catch(() => undefined);
      if (v) throw new CliError(`Video ${videoId} is not ready (${formatStatus(v)})`, 'not_ready');
    }
    throw err;
  }
  ctx.io.out(ctx.json ? JSON.stringify({ videoId, time: Number(opts.time), ...(opts.width ? { width: opts.width } : {}), url }) : url);
}

export interface CaptionsAddOptions {
  /** BCP 47 language tag. */
  lang: string;
  label?: string;
}

/** `vod captions add ID FILE --lang en [--label L]`: a WebVTT/SRT file becomes the video's subtitles in that language. */
export async function captionsAddCommand(videoId: string, file: string, opts: CaptionsAddOptions, ctx: Context): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new CliError(`Cannot read ${file}: ${(err as Error).message}`, 'file_unreadable');
  }
  const track = await api(ctx).addCaptions(videoId, new Blob([new Uint8Array(bytes)]), { language: opts.lang, label: opts.label, filename: path.basename(file) }, ctx.signal);
  ctx.io.out(ctx.json ? JSON.stringify(track) : `Captions ${track.language} ("${escapeControl(track.label)}", ${track.cues} cues) added to ${videoId}`);
}

/** `vod captions list ID`. */
export async function captionsListCommand(videoId: string, ctx: Context): Promise<void> {
  const captions = await api(ctx).listCaptions(videoId, ctx.signal);
  if (ctx.json) return ctx.io.out(JSON.stringify({ videoId, captions }));
  if (captions.length === 0) return ctx.io.out(`Video ${videoId} has no captions.`);
  for (const c of captions) ctx.io.out(`${c.language.padEnd(8)} ${escapeControl(c.label)}  (${c.cues} cues, ${c.format}, ${c.source}, added ${c.createdAt})`);
}

/** `vod captions rm ID LANG`. */
export async function captionsRemoveCommand(videoId: string, language: string, ctx: Context): Promise<void> {
  await api(ctx).deleteCaptions(videoId, language, ctx.signal);
  ctx.io.out(ctx.json ? JSON.stringify({ videoId, language, deleted: true }) : `Captions ${language} removed from ${videoId}`);
}
