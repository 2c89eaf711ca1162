/**
 * Source inspection with ffprobe (through fluent-ffmpeg).
 *
 * `probeSource` accepts a local path or an http(s) URL. In production the URL
 * is an S3 presigned GET: ffprobe reads only the container header (and seeks
 * with HTTP range requests where the index is at the end of an MP4), so the
 * object is never copied to local disk.
 */
import { CAPTION_LIMITS, canonicalLanguage, languageName, type TextTrack } from '@vod/contract';
import ffmpeg from 'fluent-ffmpeg';
import { InvalidMediaError, ProbeError, redactUrls } from './errors.js';
import { safeInputOptions } from './ffmpeg-args.js';

export { InvalidMediaError, ProbeError } from './errors.js';

export interface SourceVideo {
  /** Absolute stream index in the input (what `-map 0:<index>` selects). */
  index: number;
  /** Coded picture width in pixels. */
  width: number;
  /** Coded picture height in pixels. */
  height: number;
  /**
   * Width in square pixels as the picture is meant to be shown: the coded
   * width corrected by the sample aspect ratio, then swapped with the height
   * when the rotation is 90 or 270 degrees.
   */
  displayWidth: number;
  /** Height as shown (see `displayWidth`). */
  displayHeight: number;
  /**
   * Clockwise rotation in degrees (0, 90, 180 or 270) a player must apply to
   * the coded picture; the convention of the legacy `rotate` tag (an iPhone
   * portrait recording is 90). Read from the display-matrix side data
   * (ffprobe reports that angle counter-clockwise, so it is negated) or,
   * for older demuxers, from `tags.rotate`. ffmpeg applies it on decode.
   */
  rotation: number;
  /** Frames per second from `avg_frame_rate`, else `r_frame_rate`; 0 when unknown. */
  frameRate: number;
  /** ffprobe codec name, e.g. "h264", "vp8", "hevc". */
  codec: string;
  /** True when ffprobe reports an interlaced field order (tt/bb/tb/bt); the encoder then de-interlaces. */
  interlaced?: boolean;
}

export interface SourceAudio {
  /** Absolute stream index in the input. */
  index: number;
  /** ffprobe codec name, e.g. "aac", "opus", "vorbis". */
  codec: string;
  /** Channel count (2 = stereo, 6 = 5.1). */
  channels: number;
  /** Sample rate in Hz. */
  sampleRate: number;
  /** ISO 639 language tag of the stream when the file declares one (never "und"). */
  language?: string;
}

/**
 * Subtitle codecs that are text, which ffmpeg's WebVTT encoder can write:
 * MP4/MOV `mov_text` (3GPP Timed Text), SubRip, WebVTT, ASS/SSA (styling
 * dropped, text kept) and MPEG-4 Part 17 `text`. Bitmap subtitles (DVD
 * `dvd_subtitle`, Blu-ray `hdmv_pgs_subtitle`, DVB `dvb_subtitle`) are pictures,
 * not text, and are ignored, like closed captions inside the video stream (EIA-608).
 */
export const TEXT_SUBTITLE_CODECS: ReadonlySet<string> = new Set(['mov_text', 'subrip', 'srt', 'webvtt', 'ass', 'ssa', 'text']);

/** A text subtitle stream of the source. */
export interface SourceTextTrack {
  /** Absolute stream index in the input (`-map 0:<index>`). */
  index: number;
  /** ffprobe codec name (one of `TEXT_SUBTITLE_CODECS`). */
  codec: string;
  /**
   * Canonical BCP 47 tag of the stream's language tag (ISO 639-2 `eng`/`fre`
   * → `en`/`fr`, ECMA-402 canonicalization); `und` (undetermined, RFC 5646
   * §4.1) when the stream has no tag, `und`, or one that is not a language tag.
   */
  language: string;
  /** The stream's title tag when it is a usable menu name (one line, no quotes, ≤ CAPTION_LIMITS.label). */
  title?: string;
  /** Disposition `forced`: only the lines in another language (a partial track). */
  forced: boolean;
}

export interface SourceInfo {
  /** Playable duration in seconds (container duration, else the longest stream). */
  durationSeconds: number;
  /** ffprobe's container format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  formatName: string;
  /** The video stream to transcode (attached pictures such as cover art are ignored). */
  video?: SourceVideo;
  /** The audio stream to transcode. */
  audio?: SourceAudio;
  /** Text subtitle streams, in stream order (bitmap subtitles are not listed). */
  textTracks: SourceTextTrack[];
}

/** Shape of what fluent-ffmpeg's ffprobe wrapper returns (loosely typed upstream). */
type FfprobeData = ffmpeg.FfprobeData;
type FfprobeStream = ffmpeg.FfprobeStream;

/** Demuxers that only ever yield pictures: image2 (file sequences), image2pipe, png_pipe, jpeg_pipe, webp_pipe, ... */
const STILL_IMAGE_FORMAT = /(^|,)(image2|image2pipe|[a-z0-9]+_pipe)(,|$)/;
/** Picture codecs; a stream of these is a still image when it has at most one frame or no real duration. */
const STILL_IMAGE_CODECS = new Set(['png', 'mjpeg', 'bmp', 'webp', 'tiff', 'jpeg2000', 'jpegls', 'qoi', 'pam', 'ppm', 'pgm']);

/**
 * ffprobe failures that say nothing about the file's content: the input could
 * not be reached. Everything else ffprobe rejects is treated as invalid media.
 */
const INFRA_FAILURE =
  /No such file or directory|Permission denied|Connection refused|Connection reset|Connection timed out|timed out|Network is unreachable|Name or service not known|Temporary failure in name resolution|Server returned|HTTP error|Input\/output error|Cannot find ffprobe|ENOENT|EACCES/i;

/**
 * Probe a media file or URL.
 *
 * @param input Local filesystem path or http(s) URL (e.g. an S3 presigned GET URL).
 * @returns Duration, the chosen video stream (default-disposition stream first,
 *   attached pictures skipped), the chosen audio stream and the text subtitle
 *   streams (`textTracks`). Bitmap subtitle and data streams are ignored.
 * @throws InvalidMediaError (`code: 'invalid_media'`) when ffprobe cannot parse
 *   the file, when it has no usable video or audio stream, when it is a still
 *   image, or when its duration is zero/unknown. The message is meant for the
 *   uploader, e.g. "The uploaded file is not a video or audio file ffmpeg can
 *   read (ffprobe: Invalid data found when processing input)".
 * @throws ProbeError (`code: 'probe_failed'`) when the input cannot be reached
 *   (missing file, HTTP 403/404, network failure) or ffprobe is not installed;
 *   URL query strings are redacted from the message.
 */
export async function probeSource(input: string): Promise<SourceInfo> {
  const data = await runFfprobe(input);
  return interpretProbe(data);
}

/**
 * Turn raw ffprobe data into `SourceInfo`, applying the validity rules of
 * `probeSource`. Exported so the rules can be unit-tested without ffprobe.
 *
 * @throws InvalidMediaError see `probeSource`.
 */
export function interpretProbe(data: FfprobeData): SourceInfo {
  const format = data.format ?? {};
  const formatName = typeof format.format_name === 'string' ? format.format_name : '';
  const streams = data.streams ?? [];

  const videoStreams = streams.filter(
    (s) =>
      s.codec_type === 'video' &&
      isKnownCodec(s.codec_name) &&
      num(s.disposition?.attached_pic) !== 1 &&
      num(s.disposition?.timed_thumbnails) !== 1,
  );
  const audioStreams = streams.filter((s) => s.codec_type === 'audio' && isKnownCodec(s.codec_name));

  if (videoStreams.length === 0 && audioStreams.length === 0) {
    const onlyPictures = streams.some((s) => s.codec_type === 'video');
    throw new InvalidMediaError(
      onlyPictures ? 'The file contains only a still picture, not a video' : 'The file has no video or audio stream',
    );
  }

  const videoStream = pickStream(videoStreams);
  const audioStream = pickStream(audioStreams);

  const durationSeconds = pickDuration(format.duration, [videoStream, audioStream]);
  if (videoStream && !audioStream && isStillImage(formatName, videoStream, durationSeconds)) {
    throw new InvalidMediaError('The file is a still image, not a video');
  }
  if (!(durationSeconds > 0)) {
    throw new InvalidMediaError('The file has no playable duration (it is empty or a single picture)');
  }

  const info: SourceInfo = { durationSeconds, formatName, textTracks: streams.flatMap(describeTextTrack) };
  if (videoStream) info.video = describeVideo(videoStream);
  if (audioStream) info.audio = describeAudio(audioStream);
  return info;
}

// ---------------------------------------------------------------------------

function runFfprobe(input: string, extraOptions: string[] = []): Promise<FfprobeData> {
  // Keep stderr to the error itself; open only real media containers over
  // the one protocol the input needs; fail fast instead of hanging.
  const options = ['-v', 'error', ...safeInputOptions(input, { reconnect: false }), ...extraOptions];
  return new Promise((resolve, reject) => {
    ffmpeg.ffprobe(input, options, (err: unknown, data: FfprobeData) => {
      if (!err) {
        resolve(data);
        return;
      }
      reject(classifyProbeFailure(input, err));
    });
  });
}

function classifyProbeFailure(input: string, err: unknown): Error {
  const raw = err instanceof Error ? err.message : String(err);
  if (/Format not on whitelist|Protocol '[^']*' not on whitelist/.test(raw)) {
    return new InvalidMediaError(
      'The uploaded file is not an audio or video file in a container format we accept (playlists, manifests, pictures and text are refused)',
      { detail: 'format not on the allowlist' },
    );
  }
  const reason = lastReason(raw, input);
  if (INFRA_FAILURE.test(raw)) {
    // No `cause`: fluent-ffmpeg's message embeds raw stderr, which may hold the presigned URL.
    return new ProbeError(`Could not read the input with ffprobe: ${reason}`, { detail: reason });
  }
  return new InvalidMediaError(`The uploaded file is not a video or audio file ffmpeg can read (ffprobe: ${reason})`, {
    detail: reason,
  });
}

/**
 * fluent-ffmpeg reports "ffprobe exited with code 1\n<stderr>". ffprobe's
 * final line is usually "<input>: <reason>"; keep the reason, drop the path or
 * URL (which may carry a presigned signature).
 */
function lastReason(message: string, input: string): string {
  const lines = message
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^ffprobe exited with code/.test(l));
  let line = lines.at(-1) ?? message.split(/\r?\n/)[0] ?? 'unknown error';
  if (line.startsWith(`${input}: `)) line = line.slice(input.length + 2);
  line = line.replace(/^\[[^\]]+\]\s*/, ''); // "[mov,mp4,... @ 0x...] moov atom not found"
  return redactUrls(line);
}

function isStillImage(formatName: string, video: FfprobeStream, durationSeconds: number): boolean {
  if (STILL_IMAGE_FORMAT.test(formatName)) return true;
  if (!STILL_IMAGE_CODECS.has(String(video.codec_name))) return false;
  // MJPEG/PNG can also be real video (old cameras write MJPEG AVI): only a single picture counts.
  const frames = num(video.nb_frames);
  return (frames > 0 && frames <= 1) || durationSeconds < 0.5;
}

function isKnownCodec(name: unknown): boolean {
  return typeof name === 'string' && name !== '' && name !== 'none' && name !== 'unknown';
}

/** Prefer the stream flagged default, else the first one. */
function pickStream(streams: FfprobeStream[]): FfprobeStream | undefined {
  return streams.find((s) => num(s.disposition?.default) === 1) ?? streams[0];
}

function pickDuration(formatDuration: unknown, streams: (FfprobeStream | undefined)[]): number {
  const fromFormat = num(formatDuration);
  if (fromFormat > 0) return fromFormat;
  return Math.max(0, ...streams.map((s) => num(s?.duration)).filter((d) => d > 0));
}

function describeVideo(s: FfprobeStream): SourceVideo {
  const width = num(s.width);
  const height = num(s.height);
  if (!(width > 0 && height > 0)) {
    throw new InvalidMediaError('The video stream has no picture size (the file is probably damaged)');
  }
  const rotation = readRotation(s);
  const sar = parseRatio(s.sample_aspect_ratio);
  // Anamorphic sources: stretch the width so the display size is in square pixels.
  const squareWidth = sar > 0 && Math.abs(sar - 1) > 1e-3 ? Math.round(width * sar) : width;
  const swap = rotation === 90 || rotation === 270;
  return {
    index: num(s.index),
    width,
    height,
    displayWidth: swap ? height : squareWidth,
    displayHeight: swap ? squareWidth : height,
    rotation,
    frameRate: readFrameRate(s),
    codec: String(s.codec_name),
    interlaced: ['tt', 'bb', 'tb', 'bt'].includes(String(s.field_order)),
  };
}

function describeAudio(s: FfprobeStream): SourceAudio {
  const audio: SourceAudio = {
    index: num(s.index),
    codec: String(s.codec_name),
    channels: num(s.channels),
    sampleRate: num(s.sample_rate),
  };
  const tags = (s.tags ?? {}) as Record<string, unknown>;
  const language = tags.language ?? tags.LANGUAGE;
  if (typeof language === 'string' && /^[a-z]{2,3}(-[A-Za-z0-9]+)*$/.test(language) && language !== 'und') {
    audio.language = language;
  }
  return audio;
}

/** The stream as a `SourceTextTrack`, or nothing when it is not a text subtitle stream. */
function describeTextTrack(s: FfprobeStream): SourceTextTrack[] {
  if (s.codec_type !== 'subtitle' || !TEXT_SUBTITLE_CODECS.has(String(s.codec_name))) return [];
  const tags = (s.tags ?? {}) as Record<string, unknown>;
  const rawLanguage = tags.language ?? tags.LANGUAGE;
  const rawTitle = tags.title ?? tags.TITLE;
  const language = (typeof rawLanguage === 'string' && canonicalLanguage(rawLanguage.trim())) || 'und';
  const title = typeof rawTitle === 'string' ? rawTitle.trim() : '';
  const track: SourceTextTrack = { index: num(s.index), codec: String(s.codec_name), language, forced: num(s.disposition?.forced) === 1 };
  // The same rule as a sidecar's label (contract addCaptionFieldsSchema): one line, no quotes, not too long.
  if (title && title.length <= CAPTION_LIMITS.label && !/[\u0000-\u001F\u007F"]/.test(title)) track.title = title;
  return [track];
}

/**
 * The tracks worth extracting: one per language (a second track of a
 * language would replace the first: one track per language, contract
 * captions.ts), a full track before a forced one, then stream order; at most
 * `CAPTION_LIMITS.tracks`. Labels: the title, else the language's English
 * name (`und`: "Subtitles"; ECMA-402 would call it "Root"). A repeated label
 * gets its language appended when the master is rendered (`withSubtitles`).
 */
export function chooseTextTracks(tracks: readonly SourceTextTrack[]): TextTrack[] {
  const ordered = [...tracks].sort((a, b) => Number(a.forced) - Number(b.forced) || a.index - b.index);
  const byLanguage = new Map<string, SourceTextTrack>();
  for (const t of ordered) if (!byLanguage.has(t.language)) byLanguage.set(t.language, t);
  return [...byLanguage.values()]
    .sort((a, b) => a.index - b.index)
    .slice(0, CAPTION_LIMITS.tracks)
    .map((t) => ({ index: t.index, language: t.language, label: t.title ?? (t.language === 'und' ? 'Subtitles' : languageName(t.language)), codec: t.codec }));
}

/**
 * Rotation as a clockwise angle in {0, 90, 180, 270}.
 * fluent-ffmpeg flattens ffprobe's [SIDE_DATA] block into the stream, so the
 * display matrix angle shows up as `stream.rotation` (counter-clockwise).
 */
function readRotation(s: FfprobeStream): number {
  const matrix = Number(s.rotation);
  if (s.rotation !== undefined && s.rotation !== '' && Number.isFinite(matrix)) {
    return normalizeRightAngle(-matrix);
  }
  const tag = Number((s.tags as Record<string, unknown> | undefined)?.rotate);
  return Number.isFinite(tag) ? normalizeRightAngle(tag) : 0;
}

function normalizeRightAngle(deg: number): number {
  const quarter = Math.round(deg / 90);
  return (((quarter % 4) + 4) % 4) * 90;
}

function readFrameRate(s: FfprobeStream): number {
  for (const candidate of [s.avg_frame_rate, s.r_frame_rate]) {
    const fps = parseRatio(candidate);
    // Some demuxers report a timebase-like r_frame_rate (e.g. 90000) for VFR content.
    if (fps > 0 && fps <= 1000) return fps;
  }
  return 0;
}

/** "30000/1001" → 29.97, "16:9" → 1.777, "25" → 25; 0 when absent or invalid. */
function parseRatio(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : 0;
  if (typeof value !== 'string') return 0;
  const m = /^(\d+(?:\.\d+)?)(?:[/:](\d+(?:\.\d+)?))?$/.exec(value.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  const d = m[2] === undefined ? 1 : Number(m[2]);
  return d > 0 ? n / d : 0;
}

function num(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : 0;
}
