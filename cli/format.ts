/** Text formatting for the CLI (pure). */
import type { VideoRecord } from '../client/api.js';

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

/** "ready", "processing 42%", "failed: reason". */
export function formatStatus(v: Pick<VideoRecord, 'status' | 'progress' | 'error'>): string {
  if (v.status === 'processing') return `processing ${Math.round(v.progress ?? 0)}%`;
  if (v.status === 'failed') return v.error ? `failed: ${v.error}` : 'failed';
  return v.status;
}

export function formatRenditions(v: Pick<VideoRecord, 'renditions'>): string {
  if (!v.renditions?.length) return '–';
  return v.renditions.map((r) => r.name || `${r.height}p`).join(',');
}

/** Left-aligned text table; cells longer than `max` are cut with "…". */
export function formatTable(header: string[], rows: string[][], max = 48): string {
  const cut = (s: string) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
  const all = [header, ...rows].map((r) => r.map(cut));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}

export function formatVideoTable(videos: VideoRecord[]): string {
  if (videos.length === 0) return 'No videos yet. Upload one with: vod upload FILE';
  const rows = [...videos]
    .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))
    .map((v) => [v.videoId, formatStatus(v), formatDuration(v.durationSeconds), formatRenditions(v), v.filename ?? '–', (v.createdAt ?? '').replace('T', ' ').slice(0, 19)]);
  return formatTable(['VIDEO ID', 'STATUS', 'DURATION', 'RENDITIONS', 'FILE', 'CREATED (UTC)'], rows);
}

export function formatVideoDetail(v: VideoRecord): string {
  const lines: [string, string][] = [
    ['Video', v.videoId],
    ['Status', formatStatus(v)],
    ['File', v.filename ? `${v.filename}${v.sizeBytes !== undefined ? ` (${formatBytes(v.sizeBytes)})` : ''}` : '–'],
    ['Duration', formatDuration(v.durationSeconds)],
    ['Renditions', v.renditions?.length ? v.renditions.map((r) => `${r.name} ${r.width}x${r.height} ${Math.round(r.bandwidth / 1000)} kb/s`).join('; ') : '–'],
    ['Created', v.createdAt ?? '–'],
    ['Updated', v.updatedAt ?? '–'],
  ];
  return lines.map(([k, val]) => `${`${k}:`.padEnd(12)}${val}`).join('\n');
}

/** Content type from a file name's extension. */
export function guessContentType(filename: string): string {
  const ext = filename.toLowerCase().split('.').pop() ?? '';
  const types: Record<string, string> = {
    mp4: 'video/mp4',
    m4v: 'video/x-m4v',
    mov: 'video/quicktime',
    webm: 'video/webm',
    mkv: 'video/x-matroska',
    avi: 'video/x-msvideo',
    ts: 'video/mp2t',
    mpg: 'video/mpeg',
    mpeg: 'video/mpeg',
  };
  return types[ext] ?? 'application/octet-stream';
}
