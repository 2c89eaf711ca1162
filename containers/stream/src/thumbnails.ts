/**
 * Thumbnails at any time (`GET /api/videos/:id/thumbnail?time=&width=`),
 * made on demand from what is already published — never from the source
 * upload, which is hostile and may be huge:
 *
 * 1. the rendition: the smallest video rendition at least `width` wide
 *    (else the widest); renditions are upright and square-pixel (the
 *    transcode applied rotation and pixel aspect ratio), so the picture's
 *    shape is the rendition's;
 * 2. the bytes: the rendition's I-frame playlist (RFC 8216 §4.3.3.6
 *    EXT-X-I-FRAMES-ONLY; one entry per keyframe, its byte range in its
 *    segment and the time to the next keyframe) laid end to end from 0 gives
 *    the keyframe at or before `time`; the bytes from it to the next keyframe
 *    of the same segment (or the segment's end) decode on their own — at most
 *    one keyframe interval (2 s) of pictures (`keyframeRange`, pure). Without
 *    an I-frame playlist, the media playlist's EXTINF durations (§4.3.2.1)
 *    give the whole segment holding `time` (`segmentAt`, pure);
 * 3. ffmpeg decodes only those bytes, streamed from the media bucket (a
 *    Range GetObject) into its stdin (MPEG-TS only, the `pipe` protocol
 *    only), keeps the first frame at or after the offset (output `-ss`; the
 *    last frame when the offset is past it), scales it to `width` × even
 *    height and writes one JPEG to stdout;
 * 4. the JPEG is stored at `videos/{id}/thumbnails/{timeMs}-{width}.jpg`
 *    (contract `thumbnailPath`), where the API redirects to with a signed
 *    URL; the next request for that time and width finds it (one HEAD) and
 *    runs nothing. DELETE of the video removes it with the rest of
 *    `videos/{id}/`; one written while a DELETE runs is removed again
 *    (the tombstone is checked after the write).
 *
 * Identical requests in flight share one run (in-process single flight);
 * at most `concurrency` ffmpeg processes run at once, each at a lower CPU
 * priority than the service and killed after `timeoutMs`.
 */
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { keys, thumbnailPath, thumbnailTimeMs, type RenditionSummary } from '@vod/contract';
import { AppError, isDeleted, isNotFound, objectExists } from '@vod/service-kit';
import * as HLS from 'hls-parser';
import type { MediaPlaylist } from 'hls-parser/types.js';
import type { Logger } from 'pino';

/** One segment of a media playlist: its URI (relative to the playlist) and EXTINF duration, seconds. */
export interface PlaylistSegment {
  uri: string;
  duration: number;
}

/** Where `time` falls: segment `index` (0-based in the playlist), which starts at `startSeconds`, `offsetSeconds` into it. */
export interface SegmentPosition {
  index: number;
  uri: string;
  startSeconds: number;
  offsetSeconds: number;
}

/**
 * The segment holding `time` (seconds from the start) and the offset into it:
 * segment i covers [start_i, start_i + duration_i), start_0 = 0, each start
 * the sum of the EXTINF durations before it (RFC 8216 §4.3.2.1, §6.3.3). A
 * time at or past the end falls in the last segment, at its end (the caller
 * then gets the last frame). Pure.
 * @throws RangeError for a negative or non-finite time, or an empty playlist.
 */
export function segmentAt(segments: readonly PlaylistSegment[], time: number): SegmentPosition {
  if (!Number.isFinite(time) || time < 0) throw new RangeError(`Time must be a number of seconds ≥ 0 (got ${time})`);
  if (segments.length === 0) throw new RangeError('The playlist has no segment');
  let start = 0;
  for (const [index, s] of segments.entries()) {
    const end = start + s.duration;
    if (time < end || index === segments.length - 1) {
      return { index, uri: s.uri, startSeconds: start, offsetSeconds: Math.min(Math.max(0, time - start), s.duration) };
    }
    start = end;
  }
  throw new Error('unreachable');
}

/** A keyframe of an I-frame playlist: its segment's URI, where its bytes start in it, and the seconds to the next keyframe. */
export interface KeyframeEntry {
  uri: string;
  /** Bytes from the start of the segment (EXT-X-BYTERANGE offset). */
  offset: number;
  /** EXTINF: seconds until the next keyframe. */
  duration: number;
}

/** The bytes of one segment to decode for a picture, and the offset (seconds) of the picture from their first frame. */
export interface DecodeRange {
  uri: string;
  /** First byte, from 0. */
  firstByte: number;
  /** Last byte (inclusive); undefined: to the segment's end. */
  lastByte?: number;
  offsetSeconds: number;
}

/**
 * The keyframe at or before `time` and the bytes from it up to the next
 * keyframe of the same segment (exclusive; else the segment's end): a
 * closed group of pictures that decodes alone. Times past the end fall in
 * the last group, at its end. Pure.
 * @throws RangeError as `segmentAt`.
 */
export function keyframeRange(entries: readonly KeyframeEntry[], time: number): DecodeRange {
  const at = segmentAt(entries, time);
  const entry = entries[at.index]!;
  const next = entries[at.index + 1];
  return {
    uri: entry.uri,
    firstByte: entry.offset,
    ...(next && next.uri === entry.uri ? { lastByte: next.offset - 1 } : {}),
    offsetSeconds: at.offsetSeconds,
  };
}

/** The video renditions (width > 0; the audio rendition has none). */
export function videoRenditions(renditions: readonly RenditionSummary[] | undefined): RenditionSummary[] {
  return (renditions ?? []).filter((r) => r.width > 0 && r.height > 0);
}

/**
 * The rendition to take a `width`-pixel thumbnail from: the smallest video
 * rendition at least that wide, else the widest (the picture is then scaled
 * up to the width asked); undefined when there is no video rendition. Pure.
 */
export function chooseThumbnailRendition(renditions: readonly RenditionSummary[] | undefined, width: number): RenditionSummary | undefined {
  const byWidth = videoRenditions(renditions).sort((a, b) => a.width - b.width);
  return byWidth.find((r) => r.width >= width) ?? byWidth[byWidth.length - 1];
}

/** The thumbnail's height for `width`: the rendition's aspect ratio, rounded to an even number ≥ 2 (4:2:0 JPEG). Pure. */
export function thumbnailHeight(rendition: Pick<RenditionSummary, 'width' | 'height'>, width: number): number {
  return Math.max(2, 2 * Math.round((width * rendition.height) / rendition.width / 2));
}

/**
 * ffmpeg's arguments: one MPEG-TS segment on stdin → one JPEG on stdout.
 * Only the `pipe` protocol and the `mpegts` demuxer may open (the segment
 * came from our own encoder, but a reader of S3 bytes is still given no more
 * than it needs). `tpad` clones the last frame for a second so an offset past
 * the last frame (the end of the video) still yields it; output `-ss` keeps
 * the first frame at or after `offsetSeconds`. Pure.
 */
export function thumbnailArgs(offsetSeconds: number, width: number, height: number): string[] {
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-protocol_whitelist', 'pipe', '-format_whitelist', 'mpegts',
    '-f', 'mpegts', '-i', 'pipe:0',
    '-map', '0:v:0', '-an', '-sn', '-dn',
    '-ss', offsetSeconds.toFixed(3),
    '-frames:v', '1',
    '-vf', `tpad=stop_mode=clone:stop_duration=1,scale=w=${width}:h=${height}:flags=lanczos,setsar=1`,
    '-c:v', 'mjpeg', '-q:v', '3', '-pix_fmt', 'yuvj420p',
    '-f', 'image2pipe', 'pipe:1',
  ];
}

/** Renders one JPEG from a segment stream (the ffmpeg run; injectable for tests). */
export type RenderFn = (segment: Readable, args: string[], opts: { timeoutMs: number }) => Promise<Buffer>;

/** Largest JPEG accepted from ffmpeg, bytes (a 1920-px frame at q 3 is well under 1 MiB). */
const MAX_JPEG_BYTES = 8 * 1024 * 1024;
/** Niceness of the ffmpeg processes: playlists and the API come first. */
const FFMPEG_NICENESS = 10;

/**
 * Runs ffmpeg with `args`, `segment` piped into its stdin, and resolves with
 * its stdout. Kills it (SIGKILL) after `timeoutMs`; rejects on a non-zero
 * exit, a kill, an empty or oversized output. The segment stream is
 * destroyed in every outcome (ffmpeg stops reading once it has its frame).
 */
export const runFfmpegJpeg: RenderFn = (segment, args, { timeoutMs }) =>
  new Promise<Buffer>((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, FFMPEG_NICENESS);
      } catch {
        /* not allowed here: run at normal priority */
      }
    }
    const out: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    let failure: string | undefined;
    const timer = setTimeout(() => {
      failure = `ffmpeg took longer than ${timeoutMs} ms and was stopped`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes > MAX_JPEG_BYTES) {
        failure ??= `ffmpeg wrote more than ${MAX_JPEG_BYTES} bytes`;
        child.kill('SIGKILL');
      } else out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 4000) stderr += c.toString('utf8');
    });
    // ffmpeg closes stdin once it has its frame: EPIPE is expected, not an error.
    child.stdin.on('error', () => {});
    segment.on('error', (err) => {
      failure ??= `reading the segment failed: ${err.message}`;
      child.kill('SIGKILL');
    });
    segment.pipe(child.stdin);
    let settled = false;
    child.on('error', (err) => {
      failure ??= `ffmpeg could not start: ${err.message}`;
      // A process that never started emits no 'close'.
      if (child.pid === undefined && !settled) {
        settled = true;
        clearTimeout(timer);
        segment.destroy();
        reject(new Error(failure));
      }
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      segment.unpipe(child.stdin);
      segment.destroy();
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      if (failure) return reject(new Error(failure));
      if (code !== 0) return reject(new Error(`ffmpeg exited with ${signal ?? `code ${code}`}${tail ? `: ${tail}` : ''}`));
      if (bytes === 0) return reject(new Error(`ffmpeg wrote no picture${tail ? `: ${tail}` : ''}`));
      resolve(Buffer.concat(out));
    });
  });

/** At most `limit` holders at once; the rest wait in arrival order. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export interface ThumbnailsOptions {
  s3: S3Client;
  mediaBucket: string;
  /** ffmpeg processes at once (default 2). */
  concurrency?: number;
  /** A run longer than this is killed, ms (default 20 000). */
  timeoutMs?: number;
  /** Default `runFfmpegJpeg`. */
  render?: RenderFn;
}

/** What to make: a ready video's thumbnail at `time` seconds, `width` pixels wide. */
export interface ThumbnailRequest {
  videoId: string;
  /** The record's video renditions (at least one). */
  renditions: readonly RenditionSummary[];
  /** Seconds, already checked against the duration. */
  time: number;
  width: number;
}

export class Thumbnails {
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly timeoutMs: number;
  private readonly render: RenderFn;
  private readonly slots: Semaphore;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** How many thumbnails this process made (ffmpeg runs that succeeded). */
  made = 0;
  /** How many requests found the thumbnail already stored. */
  hits = 0;

  constructor(opts: ThumbnailsOptions) {
    this.s3 = opts.s3;
    this.bucket = opts.mediaBucket;
    this.timeoutMs = opts.timeoutMs ?? 20_000;
    this.render = opts.render ?? runFfmpegJpeg;
    this.slots = new Semaphore(opts.concurrency ?? 2);
  }

  /**
   * Makes sure the thumbnail is stored and returns its path under the
   * video's prefix (`thumbnails/{timeMs}-{width}.jpg`), to be signed.
   * @throws AppError `internal` when the rendition's playlist or segment is
   *   missing or ffmpeg fails (logged with the reason).
   */
  async ensure(req: ThumbnailRequest, log: Logger): Promise<string> {
    const path = thumbnailPath(thumbnailTimeMs(req.time), req.width);
    const key = keys.videoFile(req.videoId, path);
    if (await objectExists(this.s3, this.bucket, key)) {
      this.hits++;
      return path;
    }
    let run = this.inFlight.get(key);
    if (!run) {
      run = this.make(req, key, log).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, run);
    }
    await run;
    return path;
  }

  private async make(req: ThumbnailRequest, key: string, log: Logger): Promise<void> {
    const rendition = chooseThumbnailRendition(req.renditions, req.width);
    if (!rendition) throw new AppError('no_picture', `Video ${req.videoId} has no picture`);
    const time = thumbnailTimeMs(req.time) / 1000;
    const height = thumbnailHeight(rendition, req.width);
    const started = performance.now();
    try {
      const at = await this.decodeRange(req.videoId, rendition.name, time);
      const jpeg = await this.slots.run(async () => {
        const segment = await this.s3.send(
          new GetObjectCommand({
            Bucket: this.bucket,
            Key: keys.videoFile(req.videoId, `${rendition.name}/${at.uri}`),
            ...(at.firstByte > 0 || at.lastByte !== undefined ? { Range: `bytes=${at.firstByte}-${at.lastByte ?? ''}` } : {}),
          }),
        );
        return this.render(segment.Body as Readable, thumbnailArgs(at.offsetSeconds, req.width, height), { timeoutMs: this.timeoutMs });
      });
      await this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: jpeg, ContentType: 'image/jpeg', CacheControl: 'public, max-age=31536000, immutable' }),
      );
      // A DELETE that listed the prefix before this write would miss it: take it back.
      if (await isDeleted(this.s3, this.bucket, req.videoId)) {
        await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
        throw new AppError('not_found', `No video ${req.videoId}`);
      }
      this.made++;
      log.info({ rendition: rendition.name, segment: at.uri, firstByte: at.firstByte, lastByte: at.lastByte, offsetSeconds: at.offsetSeconds, width: req.width, height, bytes: jpeg.length, ms: Math.round(performance.now() - started) }, 'thumbnail made');
    } catch (err) {
      if (err instanceof AppError) throw err;
      log.error({ err, rendition: rendition.name, time, width: req.width }, 'thumbnail failed');
      throw new AppError('internal', `The thumbnail of video ${req.videoId} at ${time} s could not be made`);
    }
  }

  /**
   * What to decode for `time` in `rendition`: the keyframe's group of
   * pictures by the I-frame playlist, or the whole segment by the media
   * playlist when there is no usable I-frame playlist.
   */
  private async decodeRange(videoId: string, rendition: string, time: number): Promise<DecodeRange> {
    const iframes = await this.text(keys.iframePlaylist(videoId, rendition)).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (iframes !== undefined) {
      const playlist = HLS.parse(iframes) as MediaPlaylist;
      const entries = playlist.isIFrame ? playlist.segments.map((s) => ({ uri: s.uri, duration: s.duration, offset: s.byterange?.offset })) : [];
      if (entries.length > 0 && entries.every((e): e is KeyframeEntry => typeof e.offset === 'number')) return keyframeRange(entries, time);
    }
    const media = HLS.parse(await this.text(keys.mediaPlaylist(videoId, rendition))) as MediaPlaylist;
    if (media.isMasterPlaylist) throw new Error(`${rendition}'s playlist is not a media playlist`);
    const at = segmentAt(media.segments, time);
    return { uri: at.uri, firstByte: 0, offsetSeconds: at.offsetSeconds };
  }

  private async text(key: string): Promise<string> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return out.Body!.transformToString();
  }
}
