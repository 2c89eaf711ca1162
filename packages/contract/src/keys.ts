/**
 * The S3 key layout and the HLS file names, in one place. Services build keys
 * here, infra scopes IAM policies to these prefixes, the stream service and
 * the local edge map viewer paths onto them.
 *
 * Uploads bucket (private):
 *   sources/{videoId}/source              the original upload, as received
 *   sessions/{uploadId}.json              a chunked upload's session
 *   sessions/{uploadId}/parts/{n}.json    one stored part's record (size, ETag)
 * Media bucket:
 *   videos/{videoId}/master.m3u8          multivariant playlist (viewers: signed URLs only)
 *   videos/{videoId}/{rendition}/index.m3u8, …/seg_00000.ts
 *   videos/{videoId}/{rendition}/iframes.m3u8   I-frame playlist (byte ranges into the segments)
 *   videos/{videoId}/poster/poster-{width}.jpg|.webp   the poster
 *   videos/{videoId}/download.mp4         the MP4 download (Content-Disposition: attachment)
 *   videos/{videoId}/storyboard/sheet-NNN.jpg, storyboard.vtt, storyboard.json   seek previews
 *   videos/{videoId}/thumbnails/{timeMs}-{width}.jpg   thumbnails made on demand (GET …/thumbnail), a cache
 *   videos/{videoId}/captions/{language}/index.m3u8, …/seg_00000.vtt   a text track (segmented WebVTT)
 *   records/{videoId}.json                the video's status record (never public)
 *   pipeline/{videoId}/{run}/…            the transcode run's working state (never public)
 *   captions/{videoId}/{language}.json   a text track's record (never public; the master lists these)
 *   details/{videoId}/{field}             a video's title / description (UTF-8 text), one object per field
 *   deleted/{videoId}                     tombstone of a deleted video (workers stop writing for it)
 *   web/…                                 the web app's static files (public)
 *
 * Viewers reach `videos/…` at the same path: CloudFront (and the local edge)
 * forward `/videos/{videoId}/…` to the media bucket key `videos/{videoId}/…`.
 */

/** Key prefixes, each the scope of an IAM statement or a CDN origin path. */
export const PREFIX = {
  /** Uploads bucket: originals. */
  sources: 'sources/',
  /** Uploads bucket: upload sessions and their part records. */
  sessions: 'sessions/',
  /** Media bucket: published HLS; public only through signed CDN URLs. */
  videos: 'videos/',
  /** Media bucket: status records; never public. */
  records: 'records/',
  /** Media bucket: transcode runs' working state; never public. */
  pipeline: 'pipeline/',
  /**
   * Media bucket: the text people give a video (title, description), one
   * object per field, written only by `PATCH /api/videos/:id` — never by the
   * pipeline, whose record writes could otherwise overwrite a concurrent edit
   * (S3 has no compare-and-swap the emulator supports); never public.
   */
  details: 'details/',
  /**
   * Media bucket: one record per text track of a video (captions.ts), the one
   * list the multivariant playlist's SUBTITLES group is rendered from; never public.
   */
  captions: 'captions/',
  /** Media bucket: tombstones of deleted videos; never public. */
  deleted: 'deleted/',
  /** Media bucket: the web app, served at `/`. */
  web: 'web/',
} as const;

/** File name of the multivariant playlist (RFC 8216 §4.3.4) at the top of a video's prefix. */
export const MASTER_PLAYLIST = 'master.m3u8';
/** File name of each rendition's media playlist, in the rendition's directory. */
export const MEDIA_PLAYLIST = 'index.m3u8';
/**
 * File name of each video rendition's I-frame playlist (RFC 8216 §4.3.4.3
 * EXT-X-I-FRAME-STREAM-INF), next to its media playlist: byte ranges of the
 * keyframes inside the rendition's own segments (no extra files).
 */
export const IFRAME_PLAYLIST = 'iframes.m3u8';
/** Directory of the poster images under a video's prefix. */
export const POSTER_DIR = 'poster';
/** File extension of each poster format. */
export const POSTER_EXTENSIONS = { jpeg: '.jpg', webp: '.webp' } as const;
/** `poster/poster-640.jpg`: a poster image's path under the video's prefix. */
export function posterPath(width: number, format: keyof typeof POSTER_EXTENSIONS): string {
  if (!Number.isInteger(width) || width <= 0) throw new RangeError(`Poster width must be a positive whole number (got ${width})`);
  return `${POSTER_DIR}/poster-${width}${POSTER_EXTENSIONS[format]}`;
}
/** Directory of the storyboard (seek previews) under a video's prefix. */
export const STORYBOARD_DIR = 'storyboard';
/** The storyboard's WebVTT thumbnails track and JSON, in `STORYBOARD_DIR`. */
export const STORYBOARD_FILES = { vtt: 'storyboard.vtt', json: 'storyboard.json' } as const;
/** `storyboard/sheet-000.jpg`: sprite sheet `i` (from 0). */
export function storyboardSheetPath(i: number): string {
  if (!Number.isInteger(i) || i < 0) throw new RangeError(`Sheet number must be a whole number ≥ 0 (got ${i})`);
  return `${STORYBOARD_DIR}/sheet-${String(i).padStart(3, '0')}.jpg`;
}
/** Directory of the on-demand thumbnails (`GET /api/videos/:id/thumbnail`) under a video's prefix. */
export const THUMBNAIL_DIR = 'thumbnails';
/**
 * `thumbnails/12300-640.jpg`: the cached thumbnail at `timeMs` milliseconds
 * (a multiple of the API's time step, `THUMBNAIL_LIMITS.stepSeconds`), `width` pixels wide.
 * @throws RangeError when either is not a whole number (time ≥ 0, width > 0).
 */
export function thumbnailPath(timeMs: number, width: number): string {
  if (!Number.isInteger(timeMs) || timeMs < 0) throw new RangeError(`Thumbnail time must be whole milliseconds ≥ 0 (got ${timeMs})`);
  if (!Number.isInteger(width) || width <= 0) throw new RangeError(`Thumbnail width must be a positive whole number (got ${width})`);
  return `${THUMBNAIL_DIR}/${timeMs}-${width}.jpg`;
}
/**
 * Path of the progressive MP4 download under a video's prefix. One fixed
 * name: the name a browser saves it under is set on the object
 * (Content-Disposition) when it is written.
 */
export const DOWNLOAD_FILE = 'download.mp4';
/** Name (and directory) of the audio rendition shared by every video variant. */
export const AUDIO_RENDITION = 'audio';

/** Segment files: `seg_` + zero-padded number + `.ts` (MPEG-TS, RFC 8216 §3.2). */
export const SEGMENT = { prefix: 'seg_', digits: 5, extension: '.ts' } as const;

/** `seg_00042.ts` for segment 42 (numbers start at 0). */
export function segmentFile(n: number): string {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`Segment number must be a whole number ≥ 0 (got ${n})`);
  return `${SEGMENT.prefix}${String(n).padStart(SEGMENT.digits, '0')}${SEGMENT.extension}`;
}

/** The same name as a printf template, for ffmpeg's muxers (`seg_%05d.ts`). */
export const SEGMENT_TEMPLATE = `${SEGMENT.prefix}%0${SEGMENT.digits}d${SEGMENT.extension}`;

export const keys = {
  source: (videoId: string) => `${PREFIX.sources}${videoId}/source`,
  /** Everything stored for a video in the uploads bucket (its original). */
  sourcePrefix: (videoId: string) => `${PREFIX.sources}${videoId}/`,
  session: (uploadId: string) => `${PREFIX.sessions}${uploadId}.json`,
  partsPrefix: (uploadId: string) => `${PREFIX.sessions}${uploadId}/parts/`,
  part: (uploadId: string, partNumber: number) => `${PREFIX.sessions}${uploadId}/parts/${partNumber}.json`,
  videoPrefix: (videoId: string) => `${PREFIX.videos}${videoId}/`,
  master: (videoId: string) => `${PREFIX.videos}${videoId}/${MASTER_PLAYLIST}`,
  mediaPlaylist: (videoId: string, rendition: string) => `${PREFIX.videos}${videoId}/${rendition}/${MEDIA_PLAYLIST}`,
  iframePlaylist: (videoId: string, rendition: string) => `${PREFIX.videos}${videoId}/${rendition}/${IFRAME_PLAYLIST}`,
  segment: (videoId: string, rendition: string, n: number) => `${PREFIX.videos}${videoId}/${rendition}/${segmentFile(n)}`,
  /** A file under the video's prefix, by its relative path (`poster/poster-640.jpg`). */
  videoFile: (videoId: string, relative: string) => `${PREFIX.videos}${videoId}/${relative}`,
  record: (videoId: string) => `${PREFIX.records}${videoId}.json`,
  /** Everything a video's transcode runs keep while they work. */
  pipelinePrefix: (videoId: string) => `${PREFIX.pipeline}${videoId}/`,
  /** The planner's note that run `run` is planned and its tasks sent. */
  runPlan: (videoId: string, run: number) => `${PREFIX.pipeline}${videoId}/${run}/plan.json`,
  /** The coordinator's state of run `run` (written by the coordinator only). */
  runState: (videoId: string, run: number) => `${PREFIX.pipeline}${videoId}/${run}/state.json`,
  /** Every text track record of a video. */
  captionsPrefix: (videoId: string) => `${PREFIX.captions}${videoId}/`,
  /** The record of a video's text track in `language` (canonical BCP 47 tag). */
  captionRecord: (videoId: string, language: string) => `${PREFIX.captions}${videoId}/${language}.json`,
  /** Everything `PATCH` stored for a video. */
  detailsPrefix: (videoId: string) => `${PREFIX.details}${videoId}/`,
  /** One editable field's text (`title`, `description`). */
  detail: (videoId: string, field: 'title' | 'description') => `${PREFIX.details}${videoId}/${field}`,
  /**
   * Written before a video's objects are deleted: a worker that wrote
   * something for the video checks it afterwards and removes what it wrote.
   */
  tombstone: (videoId: string) => `${PREFIX.deleted}${videoId}`,
  /** Attempt counters of one task (`chunk-3`, `audio`, `plan`) of run `run`. */
  taskAttempts: (videoId: string, run: number, task: string) => `${PREFIX.pipeline}${videoId}/${run}/attempts/${task}.json`,
  /** The videoId of a `records/{videoId}.json` key, or undefined for any other key. */
  recordVideoId(key: string): string | undefined {
    if (!key.startsWith(PREFIX.records) || !key.endsWith('.json')) return undefined;
    const id = key.slice(PREFIX.records.length, -'.json'.length);
    return /^[a-f0-9]{20}$/.test(id) ? id : undefined;
  },
};

/** The viewer path of a media-bucket key (`videos/…` → `/videos/…`). */
export function viewerPath(key: string): string {
  return `/${key}`;
}
