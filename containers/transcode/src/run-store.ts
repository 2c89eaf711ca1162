/**
 * What a transcode run keeps in the media bucket while it works
 * (`pipeline/{videoId}/{run}/…`, never public), and the status record:
 *
 * - `plan.json`: the planner's note that the run's tasks are all sent, so a
 *   redelivered plan job does not send them again.
 * - `state.json`: the coordinator's view of the run (plan, finished chunks
 *   and audio, running tasks' progress). Only the coordinator writes it, one
 *   message at a time per video (FIFO message group), so no update is lost.
 * - `attempts/<task>.json`: how often a task was started, failed and handed
 *   back, written by the one worker holding the task.
 */
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { keys, storedVideoRecordSchema, type CaptionTrack, type ControlMessage, type Download, type Poster, type Storyboard, type RunPlan, type SegmentInfo, type StoredVideoRecord, type TaskCost } from '@vod/contract';
import { getJson, isDeleted, putJson } from '@vod/service-kit';

/** What the coordinator knows about one run. */
export interface RunState {
  plan?: RunPlan;
  /** Finished chunks by index. */
  chunks: Record<number, { renditions: Record<string, { codecs: string; segments: SegmentInfo[] }>; cost: TaskCost; endsEarly?: boolean; attempt: number }>;
  audio?: { segments: SegmentInfo[]; cost: TaskCost; attempt: number };
  /** The audio so far (segments from 0, published), while the audio task runs; superseded by `audio`. */
  audioPartial?: { segments: SegmentInfo[]; attempt: number };
  /** The poster task's outcome (a poster, or why there is none). */
  poster?: { poster: Poster; cost: TaskCost; attempt: number };
  /** The captions task's outcome: the text tracks published. */
  captions?: { tracks: CaptionTrack[]; cost: TaskCost; attempt: number };
  /** The finishing tasks (download, storyboard, captions) were sent, after the final playlists were published. */
  finishingSent?: boolean;
  /** The download task's outcome. */
  download?: { download: Download; cost: TaskCost; attempt: number };
  /** The storyboard task's outcome. */
  storyboard?: { storyboard: Storyboard; cost: TaskCost; attempt: number };
  /** Running tasks' progress, 0–1, by task (`chunk:3`, `audio`). */
  progress: Record<string, number>;
  /** Chunks published so far as a growing (EVENT) playlist; 0 = nothing playable yet. */
  publishedChunks: number;
  /** Audio segments listed in the published playlists so far. */
  publishedAudioSegments?: number;
}

export interface TaskAttempts {
  /** Times the task was taken by a worker (this one included). */
  starts: number;
  /** Times it ended in an error. */
  failures: number;
  /** Times a stopping worker handed it back (SIGTERM): not held against the task. */
  releases: number;
  /** Times it finished (a duplicate delivery may finish it again). */
  completions?: number;
  /** The last error, for the failure reason. */
  lastError?: string;
}

export class RunStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  /** The stored record (with the pipeline's own fields), or undefined. */
  async record(videoId: string): Promise<StoredVideoRecord | undefined> {
    const raw = await getJson<unknown>(this.s3, this.bucket, keys.record(videoId));
    return raw === undefined ? undefined : storedVideoRecordSchema.parse(raw);
  }

  /** True when the video was deleted (its tombstone exists). */
  deleted(videoId: string): Promise<boolean> {
    return isDeleted(this.s3, this.bucket, videoId);
  }

  /**
   * Whether work for `run` of `videoId` is still wanted: the video exists, is
   * not deleted, is on this run and has not finished.
   */
  async wanted(videoId: string, run: number): Promise<boolean> {
    const [record, deleted] = await Promise.all([this.record(videoId), this.deleted(videoId)]);
    return !!record && !deleted && (record.run ?? 1) === run && record.status !== 'ready' && record.status !== 'failed';
  }

  async planSent(videoId: string, run: number): Promise<boolean> {
    return (await getJson<{ sent: boolean }>(this.s3, this.bucket, keys.runPlan(videoId, run)))?.sent === true;
  }

  async markPlanSent(videoId: string, run: number): Promise<void> {
    await putJson(this.s3, this.bucket, keys.runPlan(videoId, run), { sent: true });
  }

  async state(videoId: string, run: number): Promise<RunState> {
    return (await getJson<RunState>(this.s3, this.bucket, keys.runState(videoId, run))) ?? { chunks: {}, progress: {}, publishedChunks: 0 };
  }

  async saveState(videoId: string, run: number, state: RunState): Promise<void> {
    await putJson(this.s3, this.bucket, keys.runState(videoId, run), state);
  }

  async attempts(videoId: string, run: number, task: string): Promise<TaskAttempts> {
    return (await getJson<TaskAttempts>(this.s3, this.bucket, keys.taskAttempts(videoId, run, task))) ?? { starts: 0, failures: 0, releases: 0 };
  }

  async saveAttempts(videoId: string, run: number, task: string, attempts: TaskAttempts): Promise<void> {
    await putJson(this.s3, this.bucket, keys.taskAttempts(videoId, run, task), attempts);
  }

  /** Deletes the given keys (at most 1000). */
  async deleteKeys(keysToDelete: string[]): Promise<void> {
    if (keysToDelete.length === 0) return;
    await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keysToDelete.map((Key) => ({ Key })), Quiet: true } }));
  }

  /** Deletes every object under `prefix` (what a worker published for a video that was deleted meanwhile). */
  async deletePrefix(prefix: string): Promise<number> {
    let deleted = 0;
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (objects.length) {
        await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }));
        deleted += objects.length;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return deleted;
  }
}

/** The task name of a work message, as used for attempts and progress (`plan`, `audio`, `chunk-3`). */
export function taskName(message: { type: string; chunk?: { index: number } }): string {
  return message.type === 'chunk' ? `chunk-${message.chunk!.index}` : message.type === 'transcode' ? 'plan' : message.type;
}

export type { ControlMessage };
