/**
 * Video status records: one JSON object per video in the media bucket under
 * `records/` (outside the public `videos/` prefix, so never reachable through
 * signed media paths). Written by upload (uploading, queued) and transcode
 * (processing, ready, failed); read by stream. Moves follow the contract's
 * state machine (`canTransition`).
 *
 * Every write is reported to an optional change listener after it is stored
 * (the webhook events, video-events.ts): `previous` absent for a new record,
 * `next` absent for a deleted one.
 */
import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { PREFIX, canTransition, keys, type StoredVideoRecord as VideoRecord, type VideoStatus } from '@vod/contract';
import { AppError } from './errors.js';
import { getJson, putJson } from './s3-json.js';

/** A stored change of a record. Must not throw: the pipeline does not wait on what listens. */
export type RecordChangeListener = (change: { previous?: VideoRecord; next?: VideoRecord; at: Date }) => Promise<void>;

export class StatusStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly now: () => Date = () => new Date(),
    private readonly onChange?: RecordChangeListener,
  ) {}

  /** The record, or undefined if there is none. */
  async get(videoId: string): Promise<VideoRecord | undefined> {
    return getJson<VideoRecord>(this.s3, this.bucket, keys.record(videoId));
  }

  /** Creates a new record in its first state. */
  async create(init: Pick<VideoRecord, 'videoId' | 'status'> & Partial<VideoRecord>): Promise<VideoRecord> {
    const now = this.now();
    const at = now.toISOString();
    const record: VideoRecord = { progress: 0, createdAt: at, updatedAt: at, ...init };
    await this.write(record);
    await this.onChange?.({ next: record, at: now });
    return record;
  }

  /**
   * Moves a record to a new state (or updates it in place), enforcing the state machine.
   * @throws AppError `no_record` if the record is missing, `bad_transition` if the move is not allowed.
   */
  async transition(videoId: string, to: VideoStatus, patch: Partial<Omit<VideoRecord, 'videoId' | 'status' | 'createdAt'>> = {}): Promise<VideoRecord> {
    const current = await this.get(videoId);
    if (!current) throw new AppError('no_record', `Video ${videoId} has no status record`);
    if (!canTransition(current.status, to)) {
      throw new AppError('bad_transition', `Video ${videoId} cannot go from ${current.status} to ${to}`);
    }
    const now = this.now();
    const next: VideoRecord = { ...current, ...patch, status: to, updatedAt: now.toISOString() };
    if (to !== 'failed') delete next.error;
    await this.write(next);
    await this.onChange?.({ previous: current, next, at: now });
    return next;
  }

  /** Removes the record (nothing if there is none). */
  async delete(videoId: string): Promise<void> {
    const previous = this.onChange ? await this.get(videoId) : undefined;
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: keys.record(videoId) }));
    if (previous) await this.onChange?.({ previous, at: this.now() });
  }

  /** Every record, newest first. Reads at most `limit` records. */
  async list(limit = 200): Promise<VideoRecord[]> {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: PREFIX.records, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        const id = keys.recordVideoId(o.Key ?? '');
        if (id) ids.push(id);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && ids.length < limit);
    const records = await Promise.all(ids.slice(0, limit).map((id) => this.get(id)));
    return records
      .filter((r): r is VideoRecord => r !== undefined)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  private async write(record: VideoRecord): Promise<void> {
    await putJson(this.s3, this.bucket, keys.record(record.videoId), record);
  }
}
