/**
 * The encoding work of the transcode tasks, on local files: run the ffmpeg
 * command of a chunk or of the audio (ffmpeg-args.ts) into a scratch
 * directory and describe what came out — per rendition its CODECS string and
 * its segments (number, EXTINF duration, bytes, keyframe byte ranges) — so the coordinator can
 * stitch playlists without reading the segments again.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { AUDIO_RENDITION, segmentFile, type ChunkSpan, type SegmentInfo, type TaskCost } from '@vod/contract';
import { TranscodeError } from './errors.js';
import { TIMELINE_OFFSET_SECONDS, buildAudioArgs, buildChunkArgs, type AudioArgsOptions, type ChunkArgsOptions } from './ffmpeg-args.js';
import { renice, runFfmpeg } from './ffmpeg-runner.js';
import { firstFrameAtOrAfter } from './frame-rate.js';
import { avc1Codec } from './master-playlist.js';
import { scanKeyframes } from './ts-keyframes.js';

const run = promisify(execFile);

export interface EncodeRunOptions {
  /** Aborting kills ffmpeg (SIGKILL) and rejects with an aborted TranscodeError once it has exited. */
  signal?: AbortSignal;
  /** Process niceness of ffmpeg. */
  niceness?: number;
  /** 0–1 of this task, non-decreasing. */
  onProgress?: (fraction: number) => void;
}

/** One rendition's output of a chunk. */
export interface RenditionOutput {
  /** RFC 6381 codec string of the video, read back from the first segment (e.g. "avc1.64001f"). */
  codecs: string;
  segments: SegmentInfo[];
}

export interface ChunkOutput {
  /** By rendition name. */
  renditions: Record<string, RenditionOutput>;
  cost: TaskCost;
  /**
   * True when a chunk that is not the last produced fewer segments than its
   * range holds: the source ends (or stops decoding) early. Nothing after it
   * can be stitched. A chunk after the first that decodes nothing at all (a
   * truncated file whose index still claims the full length) ends early with
   * no renditions: the video ends with the chunk before it.
   */
  endsEarly: boolean;
}

export interface AudioOutput {
  segments: SegmentInfo[];
  cost: TaskCost;
}

/**
 * Encodes one chunk into `opts.outDir`.
 * @throws TranscodeError when ffmpeg fails, produces no segment, or segments off the grid.
 */
export async function encodeChunk(opts: ChunkArgsOptions & EncodeRunOptions): Promise<ChunkOutput> {
  const args = buildChunkArgs(opts);
  await Promise.all(opts.renditions.map((r) => mkdir(path.join(opts.outDir, r.name), { recursive: true })));
  const { chunk } = opts;
  const span = chunk.endSeconds - chunk.startSeconds;
  const ran = await runFfmpeg(args, {
    signal: opts.signal,
    niceness: opts.niceness,
    onTime: (t) => opts.onProgress?.(Math.min(1, Math.max(0, (t - chunk.startSeconds) / span))),
  });

  const renditions: Record<string, RenditionOutput> = {};
  const cost = { cpuSeconds: round3(ran.cpuSeconds), wallSeconds: round3(ran.wallSeconds) };
  // Each rendition's segments are read back at once (a few ffprobe runs and streamed scans; the first chunk is waited for).
  const outputs = await Promise.all(
    opts.renditions.map(async (r) => {
      const firstFrame = firstFrameAtOrAfter(chunk.startSeconds, r.frameRate);
      const start = (firstFrame * r.frameRate.den) / r.frameRate.num + TIMELINE_OFFSET_SECONDS;
      const segments = await readSegmentList(opts.outDir, r.name, chunk.firstSegment, start);
      if (segments.length === 0) return { r, segments };
      const first = await probeSegment(path.join(opts.outDir, r.name, segmentFile(chunk.firstSegment)), 'v:0');
      if (!first.profile || !first.level) throw new TranscodeError(`Cannot read the encoded ${r.name} video back`);
      // Where each segment's keyframes are, for the I-frame playlists (streamed; no segment is read into memory).
      for (const seg of segments) seg.keyframes = await scanKeyframes(path.join(opts.outDir, r.name, segmentFile(seg.n)));
      return { r, segments, codecs: avc1Codec(first.profile, first.level) };
    }),
  );
  let endsEarly = false;
  for (const { r, segments, codecs } of outputs) {
    if (segments.length === 0) {
      // ffmpeg succeeded and decoded nothing here: the file ends before this
      // range. Deterministic, so not worth a retry; the chunks before it are
      // the video. With nothing before it there is no video at all.
      if (chunk.index > 0) return { renditions: {}, cost, endsEarly: true };
      throw new TranscodeError(`No video was decoded between ${clock(chunk.startSeconds)} and ${clock(chunk.endSeconds)}`);
    }
    if (!chunk.last && segments.length < Math.round(span / opts.settings.segmentSeconds)) endsEarly = true;
    renditions[r.name] = { codecs: codecs!, segments };
  }
  opts.onProgress?.(1);
  return { renditions, cost, endsEarly };
}

/**
 * Encodes one chunk with its renditions shared out over `processes` ffmpeg
 * processes running at once (each decodes the range itself). One ffmpeg
 * process decodes, splits and scales every frame on one thread, so a short
 * chunk keeps about one core busy however many there are; the first chunk,
 * which a viewer is waiting for, is worth the extra decode to use them all.
 * Renditions are shared by pixels per frame, largest first, each to the
 * least loaded process. The outcome is the same as one process's: the same
 * files, renditions and segments; CPU-seconds summed, wall time the longest.
 * @throws like `encodeChunk`; when one process fails the others are stopped.
 */
export async function encodeChunkInParallel(opts: ChunkArgsOptions & EncodeRunOptions, processes: number): Promise<ChunkOutput> {
  const groups = shareRenditions(opts.renditions, processes);
  if (groups.length <= 1) return encodeChunk(opts);
  const stop = new AbortController();
  const onAbort = () => stop.abort(opts.signal?.reason);
  // A signal that is already aborted never fires 'abort' again: without this check, a stop that came
  // before the encode started would be ignored, and both ffmpeg processes would run the chunk to the end.
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  const fractions = groups.map(() => 0);
  try {
    // allSettled, not all: the promise must settle only once every ffmpeg has exited (a failure or an
    // abort stops the others, and their exit is waited for), so a caller that stops waiting has stopped the work.
    const settled = await Promise.allSettled(
      groups.map((renditions, i) =>
        encodeChunk({
          ...opts,
          renditions,
          signal: stop.signal,
          onProgress: (f) => {
            fractions[i] = f;
            opts.onProgress?.(Math.min(...fractions));
          },
        }).catch((err) => {
          stop.abort(err);
          throw err;
        }),
      ),
    );
    const failed = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
    // The first cause, not the abort it caused in the other processes.
    if (failed.length) throw failed.find((e) => !(e instanceof TranscodeError && e.aborted)) ?? failed[0];
    const outs = settled.map((r) => (r as PromiseFulfilledResult<ChunkOutput>).value);
    return {
      renditions: Object.assign({}, ...outs.map((o) => o.renditions)),
      cost: { cpuSeconds: round3(outs.reduce((sum, o) => sum + o.cost.cpuSeconds, 0)), wallSeconds: Math.max(...outs.map((o) => o.cost.wallSeconds)) },
      endsEarly: outs.some((o) => o.endsEarly),
    };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** Renditions shared over at most `processes` groups by pixels per frame: largest first, each to the least loaded group. */
export function shareRenditions<R extends { width: number; height: number }>(renditions: readonly R[], processes: number): R[][] {
  const n = Math.max(1, Math.min(processes, renditions.length));
  const groups: { load: number; items: R[] }[] = Array.from({ length: n }, () => ({ load: 0, items: [] }));
  for (const r of [...renditions].sort((a, b) => b.width * b.height - a.width * a.height)) {
    const lightest = groups.reduce((best, g) => (g.load < best.load ? g : best));
    lightest.items.push(r);
    lightest.load += r.width * r.height;
  }
  // Keep the ladder's own order inside each group.
  return groups.map((g) => renditions.filter((r) => g.items.includes(r))).filter((g) => g.length > 0);
}

/** Options of the audio encode beyond the ffmpeg command's. */
export interface AudioRunOptions extends EncodeRunOptions {
  /**
   * Called, one call at a time, with every segment finished so far (numbered
   * from 0, each complete on disk) whenever more are finished while ffmpeg
   * runs: the task publishes them so the video plays before the whole track
   * is encoded. The segment muxer appends a CSV line only once a segment's
   * file is closed, so a listed segment is whole.
   */
  onSegments?: (segments: SegmentInfo[]) => Promise<void>;
  /** Milliseconds between looks at the segment list (default 250). */
  segmentPollMs?: number;
  /**
   * Once the audio finished so far reaches `seconds`, ffmpeg is lowered to
   * `niceness`: the start of the track is what makes the video playable and
   * runs at full priority beside the first chunk; the rest yields to it.
   */
  yieldAfter?: { seconds: number; niceness: number };
}

/**
 * Encodes the whole audio track into `opts.outDir/audio/`.
 * @throws TranscodeError when ffmpeg fails or no audio comes out; whatever `onSegments` throws.
 */
export async function encodeAudio(opts: AudioArgsOptions & AudioRunOptions): Promise<AudioOutput> {
  const args = buildAudioArgs(opts);
  await mkdir(path.join(opts.outDir, AUDIO_RENDITION), { recursive: true });
  const firstFile = path.join(opts.outDir, AUDIO_RENDITION, segmentFile(0));
  let firstPts: number | undefined;
  const readFirstPts = async () => (firstPts ??= (await probeSegment(firstFile, 'a:0').catch(() => undefined))?.firstPts);

  // While ffmpeg runs: hand finished segments to `onSegments`, one look at a time.
  let reported = 0;
  let watching: Promise<void> = Promise.resolve();
  let watchError: unknown;
  let pid: number | undefined;
  let yielded = !opts.yieldAfter;
  const look = async () => {
    const listed = await listedSegments(opts.outDir, AUDIO_RENDITION);
    if (!yielded && pid !== undefined && listed * opts.settings.segmentSeconds >= opts.yieldAfter!.seconds) {
      renice(pid, opts.yieldAfter!.niceness);
      yielded = true;
    }
    if (!opts.onSegments || listed <= reported || (await readFirstPts()) === undefined) return;
    const segments = await readSegmentList(opts.outDir, AUDIO_RENDITION, 0, firstPts!);
    if (segments.length <= reported) return;
    reported = segments.length;
    await opts.onSegments(segments);
  };
  const timer = opts.onSegments || opts.yieldAfter
    ? setInterval(() => {
        watching = watching.then(look).catch((err) => {
          watchError ??= err;
        });
      }, opts.segmentPollMs ?? 250)
    : undefined;
  let ran: Awaited<ReturnType<typeof runFfmpeg>>;
  try {
    ran = await runFfmpeg(args, {
      signal: opts.signal,
      niceness: opts.niceness,
      onTime: (t) => opts.onProgress?.(Math.min(1, Math.max(0, t / opts.endSeconds))),
      onProcess: (p) => (pid = p),
    });
  } finally {
    clearInterval(timer);
    await watching;
  }
  if (watchError) throw watchError;
  const first = await readFirstPts();
  if (first === undefined) throw new TranscodeError('No audio was decoded from the source');
  const segments = await readSegmentList(opts.outDir, AUDIO_RENDITION, 0, first);
  if (segments.length === 0) throw new TranscodeError('No audio was decoded from the source');
  opts.onProgress?.(1);
  return { segments, cost: { cpuSeconds: round3(ran.cpuSeconds), wallSeconds: round3(ran.wallSeconds) } };
}

/** How many lines the segment muxer has written to `<name>.csv` so far (0 before the file exists). */
async function listedSegments(outDir: string, name: string): Promise<number> {
  try {
    return (await readFile(path.join(outDir, `${name}.csv`), 'utf8')).split(/\r?\n/).filter(Boolean).length;
  } catch {
    return 0;
  }
}

/**
 * The segments the segment muxer listed in `<name>.csv` (`file,start,end` in
 * timeline seconds). Each EXTINF is its end minus the previous end; the first
 * starts at `firstStart` (the muxer does not know where the stream starts).
 * Numbers must run on from `firstSegment` without a gap.
 */
export async function readSegmentList(outDir: string, name: string, firstSegment: number, firstStart: number): Promise<SegmentInfo[]> {
  let text: string;
  try {
    text = await readFile(path.join(outDir, `${name}.csv`), 'utf8');
  } catch {
    return [];
  }
  const rows = text.split(/\r?\n/).filter(Boolean).map((line) => {
    const [file, , end] = line.split(',');
    const m = /(\d+)\.ts$/.exec(file ?? '');
    if (!m || !Number.isFinite(Number(end))) throw new TranscodeError(`Unreadable segment list line "${line}" for ${name}`);
    return { n: Number(m[1]), end: Number(end) };
  });
  const segments: SegmentInfo[] = [];
  let previousEnd = firstStart;
  for (const [i, row] of rows.entries()) {
    if (row.n !== firstSegment + i) throw new TranscodeError(`Segment ${row.n} of ${name} is off the grid (expected ${firstSegment + i})`);
    const duration = Math.round((row.end - previousEnd) * 1e6) / 1e6;
    previousEnd = row.end;
    const { size } = await stat(path.join(outDir, name, segmentFile(row.n)));
    if (!(duration > 0) || size === 0) continue; // an empty tail segment after the last frame
    segments.push({ n: row.n, duration, bytes: size });
  }
  return segments;
}

/** Profile, level and first timestamp of a segment we wrote (a local, trusted file). */
export async function probeSegment(file: string, stream: 'v:0' | 'a:0'): Promise<{ profile?: string; level?: number; firstPts?: number }> {
  const { stdout } = await run('ffprobe', [
    '-v', 'error',
    '-select_streams', stream,
    '-show_entries', 'stream=profile,level,time_base:packet=pts',
    '-read_intervals', '%+#16',
    '-of', 'json',
    file,
  ]);
  const data = JSON.parse(stdout) as { streams?: { profile?: string; level?: number; time_base?: string }[]; packets?: { pts?: number }[] };
  const s = data.streams?.[0];
  const [num, den] = (s?.time_base ?? '1/90000').split('/').map(Number);
  const pts = (data.packets ?? []).map((p) => p.pts).filter((p): p is number => typeof p === 'number');
  return {
    profile: s?.profile,
    level: s?.level,
    firstPts: pts.length ? (Math.min(...pts) * num!) / den! : undefined,
  };
}

/** 75 → "1:15". */
function clock(seconds: number): string {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

const round3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : 0);

export type { ChunkSpan };
