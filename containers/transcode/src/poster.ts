/**
 * The poster: a representative frame of the video in JPEG and WebP at a few
 * widths (contract `POSTER_WIDTHS`, `POSTER_FORMATS`), made by a task of its
 * own so it costs no chunk anything and any worker can make it.
 *
 * How the frame is chosen: a handful of candidate times spread over the
 * video (not the first frame: openings are often black or a fade), each
 * decoded once with an input seek (HTTP range reads, a few frames decoded),
 * measured with ffmpeg's `signalstats` (mean luma, 10th/90th luma
 * percentiles) and `entropy` (detail). A candidate that is dark, blown out
 * or flat (a fade, a title card in one colour) is skipped; of the rest the
 * one with the most detail wins. If every candidate is skipped, the least
 * flat one is used — the video still gets a poster.
 *
 * Upright and correctly shaped: ffmpeg applies the source's rotation
 * (autorotate) before the filters, and the frame is scaled to the display
 * size (`displayWidth`×`displayHeight`, pixel aspect ratio applied) with
 * square pixels (`setsar=1`).
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { POSTER_DIR, POSTER_FORMATS, POSTER_WIDTHS, posterPath, type PosterFormat, type PosterImage } from '@vod/contract';
import { TranscodeError } from './errors.js';
import { safeInputOptions, type FfmpegArgs } from './ffmpeg-args.js';
import { runFfmpeg } from './ffmpeg-runner.js';

/** Measurements of one candidate frame (8-bit luma). */
export interface CandidateStats {
  /** Source time, seconds. */
  at: number;
  /** Mean luma, 0–255. */
  yavg: number;
  /** 10th and 90th percentile of luma, 0–255. */
  ylow: number;
  yhigh: number;
  /** Normalized entropy of the luma histogram, 0–1 (detail). */
  entropy: number;
}

/** Rules of a usable candidate (8-bit luma; video range is 16–235). */
export const POSTER_RULES = {
  /** Darker than this on average: a black frame or a fade from black. */
  minMeanLuma: 40,
  /** Brighter than this on average: a white flash or a fade to white. */
  maxMeanLuma: 225,
  /** Less spread than this between the 10th and 90th percentile: a flat frame (solid colour, mid-fade). */
  minLumaSpread: 24,
} as const;

/** How many candidate frames are measured. */
export const POSTER_CANDIDATES = 5;

/**
 * Candidate times, seconds: `count` points evenly inside the video (at
 * 1/(count+1), 2/(count+1)… of its length), never in the first half second
 * nor the last one. Pure.
 */
export function candidateTimes(durationSeconds: number, count = POSTER_CANDIDATES): number[] {
  if (!(durationSeconds > 0)) throw new RangeError(`Duration must be positive (got ${durationSeconds})`);
  const last = Math.max(0, durationSeconds - 1);
  const times = Array.from({ length: count }, (_, i) => Math.min(last, Math.max(Math.min(0.5, last), (durationSeconds * (i + 1)) / (count + 1))));
  return [...new Set(times.map((t) => Math.round(t * 1000) / 1000))];
}

/** The chosen candidate (see the module comment). Pure. @throws RangeError for no candidates. */
export function pickCandidate(candidates: readonly CandidateStats[]): CandidateStats {
  if (candidates.length === 0) throw new RangeError('No candidate frame');
  const spread = (c: CandidateStats) => c.yhigh - c.ylow;
  const usable = candidates.filter(
    (c) => c.yavg >= POSTER_RULES.minMeanLuma && c.yavg <= POSTER_RULES.maxMeanLuma && spread(c) >= POSTER_RULES.minLumaSpread,
  );
  const best = (list: readonly CandidateStats[], score: (c: CandidateStats) => number) =>
    list.reduce((a, b) => (score(b) > score(a) ? b : a));
  return usable.length ? best(usable, (c) => c.entropy) : best(candidates, (c) => spread(c) + c.entropy);
}

/**
 * The poster sizes for a picture shown at `displayWidth`×`displayHeight`:
 * every width of `POSTER_WIDTHS` that does not upscale, or the display width
 * itself when it is narrower than all of them; heights keep the display
 * aspect ratio, rounded to even. Pure.
 */
export function posterSizes(displayWidth: number, displayHeight: number): { width: number; height: number }[] {
  const even = (x: number) => Math.max(2, 2 * Math.round(x / 2));
  const widths: number[] = POSTER_WIDTHS.filter((w) => w <= displayWidth);
  if (widths.length === 0) widths.push(even(displayWidth));
  return widths.map((w) => ({ width: w, height: even((w * displayHeight) / displayWidth) }));
}

export interface PosterSource {
  /** Local path or presigned URL. */
  input: string;
  /** Stream index of the picture. */
  index: number;
  interlaced?: boolean;
  durationSeconds: number;
  displayWidth: number;
  displayHeight: number;
}

/** The ffmpeg command that decodes one candidate at `at` into `png` (display size, square pixels) and writes its stats to `statsFile`. Pure. */
export function buildCandidateArgs(src: PosterSource, at: number, size: { width: number; height: number }, png: string, statsFile: string): FfmpegArgs {
  if (/[\\':,;[\]=]/.test(statsFile)) throw new RangeError('statsFile must not contain filter-graph special characters');
  const deinterlace = src.interlaced ? 'bwdif=mode=send_frame:deint=interlaced,' : '';
  return {
    input: src.input,
    inputOptions: ['-hide_banner', '-nostdin', '-benchmark', ...safeInputOptions(src.input), '-ss', at.toFixed(3)],
    outputs: [
      {
        options: [
          '-map', `0:${src.index}`,
          '-an', '-sn', '-dn',
          '-frames:v', '1',
          '-vf', `${deinterlace}scale=w=${size.width}:h=${size.height},setsar=1,format=yuv420p,signalstats,entropy,metadata=mode=print:file=${statsFile}`,
          '-update', '1',
        ],
        target: png,
      },
    ],
  };
}

/** The ffmpeg command that writes every size and format of the chosen frame. Pure. */
export function buildPosterArgs(png: string, sizes: readonly { width: number; height: number }[], outDir: string): FfmpegArgs {
  const labels = sizes.map((_, i) => `[p${i}]`).join('');
  const graph = [`[0:v]split=${sizes.length}${labels}`, ...sizes.map((s, i) => `[p${i}]scale=w=${s.width}:h=${s.height}:flags=lanczos,setsar=1,split=2[j${i}][w${i}]`)].join(';');
  const outputs = sizes.flatMap((s, i) => [
    {
      options: [...(i === 0 ? ['-filter_complex', graph] : []), '-map', `[j${i}]`, '-frames:v', '1', '-c:v', 'mjpeg', '-q:v', '3', '-pix_fmt', 'yuvj420p', '-update', '1'],
      target: path.join(outDir, posterPath(s.width, 'jpeg')),
    },
    {
      options: ['-map', `[w${i}]`, '-frames:v', '1', '-c:v', 'libwebp', '-quality', '80', '-update', '1'],
      target: path.join(outDir, posterPath(s.width, 'webp')),
    },
  ]);
  return { input: png, inputOptions: ['-hide_banner', '-nostdin', '-benchmark'], outputs };
}

/** Parses the `metadata=mode=print` file of one frame. */
export function parseStats(text: string, at: number): CandidateStats | undefined {
  const value = (key: string) => {
    const m = new RegExp(`^${key.replace(/\./g, '\\.')}=([-\\d.]+)`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const yavg = value('lavfi.signalstats.YAVG');
  const ylow = value('lavfi.signalstats.YLOW');
  const yhigh = value('lavfi.signalstats.YHIGH');
  const entropy = value('lavfi.entropy.normalized_entropy.normal.Y');
  if (yavg === undefined || ylow === undefined || yhigh === undefined || entropy === undefined) return undefined;
  return { at, yavg, ylow, yhigh, entropy };
}

export interface PosterOutput {
  /** Source time of the chosen frame, seconds. */
  atSeconds: number;
  /** Files under `outDir` (`poster/poster-640.jpg` …), with sizes. */
  images: PosterImage[];
  /** Stats of every candidate measured, for the log. */
  candidates: CandidateStats[];
  cpuSeconds: number;
  wallSeconds: number;
}

/**
 * Makes the poster images of `src` in `outDir/poster/`. A candidate that
 * does not decode is skipped.
 * @throws TranscodeError when no candidate decodes (with the last ffmpeg error: the task is retried), when
 *   ffmpeg fails on our own files, or on abort.
 */
export async function makePoster(src: PosterSource, outDir: string, opts: { signal?: AbortSignal; niceness?: number } = {}): Promise<PosterOutput> {
  const sizes = posterSizes(src.displayWidth, src.displayHeight);
  const largest = sizes[sizes.length - 1]!;
  await mkdir(path.join(outDir, POSTER_DIR), { recursive: true });
  let cpuSeconds = 0;
  let wallSeconds = 0;
  const candidates: (CandidateStats & { png: string })[] = [];
  let lastError: Error | undefined;
  for (const [i, at] of candidateTimes(src.durationSeconds).entries()) {
    const png = path.join(outDir, `candidate-${i}.png`);
    const statsFile = path.join(outDir, `candidate-${i}.txt`);
    try {
      const ran = await runFfmpeg(buildCandidateArgs(src, at, largest, png, statsFile), opts);
      cpuSeconds += finite(ran.cpuSeconds);
      wallSeconds += ran.wallSeconds;
    } catch (err) {
      if ((err as TranscodeError).aborted) throw err;
      lastError = err as Error;
      continue; // that point does not decode: try the others
    }
    const stats = parseStats(await readFile(statsFile, 'utf8').catch(() => ''), at);
    if (stats && (await exists(png))) candidates.push({ ...stats, png });
  }
  if (candidates.length === 0) throw new TranscodeError(`No frame could be decoded for the poster${lastError ? `: ${lastError.message}` : ''}`);
  const chosen = pickCandidate(candidates) as CandidateStats & { png: string };

  const ran = await runFfmpeg(buildPosterArgs(chosen.png, sizes, outDir), opts);
  cpuSeconds += finite(ran.cpuSeconds);
  wallSeconds += ran.wallSeconds;
  const images: PosterImage[] = [];
  for (const s of sizes) {
    for (const format of POSTER_FORMATS as readonly PosterFormat[]) {
      const rel = posterPath(s.width, format);
      const { size } = await stat(path.join(outDir, rel)).catch(() => ({ size: 0 }));
      if (size === 0) throw new TranscodeError(`The ${format} poster at ${s.width} px was not written`);
      images.push({ format, width: s.width, height: s.height, bytes: size, path: rel });
    }
  }
  return {
    atSeconds: chosen.at,
    images,
    candidates: candidates.map(({ png: _png, ...c }) => c),
    cpuSeconds: Math.round(cpuSeconds * 1000) / 1000,
    wallSeconds: Math.round(wallSeconds * 1000) / 1000,
  };
}

const finite = (x: number) => (Number.isFinite(x) ? x : 0);
const exists = (file: string) => stat(file).then((s) => s.size > 0, () => false);
