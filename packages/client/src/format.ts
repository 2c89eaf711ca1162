/**
 * Human-readable numbers and states, shared by the CLI and the web app (pure,
 * browser-safe).
 */
import type { VideoRecord } from './api.js';

const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text safe to write to a terminal: C0 controls and DEL (ECMA-48: escape
 * sequences that move the cursor, clear the screen, set the window title, or
 * hide text), C1 controls (U+0080–U+009F, 8-bit CSI), and the Unicode bidi
 * overrides and isolates (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C:
 * text that displays in another order than it reads) are shown escaped —
 * `\n`, `\r`, `\t`, else `\xHH` or `\uHHHH`. Everything else is unchanged.
 * For names and messages that come from users or the server.
 */
export function escapeControl(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return NAMED_ESCAPES[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}

/** 1234567 → "1.2 MB" (decimal units, like network speeds). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** Bytes per second → "3.4 MB/s". */
export function formatRate(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '– MB/s';
  return `${(bytesPerSecond / 1e6).toFixed(bytesPerSecond < 1e7 ? 1 : 0)} MB/s`;
}

/** Seconds → "45s", "3m 05s", "1h 02m". */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Media duration → "0:07", "12:34", "1:02:03". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** "ready", "processing 42%", "processing 42%, playable", "failed: reason" (the reason with controls escaped). */
export function formatStatus(v: Pick<VideoRecord, 'status' | 'progress' | 'error' | 'playable'>): string {
  if (v.status === 'processing') return `processing ${Math.round(v.progress ?? 0)}%${v.playable ? ', playable' : ''}`;
  if (v.status === 'failed') return v.error ? `failed: ${escapeControl(v.error)}` : 'failed';
  return v.status;
}
