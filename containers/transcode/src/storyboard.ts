/**
 * The storyboard (seek previews): small frames at a fixed interval packed
 * into JPEG sprite sheets, a WebVTT thumbnails track whose cues point into
 * the sheets with `#xywh=` media fragments (W3C Media Fragments URI 1.0,
 * §4.2.1 spatial dimension), and the same data as JSON.
 *
 * Made by a task after the final playlists, from the published keyframes of
 * one small rendition: the I-frame playlist names each keyframe's byte range,
 * keyframes sit on the 2-second grid of the shared timeline, so every tile is
 * exactly the picture at its time, and only those bytes are read (HTTP range
 * reads; one keyframe per tile), never the source again.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as HLS from 'hls-parser';
import type { MediaPlaylist } from 'hls-parser/types.js';
import { IFRAME_PLAYLIST, STORYBOARD_DIR, STORYBOARD_FILES, keys, storyboardSheetPath, type Rendition, type Storyboard } from '@vod/contract';
import { TranscodeError } from './errors.js';
import type { FfmpegArgs } from './ffmpeg-args.js';
import { runFfmpeg } from './ffmpeg-runner.js';

type AvailableStoryboard = Extract<Storyboard, { available: true }>;

/** One tile of the JSON: the time it covers (seconds), its sheet (index) and its top-left corner (pixels). */
export interface StoryboardTile {
  start: number;
  end: number;
  sheet: number;
  x: number;
  y: number;
}

/** Tile width, pixels (height from the picture's aspect ratio). */
export const TILE_WIDTH = 160;
/** Tiles per sheet row and column. */
export const SHEET_COLUMNS = 10;
export const SHEET_ROWS = 10;
/** At most this many tiles per video: longer videos get a longer interval (a multiple of the keyframe interval). */
export const MAX_TILES = 300;

/** Seconds between tiles: the keyframe interval, times the smallest whole factor that keeps the tiles ≤ `MAX_TILES`. Pure. */
export function storyboardInterval(durationSeconds: number, keyframeSeconds: number, maxTiles = MAX_TILES): number {
  if (!(durationSeconds > 0) || !(keyframeSeconds > 0)) throw new RangeError('Duration and keyframe interval must be positive');
  return keyframeSeconds * Math.max(1, Math.ceil(durationSeconds / keyframeSeconds / maxTiles));
}

/** Tile size for a rendition: `TILE_WIDTH` wide (or the rendition's width if narrower), height by aspect ratio, even. Pure. */
export function tileSize(r: Pick<Rendition, 'width' | 'height'>): { width: number; height: number } {
  const width = Math.min(TILE_WIDTH, r.width - (r.width % 2));
  return { width, height: Math.max(2, 2 * Math.round((width * r.height) / r.width / 2)) };
}

/** The rendition to take the tiles from: the smallest at least `TILE_WIDTH` wide (else the widest). Pure. */
export function chooseStoryboardRendition(renditions: readonly Rendition[]): Rendition | undefined {
  const byWidth = [...renditions].sort((a, b) => a.width - b.width);
  return byWidth.find((r) => r.width >= TILE_WIDTH) ?? byWidth[byWidth.length - 1];
}

/**
 * The layout of `count` tiles: which sheet, where in it, and the time each
 * covers (`[i·interval, min((i+1)·interval, duration))`). Pure.
 */
export function storyboardLayout(
  count: number,
  interval: number,
  durationSeconds: number,
  tile: { width: number; height: number },
): { storyboard: AvailableStoryboard; tiles: StoryboardTile[] } {
  const perSheet = SHEET_COLUMNS * SHEET_ROWS;
  const sheets = Math.ceil(count / perSheet);
  const storyboard: AvailableStoryboard = {
    available: true,
    intervalSeconds: interval,
    count,
    tileWidth: tile.width,
    tileHeight: tile.height,
    columns: SHEET_COLUMNS,
    rows: SHEET_ROWS,
    sheets: Array.from({ length: sheets }, (_, i) => ({ path: storyboardSheetPath(i) })),
    vtt: { path: `${STORYBOARD_DIR}/${STORYBOARD_FILES.vtt}` },
    json: { path: `${STORYBOARD_DIR}/${STORYBOARD_FILES.json}` },
  };
  return {
    storyboard,
    tiles: Array.from({ length: count }, (_, i) => {
      const inSheet = i % perSheet;
      return {
        start: round3(i * interval),
        end: round3(Math.min((i + 1) * interval, durationSeconds)),
        sheet: Math.floor(i / perSheet),
        x: (inSheet % SHEET_COLUMNS) * tile.width,
        y: Math.floor(inSheet / SHEET_COLUMNS) * tile.height,
      };
    }),
  };
}

/** The WebVTT thumbnails track of a layout: one cue per tile, `sheet-000.jpg#xywh=x,y,w,h` relative to the track. Pure. */
export function storyboardVtt(layout: AvailableStoryboard, tiles: readonly StoryboardTile[]): string {
  const lines = ['WEBVTT', ''];
  for (const t of tiles) {
    if (!(t.end > t.start)) continue;
    lines.push(`${vttTime(t.start)} --> ${vttTime(t.end)}`);
    lines.push(`${path.posix.basename(layout.sheets[t.sheet]!.path)}#xywh=${t.x},${t.y},${layout.tileWidth},${layout.tileHeight}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** 3725.5 → "01:02:05.500" (WebVTT timestamp). */
export function vttTime(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** The ffmpeg command that scales the joined keyframes and packs them into sheets (`sheet-%03d.jpg`). Pure. */
export function buildSheetArgs(keyframesTs: string, tile: { width: number; height: number }, outDir: string): FfmpegArgs {
  return {
    input: keyframesTs,
    inputOptions: ['-hide_banner', '-nostdin', '-benchmark', '-protocol_whitelist', 'file', '-f', 'mpegts'],
    outputs: [
      {
        options: [
          '-map', '0:v:0',
          // One tile per keyframe we fetched, in order, whatever their timestamps.
          '-fps_mode', 'passthrough',
          '-vf', `scale=w=${tile.width}:h=${tile.height}:flags=bilinear,setsar=1,tile=${SHEET_COLUMNS}x${SHEET_ROWS}`,
          '-c:v', 'mjpeg', '-q:v', '5', '-pix_fmt', 'yuvj420p',
          '-start_number', '0',
        ],
        target: path.join(outDir, STORYBOARD_DIR, 'sheet-%03d.jpg'),
      },
    ],
  };
}

export interface StoryboardJob {
  videoId: string;
  rendition: Pick<Rendition, 'name' | 'width' | 'height'>;
  durationSeconds: number;
  keyframeSeconds: number;
}

/**
 * Makes the sheets, the VTT and the JSON of `job` in `dir/storyboard/`.
 * @returns the layout and the files written (paths under the video's prefix).
 * @throws TranscodeError when the I-frame playlist is missing or ffmpeg fails.
 */
export async function makeStoryboard(
  s3: S3Client,
  bucket: string,
  job: StoryboardJob,
  dir: string,
  opts: { signal?: AbortSignal; niceness?: number } = {},
): Promise<{ storyboard: AvailableStoryboard; tiles: StoryboardTile[]; files: string[]; cpuSeconds: number }> {
  const interval = storyboardInterval(job.durationSeconds, job.keyframeSeconds);
  const every = Math.round(interval / job.keyframeSeconds);
  const playlistKey = keys.videoFile(job.videoId, `${job.rendition.name}/${IFRAME_PLAYLIST}`);
  const text = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: playlistKey }))).Body!.transformToString();
  const playlist = HLS.parse(text) as MediaPlaylist;
  if (playlist.isMasterPlaylist || !playlist.isIFrame) throw new TranscodeError(`${playlistKey} is not an I-frame playlist`);
  const picked = playlist.segments.filter((_, i) => i % every === 0);
  if (picked.length === 0) throw new TranscodeError('The I-frame playlist lists no keyframe');

  // Each tile's keyframe, fetched by its byte range, one after the other into one TS file.
  const joined = path.join(dir, 'keyframes.ts');
  for (const [i, entry] of picked.entries()) {
    const { offset, length } = entry.byterange!;
    const out = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: keys.videoFile(job.videoId, `${job.rendition.name}/${entry.uri}`), Range: `bytes=${offset}-${offset + length - 1}` }),
      { abortSignal: opts.signal },
    );
    await pipeline(out.Body as Readable, createWriteStream(joined, { flags: i === 0 ? 'w' : 'a' }), { signal: opts.signal });
  }

  const tile = tileSize(job.rendition);
  await mkdir(path.join(dir, STORYBOARD_DIR), { recursive: true });
  const ran = await runFfmpeg(buildSheetArgs(joined, tile, dir), opts);
  const { storyboard, tiles } = storyboardLayout(picked.length, interval, job.durationSeconds, tile);
  for (const sheet of storyboard.sheets) {
    const { size } = await stat(path.join(dir, sheet.path)).catch(() => ({ size: 0 }));
    if (size === 0) throw new TranscodeError(`Storyboard sheet ${sheet.path} was not written`);
  }
  await writeFile(path.join(dir, storyboard.vtt.path), storyboardVtt(storyboard, tiles));
  // The JSON: the layout and every tile, sheets by path relative to the video (sign them with the video's policy).
  await writeFile(path.join(dir, storyboard.json.path), JSON.stringify({ ...storyboard, tiles }));
  return {
    storyboard,
    tiles,
    files: [...storyboard.sheets.map((s) => s.path), storyboard.vtt.path, storyboard.json.path],
    cpuSeconds: Number.isFinite(ran.cpuSeconds) ? Math.round(ran.cpuSeconds * 1000) / 1000 : 0,
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
