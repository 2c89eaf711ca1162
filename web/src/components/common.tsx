import type { VideoRecord } from '@vod/client';

export function ProgressBar(props: { value: number; label: string; tone?: 'accent' | 'ok' | 'warn' | 'error' }) {
  const pct = Math.max(0, Math.min(100, props.value));
  return (
    <div
      className={`progress ${props.tone ?? 'accent'}`}
      role="progressbar"
      aria-label={props.label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(pct)}
    >
      <div className="progress-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}

export function StatusBadge({ video }: { video: Pick<VideoRecord, 'status' | 'progress'> }) {
  const text = video.status === 'processing' ? `processing ${Math.round(video.progress ?? 0)}%` : video.status;
  return <span className={`badge badge-${video.status}`} data-status={video.status}>{text}</span>;
}
