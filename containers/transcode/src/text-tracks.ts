/**
 * The source's own text tracks (mov_text in MP4/MOV, SubRip/WebVTT/ASS in
 * MKV/WebM) as SUBTITLES renditions, the same form as sidecar captions
 * (contract captions.ts; service-kit captions.ts, webvtt.ts).
 *
 * One ffmpeg run reads the source once (through the same allowlists as every
 * task: `safeInputOptions`) and writes each chosen stream as a WebVTT file
 * (`-c:s webvtt`: ASS styling is dropped, the text kept); each file is then
 * checked like an uploaded one (`parseCaptions`), cut on the published
 * video's segment grid (`segmentCues`), published under
 * `videos/{id}/captions/{language}_{rev}/` and recorded with `source:
 * 'embedded'`. A track that cannot be read is left out with a log line; it
 * never fails the video.
 *
 * Timeline: ffmpeg measures the WebVTT cue times like the video's (source
 * time from the file's start), so cue time 0 is the video's first PTS, which
 * the segments' X-TIMESTAMP-MAP says (RFC 8216 §3.5).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { CAPTION_LIMITS, MEDIA_PLAYLIST, keys, type CaptionTrack, type TextTrack } from '@vod/contract';
import { AppError, CaptionStore, cuesWithin, newCaptionDir, parseCaptions, segmentCues } from '@vod/service-kit';
import type { Logger } from 'pino';
import { safeInputOptions, type FfmpegArgs } from './ffmpeg-args.js';
import { runFfmpeg, type FfmpegRun } from './ffmpeg-runner.js';

/** `outDir/track-<index>.vtt`: where the extraction writes stream `index`. */
export function extractedFile(outDir: string, index: number): string {
  return path.join(outDir, `track-${index}.vtt`);
}

/**
 * The ffmpeg command line that writes every track in `tracks` as WebVTT, one
 * output each (`-map 0:<index> -c:s webvtt -f webvtt`), each stopped past
 * `CAPTION_LIMITS.fileBytes` (`-fs`: a hostile source cannot fill the disk;
 * the too-big file is then left out). Pure.
 */
export function buildExtractArgs(input: string, tracks: readonly Pick<TextTrack, 'index'>[], outDir: string): FfmpegArgs {
  return {
    input,
    inputOptions: ['-hide_banner', '-nostdin', '-benchmark', ...safeInputOptions(input)],
    outputs: tracks.map((t) => ({
      options: ['-map', `0:${t.index}`, '-c:s', 'webvtt', '-fs', String(CAPTION_LIMITS.fileBytes + 1), '-f', 'webvtt'],
      target: extractedFile(outDir, t.index),
    })),
  };
}

/** Runs the extraction; the files are `extractedFile(outDir, index)`. */
export function extractTextTracks(
  input: string,
  tracks: readonly Pick<TextTrack, 'index'>[],
  outDir: string,
  opts: { signal?: AbortSignal; niceness?: number } = {},
): Promise<FfmpegRun> {
  return runFfmpeg(buildExtractArgs(input, tracks, outDir), opts);
}

export interface PublishedTextTracks {
  /** The records stored (one per track published). */
  tracks: CaptionTrack[];
  /** Every key written (segments, playlists, records). */
  keys: string[];
  /** Earlier embedded tracks these replaced (their files can go once the master no longer lists them). */
  replaced: CaptionTrack[];
}

/**
 * Checks, segments and publishes each extracted file, and stores its record
 * (`source: 'embedded'`, `format`: the source's codec). Left out, with a log
 * line: a file ffmpeg did not write, one over `CAPTION_LIMITS.fileBytes`, one
 * `parseCaptions` rejects, one with no cue inside the video, and a language
 * that already has a sidecar track (an upload always wins). Does not render
 * the master (`CaptionStore.publishMaster`).
 * @param grid The published video's segment durations, seconds.
 */
export async function publishTextTracks(
  store: CaptionStore,
  videoId: string,
  outDir: string,
  tracks: readonly TextTrack[],
  grid: readonly number[],
  opts: { log: Logger; now: () => Date },
): Promise<PublishedTextTracks> {
  const out: PublishedTextTracks = { tracks: [], keys: [], replaced: [] };
  const duration = grid.reduce((a, b) => a + b, 0);
  for (const t of tracks) {
    const log = opts.log.child({ track: t.index, language: t.language, codec: t.codec });
    const file = extractedFile(outDir, t.index);
    const size = await stat(file).then((s) => s.size, () => undefined);
    if (size === undefined) {
      log.warn('text track not extracted: left out');
      continue;
    }
    if (size > CAPTION_LIMITS.fileBytes) {
      log.warn({ bytes: size, limit: CAPTION_LIMITS.fileBytes }, 'text track larger than a caption file may be: left out');
      continue;
    }
    let cues;
    try {
      cues = parseCaptions(await readFile(file)).cues;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      log.warn({ reason: err.message }, 'text track is not valid WebVTT: left out');
      continue;
    }
    const kept = cuesWithin(cues, duration);
    if (kept.length === 0) {
      log.warn({ cues: cues.length }, 'text track has no cue within the video: left out');
      continue;
    }
    const previous = await store.get(videoId, t.language);
    if (previous?.source === 'sidecar') {
      log.info('the language has an uploaded track: embedded track left out');
      continue;
    }
    const dir = newCaptionDir(t.language);
    const track: CaptionTrack = {
      language: t.language,
      label: t.label,
      source: 'embedded',
      format: t.codec,
      cues: kept.length,
      playlist: `${dir}/${MEDIA_PLAYLIST}`,
      createdAt: opts.now().toISOString(),
    };
    out.keys.push(...(await store.publishFiles(videoId, dir, segmentCues(kept, grid), grid)));
    await store.put(videoId, track);
    out.keys.push(keys.captionRecord(videoId, t.language));
    out.tracks.push(track);
    if (previous && previous.playlist !== track.playlist) out.replaced.push(previous);
    log.info({ cues: kept.length, dropped: cues.length - kept.length }, 'text track published');
  }
  return out;
}
