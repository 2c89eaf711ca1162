import type { VideoRecord } from '@vod/client';

export type Storyboard = Extract<NonNullable<VideoRecord['storyboard']>, { available: true }>;

/**
 * The tile showing `seconds` of a storyboard: its sheet's URL and its
 * top-left corner in pixels (layout of the contract's `storyboardSchema`:
 * row by row, sheet by sheet). Past the end: the last tile.
 */
export function tileAt(sb: Storyboard, seconds: number): { url: string; x: number; y: number; index: number } | undefined {
  if (!(seconds >= 0)) return undefined;
  const index = Math.min(sb.count - 1, Math.floor(seconds / sb.intervalSeconds));
  const perSheet = sb.columns * sb.rows;
  const sheet = sb.sheets[Math.floor(index / perSheet)];
  if (!sheet?.url) return undefined;
  const inSheet = index % perSheet;
  return { url: sheet.url, x: (inSheet % sb.columns) * sb.tileWidth, y: Math.floor(inSheet / sb.columns) * sb.tileHeight, index };
}
