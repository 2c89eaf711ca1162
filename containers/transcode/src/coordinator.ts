/**
 * The coordinator: the one place that turns a run's events into the video's
 * record and playlists. It handles the control queue, a FIFO queue whose
 * message group is the videoId, so one video's messages are handled one at a
 * time, in the order they were sent, by whichever worker holds the group:
 *
 *   planned     → record `processing`
 *   progress    → record progress
 *   chunk-done, audio-partial, audio-done
 *               → when the first chunk and the audio of its time range are in:
 *                 growing (EVENT) playlists, master, `playable: true`; each
 *                 further contiguous chunk, and more audio, extends them
 *               → when every chunk, the audio and the poster are in: the VOD
 *                 playlists, the master last; then the finishing tasks the
 *                 plan has (download, storyboard, captions; the record stays
 *                 `processing`, playable, until they report); else finalize
 *   download-done, storyboard-done, captions-done
 *               → once all are in, finalize: record `ready` with renditions,
 *                 duration, poster, download, storyboard and cost; the
 *                 final master is published once more, rendered with the
 *                 stored text tracks (CaptionStore), so it keeps the
 *                 SUBTITLES group the captions task gave it
 *   poster-done → the record shows the poster (or why there is none) at once
 *   failed      → record `failed` with the reason
 *
 * Exactly one finalize: `ready` is terminal and every later message of the
 * video is ignored; a coordinator that dies mid-way leaves the message in
 * the queue, and the next one redoes the same writes (they are idempotent).
 * The run's state is read and written only here, so concurrent workers
 * cannot lose each other's updates. Messages of another run, or of a video
 * that was deleted, are ignored; if the video is deleted while we write, we
 * remove what we wrote (write, then check the tombstone).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { keys, MASTER_PLAYLIST, type ControlMessage, type DownloadTask, type Poster, type RunPlan, type StoredVideoRecord, type WorkMessage } from '@vod/contract';
import { CaptionStore, withSubtitles, type StatusStore } from '@vod/service-kit';
import type { Logger } from 'pino';
import { downloadFilename } from './download.js';
import { putPlaylist } from './publish.js';
import type { RunState, RunStore } from './run-store.js';
import { runView, stitch } from './stitch.js';

export interface CoordinatorDeps {
  s3: S3Client;
  logger: Logger;
  mediaBucket: string;
  store: RunStore;
  records: StatusStore;
  now?: () => Date;
  /** US dollars per vCPU-hour of the transcode fleet (for `estimatedCostUsd`). */
  pricePerVcpuHour: number;
  /** Sends a task to the jobs queue (the download task). Without it a planned download is skipped. */
  sendWork?: (message: WorkMessage) => Promise<void>;
}

export type CoordinatorOutcome = 'applied' | 'ignored' | 'ready' | 'failed';

export async function coordinate(deps: CoordinatorDeps, msg: ControlMessage): Promise<CoordinatorOutcome> {
  const { videoId, run } = msg;
  const log = deps.logger.child({ videoId, run, event: msg.type });
  const now = deps.now ?? (() => new Date());
  const record = await deps.store.record(videoId);
  if (!record || (record.run ?? 1) !== run || (await deps.store.deleted(videoId))) {
    log.debug('message of another run, or of a deleted video: ignored');
    return 'ignored';
  }
  if (record.status === 'ready' || record.status === 'failed') {
    log.debug(`video is ${record.status}: ignored`);
    return 'ignored';
  }

  const state = await deps.store.state(videoId, run);
  switch (msg.type) {
    case 'planned':
      state.plan ??= msg.plan;
      break;
    case 'progress':
      state.progress[msg.task] = Math.max(state.progress[msg.task] ?? 0, msg.fraction);
      break;
    case 'chunk-done':
      state.chunks[msg.index] = { renditions: msg.renditions, cost: msg.cost, endsEarly: msg.endsEarly, attempt: msg.attempt };
      delete state.progress[`chunk:${msg.index}`];
      break;
    case 'audio-partial':
      // A retried audio task starts over: keep the longest audio heard of (segments are the same numbers on the same grid).
      if (!state.audio && msg.segments.length > (state.audioPartial?.segments.length ?? 0)) {
        state.audioPartial = { segments: msg.segments, attempt: msg.attempt };
      }
      break;
    case 'audio-done':
      state.audio = { segments: msg.segments, cost: msg.cost, attempt: msg.attempt };
      delete state.audioPartial;
      delete state.progress.audio;
      break;
    case 'poster-done':
      state.poster = { poster: msg.poster, cost: msg.cost, attempt: msg.attempt };
      break;
    case 'download-done':
      state.download = { download: msg.download, cost: msg.cost, attempt: msg.attempt };
      break;
    case 'storyboard-done':
      state.storyboard = { storyboard: msg.storyboard, cost: msg.cost, attempt: msg.attempt };
      break;
    case 'captions-done':
      state.captions = { tracks: msg.tracks, cost: msg.cost, attempt: msg.attempt };
      break;
    case 'failed':
      await deps.records.transition(videoId, 'failed', { error: msg.reason });
      log.info({ reason: msg.reason }, 'video failed');
      await undoIfDeleted(deps, videoId, log);
      return 'failed';
  }
  if (!state.plan) {
    await deps.store.saveState(videoId, run, state);
    return 'applied';
  }

  const view = runView(state.plan, state);
  const startedAt = record.processingStartedAt ?? now().toISOString();
  const finishing =
    (state.plan.download && !state.download) || (state.plan.storyboard && !state.storyboard) || (!!state.plan.textTracks?.length && !state.captions);
  if (view.complete && finishing && deps.sendWork) {
    // Everything is encoded: the final playlists go out now (the video is complete to watch), then the
    // finishing tasks work from them; `ready` waits for them so the record's cost and extras are whole.
    if (!state.finishingSent) {
      const out = stitch(state.plan, state, view.usableChunks, true);
      await publish(deps, videoId, out.files);
      if (state.plan.download) await deps.sendWork(downloadTask(state.plan, state, videoId, run, view.usableChunks, record.filename));
      const sb = state.plan.storyboard && state.plan.renditions.find((r) => r.name === state.plan!.storyboard!.rendition);
      if (sb) {
        await deps.sendWork({
          type: 'storyboard',
          videoId,
          run,
          rendition: { name: sb.name, width: sb.width, height: sb.height },
          durationSeconds: out.durationSeconds,
          keyframeSeconds: state.plan.settings.keyframeSeconds,
        });
      }
      // The text tracks follow the grid of the playlists just published (the captions task reads it back).
      if (state.plan.textTracks?.length) {
        await deps.sendWork({ type: 'captions', videoId, run, sourceKey: state.plan.sourceKey ?? keys.source(videoId), tracks: state.plan.textTracks });
      }
      state.finishingSent = true;
      state.publishedChunks = view.usableChunks;
      log.info(
        { download: state.plan.download?.rendition, storyboard: state.plan.storyboard?.rendition, textTracks: state.plan.textTracks?.length },
        'final playlists published; finishing tasks sent',
      );
    }
    await deps.store.saveState(videoId, run, state);
    await deps.records.transition(videoId, 'processing', {
      progress: 99,
      playable: true,
      durationSeconds: state.plan.durationSeconds,
      processingStartedAt: startedAt,
      ...(state.poster ? { poster: state.poster.poster } : {}),
    });
    await undoIfDeleted(deps, videoId, log);
    return 'applied';
  }
  if (view.complete) {
    const out = stitch(state.plan, state, view.usableChunks, true);
    await publish(deps, videoId, await withStoredSubtitles(deps, videoId, out.files));
    await deps.store.saveState(videoId, run, { ...state, publishedChunks: view.usableChunks });
    const cost = runCost(state, deps.pricePerVcpuHour);
    await deps.records.transition(videoId, 'ready', {
      progress: 100,
      playable: true,
      durationSeconds: out.durationSeconds,
      renditions: out.renditions,
      poster: posterOf(state.plan, state),
      download: state.download?.download,
      storyboard: state.storyboard?.storyboard,
      ...cost,
      processingStartedAt: startedAt,
    } satisfies Partial<StoredVideoRecord>);
    log.info({ ...cost, chunks: view.usableChunks, elapsedMs: now().getTime() - Date.parse(startedAt) }, 'video ready');
    await undoIfDeleted(deps, videoId, log);
    return 'ready';
  }

  const patch: Partial<StoredVideoRecord> = { progress: Math.max(view.progress, record.status === 'processing' ? record.progress : 0), processingStartedAt: startedAt };
  // The library can show the poster while the rest still encodes.
  if (state.poster) patch.poster = state.poster.poster;
  const publishable = view.playable ? view.contiguousChunks : 0;
  const audioSegments = view.playable ? view.audioSegments : 0;
  if (publishable > state.publishedChunks || audioSegments > (state.publishedAudioSegments ?? 0) || (view.playable && !record.playable)) {
    const out = stitch(state.plan, state, publishable, false);
    await publish(deps, videoId, out.files);
    state.publishedChunks = publishable;
    state.publishedAudioSegments = audioSegments;
    patch.playable = true;
    patch.durationSeconds = state.plan.durationSeconds;
    log.info({ chunks: publishable, of: view.usableChunks }, record.playable ? 'playlists extended' : 'video playable');
  }
  await deps.store.saveState(videoId, run, state);
  await deps.records.transition(videoId, 'processing', patch);
  await undoIfDeleted(deps, videoId, log);
  return 'applied';
}

/** Media playlists first, the master last: a player never finds a master naming a playlist that is not there yet. */
async function publish(deps: CoordinatorDeps, videoId: string, files: [string, string][]): Promise<void> {
  const [master, ...media] = [files[files.length - 1]!, ...files.slice(0, -1)];
  await Promise.all(media.map(([rel, text]) => putPlaylist(deps.s3, deps.mediaBucket, keys.videoPrefix(videoId) + rel, text)));
  await putPlaylist(deps.s3, deps.mediaBucket, keys.videoPrefix(videoId) + master[0], master[1]);
}

/**
 * The playlists with the master rendered through the stored text tracks
 * (`withSubtitles`): republishing the final playlists at `ready` must not drop
 * the SUBTITLES group the captions task published. Only the transcode writes
 * the master before `ready` (sidecar uploads wait for it), so the listing is whole.
 */
async function withStoredSubtitles(deps: CoordinatorDeps, videoId: string, files: [string, string][]): Promise<[string, string][]> {
  const tracks = await new CaptionStore(deps.s3, deps.mediaBucket).list(videoId);
  if (!tracks.length) return files;
  return files.map(([rel, text]) => (rel === MASTER_PLAYLIST ? [rel, withSubtitles(text, tracks)] : [rel, text]));
}

/** The video was deleted while we wrote: remove the record and playlists we may have written after the delete. */
async function undoIfDeleted(deps: CoordinatorDeps, videoId: string, log: Logger): Promise<void> {
  if (!(await deps.store.deleted(videoId))) return;
  await deps.records.delete(videoId);
  await deps.store.deletePrefix(keys.videoPrefix(videoId));
  log.info('video was deleted meanwhile; removed what the coordinator wrote');
}

/** The download task of a complete run: the planned rendition's segments (numbered from 0) and the audio's. */
export function downloadTask(plan: RunPlan, state: RunState, videoId: string, run: number, chunkCount: number, filename: string | undefined): DownloadTask {
  const name = plan.download!.rendition;
  const rendition = plan.renditions.find((r) => r.name === name);
  if (!rendition) throw new RangeError(`The download rendition ${name} is not in the plan`);
  const video = Array.from({ length: chunkCount }, (_, i) => state.chunks[i]?.renditions[name]?.segments ?? []).flat();
  const audio = state.audio?.segments ?? [];
  return {
    type: 'download',
    videoId,
    run,
    rendition: name,
    width: rendition.width,
    height: rendition.height,
    videoSegments: video.length,
    audioSegments: audio.length,
    filename: downloadFilename(filename, videoId),
    bytes: [...video, ...audio].reduce((sum, s) => sum + s.bytes, 0),
  };
}

/** The record's poster once the run is complete: the poster task's outcome, or "no picture" for a source without one. */
export function posterOf(plan: RunState['plan'], state: RunState): Poster | undefined {
  if (state.poster) return state.poster.poster;
  if (plan && plan.renditions.length === 0) return { available: false, reason: 'no_picture', message: 'The source has no picture (audio only)' };
  return undefined;
}

/** CPU-seconds and worker-seconds of a run, and their price. */
export function runCost(state: RunState, pricePerVcpuHour: number): { cpuSeconds: number; encodeSeconds: number; estimatedCostUsd: number } {
  const costs = [
    ...Object.values(state.chunks).map((c) => c.cost),
    ...(state.audio ? [state.audio.cost] : []),
    ...(state.poster ? [state.poster.cost] : []),
    ...(state.download ? [state.download.cost] : []),
    ...(state.storyboard ? [state.storyboard.cost] : []),
    ...(state.captions ? [state.captions.cost] : []),
  ];
  const cpuSeconds = Math.round(costs.reduce((s, c) => s + c.cpuSeconds, 0) * 1000) / 1000;
  const encodeSeconds = Math.round(costs.reduce((s, c) => s + c.wallSeconds, 0) * 1000) / 1000;
  return { cpuSeconds, encodeSeconds, estimatedCostUsd: Math.round((cpuSeconds / 3600) * pricePerVcpuHour * 1e6) / 1e6 };
}
