/**
 * One transcode job, start to finish — the pipeline's state machine on the
 * worker side:
 *
 *   queued/failed → processing → (probe) → failed "not a video"      (message deleted)
 *                               → (one ffmpeg pass) → (publish) → ready (message deleted)
 *   ready → no-op (a redelivered job for a finished video)
 *   any other error → retried by SQS (visibility timeout); on the last
 *   allowed attempt the record is marked failed before the message moves to
 *   the dead-letter queue, so nobody waits forever.
 *   aborted (SIGTERM) → back to queued; the message is released for another worker.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Logger } from 'pino';
import type { LadderRung, RenditionSummary, TranscodeJob } from '@vod/contract';
import { StatusStore } from '@vod/service-kit';
import { encodeHlsLadder, type EncodeResult } from './hls-encode.js';
import { planLadder } from './ladder.js';
import { InvalidMediaError, probeSource } from './probe.js';
import { publishLadder } from './publish.js';

export interface PipelineDeps {
  s3: S3Client;
  logger: Logger;
  uploadsBucket: string;
  mediaBucket: string;
  /** Local scratch space; each job gets its own directory, removed in every outcome. */
  workDir: string;
  /** x264 preset (speed vs. size), e.g. "veryfast". */
  preset?: string;
  /** Rungs to encode; default the contract's `DEFAULT_LADDER`. */
  ladder?: readonly LadderRung[];
  /** Attempts before a job is given up (the queue's maxReceiveCount). */
  maxAttempts: number;
  now?: () => Date;
  /** Seconds a presigned source URL stays valid; must outlast the longest transcode. */
  sourceUrlTtlSeconds?: number;
}

export type JobOutcome = 'ready' | 'failed' | 'skipped' | 'released';

/** Writes progress at most every `intervalMs`, and only when it moved. */
function throttledProgress(write: (p: number) => Promise<unknown>, log: Logger, intervalMs = 2000) {
  let last = 0;
  let lastAt = 0;
  let pending: Promise<unknown> = Promise.resolve();
  return {
    report(percent: number) {
      const p = Math.floor(percent);
      const at = Date.now();
      if (p <= last || at - lastAt < intervalMs) return;
      last = p;
      lastAt = at;
      pending = pending.then(() => write(p)).catch((err) => log.warn({ err }, 'progress write failed'));
    },
    flush: () => pending,
  };
}

function summarise(result: EncodeResult): RenditionSummary[] {
  // Largest first for people; the master playlist keeps its startup order.
  const video = result.variants
    .map((v) => ({ name: v.name, width: v.width, height: v.height, bandwidth: v.bandwidth }))
    .sort((a, b) => b.height - a.height || b.bandwidth - a.bandwidth);
  if (video.length || !result.audio) return video;
  return [{ name: result.audio.name, width: 0, height: 0, bandwidth: result.audio.bandwidth }];
}

/**
 * Runs one job. Resolves with the outcome when the message should be deleted;
 * rejects (so SQS redelivers) on errors worth retrying.
 */
export async function runTranscodeJob(
  deps: PipelineDeps,
  job: TranscodeJob,
  attempt: number,
  signal: AbortSignal,
): Promise<JobOutcome> {
  const log = deps.logger.child({ videoId: job.videoId, attempt });
  const store = new StatusStore(deps.s3, deps.mediaBucket, deps.now);
  const record = await store.get(job.videoId);
  if (!record) {
    log.warn('no status record (upload cancelled?); dropping job');
    return 'skipped';
  }
  if (record.status === 'ready') {
    log.info('already ready; redelivered job is a no-op');
    return 'skipped';
  }
  await store.transition(job.videoId, 'processing', { progress: 0 });
  await mkdir(deps.workDir, { recursive: true });
  const dir = await mkdtemp(path.join(deps.workDir, `${job.videoId}-`));
  const progress = throttledProgress((p) => store.transition(job.videoId, 'processing', { progress: p }), log);
  const started = Date.now();
  try {
    const input = await getSignedUrl(deps.s3, new GetObjectCommand({ Bucket: deps.uploadsBucket, Key: job.sourceKey }), {
      expiresIn: deps.sourceUrlTtlSeconds ?? 6 * 3600,
    });
    const source = await probeSource(input);
    log.info({ source }, 'probed source');
    const renditions = source.video ? planLadder(source.video, deps.ladder) : [];
    const outDir = path.join(dir, 'hls');
    const result = await encodeHlsLadder({
      input,
      outDir,
      source,
      renditions,
      preset: deps.preset,
      onProgress: (p) => progress.report(p),
      signal,
    });
    await progress.flush();
    const published = await publishLadder(deps.s3, deps.mediaBucket, job.videoId, outDir);
    await store.transition(job.videoId, 'ready', {
      progress: 100,
      durationSeconds: Math.round(result.durationSeconds * 1000) / 1000,
      renditions: summarise(result),
    });
    log.info({ ms: Date.now() - started, ...published, renditions: renditions.map((r) => r.name) }, 'video ready');
    return 'ready';
  } catch (err) {
    await progress.flush();
    if (signal.aborted) {
      await store.transition(job.videoId, 'queued', { progress: 0 }).catch((e) => log.error({ err: e }, 'could not re-queue'));
      log.warn('aborted by shutdown; job released');
      return 'released';
    }
    if (err instanceof InvalidMediaError) {
      await store.transition(job.videoId, 'failed', { error: err.message });
      log.info({ reason: err.message }, 'video failed: not decodable');
      return 'failed';
    }
    if (attempt >= deps.maxAttempts) {
      const reason = `Transcoding failed after ${attempt} attempts: ${(err as Error).message}`;
      await store.transition(job.videoId, 'failed', { error: reason }).catch(() => {});
      log.error({ err }, 'giving up; message goes to the dead-letter queue');
    } else {
      log.warn({ err }, 'job failed; SQS will redeliver it');
    }
    throw err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
