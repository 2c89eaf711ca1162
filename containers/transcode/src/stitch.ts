/**
 * Stitching a run's chunks into one presentation. Pure: from the plan and
 * the chunks and audio reported so far, decide what can be published and
 * write its playlists.
 *
 * A chunk is publishable when it and every chunk before it are done (the
 * "contiguous prefix"); segments are numbered on one grid, so the prefix's
 * segments form one continuous media playlist per rendition. A chunk that
 * ended early (the source stopped decoding inside it) is the last one that
 * counts: chunks after it are not stitched. One that ended early with no
 * renditions (the source ended before it) ends the video with the chunk
 * before it. Audio is published as it is encoded: the growing playlists list
 * the audio reported so far, and the video becomes playable once the audio
 * covers the first chunk.
 */
import {
  AUDIO,
  AUDIO_RENDITION,
  IFRAME_PLAYLIST,
  MASTER_PLAYLIST,
  MEDIA_PLAYLIST,
  type RenditionSummary,
  type RunPlan,
  type SegmentInfo,
} from '@vod/contract';
import { fps } from './frame-rate.js';
import { iframeEntries, iframePlaylist, masterPlaylist, mediaPlaylist, targetDuration, type MasterOptions } from './master-playlist.js';
import type { RunState } from './run-store.js';

/** Where a run stands. */
export interface RunView {
  /** Chunks that count: all of them, or up to and including the first that ended early. */
  usableChunks: number;
  /** How many chunks from the first are done without a gap. */
  contiguousChunks: number;
  /** The audio is done, or there is none. */
  audioReady: boolean;
  /** Audio segments that can be listed now: all of them once done, else those reported so far (`audio-partial`). */
  audioSegments: number;
  /**
   * Something can be played: the first chunk and the audio of its time range
   * (or, audio-only, the whole audio) are done.
   */
  playable: boolean;
  /** Every usable chunk, the audio and the poster (when planned) are done: the video can be finalized. */
  complete: boolean;
  /** 0–99 while encoding (100 is for `ready`), weighted by source seconds; running tasks count by their progress. */
  progress: number;
}

/** Audio costs a small part of a video's encode; weighted so in progress. */
const AUDIO_WORK_SHARE = 0.05;

export function runView(plan: RunPlan, state: RunState): RunView {
  const chunks = plan.chunks;
  let usableChunks = chunks.length;
  for (let i = 0; i < chunks.length; i++) {
    const done = state.chunks[i];
    if (done?.endsEarly) {
      usableChunks = Object.keys(done.renditions).length > 0 ? i + 1 : i;
      break;
    }
  }
  let contiguousChunks = 0;
  while (contiguousChunks < usableChunks && state.chunks[contiguousChunks]) contiguousChunks++;
  const audioReady = !plan.audio || !!state.audio;
  const posterReady = !plan.poster || !!state.poster;
  const complete = contiguousChunks === usableChunks && audioReady && posterReady && (usableChunks > 0 || !!plan.audio);
  const audioSegments = (state.audio ?? state.audioPartial)?.segments.length ?? 0;
  // Audio segments sit on the same grid from 0, so chunk 0's range is covered by its first end ÷ segmentSeconds of them.
  const audioCoversFirstChunk =
    audioReady || (chunks.length > 0 && audioSegments >= Math.round(Math.min(chunks[0]!.endSeconds, plan.durationSeconds) / plan.settings.segmentSeconds));
  const playable = (contiguousChunks > 0 && audioCoversFirstChunk) || (usableChunks === 0 && !!plan.audio && audioReady);

  const span = (i: number) => Math.min(chunks[i]!.endSeconds, plan.durationSeconds) - chunks[i]!.startSeconds;
  const videoWork = chunks.reduce((sum, _, i) => sum + span(i), 0);
  const audioWork = plan.audio ? (videoWork > 0 ? videoWork * AUDIO_WORK_SHARE : plan.durationSeconds) : 0;
  let done = 0;
  chunks.forEach((_, i) => {
    done += span(i) * (state.chunks[i] ? 1 : (state.progress[`chunk:${i}`] ?? 0));
  });
  done += audioWork * (state.audio ? 1 : (state.progress.audio ?? 0));
  const total = videoWork + audioWork;
  const progress = total > 0 ? Math.min(99, Math.floor((99 * done) / total)) : 0;
  return { usableChunks, contiguousChunks, audioReady, audioSegments, playable, complete, progress };
}

/** The playlists of the first `chunkCount` chunks (and the audio), as files relative to the video's prefix. */
export interface Stitched {
  /** Relative path (`720p/index.m3u8`, `720p/iframes.m3u8`, `master.m3u8`) → text. Media playlists come first, the master last. */
  files: [path: string, text: string][];
  /** For the record: renditions largest first, with their measured peak bit rate. */
  renditions: RenditionSummary[];
  /** Seconds of the presentation (the top rendition's EXTINF total, or the audio's). */
  durationSeconds: number;
}

/**
 * Writes the playlists of the first `chunkCount` chunks.
 * @param ended true: the final VOD playlists (EXT-X-ENDLIST); false: growing EVENT playlists.
 * @throws RangeError when a needed chunk or the audio has not been reported.
 */
export function stitch(plan: RunPlan, state: RunState, chunkCount: number, ended: boolean): Stitched {
  const files: [string, string][] = [];
  // Growing playlists list the audio reported so far; the final ones need all of it.
  const audio = plan.audio ? (state.audio?.segments ?? (ended ? undefined : state.audioPartial?.segments)) : undefined;
  if (plan.audio && !audio) throw new RangeError('The audio is not done yet');
  // Keep EXT-X-TARGETDURATION fixed while a playlist grows (RFC 8216 §6.2.1).
  const target = (segments: readonly SegmentInfo[]) => Math.max(plan.settings.segmentSeconds, targetDuration(segments));

  const variants: MasterOptions['variants'] = plan.renditions.map((r) => {
    const segments: SegmentInfo[] = [];
    let codecs = '';
    for (let i = 0; i < chunkCount; i++) {
      const out = state.chunks[i]?.renditions[r.name];
      if (!out) throw new RangeError(`Chunk ${i} has no ${r.name} output`);
      if (i === 0) codecs = out.codecs;
      segments.push(...out.segments);
    }
    const uri = `${r.name}/${MEDIA_PLAYLIST}`;
    files.push([uri, mediaPlaylist(segments, { ended, targetDuration: target(segments) })]);
    // The I-frame playlist, when every segment reported its keyframes (runs from before they were recorded have none).
    const entries = iframeEntries(segments);
    const iframesUri = `${r.name}/${IFRAME_PLAYLIST}`;
    // Keep its target duration fixed while it grows too: the keyframe interval.
    if (entries) files.push([iframesUri, iframePlaylist(entries, { ended, targetDuration: plan.settings.keyframeSeconds })]);
    return {
      name: r.name,
      uri,
      codecs,
      width: r.width,
      height: r.height,
      frameRate: fps(r.frameRate),
      segments,
      iframes: entries ? { uri: iframesUri, entries } : undefined,
    };
  });

  const audioUri = `${AUDIO_RENDITION}/${MEDIA_PLAYLIST}`;
  if (audio) files.push([audioUri, mediaPlaylist(audio, { ended, targetDuration: target(audio) })]);
  const master =
    variants.length > 0
      ? masterPlaylist({
          variants,
          audio: audio ? { uri: audioUri, codecs: AUDIO.codecs, channels: plan.audio!.channels, language: plan.audio!.language, segments: audio } : undefined,
        })
      : // Audio-only: the audio playlist is the one variant; there is no group to refer to.
        masterPlaylist({ variants: [{ name: AUDIO_RENDITION, uri: audioUri, codecs: AUDIO.codecs, segments: audio! }] });
  files.push([MASTER_PLAYLIST, master.text]);

  const renditions: RenditionSummary[] =
    variants.length > 0
      ? master.variants
          .map((v) => ({ name: v.name, width: v.width!, height: v.height!, bandwidth: v.bandwidth }))
          .sort((a, b) => b.height - a.height || b.bandwidth - a.bandwidth)
      : [{ name: AUDIO_RENDITION, width: 0, height: 0, bandwidth: master.variants[0]!.bandwidth }];
  const top = variants[0]?.segments ?? audio ?? [];
  const durationSeconds = Math.round(top.reduce((s, x) => s + x.duration, 0) * 1000) / 1000;
  return { files, renditions, durationSeconds };
}
