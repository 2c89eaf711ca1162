/**
 * ffmpeg command lines of the transcode tasks. Pure: no I/O.
 *
 * One timeline for everything: every output's timestamps are the source's
 * time (measured from the file's start, as ffmpeg normalises it) plus
 * `TIMELINE_OFFSET_SECONDS`, written as is (`-avoid_negative_ts disabled`,
 * `mpegts_copyts`). So chunks encoded by different processes, and the audio
 * encoded by yet another, line up to the tick when their segments are listed
 * in one playlist — no EXT-X-DISCONTINUITY, no timestamp reset. The offset
 * keeps every timestamp positive (B-frame reordering, AAC priming), as
 * MPEG-TS needs (ISO/IEC 13818-1: PTS/DTS are unsigned).
 *
 * A chunk task (`buildChunkArgs`) decodes its time range once (seeking with
 * HTTP range reads), splits the picture into every rendition and writes each
 * with the segment muxer:
 *   outDir/<rendition>/seg_<n>.ts   numbered on the grid (segment n starts at n·segmentSeconds)
 *   outDir/<rendition>.csv          the segment list (file, start, end in timeline seconds)
 * Each rendition keeps exactly the frames of its own frame grid whose time is
 * in [start, end) (frame numbers, not rounded seconds), has a keyframe on the
 * first frame at or after every multiple of `keyframeSeconds`, and is cut at
 * every multiple of `segmentSeconds` (Apple HLS Authoring Spec, "Video":
 * keyframes every 2 s; "Media segmentation": 6-second segments).
 *
 * The audio task (`buildAudioArgs`) encodes the whole audio track once, AAC-LC
 * stereo (Apple HLS Authoring Spec, "Audio"): encoding AAC in pieces would
 * leave a priming gap and a click at every chunk boundary.
 */
import path from 'node:path';
import { AUDIO, AUDIO_RENDITION, SEGMENT_TEMPLATE, TIMELINE_OFFSET_SECONDS, type ChunkSpan, type EncodeSettings, type Rendition } from '@vod/contract';
import { firstFrameAtOrAfter, frameRateArg, frameTime } from './frame-rate.js';

/** The shared timeline's offset (contract captions.ts: text tracks' X-TIMESTAMP-MAP follows it). */
export { TIMELINE_OFFSET_SECONDS };
/** Seconds decoded before a chunk's start and after its end, so filters with memory (fps, de-interlacing) see the same neighbours as in one pass. */
export const CHUNK_CONTEXT_SECONDS = 1;
/** A split time past any real end: the segment muxer then keeps everything after the last real boundary in one segment. */
const NO_MORE_SPLITS = '99999999';

/**
 * Container formats ffprobe and ffmpeg may open (`-format_whitelist`): real
 * audio/video containers only. Playlists and manifests (hls, dash), concat
 * lists, image sequences, lavfi graphs and text are refused, so nothing an
 * upload says can make ffmpeg open another file or URL.
 */
export const INPUT_FORMATS = [
  'mov', 'matroska', 'webm', 'avi', 'mpegts', 'mpeg', 'mxf', 'flv', 'asf', 'ogg', 'dv', 'ivf', 'nut',
  'wav', 'w64', 'aiff', 'caf', 'mp3', 'aac', 'flac', 'ac3', 'eac3', 'amr',
] as const;

/** The protocols reading `input` needs, and no others (`-protocol_whitelist`). */
export function inputProtocols(input: string): string[] {
  if (/^https:\/\//i.test(input)) return ['https', 'tls', 'tcp'];
  if (/^http:\/\//i.test(input)) return ['http', 'tcp'];
  return ['file'];
}

/**
 * Input options every ffmpeg/ffprobe run on an upload gets: the format and
 * protocol allowlists, TLS verification, timeouts. `reconnect` (encodes):
 * survive S3 connection resets, resuming ranged GETs where they stopped; a
 * probe fails fast instead and its task is retried.
 */
export function safeInputOptions(input: string, { reconnect = true }: { reconnect?: boolean } = {}): string[] {
  const opts = ['-format_whitelist', INPUT_FORMATS.join(','), '-protocol_whitelist', inputProtocols(input).join(',')];
  if (/^https?:\/\//i.test(input)) {
    if (reconnect) opts.push('-reconnect', '1', '-reconnect_on_network_error', '1', '-reconnect_delay_max', '30');
    // Fail instead of hanging on a dead connection.
    opts.push('-rw_timeout', reconnect ? '60000000' : '30000000');
  }
  // Verify the certificate of an https source (ffmpeg does not by default).
  if (/^https:\/\//i.test(input)) opts.push('-tls_verify', '1');
  return opts;
}

/** An ffmpeg command line: one input (and more of our own files, if any), any number of outputs. */
export interface FfmpegArgs {
  input: string;
  inputOptions: string[];
  /** Further inputs (`-i`), in order after `input`: ffmpeg numbers them 1, 2, … */
  extraInputs?: { input: string; options: string[] }[];
  outputs: { options: string[]; target: string }[];
}

export interface ChunkArgsOptions {
  /** Local path or http(s) URL (S3 presigned GET). */
  input: string;
  /** Receives `<rendition>/seg_<n>.ts` and `<rendition>.csv`. */
  outDir: string;
  chunk: ChunkSpan;
  /** Stream index of the picture and whether to de-interlace it. */
  picture: { index: number; interlaced?: boolean };
  renditions: readonly Rendition[];
  settings: EncodeSettings;
}

/** x264's presets, fastest first (x264 --help). */
export const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'] as const;

/**
 * The x264 preset of a chunk: for the first chunk of a video of several chunks, the faster of
 * `settings.firstChunkPreset` and `settings.preset` (never slower than the run's preset, so a
 * configured `ultrafast` stays `ultrafast`); for every other chunk, `settings.preset`.
 */
export function presetOf(chunk: Pick<ChunkSpan, 'index' | 'last'>, settings: EncodeSettings): string {
  const first = settings.firstChunkPreset;
  if (chunk.index !== 0 || chunk.last || !first) return settings.preset;
  const rank = (p: string) => {
    const i = (X264_PRESETS as readonly string[]).indexOf(p);
    return i < 0 ? X264_PRESETS.length : i;
  };
  return rank(first) < rank(settings.preset) ? first : settings.preset;
}

/**
 * The ffmpeg command of one chunk task.
 * @throws RangeError for a chunk or settings off the segment grid, or unsafe names.
 */
export function buildChunkArgs(o: ChunkArgsOptions): FfmpegArgs {
  const { chunk, settings, renditions } = o;
  validateGrid(chunk, settings);
  if (renditions.length === 0) throw new RangeError('A chunk needs at least one rendition');
  if (o.outDir.includes('%')) throw new RangeError('outDir must not contain "%" (ffmpeg expands it in file templates)');
  const names = new Set<string>([AUDIO_RENDITION]);
  for (const r of renditions) {
    if (names.has(r.name)) throw new RangeError(`Duplicate or reserved rendition name "${r.name}"`);
    names.add(r.name);
    if (r.width % 2 || r.height % 2) throw new RangeError(`Rendition ${r.name} must have even dimensions, got ${r.width}x${r.height}`);
  }

  // Decode from a little before the start to a little after the end; the trims below keep exactly [start, end).
  const readFrom = Math.max(0, chunk.startSeconds - CHUNK_CONTEXT_SECONDS);
  const readUntil = chunk.endSeconds + CHUNK_CONTEXT_SECONDS;
  const inputOptions = ['-hide_banner', '-nostdin', '-benchmark', ...safeInputOptions(o.input)];
  if (readFrom > 0) inputOptions.push('-ss', String(readFrom));
  inputOptions.push('-t', String(readUntil - readFrom));

  // After an input seek ffmpeg starts the timestamps at 0; put them back on the source's clock.
  const clock = readFrom > 0 ? `setpts=PTS+${readFrom}/TB,` : '';
  const deinterlace = o.picture.interlaced ? 'bwdif=mode=send_frame:deint=interlaced,' : '';
  const labels = renditions.map((_, i) => `[s${i}]`).join('');
  const branches = renditions.map((r, i) => {
    const from = firstFrameAtOrAfter(chunk.startSeconds, r.frameRate);
    const until = chunk.last ? '' : `:end_pts=${firstFrameAtOrAfter(chunk.endSeconds, r.frameRate)}`;
    // After fps the timebase is 1/rate, so start_pts/end_pts are frame numbers on the rendition's grid.
    return `[s${i}]fps=${frameRateArg(r.frameRate)},trim=start_pts=${from}${until},scale=w=${r.width}:h=${r.height},setsar=1,format=yuv420p[v${i}]`;
  });
  const graph = [`[0:${o.picture.index}]${deinterlace}${clock}split=${renditions.length}${labels}`, ...branches].join(';');

  const cuts = splitTimes(chunk.startSeconds, chunk.last ? Infinity : chunk.endSeconds, chunk.endSeconds, settings.segmentSeconds);
  const outputs = renditions.map((r, i) => {
    const keyframes: string[] = [];
    for (let t = chunk.startSeconds; t < chunk.endSeconds; t += settings.keyframeSeconds) {
      keyframes.push(frameTime(firstFrameAtOrAfter(t, r.frameRate), r.frameRate));
    }
    const options = [
      ...(i === 0 ? ['-filter_complex', graph] : []),
      '-map', `[v${i}]`,
      '-c:v', 'libx264',
      '-preset', presetOf(chunk, settings),
      '-profile:v', r.profile,
      ...(r.level ? ['-level:v', r.level] : []),
      '-b:v', `${r.videoBitrateKbps}k`,
      '-maxrate:v', `${r.maxrateKbps}k`,
      '-bufsize:v', `${r.bufsizeKbits}k`,
      // Keyframes exactly where the grid says, none elsewhere (x264's own GOP limit stays above the interval).
      '-force_key_frames', keyframes.join(','),
      '-sc_threshold', '0',
      '-g', String(Math.ceil((r.frameRate.num / r.frameRate.den) * settings.keyframeSeconds) * 2),
      // The fps filter already made constant-rate frames on the source clock: keep their timestamps.
      '-fps_mode', 'passthrough',
      ...segmentOutput(path.join(o.outDir, `${r.name}.csv`), cuts, chunk.firstSegment),
    ];
    return { options, target: path.join(o.outDir, r.name, SEGMENT_TEMPLATE) };
  });
  return { input: o.input, inputOptions, outputs };
}

export interface AudioArgsOptions {
  input: string;
  /** Receives `audio/seg_<n>.ts` and `audio.csv`. */
  outDir: string;
  /** Stream index of the audio track. */
  index: number;
  /** Seconds of source to encode at most. */
  endSeconds: number;
  settings: EncodeSettings;
}

/** The ffmpeg command of the audio task: the whole track, AAC-LC stereo 48 kHz, cut on the segment grid. */
export function buildAudioArgs(o: AudioArgsOptions): FfmpegArgs {
  if (!(o.endSeconds > 0)) throw new RangeError('endSeconds must be positive');
  if (o.outDir.includes('%')) throw new RangeError('outDir must not contain "%" (ffmpeg expands it in file templates)');
  const inputOptions = ['-hide_banner', '-nostdin', '-benchmark', ...safeInputOptions(o.input), '-t', String(o.endSeconds)];
  const options = [
    '-map', `0:${o.index}`,
    '-vn', '-sn', '-dn',
    '-c:a', AUDIO.codec,
    '-b:a', `${AUDIO.bitrateKbps}k`,
    '-ac', String(AUDIO.channels), // downmixes surround to stereo
    '-ar', String(AUDIO.sampleRate),
    ...segmentOutput(path.join(o.outDir, `${AUDIO_RENDITION}.csv`), splitTimes(0, Infinity, o.endSeconds, o.settings.segmentSeconds), 0),
  ];
  return { input: o.input, inputOptions, outputs: [{ options, target: path.join(o.outDir, AUDIO_RENDITION, SEGMENT_TEMPLATE) }] };
}

/** Segment-muxer output options on the shared timeline; `listFile` gets the CSV segment list. */
function segmentOutput(listFile: string, cuts: string[], firstSegment: number): string[] {
  return [
    '-max_muxing_queue_size', '4096',
    '-avoid_negative_ts', 'disabled',
    '-output_ts_offset', String(TIMELINE_OFFSET_SECONDS),
    '-f', 'segment',
    '-segment_format', 'mpegts',
    '-segment_format_options', 'mpegts_copyts=1',
    '-segment_times', [...cuts, NO_MORE_SPLITS].join(','),
    '-segment_start_number', String(firstSegment),
    '-reset_timestamps', '0',
    '-segment_list', listFile,
    '-segment_list_type', 'csv',
  ];
}

/** Timeline times of the segment cuts strictly inside (start, min(end, limit)). */
function splitTimes(start: number, end: number, limit: number, segmentSeconds: number): string[] {
  const cuts: string[] = [];
  for (let t = start + segmentSeconds; t < Math.min(end, limit); t += segmentSeconds) cuts.push((t + TIMELINE_OFFSET_SECONDS).toFixed(3));
  return cuts;
}

function validateGrid(chunk: ChunkSpan, settings: EncodeSettings): void {
  const { segmentSeconds: seg, keyframeSeconds: kf } = settings;
  if (!Number.isInteger(seg) || !Number.isInteger(kf) || seg <= 0 || kf <= 0 || seg % kf !== 0) {
    throw new RangeError(`segmentSeconds (${seg}) must be a whole multiple of keyframeSeconds (${kf})`);
  }
  if (!Number.isInteger(chunk.startSeconds) || chunk.startSeconds % seg !== 0) {
    throw new RangeError(`Chunk start ${chunk.startSeconds} s is not on the ${seg}-second segment grid`);
  }
  if (!chunk.last && (!Number.isInteger(chunk.endSeconds) || chunk.endSeconds % seg !== 0)) {
    throw new RangeError(`Chunk end ${chunk.endSeconds} s is not on the ${seg}-second segment grid`);
  }
  if (!(chunk.endSeconds > chunk.startSeconds)) throw new RangeError('A chunk must end after it starts');
  if (chunk.firstSegment !== chunk.startSeconds / seg) throw new RangeError(`Chunk ${chunk.index} must start with segment ${chunk.startSeconds / seg}`);
}
