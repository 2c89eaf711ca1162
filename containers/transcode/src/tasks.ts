/**
 * The work a transcode worker does for one message of the jobs queue:
 *
 * - plan (`transcode`): probe the source through a presigned URL, check its
 *   limits, plan the ladder and the chunks, tell the coordinator the plan,
 *   then send the chunk tasks and the audio task (the first chunk first, so
 *   something is playable early).
 * - chunk: encode one time range of the source into every rendition,
 *   publish its segments, report them.
 * - audio: encode the whole audio track once, publish, report.
 * - poster, download, storyboard, captions: the extras (see each function).
 *
 * A task first checks that its video still wants it (not deleted, not
 * finished, same run), and checks again after publishing: if the video was
 * deleted meanwhile, it removes what it just wrote. Scratch files are removed
 * in every outcome.
 */
import { mkdir, mkdtemp, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  AUDIO,
  AUDIO_RENDITION,
  type AudioTask,
  CAPTION_LIMITS,
  type CaptionsTask,
  type ChunkTask,
  type DownloadTask,
  type EncodeSettings,
  type LadderRung,
  type Poster,
  type PosterTask,
  type RunPlan,
  type SegmentInfo,
  type StoryboardTask,
  segmentFile,
  type WorkMessage,
} from '@vod/contract';
import { CaptionStore, type ServiceAws } from '@vod/service-kit';
import type { Logger } from 'pino';
import { DEFAULT_CHUNK_PLAN, planChunks, type ChunkPlanOptions } from './chunk-plan.js';
import type { SendControl } from './control.js';
import { encodeAudio, encodeChunk, encodeChunkInParallel } from './encode.js';
import { TranscodeError } from './errors.js';
import { planLadder } from './ladder.js';
import { DEFAULT_SOURCE_LIMITS, checkSourceLimits, type SourceLimits } from './limits.js';
import { chooseTextTracks, probeSource } from './probe.js';
import { chooseDownloadRendition, DEFAULT_DOWNLOAD_SHORT_SIDE, makeDownload } from './download.js';
import { makePoster } from './poster.js';
import { chooseStoryboardRendition, makeStoryboard } from './storyboard.js';
import { publishFiles, publishSegments } from './publish.js';
import type { RunStore } from './run-store.js';
import { extractTextTracks, publishTextTracks } from './text-tracks.js';

export interface TaskDeps extends ServiceAws {
  logger: Logger;
  jobsQueueUrl: string;
  sendControl: SendControl;
  store: RunStore;
  /** Local scratch space; each task gets its own directory, removed in every outcome. */
  workDir: string;
  /** x264 preset (speed vs. size), e.g. "veryfast". */
  preset: string;
  /** x264 preset of the first chunk if faster than `preset` (default DEFAULT_FIRST_CHUNK_PRESET); null: `preset`. */
  firstChunkPreset?: string | null;
  /** Rungs to encode. */
  ladder: readonly LadderRung[];
  chunkPlan?: ChunkPlanOptions;
  limits?: SourceLimits;
  /** Seconds a presigned source URL stays valid; must outlast the longest task. */
  sourceUrlTtlSeconds?: number;
  /** Niceness of chunks after the first: they yield the CPU to the first chunk and the audio, which make the video playable. */
  bulkNiceness?: number;
  /** ffmpeg processes that share the first chunk's renditions (default DEFAULT_FIRST_CHUNK_PROCESSES). */
  firstChunkProcesses?: number;
  /** Milliseconds between progress reports of a running task. */
  progressIntervalMs?: number;
  /**
   * Short side of the rendition offered as an MP4 download (the largest rendition at most this
   * size; default 720); null: no downloads.
   */
  downloadShortSide?: number | null;
}

/** Keyframe interval of every rendition, seconds (Apple HLS Authoring Spec: 2 s). */
const KEYFRAME_SECONDS = 2;

/**
 * ffmpeg processes that share the first chunk's renditions: one process keeps
 * about one core busy on a short chunk (it decodes, splits and scales every
 * frame on one thread), and the transcode task has 2 vCPUs.
 */
export const DEFAULT_FIRST_CHUNK_PROCESSES = 2;

/** x264 preset when none is configured (TRANSCODE_PRESET): the speed/size balance the bitrate ladder was tuned with. */
export const DEFAULT_X264_PRESET = 'veryfast';

/**
 * x264 preset of the first chunk when none is configured (FIRST_CHUNK_PRESET). Measured on a
 * 6 s 1080p30 chunk and the default 5-rung ladder: `superfast` costs 7.1 CPU-s against
 * `veryfast`'s 10.1, and its 1080p SSIM is 0.9944 against 0.9954 — 30 % sooner playable for
 * the first 6 s of the video only.
 */
export const DEFAULT_FIRST_CHUNK_PRESET = 'superfast';

/**
 * The encoding settings every task of a run shares, from the chunk plan's segment length and the x264 presets.
 * @param firstChunkPreset the first chunk's preset (see `EncodeSettings.firstChunkPreset`); null or absent: `preset`.
 */
export function encodeSettings(
  chunkPlan: Pick<ChunkPlanOptions, 'segmentSeconds'>,
  preset: string,
  firstChunkPreset?: string | null,
): EncodeSettings {
  return {
    segmentSeconds: chunkPlan.segmentSeconds,
    keyframeSeconds: KEYFRAME_SECONDS,
    preset,
    ...(firstChunkPreset ? { firstChunkPreset } : {}),
  };
}

async function sourceUrl(deps: TaskDeps, key: string): Promise<string> {
  return getSignedUrl(deps.s3, new GetObjectCommand({ Bucket: deps.uploadsBucket, Key: key }), {
    expiresIn: deps.sourceUrlTtlSeconds ?? 6 * 3600,
  });
}

/** Plans run `job.run` of a video and sends its tasks. Repeatable: a run whose tasks were all sent is left alone. */
export async function runPlanTask(deps: TaskDeps, job: { videoId: string; sourceKey: string; run: number }): Promise<void> {
  const { videoId, run } = job;
  const log = deps.logger.child({ videoId, run, task: 'plan' });
  if (!(await deps.store.wanted(videoId, run))) return void log.info('video no longer wants this run; plan skipped');
  if (await deps.store.planSent(videoId, run)) return void log.info('run already planned; redelivered plan is a no-op');

  const source = await probeSource(await sourceUrl(deps, job.sourceKey));
  log.info({ source }, 'probed source');
  checkSourceLimits(source, deps.limits ?? DEFAULT_SOURCE_LIMITS);
  const chunkPlan = deps.chunkPlan ?? DEFAULT_CHUNK_PLAN;
  const settings = encodeSettings(
    chunkPlan,
    deps.preset,
    deps.firstChunkPreset === undefined ? DEFAULT_FIRST_CHUNK_PRESET : deps.firstChunkPreset,
  );
  const renditions = source.video ? planLadder(source.video, deps.ladder) : [];
  const chunks = source.video ? planChunks(source.durationSeconds, chunkPlan) : [];
  const downloadShortSide = deps.downloadShortSide === undefined ? DEFAULT_DOWNLOAD_SHORT_SIDE : deps.downloadShortSide;
  const downloadRendition = downloadShortSide === null ? undefined : chooseDownloadRendition(renditions, downloadShortSide);
  const textTracks = chooseTextTracks(source.textTracks);
  const plan: RunPlan = {
    durationSeconds: source.durationSeconds,
    chunks,
    renditions,
    audio: source.audio ? { channels: AUDIO.channels, language: source.audio.language } : undefined,
    settings,
    poster: !!source.video,
    download: downloadRendition ? { rendition: downloadRendition.name } : undefined,
    storyboard: renditions.length ? { rendition: chooseStoryboardRendition(renditions)!.name } : undefined,
    sourceKey: job.sourceKey,
    textTracks: textTracks.length ? textTracks : undefined,
  };
  await deps.sendControl({ type: 'planned', videoId, run, plan });

  const base = { videoId, run, sourceKey: job.sourceKey, settings };
  const chunkTasks: WorkMessage[] = chunks.map((chunk) => ({
    ...base,
    type: 'chunk',
    chunk,
    chunkCount: chunks.length,
    picture: { index: source.video!.index, interlaced: source.video!.interlaced },
    renditions,
  }));
  const audioTask: WorkMessage[] = source.audio
    ? [
        {
          ...base,
          type: 'audio',
          index: source.audio.index,
          endSeconds: source.durationSeconds + chunkPlan.endMarginSeconds,
          reportAtSeconds: chunks.slice(0, -1).map((c) => c.endSeconds),
        },
      ]
    : [];
  const posterTask: WorkMessage[] = source.video
    ? [
        {
          type: 'poster',
          videoId,
          run,
          sourceKey: job.sourceKey,
          picture: { index: source.video.index, interlaced: source.video.interlaced },
          durationSeconds: source.durationSeconds,
          displayWidth: source.video.displayWidth,
          displayHeight: source.video.displayHeight,
        },
      ]
    : [];
  // The first chunk and the audio make the video playable: they go first. The poster (a few seconds of work,
  // for the library) goes last, so it never holds up a chunk of a video someone is waiting to watch.
  await sendWork(deps, [...chunkTasks.slice(0, 1), ...audioTask, ...chunkTasks.slice(1), ...posterTask]);
  await deps.store.markPlanSent(videoId, run);
  log.info({ chunks: chunks.length, audio: !!source.audio, renditions: renditions.map((r) => r.name) }, 'run planned, tasks sent');
}

/** Encodes, publishes and reports one chunk. */
export async function runChunkTask(deps: TaskDeps, task: ChunkTask, attempt: number, signal: AbortSignal): Promise<void> {
  const { videoId, run, chunk } = task;
  const log = deps.logger.child({ videoId, run, task: `chunk-${chunk.index}`, attempt });
  if (!(await deps.store.wanted(videoId, run))) return void log.info('video no longer wants this run; chunk skipped');
  const span = chunk.endSeconds - chunk.startSeconds;
  const dir = await scratchDir(deps, `${videoId}-chunk${chunk.index}-`, task.renditions.reduce((b, r) => b + r.maxrateKbps, 0) * 125 * span);
  const progress = progressReporter(deps, log, { videoId, run, task: `chunk:${chunk.index}` });
  try {
    const opts = {
      input: await sourceUrl(deps, task.sourceKey),
      outDir: dir,
      chunk,
      picture: task.picture,
      renditions: task.renditions,
      settings: task.settings,
      signal,
      niceness: chunk.index === 0 ? 0 : (deps.bulkNiceness ?? 10),
      onProgress: progress.report,
    };
    // The first chunk is what makes the video playable: it uses every core of the worker (see encodeChunkInParallel).
    const out = chunk.index === 0 ? await encodeChunkInParallel(opts, deps.firstChunkProcesses ?? DEFAULT_FIRST_CHUNK_PROCESSES) : await encodeChunk(opts);
    const published = await publishSegments(deps.s3, deps.mediaBucket, videoId, dir, task.renditions.map((r) => r.name));
    if (await removeIfDeleted(deps, videoId, published.keys, log)) return;
    await progress.flush();
    await deps.sendControl({ type: 'chunk-done', videoId, run, index: chunk.index, renditions: out.renditions, cost: out.cost, attempt, endsEarly: out.endsEarly || undefined });
    log.info({ ...out.cost, files: published.files, bytes: published.bytes, endsEarly: out.endsEarly }, 'chunk done');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Encodes, publishes and reports the audio of a video. Segments are published
 * as ffmpeg finishes them, and each time the audio passes one of the task's
 * `reportAtSeconds` (the chunk ends) the coordinator hears of the audio so
 * far (`audio-partial`): the video becomes playable once its first chunk is
 * done, not once the whole track is. The track is still one encode (no AAC
 * priming gaps at chunk boundaries).
 */
export async function runAudioTask(deps: TaskDeps, task: AudioTask, attempt: number, signal: AbortSignal): Promise<void> {
  const { videoId, run } = task;
  const log = deps.logger.child({ videoId, run, task: 'audio', attempt });
  if (!(await deps.store.wanted(videoId, run))) return void log.info('video no longer wants this run; audio skipped');
  const dir = await scratchDir(deps, `${videoId}-audio-`, AUDIO.bitrateKbps * 125 * task.endSeconds);
  const progress = progressReporter(deps, log, { videoId, run, task: 'audio' });
  const published = new Set<number>();
  const publishedKeys: string[] = [];
  let bytes = 0;
  const publishNew = async (segments: SegmentInfo[]) => {
    const files = segments.filter((x) => !published.has(x.n)).map((x) => `${AUDIO_RENDITION}/${segmentFile(x.n)}`);
    const out = await publishFiles(deps.s3, deps.mediaBucket, videoId, dir, files);
    for (const x of segments) published.add(x.n);
    publishedKeys.push(...out.keys);
    bytes += out.bytes;
  };
  const milestones = [...(task.reportAtSeconds ?? [])].sort((a, b) => a - b);
  const onSegments = async (segments: SegmentInfo[]) => {
    await publishNew(segments);
    const covered = (segments[segments.length - 1]!.n + 1) * task.settings.segmentSeconds;
    if (milestones.length === 0 || covered < milestones[0]!) return;
    while (milestones.length && covered >= milestones[0]!) milestones.shift();
    await progress.flush();
    await deps.sendControl({ type: 'audio-partial', videoId, run, segments, attempt });
    log.debug({ segments: segments.length, coveredSeconds: covered }, 'audio so far reported');
  };
  try {
    const out = await encodeAudio({
      input: await sourceUrl(deps, task.sourceKey),
      outDir: dir,
      index: task.index,
      endSeconds: task.endSeconds,
      settings: task.settings,
      signal,
      onProgress: progress.report,
      onSegments: milestones.length ? onSegments : undefined,
      // Once the first chunk's range is encoded, the rest of the track yields the CPU to that chunk.
      yieldAfter: milestones.length ? { seconds: milestones[0]!, niceness: deps.bulkNiceness ?? 10 } : undefined,
    });
    await publishNew(out.segments);
    if (await removeIfDeleted(deps, videoId, publishedKeys, log)) return;
    await progress.flush();
    await deps.sendControl({ type: 'audio-done', videoId, run, segments: out.segments, cost: out.cost, attempt });
    log.info({ ...out.cost, files: published.size, bytes }, 'audio done');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Makes, publishes and reports the poster. Errors are retried like any
 * task's; when the poster cannot be made at all the worker reports "no
 * poster" rather than failing the video (worker.ts `giveUp`).
 */
export async function runPosterTask(deps: TaskDeps, task: PosterTask, attempt: number, signal: AbortSignal): Promise<void> {
  const { videoId, run } = task;
  const log = deps.logger.child({ videoId, run, task: 'poster', attempt });
  if (!(await deps.store.wanted(videoId, run))) return void log.info('video no longer wants this run; poster skipped');
  const dir = await scratchDir(deps, `${videoId}-poster-`, 16 * 1024 * 1024);
  try {
    const out = await makePoster(
      {
        input: await sourceUrl(deps, task.sourceKey),
        index: task.picture.index,
        interlaced: task.picture.interlaced,
        durationSeconds: task.durationSeconds,
        displayWidth: task.displayWidth,
        displayHeight: task.displayHeight,
      },
      dir,
      { signal, niceness: deps.bulkNiceness ?? 10 },
    );
    const published = await publishFiles(deps.s3, deps.mediaBucket, videoId, dir, out.images.map((i) => i.path));
    if (await removeIfDeleted(deps, videoId, published.keys, log)) return;
    const poster: Poster = { available: true, atSeconds: out.atSeconds, images: out.images };
    await deps.sendControl({ type: 'poster-done', videoId, run, poster, cost: { cpuSeconds: out.cpuSeconds, wallSeconds: out.wallSeconds }, attempt });
    log.info({ atSeconds: out.atSeconds, candidates: out.candidates, cpuSeconds: out.cpuSeconds }, 'poster done');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Remuxes one rendition's published segments and the audio into the MP4 download, uploads it, reports it. */
export async function runDownloadTask(deps: TaskDeps, task: DownloadTask, attempt: number, signal: AbortSignal): Promise<void> {
  const { videoId, run } = task;
  const log = deps.logger.child({ videoId, run, task: 'download', attempt });
  if (!(await deps.store.wanted(videoId, run))) return void log.info('video no longer wants this run; download skipped');
  // The joined TS files, then the MP4 (a little smaller than they are).
  const dir = await scratchDir(deps, `${videoId}-download-`, 2 * task.bytes);
  try {
    const out = await makeDownload(deps.s3, deps.mediaBucket, task, dir, { signal, niceness: deps.bulkNiceness ?? 10 });
    if (await removeIfDeleted(deps, videoId, [out.key], log)) return;
    await deps.sendControl({
      type: 'download-done',
      videoId,
      run,
      download: { available: true, rendition: task.rendition, width: task.width, height: task.height, bytes: out.bytes, filename: task.filename },
      cost: { cpuSeconds: out.cpuSeconds, wallSeconds: out.wallSeconds },
      attempt,
    });
    log.info({ bytes: out.bytes, cpuSeconds: out.cpuSeconds, wallSeconds: out.wallSeconds }, 'download done');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Makes the storyboard from one rendition's published keyframes, publishes it, reports it. */
export async function runStoryboardTask(deps: TaskDeps, task: StoryboardTask, attempt: number, signal: AbortSignal): Promise<void> {
  const { videoId, run } = task;
  const log = deps.logger.child({ videoId, run, task: 'storyboard', attempt });
  if (!(await deps.store.wanted(videoId, run))) return void log.info('video no longer wants this run; storyboard skipped');
  const dir = await scratchDir(deps, `${videoId}-storyboard-`, 64 * 1024 * 1024);
  const started = performance.now();
  try {
    const out = await makeStoryboard(deps.s3, deps.mediaBucket, { videoId, rendition: task.rendition, durationSeconds: task.durationSeconds, keyframeSeconds: task.keyframeSeconds }, dir, {
      signal,
      niceness: deps.bulkNiceness ?? 10,
    });
    const published = await publishFiles(deps.s3, deps.mediaBucket, videoId, dir, out.files);
    if (await removeIfDeleted(deps, videoId, published.keys, log)) return;
    const wallSeconds = Math.round(performance.now() - started) / 1000;
    await deps.sendControl({ type: 'storyboard-done', videoId, run, storyboard: out.storyboard, cost: { cpuSeconds: out.cpuSeconds, wallSeconds }, attempt });
    log.info({ tiles: out.storyboard.count, sheets: out.storyboard.sheets.length, cpuSeconds: out.cpuSeconds, wallSeconds }, 'storyboard done');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Extracts the source's text tracks (text-tracks.ts), publishes them on the
 * grid of the final playlists (published before this task was sent), renders
 * the master with them, and reports them. A track that cannot be read is left
 * out; the task fails (and is retried) only when the source cannot be read.
 */
export async function runCaptionsTask(deps: TaskDeps, task: CaptionsTask, attempt: number, signal: AbortSignal): Promise<void> {
  const { videoId, run } = task;
  const log = deps.logger.child({ videoId, run, task: 'captions', attempt });
  if (!(await deps.store.wanted(videoId, run))) return void log.info('video no longer wants this run; captions skipped');
  const dir = await scratchDir(deps, `${videoId}-captions-`, task.tracks.length * CAPTION_LIMITS.fileBytes);
  const started = performance.now();
  try {
    const captions = new CaptionStore(deps.s3, deps.mediaBucket);
    const grid = await captions.segmentGrid(videoId);
    if (!grid?.length) throw new TranscodeError('The final playlists are not published; the text tracks have no segment grid');
    const ran = await extractTextTracks(await sourceUrl(deps, task.sourceKey), task.tracks, dir, { signal, niceness: deps.bulkNiceness ?? 10 });
    const out = await publishTextTracks(captions, videoId, dir, task.tracks, grid, { log, now: () => new Date() });
    if (out.tracks.length) await captions.publishMaster(videoId);
    if (await removeIfDeleted(deps, videoId, out.keys, log)) return;
    for (const old of out.replaced) await captions.removeFiles(videoId, old);
    const wallSeconds = Math.round(performance.now() - started) / 1000;
    const cpuSeconds = Number.isFinite(ran.cpuSeconds) ? ran.cpuSeconds : 0;
    await deps.sendControl({ type: 'captions-done', videoId, run, tracks: out.tracks, cost: { cpuSeconds, wallSeconds }, attempt });
    log.info({ tracks: out.tracks.map((t) => t.language), of: task.tracks.length, cpuSeconds, wallSeconds }, 'captions done');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A poster that is not there, and why (contract `NO_POSTER_REASONS`). */
export function unavailablePoster(reason: 'no_picture' | 'failed', message: string): Poster {
  return { available: false, reason, message };
}

/** Sends work messages to the jobs queue, ten per request (SendMessageBatch), in order. */
export async function sendWork(deps: Pick<TaskDeps, 'sqs' | 'jobsQueueUrl'>, messages: WorkMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    const out = await deps.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: deps.jobsQueueUrl,
        Entries: batch.map((m, j) => ({ Id: String(j), MessageBody: JSON.stringify(m) })),
      }),
    );
    if (out.Failed?.length) throw new TranscodeError(`Could not queue ${out.Failed.length} task(s): ${out.Failed[0]!.Message ?? out.Failed[0]!.Code}`);
  }
}

/**
 * A fresh scratch directory, after checking the disk can hold what the task
 * may write (`expectedBytes`, from the renditions' maximum bit rates) with
 * room to spare.
 * @throws TranscodeError when the scratch disk is too full (the task is retried, possibly elsewhere).
 */
async function scratchDir(deps: TaskDeps, prefix: string, expectedBytes: number): Promise<string> {
  await mkdir(deps.workDir, { recursive: true });
  const fs = await statfs(deps.workDir);
  const free = fs.bavail * fs.bsize;
  const needed = Math.ceil(expectedBytes * 1.25) + 64 * 1024 * 1024;
  if (free < needed) {
    throw new TranscodeError(`Not enough scratch disk space: the task needs about ${mb(needed)} MB, ${mb(free)} MB are free`);
  }
  return mkdtemp(path.join(deps.workDir, prefix));
}

/** Write-then-check: a video deleted while we published loses what we just wrote. */
async function removeIfDeleted(deps: TaskDeps, videoId: string, keys: string[], log: Logger): Promise<boolean> {
  const record = await deps.store.record(videoId);
  if (record && !(await deps.store.deleted(videoId))) return false;
  for (let i = 0; i < keys.length; i += 1000) await deps.store.deleteKeys(keys.slice(i, i + 1000));
  log.info({ removed: keys.length }, 'video was deleted while encoding; removed what this task wrote');
  return true;
}

/** Reports a running task's progress to the coordinator at most every `progressIntervalMs`. */
function progressReporter(deps: TaskDeps, log: Logger, what: { videoId: string; run: number; task: string }) {
  const every = deps.progressIntervalMs ?? 5000;
  let lastAt = Date.now();
  let last = 0;
  let pending: Promise<unknown> = Promise.resolve();
  return {
    report: (fraction: number) => {
      const now = Date.now();
      if (fraction >= 1 || fraction - last < 0.01 || now - lastAt < every) return;
      last = fraction;
      lastAt = now;
      pending = pending
        .then(() => deps.sendControl({ type: 'progress', ...what, fraction: Math.round(fraction * 1000) / 1000 }))
        .catch((err) => log.warn({ err }, 'progress report failed'));
    },
    flush: () => pending,
  };
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
