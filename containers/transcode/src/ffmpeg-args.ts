/**
 * The ffmpeg command line of a one-pass HLS ladder (pure; no I/O): a single
 * ffmpeg process decodes the source once, splits the picture into every
 * rendition with `-filter_complex`, encodes each with libx264, encodes the
 * audio once as its own rendition group, and lets ffmpeg's hls muxer write
 * MPEG-TS segments and media playlists:
 *
 *   outDir/<name>/index.m3u8      (one per rendition, e.g. 720p/, 360p/, audio/)
 *   outDir/<name>/seg_00000.ts
 *
 * Alignment: every rendition gets a keyframe at each multiple of
 * `keyframeSeconds` (`-force_key_frames expr:gte(t,n_forced*2)`, scene-cut
 * keyframes disabled, GOP limit above the interval), so segment boundaries
 * fall on the same timestamps in every rendition and players can switch
 * between them at any segment (Apple HLS Authoring Spec, "Video": key frames
 * every two seconds; "Media segmentation": 6-second target duration).
 */
import path from 'node:path';
import { AUDIO, AUDIO_RENDITION, MASTER_PLAYLIST, MEDIA_PLAYLIST, SEGMENT_TEMPLATE } from '@vod/contract';
import type { Rendition } from './ladder.js';
import type { SourceInfo } from './probe.js';

export interface EncodeOptions {
  /** Local path or http(s) URL (S3 presigned GET); read once, sequentially. */
  input: string;
  /** Output directory; created if missing. Should be empty: it receives the whole ladder. */
  outDir: string;
  /** `probeSource(input)` result. */
  source: SourceInfo;
  /** Video renditions (`planLadder(source.video)`); must be empty when the source has no video. */
  renditions: Rendition[];
  /** Target segment duration in seconds (EXT-X-TARGETDURATION); default 6. A multiple of `keyframeSeconds`. */
  segmentSeconds?: number;
  /** Keyframe interval in seconds, identical in every rendition; default 2. */
  keyframeSeconds?: number;
  /** x264 preset; default "veryfast". */
  preset?: string;
  /** Called with 0..100, non-decreasing; 100 once the master playlist is written. */
  onProgress?: (percent: number) => void;
  /** Aborting sends ffmpeg SIGTERM, then SIGKILL after `killGraceMs`, and rejects with a TranscodeError with `aborted: true`. */
  signal?: AbortSignal;
  /** Milliseconds between SIGTERM and SIGKILL on abort; default 5000. */
  killGraceMs?: number;
}

/** One video variant as listed in the master playlist. */
/** The ffmpeg command line, split the way fluent-ffmpeg takes it. */
export interface FfmpegArgs {
  inputOptions: string[];
  outputOptions: string[];
  /** The output "file": the media playlist template `outDir/%v/index.m3u8`. */
  output: string;
}

/** GROUP-ID of the audio rendition group in ffmpeg's var_stream_map (the master playlist is rewritten anyway). */
const AUDIO_GROUP = 'aud';
const DEFAULT_PRESET = 'veryfast';
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Build the ffmpeg arguments for a ladder. Pure; exported for tests and logs.
 *
 * @throws RangeError for inconsistent options (no streams, renditions without
 *   video, duplicate or unsafe names, odd sizes, segment length not a multiple
 *   of the keyframe interval, "%" in outDir).
 */
export function buildFfmpegArgs(opts: EncodeOptions): FfmpegArgs {
  const { source, renditions } = opts;
  const segmentSeconds = opts.segmentSeconds ?? 6;
  const keyframeSeconds = opts.keyframeSeconds ?? 2;
  validate(opts, segmentSeconds, keyframeSeconds);

  const video = renditions.length > 0 ? source.video : undefined;
  const audio = source.audio;
  const outDir = path.resolve(opts.outDir);

  const inputOptions = ['-hide_banner', '-nostdin'];
  if (/^https?:\/\//i.test(opts.input)) {
    // Survive S3 connection resets during a long encode (ranged GETs resume where they stopped).
    inputOptions.push('-reconnect', '1', '-reconnect_on_network_error', '1', '-reconnect_delay_max', '30', '-rw_timeout', '60000000');
  }

  const out: string[] = [];
  const streamMap: string[] = [];
  const group = video && audio ? `,agroup:${AUDIO_GROUP}` : '';

  if (video) {
    // ffmpeg autorotates on decode (a transpose before this graph), so the
    // split gets display-oriented frames; outputs carry no rotation metadata.
    const labels = renditions.map((_, i) => `[s${i}]`).join('');
    const branches = renditions.map(
      (r, i) =>
        `[s${i}]fps=${frameRateArg(r.frameRate)},scale=w=${r.width}:h=${r.height},setsar=1,format=yuv420p[v${i}]`,
    );
    // Apple HLS Authoring Spec ("Video"): interlaced content MUST be de-interlaced. Only frames
    // flagged interlaced are touched, so mixed progressive/interlaced streams pass through.
    const deinterlace = video.interlaced ? 'bwdif=mode=send_frame:deint=interlaced,' : '';
    out.push('-filter_complex', [`[0:${video.index}]${deinterlace}split=${renditions.length}${labels}`, ...branches].join(';'));
    renditions.forEach((_, i) => out.push('-map', `[v${i}]`));

    const maxFps = Math.max(...renditions.map((r) => r.frameRate));
    out.push(
      '-c:v', 'libx264',
      '-preset', opts.preset ?? DEFAULT_PRESET,
      '-force_key_frames', `expr:gte(t,n_forced*${keyframeSeconds})`,
      '-sc_threshold', '0',
      // x264's own GOP limit stays above the forced interval, so only the forced keyframes exist.
      '-g', String(Math.ceil(maxFps * keyframeSeconds) * 2),
    );
    renditions.forEach((r, i) => {
      out.push(
        `-b:v:${i}`, `${r.videoBitrateKbps}k`,
        `-maxrate:v:${i}`, `${r.maxrateKbps}k`,
        `-bufsize:v:${i}`, `${r.bufsizeKbits}k`,
        `-profile:v:${i}`, r.profile,
      );
      if (r.level) out.push(`-level:v:${i}`, r.level);
      streamMap.push(`v:${i}${group},name:${r.name}`);
    });
  }

  if (audio) {
    out.push(
      '-map', `0:${audio.index}`,
      '-c:a', AUDIO.codec,
      '-b:a', `${AUDIO.bitrateKbps}k`,
      '-ac', String(AUDIO.channels), // downmixes surround to stereo
      '-ar', String(AUDIO.sampleRate),
    );
    streamMap.unshift(`a:0${group},name:${AUDIO_RENDITION}`);
  }

  out.push(
    // Sources whose audio starts well before the video would otherwise overflow the muxing queue.
    '-max_muxing_queue_size', '4096',
    '-f', 'hls',
    '-hls_time', String(segmentSeconds),
    '-hls_playlist_type', 'vod',
    '-hls_list_size', '0',
    '-hls_segment_type', 'mpegts',
    '-hls_flags', 'independent_segments',
    '-hls_segment_filename', path.join(outDir, '%v', SEGMENT_TEMPLATE),
    '-master_pl_name', MASTER_PLAYLIST,
    '-var_stream_map', streamMap.join(' '),
  );

  return { inputOptions, outputOptions: out, output: path.join(outDir, '%v', MEDIA_PLAYLIST) };
}

function validate(opts: EncodeOptions, segmentSeconds: number, keyframeSeconds: number): void {
  const { source, renditions } = opts;
  if (!source.video && !source.audio) throw new RangeError('The source has neither video nor audio');
  if (renditions.length > 0 && !source.video) throw new RangeError('Video renditions given for a source without video');
  if (renditions.length === 0 && !source.audio) throw new RangeError('No renditions to encode');
  if (opts.outDir.includes('%')) throw new RangeError('outDir must not contain "%" (ffmpeg expands it in file templates)');
  if (!(keyframeSeconds > 0) || !(segmentSeconds > 0)) throw new RangeError('Segment and keyframe durations must be positive');
  const ratio = segmentSeconds / keyframeSeconds;
  if (Math.abs(ratio - Math.round(ratio)) > 1e-9) {
    throw new RangeError(`segmentSeconds (${segmentSeconds}) must be a multiple of keyframeSeconds (${keyframeSeconds})`);
  }
  const names = new Set<string>([AUDIO_RENDITION]);
  for (const r of renditions) {
    if (!NAME_PATTERN.test(r.name)) throw new RangeError(`Rendition name "${r.name}" must match ${NAME_PATTERN}`);
    if (names.has(r.name)) throw new RangeError(`Duplicate or reserved rendition name "${r.name}"`);
    names.add(r.name);
    if (r.width % 2 || r.height % 2 || r.width < 2 || r.height < 2) {
      throw new RangeError(`Rendition ${r.name} must have even dimensions, got ${r.width}x${r.height}`);
    }
  }
}

/** fps filter argument: exact NTSC rationals (30000/1001), integers, else 3 decimals. */
function frameRateArg(fps: number): string {
  if (Math.abs(fps - Math.round(fps)) < 1e-6) return String(Math.round(fps));
  const ntsc = Math.round(fps * 1.001);
  if (Math.abs(fps - (ntsc * 1000) / 1001) < 1e-6) return `${ntsc * 1000}/1001`;
  return fps.toFixed(3);
}
