/**
 * Where the keyframes are inside an MPEG-TS video segment we wrote, for the
 * I-frame playlists (RFC 8216 §4.3.3.6 EXT-X-I-FRAMES-ONLY; Apple HLS
 * Authoring Spec, "Trick Play": I-frame playlists by byte range into the
 * normal segments). Read as a stream, one 188-byte packet at a time: a
 * segment is never held in memory.
 *
 * A keyframe is a PES whose first TS packet has payload_unit_start_indicator
 * and the adaptation field's random_access_indicator set (ISO/IEC 13818-1
 * §2.4.3.5; ffmpeg's mpegts muxer sets it on every keyframe). Its byte range:
 *
 * - starts at the run of non-video packets (PAT, PMT, SDT) written directly
 *   before it — ffmpeg repeats them before every keyframe — so the range
 *   decodes on its own (a player, or ffprobe, finds the program tables);
 * - ends where the video's next PES starts (or the file ends).
 *
 * `at` is the picture's PTS minus the segment's first PTS: every segment
 * starts with a keyframe (segments are cut on the keyframe grid).
 */
import { createReadStream } from 'node:fs';
import type { KeyframeInfo } from '@vod/contract';

export const TS_PACKET_BYTES = 188;
const SYNC = 0x47;
const PTS_HZ = 90_000;

/** A keyframe's range and absolute PTS (90 kHz ticks), before `at` is made relative. */
interface FoundKeyframe {
  offset: number;
  end?: number;
  pts: number;
}

/**
 * Pure, incremental scanner of a TS byte stream: `push` any slices of the
 * file in order, then `finish`.
 * @throws RangeError on a lost sync byte (not MPEG-TS, or a truncated packet in the middle).
 */
export class TsKeyframeScanner {
  private carry = Buffer.alloc(0);
  private position = 0;
  private videoPid: number | undefined;
  /** Offset of the first packet of the current run of non-video packets, if the last packet was not video. */
  private runStart: number | undefined;
  private open: FoundKeyframe | undefined;
  private readonly found: FoundKeyframe[] = [];
  private firstPts: number | undefined;

  push(chunk: Buffer): void {
    let data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    let i = 0;
    for (; i + TS_PACKET_BYTES <= data.length; i += TS_PACKET_BYTES) this.packet(data.subarray(i, i + TS_PACKET_BYTES));
    this.carry = Buffer.from(data.subarray(i));
    data = Buffer.alloc(0);
  }

  /** The keyframes found; `total` is the file's size in bytes (ends the last range). */
  finish(): KeyframeInfo[] {
    if (this.carry.length) throw new RangeError(`MPEG-TS stream ends with a partial packet (${this.carry.length} bytes)`);
    if (this.open) this.open.end = this.position;
    const first = this.firstPts ?? 0;
    return this.found.map((k) => ({
      at: Math.round(((k.pts - first) / PTS_HZ) * 1e6) / 1e6,
      offset: k.offset,
      length: k.end! - k.offset,
    }));
  }

  private packet(p: Buffer): void {
    const offset = this.position;
    this.position += TS_PACKET_BYTES;
    if (p[0] !== SYNC) throw new RangeError(`MPEG-TS sync byte missing at byte ${offset}`);
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    const unitStart = (p[1]! & 0x40) !== 0;
    const adaptation = (p[3]! >> 4) & 0x3;
    const hasAdaptation = adaptation === 2 || adaptation === 3;
    const adaptationLength = hasAdaptation ? p[4]! : 0;
    const randomAccess = hasAdaptation && adaptationLength > 0 && (p[5]! & 0x40) !== 0;
    const payloadStart = 4 + (hasAdaptation ? 1 + adaptationLength : 0);
    const payload = adaptation === 1 || adaptation === 3 ? p.subarray(Math.min(payloadStart, TS_PACKET_BYTES)) : Buffer.alloc(0);

    const isPes = unitStart && payload.length >= 9 && payload[0] === 0 && payload[1] === 0 && payload[2] === 1;
    const pesStreamId = isPes ? payload[3]! : 0;
    // The video PID: the first PES carrying a video stream id (0xE0–0xEF).
    if (this.videoPid === undefined && isPes && pesStreamId >= 0xe0 && pesStreamId <= 0xef) this.videoPid = pid;

    if (pid !== this.videoPid) {
      this.runStart ??= offset;
      return;
    }
    const runStart = this.runStart ?? offset;
    this.runStart = undefined;
    if (!unitStart) return;
    // A new PES of the video: the open keyframe ends where this one's tables begin.
    if (this.open) {
      this.open.end = runStart;
      this.open = undefined;
    }
    const pts = isPes ? readPts(payload) : undefined;
    if (pts !== undefined && this.firstPts === undefined) this.firstPts = pts;
    if (randomAccess && pts !== undefined) {
      this.open = { offset: runStart, pts };
      this.found.push(this.open);
    }
  }
}

/** PTS of a PES header (ISO/IEC 13818-1 §2.4.3.7), 90 kHz ticks, or undefined. */
function readPts(pes: Buffer): number | undefined {
  if ((pes[7]! & 0x80) === 0 || pes.length < 14) return undefined;
  const b = pes;
  return (
    ((b[9]! >> 1) & 0x07) * 2 ** 30 +
    ((b[10]! << 7) | (b[11]! >> 1)) * 2 ** 15 +
    ((b[12]! << 7) | (b[13]! >> 1))
  );
}

/**
 * The keyframes of the TS file at `file`, streamed.
 * @throws RangeError when the file is not MPEG-TS; an fs error when it cannot be read.
 */
export async function scanKeyframes(file: string): Promise<KeyframeInfo[]> {
  const scanner = new TsKeyframeScanner();
  for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 })) scanner.push(chunk as Buffer);
  return scanner.finish();
}
