/**
 * The playlists of a video, stitched from its segments (pure; no I/O): each
 * rendition's media playlist — EVENT while the video is still encoding, VOD
 * with EXT-X-ENDLIST once it is complete (RFC 8216 §4.3.3.5) — and the
 * multivariant playlist with measured bit rates.
 *
 * BANDWIDTH is the peak segment bit rate and AVERAGE-BANDWIDTH the average
 * segment bit rate, measured on the segments actually written, as defined in
 * draft-pantos-hls-rfc8216bis (section 4.4.6.2, EXT-X-STREAM-INF; Definitions
 * of "peak segment bit rate" and "average segment bit rate"), which Apple's
 * HLS Authoring Specification requires to be accurate for VOD.
 */
// Namespace import: a default import is undefined when tsx compiles this file to CommonJS (mocha's require path),
// because hls-parser's CJS entry is flagged __esModule and has no default export.
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist, Rendition as HlsRendition } from 'hls-parser/types.js';
import { segmentFile, type H264Profile, type SegmentInfo } from '@vod/contract';

/** Bit rates of one media playlist, measured from its segment files. */
export interface SegmentBitrates {
  /**
   * Peak segment bit rate in bit/s: the largest bit rate of any run of
   * consecutive segments whose total duration is 0.5–1.5 × the target
   * duration (the whole playlist when it is shorter than 0.5 × target).
   */
  peakBitrate: number;
  /** Average segment bit rate in bit/s: all bytes × 8 ÷ total EXTINF duration. */
  averageBitrate: number;
  /** Sum of segment sizes in bytes (container overhead included). */
  totalBytes: number;
  /** Sum of EXTINF durations in seconds. */
  durationSeconds: number;
  segmentCount: number;
}

/**
 * Compute peak and average segment bit rates. Pure; no I/O.
 *
 * @param playlist Parsed media playlist or its text (EXTINF durations, target duration).
 * @param segmentSizes Size in bytes of each segment, in playlist order.
 * @throws RangeError when sizes and segments do not line up, or the playlist has no duration.
 */
export function computeSegmentBitrates(playlist: MediaPlaylist | string, segmentSizes: readonly number[]): SegmentBitrates {
  const media = typeof playlist === 'string' ? parseMediaPlaylist(playlist) : playlist;
  const durations = media.segments.map((s) => s.duration);
  if (durations.length !== segmentSizes.length) {
    throw new RangeError(`${durations.length} segments but ${segmentSizes.length} sizes`);
  }
  const durationSeconds = durations.reduce((a, b) => a + b, 0);
  if (!(durationSeconds > 0)) throw new RangeError('The media playlist has no duration');
  const totalBytes = segmentSizes.reduce((a, b) => a + b, 0);
  const averageBitrate = (totalBytes * 8) / durationSeconds;

  const target = media.targetDuration > 0 ? media.targetDuration : Math.ceil(Math.max(...durations));
  const minWindow = 0.5 * target;
  const maxWindow = 1.5 * target;
  let peakBitrate = 0;
  for (let i = 0; i < durations.length; i++) {
    let bytes = 0;
    let seconds = 0;
    for (let j = i; j < durations.length; j++) {
      bytes += segmentSizes[j]!;
      seconds += durations[j]!;
      if (seconds > maxWindow + 1e-9) break;
      if (seconds >= minWindow - 1e-9) peakBitrate = Math.max(peakBitrate, (bytes * 8) / seconds);
    }
  }
  // Only possible when the whole presentation is shorter than half a target duration.
  if (peakBitrate === 0) peakBitrate = averageBitrate;

  return { peakBitrate, averageBitrate, totalBytes, durationSeconds, segmentCount: durations.length };
}

/**
 * RFC 6381 codec string for H.264 ("avc1.PPCCLL": profile_idc, constraint
 * flags, level_idc in hex), e.g. High 3.1 → "avc1.64001f", High 4.0 →
 * "avc1.640028", Main 3.0 → "avc1.4d401e". Constraint flags are those x264
 * writes (Main and Constrained Baseline set constraint_set1).
 *
 * @param profile ffprobe profile name ("High", "Main", "Constrained Baseline", ...) or x264 name ("high").
 * @param level level_idc (31) or dotted level ("3.1").
 * @throws RangeError for an unknown profile or invalid level.
 */
export function avc1Codec(profile: string | H264Profile, level: number | string): string {
  const key = profile.toLowerCase();
  const prefix = AVC_PROFILES[key];
  if (!prefix) throw new RangeError(`Unknown H.264 profile "${profile}"`);
  const levelIdc = typeof level === 'number' ? level : Math.round(Number(level) * 10);
  if (!(Number.isInteger(levelIdc) && levelIdc > 0 && levelIdc < 256)) {
    throw new RangeError(`Invalid H.264 level "${level}"`);
  }
  return `avc1.${prefix}${levelIdc.toString(16).padStart(2, '0')}`;
}

const AVC_PROFILES: Record<string, string> = {
  'constrained baseline': '42c0',
  baseline: '4200',
  main: '4d40',
  high: '6400',
  'high 10': '6e00',
  'high 4:2:2': '7a00',
};

/** Target duration of a playlist: the longest EXTINF rounded to the nearest integer (RFC 8216 §4.3.3.1). */
export function targetDuration(segments: readonly SegmentInfo[]): number {
  return Math.max(1, ...segments.map((s) => Math.round(s.duration)));
}

export interface MediaPlaylistOptions {
  /**
   * True once the video is complete: `EXT-X-PLAYLIST-TYPE:VOD` and
   * `EXT-X-ENDLIST`. False while it is still encoding: `EVENT` — segments are
   * only ever appended, and players keep reloading it (RFC 8216 §4.3.3.5).
   */
  ended: boolean;
  /** EXT-X-TARGETDURATION; default from the segments. Keep it fixed while a playlist grows (RFC 8216 §6.2.1). */
  targetDuration?: number;
}

/**
 * A media playlist listing `segments` (consecutive numbers, from 0) by their
 * file names, relative to the playlist.
 * @throws RangeError when the segments are empty, do not start at 0, or skip a number.
 */
export function mediaPlaylist(segments: readonly SegmentInfo[], opts: MediaPlaylistOptions): string {
  if (segments.length === 0) throw new RangeError('A media playlist needs at least one segment');
  segments.forEach((s, i) => {
    if (s.n !== i) throw new RangeError(`Segment ${s.n} is listed where segment ${i} belongs`);
  });
  const playlist = new HLS.types.MediaPlaylist({
    version: 3,
    targetDuration: Math.max(opts.targetDuration ?? 0, targetDuration(segments)),
    mediaSequenceBase: 0,
    playlistType: opts.ended ? 'VOD' : 'EVENT',
    endlist: opts.ended,
    independentSegments: true,
    segments: segments.map((s) => new HLS.types.Segment({ uri: segmentFile(s.n), duration: s.duration, mediaSequenceNumber: s.n })),
  });
  return withNewline(HLS.stringify(playlist));
}

/** One entry of an I-frame playlist: a keyframe's byte range in segment `n`, shown for `duration` seconds. */
export interface IFrameEntry {
  n: number;
  /** Seconds until the next keyframe (the segment's end for its last one): the entry's EXTINF. */
  duration: number;
  offset: number;
  length: number;
}

/**
 * The I-frame entries of a rendition's segments, or undefined when any
 * segment lacks keyframe ranges (a segment reported before they were recorded).
 */
export function iframeEntries(segments: readonly SegmentInfo[]): IFrameEntry[] | undefined {
  const entries: IFrameEntry[] = [];
  for (const s of segments) {
    const frames = s.keyframes;
    if (!frames || frames.length === 0) return undefined;
    frames.forEach((k, i) => {
      const until = i + 1 < frames.length ? frames[i + 1]!.at : s.duration;
      const duration = Math.round((until - k.at) * 1e6) / 1e6;
      if (duration > 0) entries.push({ n: s.n, duration, offset: k.offset, length: k.length });
    });
  }
  return entries.length ? entries : undefined;
}

/**
 * An I-frame playlist (RFC 8216 §4.3.3.6 EXT-X-I-FRAMES-ONLY, version 4):
 * each keyframe as an EXT-X-BYTERANGE of its segment file, with the time
 * until the next keyframe as EXTINF. EVENT while the video grows, VOD once
 * complete, like the media playlists.
 * @throws RangeError when there is no entry.
 */
export function iframePlaylist(entries: readonly IFrameEntry[], opts: MediaPlaylistOptions): string {
  if (entries.length === 0) throw new RangeError('An I-frame playlist needs at least one keyframe');
  const playlist = new HLS.types.MediaPlaylist({
    version: 4,
    targetDuration: Math.max(opts.targetDuration ?? 0, ...entries.map((e) => Math.max(1, Math.round(e.duration)))),
    mediaSequenceBase: 0,
    playlistType: opts.ended ? 'VOD' : 'EVENT',
    endlist: opts.ended,
    isIFrame: true,
    independentSegments: true,
    segments: entries.map(
      (e, i) => new HLS.types.Segment({ uri: segmentFile(e.n), duration: e.duration, byterange: { offset: e.offset, length: e.length }, mediaSequenceNumber: i }),
    ),
  });
  return withNewline(HLS.stringify(playlist));
}

/** Bit rates of an I-frame playlist: each keyframe's bytes over its EXTINF (RFC 8216 §4.3.4.3: BANDWIDTH of the I-frame playlist). */
export function measureIFrames(entries: readonly IFrameEntry[]): SegmentBitrates {
  const playlist = new HLS.types.MediaPlaylist({
    targetDuration: Math.max(1, ...entries.map((e) => Math.round(e.duration))),
    segments: entries.map((e) => new HLS.types.Segment({ uri: segmentFile(e.n), duration: e.duration })),
  });
  return computeSegmentBitrates(playlist, entries.map((e) => e.length));
}

/** A video (or audio-only) variant to list in the master playlist. */
export interface MasterVariantInput {
  /** Rendition name, e.g. "720p". */
  name: string;
  /** Media playlist URI relative to the master, e.g. "720p/index.m3u8". */
  uri: string;
  /** Codec string of this variant's own media, e.g. "avc1.64001f" (audio-only: "mp4a.40.2"). */
  codecs: string;
  /** Pixels; omitted for an audio-only variant. */
  width?: number;
  height?: number;
  /** Frames per second; written with 3 decimals. */
  frameRate?: number;
  /** The segments its media playlist lists. */
  segments: readonly SegmentInfo[];
  /** Its I-frame playlist, listed as an EXT-X-I-FRAME-STREAM-INF (video variants only). */
  iframes?: { uri: string; entries: readonly IFrameEntry[] };
}

/** The audio rendition group shared by all video variants. */
export interface MasterAudioInput {
  /** Media playlist URI relative to the master, e.g. "audio/index.m3u8". */
  uri: string;
  /** GROUP-ID; default "aud". */
  groupId?: string;
  /** NAME shown in player menus; default "Audio". */
  name?: string;
  /** Codec string, e.g. "mp4a.40.2". */
  codecs: string;
  /** Channel count, written as CHANNELS. */
  channels: number;
  /** ISO 639 language, written as LANGUAGE when known. */
  language?: string;
  segments: readonly SegmentInfo[];
}

export interface MasterOptions {
  /** At least one variant. For audio-only output, the audio playlist itself as the only variant and no `audio`. */
  variants: MasterVariantInput[];
  audio?: MasterAudioInput;
  /**
   * Which variant is listed first. AVPlayer and hls.js start playback with the
   * first variant in the master playlist, so the list is ordered by BANDWIDTH
   * descending except that the highest variant whose AVERAGE-BANDWIDTH is at
   * most this many bit/s is moved to the front (default 2 500 000: about the
   * 540p rung, quick to start on cellular, and players switch up after the
   * first segments). `null`: plain descending order (top quality first).
   */
  startupMaxAverageBandwidth?: number | null;
}

export interface MeasuredIFrames {
  uri: string;
  /** Peak bit rate of the I-frame playlist, bit/s (its BANDWIDTH). */
  bandwidth: number;
  /** Average bit rate of the I-frame playlist, bit/s (its AVERAGE-BANDWIDTH). */
  averageBandwidth: number;
}

export interface MeasuredVariant extends Omit<MasterVariantInput, 'segments' | 'iframes'> {
  iframes?: MeasuredIFrames;
  /** BANDWIDTH in bit/s: peak segment bit rate of the variant plus that of the audio group. */
  bandwidth: number;
  /** AVERAGE-BANDWIDTH in bit/s: average segment bit rate of the variant plus that of the audio group. */
  averageBandwidth: number;
  /** Full CODECS value, e.g. "avc1.64001f,mp4a.40.2". */
  codecs: string;
  /** Duration of the variant's media playlist, seconds. */
  durationSeconds: number;
}

export interface MeasuredAudio extends Omit<MasterAudioInput, 'segments'> {
  groupId: string;
  /** Peak segment bit rate of the audio playlist, bit/s. */
  peakBitrate: number;
  /** Average segment bit rate of the audio playlist, bit/s. */
  averageBitrate: number;
  durationSeconds: number;
}

export interface MasterResult {
  /** The playlist text. */
  text: string;
  /** Variants in the order they are listed. */
  variants: MeasuredVariant[];
  audio?: MeasuredAudio;
}

export const DEFAULT_STARTUP_MAX_AVERAGE_BANDWIDTH = 2_500_000;

/** Measures a segment list (see `computeSegmentBitrates`). */
export function measureSegments(segments: readonly SegmentInfo[]): SegmentBitrates {
  const playlist = new HLS.types.MediaPlaylist({
    targetDuration: targetDuration(segments),
    segments: segments.map((s) => new HLS.types.Segment({ uri: segmentFile(s.n), duration: s.duration })),
  });
  return computeSegmentBitrates(playlist, segments.map((s) => s.bytes));
}

/**
 * The multivariant playlist, with hls-parser: EXT-X-VERSION 3,
 * EXT-X-INDEPENDENT-SEGMENTS, one EXT-X-MEDIA TYPE=AUDIO (DEFAULT=YES,
 * AUTOSELECT=YES, CHANNELS) when there is an audio group, and per variant
 * BANDWIDTH, AVERAGE-BANDWIDTH, CODECS, RESOLUTION, FRAME-RATE and AUDIO.
 *
 * @throws RangeError when `variants` is empty or a variant has no segments.
 * @throws Error when the text does not parse back.
 */
export function masterPlaylist(opts: MasterOptions): MasterResult {
  if (opts.variants.length === 0) throw new RangeError('A master playlist needs at least one variant');

  let audio: MeasuredAudio | undefined;
  if (opts.audio) {
    const { segments, ...rest } = opts.audio;
    const m = measureSegments(segments);
    audio = { ...rest, groupId: opts.audio.groupId ?? 'aud', peakBitrate: m.peakBitrate, averageBitrate: m.averageBitrate, durationSeconds: m.durationSeconds };
  }
  const measured = opts.variants.map(({ segments, iframes, ...v }) => {
    const m = measureSegments(segments);
    const i = iframes ? measureIFrames(iframes.entries) : undefined;
    const variant: MeasuredVariant = {
      ...v,
      iframes: iframes && i ? { uri: iframes.uri, bandwidth: Math.ceil(i.peakBitrate), averageBandwidth: Math.round(i.averageBitrate) } : undefined,
      bandwidth: Math.ceil(m.peakBitrate + (audio?.peakBitrate ?? 0)),
      averageBandwidth: Math.round(m.averageBitrate + (audio?.averageBitrate ?? 0)),
      codecs: audio ? `${v.codecs},${audio.codecs}` : v.codecs,
      durationSeconds: m.durationSeconds,
    };
    return variant;
  });

  const variants = orderVariants(
    measured,
    opts.startupMaxAverageBandwidth === undefined ? DEFAULT_STARTUP_MAX_AVERAGE_BANDWIDTH : opts.startupMaxAverageBandwidth,
  );
  const text = withNewline(HLS.stringify(buildMasterPlaylist(variants, audio, 3)));
  // Round-trip through the parser so a malformed playlist never gets published.
  const check = HLS.parse(text);
  const listed = variants.length + variants.filter((v) => v.iframes).length;
  if (!check.isMasterPlaylist || check.variants.length !== listed) throw new Error('Generated master playlist does not parse back');
  return { text, variants, audio };
}

/**
 * Order variants by BANDWIDTH descending, then move the startup variant (see
 * `WriteMasterOptions.startupMaxAverageBandwidth`) to the front. When no
 * variant is under the threshold the lowest one starts. Pure.
 */
export function orderVariants<T extends { bandwidth: number; averageBandwidth: number }>(
  variants: readonly T[],
  startupMaxAverageBandwidth: number | null,
): T[] {
  const sorted = [...variants].sort((a, b) => b.bandwidth - a.bandwidth);
  if (startupMaxAverageBandwidth === null || sorted.length < 2) return sorted;
  const startIndex = sorted.findIndex((v) => v.averageBandwidth <= startupMaxAverageBandwidth);
  const idx = startIndex === -1 ? sorted.length - 1 : startIndex;
  const [start] = sorted.splice(idx, 1);
  return [start!, ...sorted];
}

function buildMasterPlaylist(variants: MeasuredVariant[], audio: MeasuredAudio | undefined, version: number): MasterPlaylist {
  const audioRendition = audio
    ? new HLS.types.Rendition(
        // FORCED must stay undefined: the attribute is only allowed on SUBTITLES.
        {
          type: 'AUDIO',
          groupId: audio.groupId,
          name: audio.name ?? 'Audio',
          isDefault: true,
          autoselect: true,
          language: audio.language,
          channels: String(audio.channels),
          uri: audio.uri,
        } as ConstructorParameters<typeof HLS.types.Rendition>[0],
      )
    : undefined;

  // One EXT-X-I-FRAME-STREAM-INF per video variant, after the variants (Apple HLS Authoring Spec, "Trick Play").
  // FRAME-RATE and AUDIO are not allowed on it (RFC 8216 §4.3.4.3); CODECS names the video only.
  const iframeVariants = variants
    .filter((v) => v.iframes)
    .map(
      (v) =>
        new HLS.types.Variant({
          uri: v.iframes!.uri,
          isIFrameOnly: true,
          bandwidth: v.iframes!.bandwidth,
          averageBandwidth: v.iframes!.averageBandwidth,
          codecs: v.codecs.split(',')[0],
          resolution: v.width && v.height ? { width: v.width, height: v.height } : undefined,
        }),
    );
  return new HLS.types.MasterPlaylist({
    version,
    independentSegments: true,
    variants: [...variants.map(
      (v) =>
        new HLS.types.Variant({
          uri: v.uri,
          bandwidth: v.bandwidth,
          averageBandwidth: v.averageBandwidth,
          codecs: v.codecs,
          resolution: v.width && v.height ? { width: v.width, height: v.height } : undefined,
          frameRate: v.frameRate,
          audio: audioRendition ? [audioRendition as HlsRendition & { type: 'AUDIO' }] : [],
        }),
    ), ...iframeVariants],
  });
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

function parseMediaPlaylist(text: string): MediaPlaylist {
  const playlist = HLS.parse(text);
  if (playlist.isMasterPlaylist) throw new Error('Expected a media playlist, got a master playlist');
  return playlist;
}
