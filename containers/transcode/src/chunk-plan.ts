/**
 * Splitting a source in time for segmented transcoding. Pure.
 *
 * Every chunk boundary is a multiple of the segment duration, so it is also
 * a segment boundary and a forced keyframe in every rendition: the chunks'
 * segments, numbered on that grid, stitch into one continuous playlist
 * (RFC 8216 §6.2.2: a new segment may start only where each rendition has a
 * keyframe; Apple HLS Authoring Spec: keyframes every 2 s, 6-second segments).
 */
import type { ChunkSpan } from '@vod/contract';

export interface ChunkPlanOptions {
  /** Segment duration, whole seconds. */
  segmentSeconds: number;
  /** Length of a chunk, seconds; rounded up to a whole number of segments. */
  chunkSeconds: number;
  /** Length of the first chunk, seconds (so the start plays early); rounded up to whole segments, at most `chunkSeconds`. */
  firstChunkSeconds: number;
  /**
   * Seconds past the declared duration the last chunk may still read. A
   * container's duration can be a little short of its last frame; anything
   * further out is not encoded (a file that claims 10 s must not cost 10 h).
   */
  endMarginSeconds: number;
}

export const DEFAULT_CHUNK_PLAN: ChunkPlanOptions = {
  segmentSeconds: 6,
  chunkSeconds: 60,
  firstChunkSeconds: 6,
  endMarginSeconds: 2,
};

/**
 * The chunks of a source `durationSeconds` long.
 *
 * - A source shorter than two chunks is one chunk (a clip is cheaper in one piece).
 * - Otherwise boundaries fall every `chunkSeconds` from 0, and the first of
 *   those ranges is split once more after `firstChunkSeconds`.
 * - A last range shorter than one segment joins the chunk before it: a chunk
 *   of a fraction of a second would cost an ffmpeg start and a seek for
 *   nothing (a 180.3 s source is 4 chunks, not 5 with a 0.3 s one).
 * - Each chunk's `firstSegment` is its start ÷ `segmentSeconds`.
 *
 * @throws RangeError for a non-positive duration or settings that are not
 *   whole, positive numbers of seconds.
 */
export function planChunks(durationSeconds: number, opts: ChunkPlanOptions = DEFAULT_CHUNK_PLAN): ChunkSpan[] {
  if (!(durationSeconds > 0) || !Number.isFinite(durationSeconds)) throw new RangeError(`Duration must be positive (got ${durationSeconds})`);
  const seg = opts.segmentSeconds;
  if (!Number.isInteger(seg) || seg <= 0) throw new RangeError(`segmentSeconds must be a whole number of seconds (got ${seg})`);
  if (!(opts.chunkSeconds > 0) || !(opts.firstChunkSeconds > 0)) throw new RangeError('Chunk lengths must be positive');
  const chunk = Math.ceil(opts.chunkSeconds / seg) * seg;
  const first = Math.min(chunk, Math.ceil(opts.firstChunkSeconds / seg) * seg);
  const end = durationSeconds + Math.max(0, opts.endMarginSeconds);

  if (durationSeconds < 2 * chunk) {
    return [{ index: 0, startSeconds: 0, endSeconds: end, firstSegment: 0, last: true }];
  }
  const starts = [0];
  if (first < chunk) starts.push(first);
  for (let t = chunk; t < durationSeconds; t += chunk) starts.push(t);
  if (durationSeconds - starts.at(-1)! < seg) starts.pop();
  return starts.map((start, i) => {
    const last = i === starts.length - 1;
    return { index: i, startSeconds: start, endSeconds: last ? end : starts[i + 1]!, firstSegment: start / seg, last };
  });
}
