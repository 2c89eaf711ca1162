/**
 * What the API changes about a video after its upload: its title and
 * description, its removal, and another transcode run after a failure.
 * Routes (app.ts) parse and answer; this does the work, in an order that a
 * crash at any step can be repaired by repeating the request.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  keys,
  publicRecord,
  updateVideoRequestSchema,
  type RetryResponse,
  type StoredVideoRecord,
  type TranscodeJob,
  type VideoRecord,
} from '@vod/contract';
import { AppError, deletePrefix, objectExists, sendTranscodeJob, type StatusStore } from '@vod/service-kit';
import type { Logger } from 'pino';
import type { InvalidateVideo } from './cdn-invalidation.js';

export interface VideoAdminDeps {
  s3: S3Client;
  sqs: SQSClient;
  mediaBucket: string;
  uploadsBucket: string;
  jobsQueueUrl: string;
  store: StatusStore;
  /** CDN invalidation of a deleted video; absent without a CDN that caches (the local stack). */
  invalidate?: InvalidateVideo;
  /** Called once a video is gone, so this process drops what it cached about it. */
  onDeleted?: (videoId: string) => void;
  now?: () => Date;
}

export class VideoAdmin {
  private readonly now: () => Date;

  constructor(private readonly deps: VideoAdminDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Applies a PATCH body (contract `updateVideoRequestSchema`) and returns the record.
   * @throws AppError `invalid_body` (unknown field, too long, wrong type), `not_found`.
   */
  async update(videoId: string, body: unknown): Promise<VideoRecord> {
    const parsed = updateVideoRequestSchema.safeParse(body ?? undefined);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}` : issue.path.join('.') || 'body';
      throw new AppError('invalid_body', `${where}: ${issue.code === 'unrecognized_keys' ? 'only "title" and "description" can be changed' : issue.message}`);
    }
    await this.existing(videoId);
    await this.deps.store.setDetails(videoId, parsed.data);
    // Write, then check: a DELETE writes its tombstone before it removes the
    // details, so a PATCH that wrote after that removal finds the tombstone.
    const view = await this.deps.store.view(videoId);
    if (!view || (await this.exists(this.deps.mediaBucket, keys.tombstone(videoId)))) {
      await deletePrefix(this.deps.s3, this.deps.mediaBucket, keys.detailsPrefix(videoId));
      throw new AppError('not_found', `No video ${videoId}`);
    }
    return publicRecord(view);
  }

  /**
   * Deletes everything of a video: the tombstone first (workers still
   * encoding it stop, and remove what they write after this — see
   * containers/transcode coordinator.ts and tasks.ts), then the source, the
   * published HLS, the pipeline state and the details, then the CDN's cached
   * copies, and the record last — so a DELETE that fails half-way still finds
   * the video and can be repeated.
   * @throws AppError `not_found` when there is no such video (also the second time);
   *   `bad_gateway` when the CDN invalidation failed (repeat the DELETE).
   */
  async remove(videoId: string, log: Logger): Promise<void> {
    const record = await this.existing(videoId);
    const { s3, mediaBucket, uploadsBucket } = this.deps;
    await s3.send(
      new PutObjectCommand({
        Bucket: mediaBucket,
        Key: keys.tombstone(videoId),
        Body: JSON.stringify({ videoId, deletedAt: this.now().toISOString() }),
        ContentType: 'application/json',
      }),
    );
    const [source, media, pipeline, details, captions] = await Promise.all([
      deletePrefix(s3, uploadsBucket, keys.sourcePrefix(videoId)),
      deletePrefix(s3, mediaBucket, keys.videoPrefix(videoId)),
      deletePrefix(s3, mediaBucket, keys.pipelinePrefix(videoId)),
      deletePrefix(s3, mediaBucket, keys.detailsPrefix(videoId)),
      deletePrefix(s3, mediaBucket, keys.captionsPrefix(videoId)),
    ]);
    // Segments are cached at the edge for a long time: without this, playback
    // URLs already handed out would keep working from the CDN's copies.
    if (this.deps.invalidate) {
      try {
        await this.deps.invalidate(videoId);
      } catch (err) {
        log.error({ err, videoId }, 'CDN invalidation failed; the record is kept so the DELETE can be repeated');
        throw new AppError('bad_gateway', `Video ${videoId}'s files are deleted but the CDN could not be told to forget them (${(err as Error).name}); repeat the DELETE`);
      }
    }
    await this.deps.store.delete(videoId);
    this.deps.onDeleted?.(videoId);
    log.info({ videoId, status: record.status, objects: { source, media, pipeline, details, captions }, cdnInvalidated: !!this.deps.invalidate }, 'video deleted');
  }

  /**
   * Queues a new transcode run of a failed video from its stored source:
   * clears the old runs' state and whatever the failed run published, moves
   * the record `failed → queued` with the next run number (messages of older
   * runs are then ignored), and sends the run's job.
   *
   * If the job could not be sent after the record moved (a crash in between),
   * the same request repairs it: a `queued` retry run whose plan has not
   * started is queued again (a duplicate job is a no-op for the pipeline).
   * @throws AppError `not_found`; `not_failed` (409) for any other state; `no_source` (409) when the original is gone.
   */
  async retry(videoId: string, log: Logger): Promise<RetryResponse> {
    const record = await this.existing(videoId);
    const run = record.run ?? 1;
    if (record.status === 'queued' && run >= 2 && !(await this.runStarted(videoId, run))) {
      await this.sendJob({ type: 'transcode', videoId, sourceKey: keys.source(videoId), run });
      log.info({ videoId, run }, 'retry re-queued (its job may not have been sent)');
      return { videoId, status: 'queued', run };
    }
    if (record.status !== 'failed') {
      throw new AppError('not_failed', `Video ${videoId} is ${record.status}; only a failed video can be retried`);
    }
    if (!(await this.exists(this.deps.uploadsBucket, keys.source(videoId)))) {
      throw new AppError('no_source', `Video ${videoId} has no stored source to transcode again; upload it again`);
    }
    const next = run + 1;
    // The old runs' attempts and state, and a partly published ladder, must not leak into the new run.
    await Promise.all([
      deletePrefix(this.deps.s3, this.deps.mediaBucket, keys.pipelinePrefix(videoId)),
      deletePrefix(this.deps.s3, this.deps.mediaBucket, keys.videoPrefix(videoId)),
    ]);
    this.deps.onDeleted?.(videoId);
    await this.deps.store.transition(videoId, 'queued', {
      run: next,
      progress: 0,
      playable: undefined,
      durationSeconds: undefined,
      renditions: undefined,
      cpuSeconds: undefined,
      encodeSeconds: undefined,
      estimatedCostUsd: undefined,
      processingStartedAt: undefined,
    } satisfies Partial<StoredVideoRecord>);
    await this.sendJob({ type: 'transcode', videoId, sourceKey: keys.source(videoId), run: next });
    log.info({ videoId, run: next, previousError: record.error }, 'retry queued');
    return { videoId, status: 'queued', run: next };
  }

  /** @throws AppError `not_found`. */
  private async existing(videoId: string): Promise<StoredVideoRecord> {
    const record = await this.deps.store.get(videoId);
    if (!record) throw new AppError('not_found', `No video ${videoId}`);
    return record;
  }

  /** Whether a worker has started run `run` (its plan is sent, or the coordinator has state for it). */
  private async runStarted(videoId: string, run: number): Promise<boolean> {
    const [plan, state] = await Promise.all([
      this.exists(this.deps.mediaBucket, keys.runPlan(videoId, run)),
      this.exists(this.deps.mediaBucket, keys.runState(videoId, run)),
    ]);
    return plan || state;
  }

  private exists(bucket: string, key: string): Promise<boolean> {
    return objectExists(this.deps.s3, bucket, key);
  }

  private sendJob(job: TranscodeJob): Promise<void> {
    return sendTranscodeJob(this.deps.sqs, this.deps.jobsQueueUrl, job);
  }
}
