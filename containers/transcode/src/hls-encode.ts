/**
 * One-pass HLS ladder encode: builds the ffmpeg command (ffmpeg-args.ts), runs
 * it (ffmpeg-runner.ts), reads the H.264 profile and level back from the
 * first segment of each rendition, and writes the multivariant playlist with
 * measured bit rates (master-playlist.ts):
 *
 *   outDir/master.m3u8
 *   outDir/<name>/index.m3u8      (one per rendition, e.g. 720p/, 360p/, audio/)
 *   outDir/<name>/seg_00000.ts
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { AUDIO, AUDIO_RENDITION, MEDIA_PLAYLIST, segmentFile } from '@vod/contract';
import { TranscodeError } from './errors.js';
import { buildFfmpegArgs, type EncodeOptions } from './ffmpeg-args.js';
import { runFfmpeg } from './ffmpeg-runner.js';
import { avc1Codec, writeMasterPlaylist, type MasterAudioInput, type MasterVariantInput } from './master-playlist.js';
import { probeH264 } from './probe.js';

export type { EncodeOptions } from './ffmpeg-args.js';

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

/**
 * Encode the whole ladder in one ffmpeg process and write the master playlist.
 *
 * @returns Variants with measured BANDWIDTH/AVERAGE-BANDWIDTH and CODECS, the
 *   audio rendition, and the encoded duration in seconds.
 * @throws RangeError for inconsistent options (see `buildFfmpegArgs`).
 * @throws TranscodeError when ffmpeg fails (with
 *   `stderrTail`, URL query strings redacted) or its output is unusable;
 *   `aborted: true` when `signal` aborts (partial output is left
 *   in `outDir` for the caller to remove).
 */
export async function encodeHlsLadder(opts: EncodeOptions): Promise<EncodeResult> {
  const args = buildFfmpegArgs(opts);
  const outDir = path.resolve(opts.outDir);
  const progress = progressReporter(opts.onProgress);

  await mkdir(outDir, { recursive: true });
  await runFfmpeg(args, {
    input: opts.input,
    signal: opts.signal,
    killGraceMs: opts.killGraceMs,
    onTime: (seconds) => progress.report((seconds / opts.source.durationSeconds) * 100),
  });
  throwIfAborted(opts.signal);

  const video = opts.renditions.length > 0 ? opts.source.video : undefined;
  const audio = opts.source.audio;

  const variants: MasterVariantInput[] = await Promise.all(
    opts.renditions.map(async (r) => ({
      name: r.name,
      uri: `${r.name}/${MEDIA_PLAYLIST}`,
      codecs: await videoCodecString(path.join(outDir, r.name, segmentFile(0))),
      width: r.width,
      height: r.height,
      frameRate: r.frameRate,
    })),
  );
  const audioInput: MasterAudioInput | undefined = audio
    ? { uri: `${AUDIO_RENDITION}/${MEDIA_PLAYLIST}`, codecs: AUDIO.codecs, channels: AUDIO.channels, language: audio.language }
    : undefined;

  const master = await writeMasterPlaylist(
    video
      ? { outDir, variants, audio: audioInput }
      : // Audio-only: the audio playlist is the one variant; there is no group to refer to.
        { outDir, variants: [{ name: AUDIO_RENDITION, uri: audioInput!.uri, codecs: AUDIO.codecs }] },
  ).catch((err: unknown) => {
    throw new TranscodeError(`ffmpeg output is incomplete: ${(err as Error).message}`, { cause: err });
  });

  let audioInfo: AudioInfo | undefined;
  if (master.audio) {
    audioInfo = {
      name: AUDIO_RENDITION,
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
      name: AUDIO_RENDITION,
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
    throw new TranscodeError('Transcode aborted', { aborted: true, cause: signal.reason });
  }
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
