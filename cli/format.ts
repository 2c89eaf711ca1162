/** Text formatting for the CLI (pure). */
import type { VideoRecord } from '@vod/client';
import { escapeControl, formatBytes, formatDuration, formatStatus } from '@vod/client';

export { escapeControl, formatBytes, formatDuration, formatEta, formatRate, formatStatus } from '@vod/client';

export function formatRenditions(v: Pick<VideoRecord, 'renditions'>): string {
  if (!v.renditions?.length) return '–';
  return [...v.renditions].sort((a, b) => b.height - a.height).map((r) => r.name || `${r.height}p`).join(',');
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
    .map((v) => [v.videoId, formatStatus(v), formatDuration(v.durationSeconds), formatRenditions(v), escapeControl(v.title ?? v.filename ?? '–'), (v.createdAt ?? '').replace('T', ' ').slice(0, 19)]);
  return formatTable(['VIDEO ID', 'STATUS', 'DURATION', 'RENDITIONS', 'TITLE', 'CREATED (UTC)'], rows);
}

/** "41.2 CPU-s, ≈ $0.00017" (the encode's CPU time and its estimated spot cost). */
export function formatCost(v: Pick<VideoRecord, 'cpuSeconds' | 'estimatedCostUsd'>): string {
  if (v.cpuSeconds === undefined) return '–';
  const usd = v.estimatedCostUsd === undefined ? '' : `, ≈ $${v.estimatedCostUsd < 0.01 ? v.estimatedCostUsd.toPrecision(2) : v.estimatedCostUsd.toFixed(2)}`;
  return `${v.cpuSeconds.toFixed(1)} CPU-s${usd}`;
}

export function formatVideoDetail(v: VideoRecord): string {
  const lines: [string, string][] = [
    ['Video', v.videoId],
    ...(v.title ? ([['Title', v.title]] as [string, string][]) : []),
    ['Status', formatStatus(v)],
    ['File', v.filename ? `${escapeControl(v.filename)}${v.sizeBytes !== undefined ? ` (${formatBytes(v.sizeBytes)})` : ''}` : '–'],
    ['Duration', formatDuration(v.durationSeconds)],
    ['Renditions', v.renditions?.length ? v.renditions.map((r) => `${r.name} ${r.width}x${r.height} ${Math.round(r.bandwidth / 1000)} kb/s`).join('; ') : '–'],
    ['Encode', v.cpuSeconds !== undefined ? `${formatCost(v)} (${(v.encodeSeconds ?? 0).toFixed(1)} worker-s)` : '–'],
    ['Created', v.createdAt ?? '–'],
    ['Updated', v.updatedAt ?? '–'],
    ...(v.description ? ([['Description', v.description.replace(/\n/g, `\n${' '.repeat(14)}`)]] as [string, string][]) : []),
  ];
  return lines.map(([k, val]) => `${`${k}:`.padEnd(14)}${val}`).join('\n');
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
