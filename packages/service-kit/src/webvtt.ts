/**
 * Caption files: WebVTT (W3C WebVTT) and SubRip (`.srt`) in, validated cues
 * and segmented WebVTT for HLS out. Pure; no I/O.
 *
 * Validation is W3C's own WebVTT validator (`webvtt-parser`), which reports
 * every problem with its line. SubRip is turned into WebVTT line for line
 * (a two-line header in front, `,` → `.` in the timings), so a problem found
 * in it is reported at the line of the SubRip file it came from.
 *
 * Segmenting (RFC 8216 §3.5): one WebVTT file per segment of the video's own
 * grid, each with `X-TIMESTAMP-MAP=MPEGTS:<pts of second 0>,LOCAL:00:00:00.000`
 * so cue times (seconds from the start of the video) map onto the MPEG-TS
 * timestamps of the video's segments; a cue that spans a boundary is written
 * in every segment it overlaps (players drop the repeats).
 */
import { MPEGTS_CLOCK_HZ, TIMELINE_OFFSET_SECONDS } from '@vod/contract';
import webvtt from 'webvtt-parser';
import { AppError } from './errors.js';

/** One cue, times in seconds from the start of the video. */
export interface Cue {
  id?: string;
  start: number;
  end: number;
  /** WebVTT cue settings (`line:0 align:start`), or empty. */
  settings: string;
  /** The cue payload (WebVTT cue text: may hold `<i>`, `<v Name>` and entities). */
  text: string;
}

export interface ParsedCaptions {
  format: 'webvtt' | 'srt';
  cues: Cue[];
}

/**
 * Problems `webvtt-parser` reports that do not stop a cue from showing: markup
 * it does not know (SubRip's `<font>`), which players skip as the WebVTT
 * parsing rules say (unknown tags are ignored).
 */
const TOLERATED = /tag|escape|annotation/i;

/** The first line of `text` (1-based) holding U+FFFD, the mark of bytes that were not UTF-8. */
function lineOf(text: string, index: number): number {
  return text.slice(0, index).split(/\r\n|\r|\n/).length;
}

/**
 * Parses and validates a caption file.
 * @param bytes The file as uploaded (UTF-8, with or without a byte-order mark).
 * @throws AppError `invalid_captions` whose message starts with `line N:` — not UTF-8, neither WebVTT nor
 *   SubRip, a malformed or backwards timing, cues out of order, no cue at all.
 */
export function parseCaptions(bytes: Uint8Array): ParsedCaptions {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const loose = new TextDecoder('utf-8').decode(bytes);
    throw new AppError('invalid_captions', `line ${lineOf(loose, loose.indexOf('\uFFFD'))}: not UTF-8 text (save the file as UTF-8)`);
  }
  text = text.replace(/^\uFEFF/, '');
  const lines = text.split(/\r\n|\r|\n/);
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first === -1) throw new AppError('invalid_captions', 'line 1: the file is empty');

  let format: ParsedCaptions['format'];
  let vtt: string;
  let shift = 0;
  if (/^WEBVTT($|[ \t])/.test(lines[0]!)) {
    format = 'webvtt';
    vtt = text;
  } else if (looksLikeSrt(lines, first)) {
    format = 'srt';
    // Two header lines in front: WebVTT line n + 2 is SubRip line n.
    shift = 2;
    vtt = ['WEBVTT', '', ...lines.map(srtLineToVtt)].join('\n');
  } else {
    throw new AppError(
      'invalid_captions',
      `line ${first + 1}: neither WebVTT (the first line must be "WEBVTT") nor SubRip (a cue number, then a line like "00:00:01,000 --> 00:00:04,000")`,
    );
  }

  const parsed = new webvtt.WebVTTParser().parse(vtt, 'subtitles');
  const fatal = parsed.errors.filter((e) => !TOLERATED.test(e.message)).sort((a, b) => a.line - b.line);
  if (fatal.length > 0) {
    const e = fatal[0]!;
    const more = fatal.length > 1 ? ` (and ${fatal.length - 1} more problem${fatal.length > 2 ? 's' : ''})` : '';
    throw new AppError('invalid_captions', `line ${Math.max(1, e.line - shift)}: ${e.message.replace(/\.$/, '')}${more}`);
  }
  if (parsed.cues.length === 0) throw new AppError('invalid_captions', `line ${lines.length}: the file has no cues`);
  const cues = parsed.cues.map((c) => ({
    ...(c.id && format === 'webvtt' ? { id: c.id } : {}),
    start: c.startTime,
    end: c.endTime,
    settings: cueSettings(c),
    text: c.text,
  }));
  return { format, cues };
}

/** SubRip: a cue number line then a timing line (or, in files without numbers, a timing line first). */
function looksLikeSrt(lines: string[], first: number): boolean {
  const timing = /^\s*\d+:\d{1,2}:\d{1,2}[,.]\d{1,3}\s*-->/;
  return (/^\s*\d+\s*$/.test(lines[first]!) && timing.test(lines[first + 1] ?? '')) || timing.test(lines[first]!);
}

/** A SubRip line in WebVTT form: timings get `.` milliseconds and two-digit hours; SubRip coordinates (`X1:…`) are dropped. */
function srtLineToVtt(line: string): string {
  const m = /^\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})\s*-->\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})(.*)$/.exec(line);
  if (!m) return line;
  const ts = (h: string, mm: string, s: string, ms: string) => `${h.padStart(2, '0')}:${mm.padStart(2, '0')}:${s.padStart(2, '0')}.${ms.padEnd(3, '0')}`;
  return `${ts(m[1]!, m[2]!, m[3]!, m[4]!)} --> ${ts(m[5]!, m[6]!, m[7]!, m[8]!)}${/\S/.test(m[9]!) && !/^\s+X1:/i.test(m[9]!) ? m[9] : ''}`;
}

/** The WebVTT cue settings of a parsed cue that differ from the defaults. */
function cueSettings(c: webvtt.ParsedCue): string {
  const out: string[] = [];
  if (c.direction !== 'horizontal') out.push(`vertical:${c.direction}`);
  if (c.linePosition !== 'auto') out.push(`line:${c.linePosition}${c.snapToLines ? '' : '%'}${c.lineAlign !== 'start' ? `,${c.lineAlign}` : ''}`);
  if (c.textPosition !== 'auto') out.push(`position:${c.textPosition}%${c.positionAlign !== 'auto' ? `,${c.positionAlign}` : ''}`);
  if (c.size !== 100) out.push(`size:${c.size}%`);
  if (c.alignment !== 'center') out.push(`align:${c.alignment}`);
  return out.join(' ');
}

/** `01:02:03.456`: a WebVTT timestamp (hours always written, two digits at least), rounded to the millisecond. */
export function vttTimestamp(seconds: number): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')}`;
}

function cueBlock(c: Cue): string {
  return `${c.id ? `${c.id}\n` : ''}${vttTimestamp(c.start)} --> ${vttTimestamp(c.end)}${c.settings ? ` ${c.settings}` : ''}\n${c.text}\n`;
}

/** The `X-TIMESTAMP-MAP` of every segment: cue time 0 is the PTS of source second 0 (RFC 8216 §3.5). */
export const TIMESTAMP_MAP = `X-TIMESTAMP-MAP=MPEGTS:${Math.round(TIMELINE_OFFSET_SECONDS * MPEGTS_CLOCK_HZ)},LOCAL:00:00:00.000`;

/**
 * Segmented WebVTT on the video's segment grid (RFC 8216 §3.5).
 * @param durations The video's segment durations in seconds, in order (its media playlist's EXTINF values).
 * @returns One WebVTT file per segment: the cues overlapping [start, start + duration) of that segment;
 *   segments without a cue hold only the header. Cues starting after the last segment are not published.
 */
export function segmentCues(cues: readonly Cue[], durations: readonly number[]): string[] {
  const out: string[] = [];
  let start = 0;
  for (const d of durations) {
    const end = start + d;
    const inside = cues.filter((c) => c.start < end && c.end > start);
    out.push([`WEBVTT\n${TIMESTAMP_MAP}\n`, ...inside.map(cueBlock)].join('\n'));
    start = end;
  }
  return out;
}

/** Cues that start before `durationSeconds` (the ones a segmented track carries). */
export function cuesWithin(cues: readonly Cue[], durationSeconds: number): Cue[] {
  return cues.filter((c) => c.start < durationSeconds);
}
