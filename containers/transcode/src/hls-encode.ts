/**
 * One-pass HLS ladder encode: a single ffmpeg process decodes the source once,
 * splits the picture into every rendition with `-filter_complex`, encodes each
 * with libx264, encodes the audio once as its own rendition group, and lets
 * ffmpeg's hls muxer write MPEG-TS segments and media playlists:
 *
 *   outDir/master.m3u8            (rewritten afterwards from measured segments)
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
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { TranscodeError, redactUrls } from './errors.js';
import { AUDIO, type Rendition } from './ladder.js';
import { avc1Codec, writeMasterPlaylist, type MasterAudioInput, type MasterVariantInput } from './master-playlist.js';
import { probeH264, type SourceInfo } from './probe.js';

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
  /** Aborting sends ffmpeg SIGTERM, then SIGKILL after `killGraceMs`, and rejects with code `transcode_aborted`. */
  signal?: AbortSignal;
  /** Milliseconds between SIGTERM and SIGKILL on abort; default 5000. */
  killGraceMs?: number;
}

/** One video variant as listed in the master playlist. */
export interface VariantInfo {
  name: string;
  /** Media playlist path relative to `outDir`, e.g. "720p/index.m3u8". */
  uri: string;
  /** Pixels. */
  width: number;
  height: number;
  /** BANDWIDTH, bit/s: measured peak segment bit rate, video + audio. */
  bandwidth: number;
  /** AVERAGE-BANDWIDTH, bit/s: measured average bit rate, video + audio. */
  averageBandwidth: number;
  /** CODECS, e.g. "avc1.64001f,mp4a.40.2" (profile/level read back from the first segment). */
  codecs: string;
  /** FRAME-RATE, fps. */
  frameRate: number;
}

/** The audio rendition (a group shared by the video variants, or the only variant of audio-only media). */
export interface AudioInfo {
  /** Always "audio". */
  name: string;
  /** "audio/index.m3u8". */
  uri: string;
  /** "aud" when it is an EXT-X-MEDIA group; absent for audio-only output, where it is the variant itself. */
  groupId?: string;
  /** "mp4a.40.2" (AAC-LC). */
  codecs: string;
  channels: number;
  /** Hz. */
  sampleRate: number;
  /** Peak segment bit rate of the audio playlist, bit/s (the variant's BANDWIDTH when audio-only). */
  bandwidth: number;
  /** Average bit rate of the audio playlist, bit/s. */
  averageBandwidth: number;
}

export interface EncodeResult {
  /** Video variants in master-playlist order (empty for audio-only media). */
  variants: VariantInfo[];
  audio?: AudioInfo;
  /** Duration of the encoded presentation (sum of EXTINF of the first variant), seconds. */
  durationSeconds: number;
  /** Absolute path of the master playlist. */
  masterPlaylist: string;
}

/** The ffmpeg command line, split the way fluent-ffmpeg takes it. */
export interface FfmpegArgs {
  inputOptions: string[];
  outputOptions: string[];
  /** The output "file": the media playlist template `outDir/%v/index.m3u8`. */
  output: string;
}

const AUDIO_NAME = 'audio';
const AUDIO_GROUP = 'aud';
const DEFAULT_PRESET = 'veryfast';
const DEFAULT_KILL_GRACE_MS = 5000;
const STDERR_TAIL_LINES = 40;
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
    streamMap.unshift(`a:0${group},name:${AUDIO_NAME}`);
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
    '-hls_segment_filename', path.join(outDir, '%v', 'seg_%05d.ts'),
    '-master_pl_name', 'master.m3u8',
    '-var_stream_map', streamMap.join(' '),
  );

  return { inputOptions, outputOptions: out, output: path.join(outDir, '%v', 'index.m3u8') };
}

/**
 * Encode the whole ladder in one ffmpeg process and write the master playlist.
 *
 * @returns Variants with measured BANDWIDTH/AVERAGE-BANDWIDTH and CODECS, the
 *   audio rendition, and the encoded duration in seconds.
 * @throws RangeError for inconsistent options (see `buildFfmpegArgs`).
 * @throws TranscodeError `code: 'transcode_failed'` when ffmpeg fails (with
 *   `stderrTail`, URL query strings redacted) or its output is unusable;
 *   `code: 'transcode_aborted'` when `signal` aborts (partial output is left
 *   in `outDir` for the caller to remove).
 */
export async function encodeHlsLadder(opts: EncodeOptions): Promise<EncodeResult> {
  const args = buildFfmpegArgs(opts);
  const outDir = path.resolve(opts.outDir);
  const progress = progressReporter(opts.onProgress);

  await mkdir(outDir, { recursive: true });
  await runFfmpeg(args, opts, (seconds) => progress.report((seconds / opts.source.durationSeconds) * 100));
  throwIfAborted(opts.signal);

  const video = opts.renditions.length > 0 ? opts.source.video : undefined;
  const audio = opts.source.audio;

  const variants: MasterVariantInput[] = await Promise.all(
    opts.renditions.map(async (r) => ({
      name: r.name,
      uri: `${r.name}/index.m3u8`,
      codecs: await videoCodecString(path.join(outDir, r.name, 'seg_00000.ts')),
      width: r.width,
      height: r.height,
      frameRate: r.frameRate,
    })),
  );
  const audioInput: MasterAudioInput | undefined = audio
    ? { uri: `${AUDIO_NAME}/index.m3u8`, codecs: AUDIO.codecs, channels: AUDIO.channels, language: audio.language }
    : undefined;

  const master = await writeMasterPlaylist(
    video
      ? { outDir, variants, audio: audioInput }
      : // Audio-only: the audio playlist is the one variant; there is no group to refer to.
        { outDir, variants: [{ name: AUDIO_NAME, uri: audioInput!.uri, codecs: AUDIO.codecs }] },
  ).catch((err: unknown) => {
    throw new TranscodeError(`ffmpeg output is incomplete: ${(err as Error).message}`, { cause: err });
  });

  let audioInfo: AudioInfo | undefined;
  if (master.audio) {
    audioInfo = {
      name: AUDIO_NAME,
      uri: master.audio.uri,
      groupId: master.audio.groupId,
      codecs: AUDIO.codecs,
      channels: AUDIO.channels,
      sampleRate: AUDIO.sampleRate,
      bandwidth: Math.ceil(master.audio.peakBitrate),
      averageBandwidth: Math.round(master.audio.averageBitrate),
    };
  } else if (!video) {
    const v = master.variants[0]!;
    audioInfo = {
      name: AUDIO_NAME,
      uri: v.uri,
      codecs: AUDIO.codecs,
      channels: AUDIO.channels,
      sampleRate: AUDIO.sampleRate,
      bandwidth: v.bandwidth,
      averageBandwidth: v.averageBandwidth,
    };
  }

  const result: EncodeResult = {
    variants: video
      ? master.variants.map((v) => ({
          name: v.name,
          uri: v.uri,
          width: v.width!,
          height: v.height!,
          bandwidth: v.bandwidth,
          averageBandwidth: v.averageBandwidth,
          codecs: v.codecs,
          frameRate: v.frameRate!,
        }))
      : [],
    audio: audioInfo,
    durationSeconds: master.variants[0]!.durationSeconds,
    masterPlaylist: master.path,
  };
  throwIfAborted(opts.signal);
  progress.finish();
  return result;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new TranscodeError('Transcode aborted', { code: 'transcode_aborted', cause: signal.reason });
  }
}

// ---------------------------------------------------------------------------

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
  const names = new Set<string>([AUDIO_NAME]);
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

async function videoCodecString(firstSegment: string): Promise<string> {
  try {
    const { profile, level } = await probeH264(firstSegment);
    return avc1Codec(profile, level);
  } catch (err) {
    throw new TranscodeError(`Cannot read the encoded video back (${path.basename(path.dirname(firstSegment))}): ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Clamped, non-decreasing percentages; repeated values are not re-sent. */
function progressReporter(onProgress?: (percent: number) => void) {
  let last = -1;
  const emit = (p: number) => {
    if (!onProgress || !(p > last)) return;
    last = p;
    onProgress(p);
  };
  return {
    // Encoding is capped at 99.9: 100 means the master playlist is written too.
    report: (percent: number) => emit(Math.round(Math.min(99.9, Math.max(0, percent)) * 10) / 10),
    finish: () => emit(100),
  };
}

/** "00:01:02.50" → 62.5; NaN for "N/A". */
function timemarkSeconds(mark: string): number {
  const m = /^(-)?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(mark);
  if (!m) return NaN;
  const s = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  return m[1] ? -s : s;
}

function isProgressLine(line: string): boolean {
  return /^(frame|size)=/.test(line.trimStart());
}

/**
 * Run ffmpeg through fluent-ffmpeg. Progress is parsed from the same stderr
 * lines fluent-ffmpeg's 'progress' event uses (`time=` ÷ duration); that
 * event is not used because attaching it makes fluent-ffmpeg run an extra
 * ffprobe on the input, i.e. another read of the presigned URL.
 */
function runFfmpeg(args: FfmpegArgs, opts: EncodeOptions, onTime: (seconds: number) => void): Promise<void> {
  const { signal } = opts;
  const graceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  if (signal?.aborted) {
    return Promise.reject(
      new TranscodeError('Transcode aborted before ffmpeg started', { code: 'transcode_aborted', cause: signal.reason }),
    );
  }

  return new Promise<void>((resolve, reject) => {
    const tail: string[] = [];
    let started = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;

    // Always pass several arguments: with a single array argument fluent-ffmpeg
    // splits any option value that contains one space (e.g. -var_stream_map).
    const command = ffmpeg()
      .input(opts.input)
      .inputOptions(...args.inputOptions)
      .output(args.output)
      .outputOptions(...args.outputOptions);

    const kill = () => {
      command.kill('SIGTERM');
      killTimer = setTimeout(() => command.kill('SIGKILL'), graceMs);
      killTimer.unref();
    };
    const onAbort = () => {
      aborted = true;
      // Before 'start' fluent-ffmpeg is still checking capabilities; kill on start instead.
      if (started) kill();
    };
    const cleanup = () => {
      signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const abortedError = () =>
      new TranscodeError('Transcode aborted; ffmpeg was stopped', { code: 'transcode_aborted', stderrTail: tail, cause: signal?.reason });

    command
      .on('start', () => {
        started = true;
        if (aborted) kill();
      })
      .on('stderr', (line: string) => {
        if (isProgressLine(line)) {
          const mark = /time=\s*(\S+)/.exec(line)?.[1];
          const seconds = mark ? timemarkSeconds(mark) : NaN;
          if (Number.isFinite(seconds)) onTime(seconds);
          return;
        }
        if (line.trim() === '') return;
        tail.push(redactUrls(line));
        if (tail.length > STDERR_TAIL_LINES) tail.shift();
      })
      .on('end', () => {
        cleanup();
        // ffmpeg finishes cleanly on SIGTERM when it was about to end anyway; the output is still not wanted.
        if (aborted) reject(abortedError());
        else resolve();
      })
      .on('error', (err: Error) => {
        cleanup();
        if (aborted) {
          reject(abortedError());
          return;
        }
        const exit = /exited with code (\d+)/.exec(err.message);
        const exitCode = exit ? Number(exit[1]) : undefined;
        // e.g. "ffmpeg exited with code 1", "ffmpeg was killed with signal SIGKILL" (OOM), "Cannot find ffmpeg".
        const head = exitCode === undefined ? redactUrls(err.message.split('\n')[0] || 'ffmpeg failed') : `ffmpeg exited with code ${exitCode}`;
        const summary = tail.slice(-3).join(' | ');
        // No `cause`: fluent-ffmpeg's message embeds raw stderr, which may hold the presigned URL.
        reject(new TranscodeError(summary ? `${head}: ${summary}` : head, { stderrTail: tail, exitCode }));
      })
      .run();
  });
}
