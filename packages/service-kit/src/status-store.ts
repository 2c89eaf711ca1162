/**
 * Video status records: one JSON object per video in the media bucket under
 * `records/` (outside the public `videos/` prefix, so never reachable through
 * signed media paths). Written by upload (uploading, queued) and transcode
 * (processing, ready, failed); read by stream. Moves follow the contract's
 * state machine (`canTransition`).
 *
 * No update is lost although S3 (and the emulator) offer no compare-and-swap:
 * each object has one writer at a time. The upload service writes a record
 * before its job exists; afterwards the coordinator is its only writer (one
 * video's events at a time, FIFO message group); the API writes it only when
 * the pipeline has let go (`failed` → `queued` on retry). What people edit —
 * title, description — is not in the record at all but in one object per
 * field under `details/` (PATCH is its only writer; the last PATCH of a field
 * wins, PATCHes of different fields never overwrite each other), merged in
 * by `view` and `page`.
 *
 * Every write is reported to an optional change listener after it is stored
 * (the webhook events, video-events.ts): `previous` absent for a new record,
 * `next` absent for a deleted one.
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  PREFIX,
  VIDEO_DETAIL_FIELDS,
  canTransition,
  keys,
  type StoredVideoRecord as VideoRecord,
  type VideoDetails,
  type VideoStatus,
} from '@vod/contract';
import { isNotFound } from './aws.js';
import { AppError } from './errors.js';
import { getJson, putJson } from './s3-json.js';

/** A page of `StatusStore.page`. */
export interface RecordPage {
  /** Records with their details, in key order (newest first). */
  records: (VideoRecord & VideoDetails)[];
  /** The last key examined when more keys follow it; undefined on the last page. */
  nextKey?: string;
}

/** Records fetched at once while listing. */
const READ_CONCURRENCY = 25;

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

  /** The record with its title and description, or undefined if there is none. */
  async view(videoId: string): Promise<(VideoRecord & VideoDetails) | undefined> {
    const [record, details] = await Promise.all([this.get(videoId), this.details(videoId)]);
    return record && { ...record, ...details };
  }

  /** The title and description stored for a video (absent fields were never set or were removed). */
  async details(videoId: string): Promise<VideoDetails> {
    const out: VideoDetails = {};
    await Promise.all(
      VIDEO_DETAIL_FIELDS.map(async (field) => {
        try {
          const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: keys.detail(videoId, field) }));
          out[field] = await res.Body!.transformToString('utf-8');
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }),
    );
    return out;
  }

  /**
   * Sets (string) or removes (null or "") each field present in `patch`; absent fields are kept.
   * One object per field, so concurrent edits of different fields both stand.
   */
  async setDetails(videoId: string, patch: { [K in keyof VideoDetails]?: string | null }): Promise<void> {
    await Promise.all(
      VIDEO_DETAIL_FIELDS.filter((f) => patch[f] !== undefined).map((field) => {
        const value = patch[field];
        const Key = keys.detail(videoId, field);
        return value
          ? this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: value, ContentType: 'text/plain; charset=utf-8' }))
          : this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
      }),
    );
  }

  /**
   * One page of records in key order — newest first, as ids are time-inverted
   * (contract ids.ts) — starting after the key `after` (exclusive), with their
   * details. With `status`, only records in that state are returned, and at
   * most `maxScan` records are examined per call: the page may then be short,
   * with `nextKey` set to carry on.
   */
  async page(opts: { limit: number; after?: string; status?: VideoStatus; maxScan?: number }): Promise<RecordPage> {
    const maxScan = opts.maxScan ?? 1000;
    const records: (VideoRecord & VideoDetails)[] = [];
    let token: string | undefined;
    let scanned = 0;
    let lastKey: string | undefined;
    for (;;) {
      const want = opts.limit - records.length;
      // Unfiltered, a listing of `want` keys is (all but deleted-meanwhile) the page; filtered, read ahead.
      const maxKeys = Math.min(1000, opts.status ? Math.max(want, 100) : want);
      const listing = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: PREFIX.records,
          MaxKeys: maxKeys,
          ...(token ? { ContinuationToken: token } : opts.after ? { StartAfter: opts.after } : {}),
        }),
      );
      const listed = (listing.Contents ?? []).map((o) => o.Key!).filter(Boolean);
      const views = await mapLimited(listed, READ_CONCURRENCY, (key) => {
        const id = keys.recordVideoId(key);
        return id ? this.view(id) : Promise.resolve(undefined);
      });
      for (let i = 0; i < listed.length; i++) {
        lastKey = listed[i];
        scanned++;
        const view = views[i];
        if (view && (!opts.status || view.status === opts.status)) records.push(view);
        if (records.length === opts.limit) {
          const more = i < listed.length - 1 || listing.IsTruncated === true;
          return { records, nextKey: more ? lastKey : undefined };
        }
      }
      if (!listing.IsTruncated || !listing.NextContinuationToken) return { records };
      if (scanned >= maxScan) return { records, nextKey: lastKey };
      token = listing.NextContinuationToken;
    }
  }

  private async write(record: VideoRecord): Promise<void> {
    await putJson(this.s3, this.bucket, keys.record(record.videoId), record);
  }
}

/** `fn` over `items` with at most `limit` calls in flight; results in input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
