import { formatBytes, formatDuration, isPlayable } from '@vod/client';
import { linkClick } from '../router.js';
import type { VideosState } from '../useVideos.js';
import { ProgressBar, StatusBadge } from './common.js';
import { Poster } from './Poster.js';

export function Library({ state }: { state: VideosState }) {
  const { videos, error } = state;
  return (
    <section aria-labelledby="library-title">
      <div className="section-head">
        <h1 id="library-title">Library</h1>
        <span className="muted small" aria-live="polite">
          {error ? `Could not refresh: ${error.message}` : videos ? `${videos.length} video${videos.length === 1 ? '' : 's'} · updates every 2 s` : 'Loading…'}
        </span>
      </div>
      {videos && videos.length === 0 && (
        <div className="card empty">
          <p>No videos yet.</p>
          <a href="/" onClick={linkClick} className="button primary">
            Upload one
          </a>
        </div>
      )}
      <ul className="video-grid" aria-label="Videos">
        {videos?.map((v) => {
          const title = v.filename ?? v.videoId;
          const ready = isPlayable(v);
          return (
            <li key={v.videoId} className="card video-card" data-testid="video-card" data-video-id={v.videoId} data-status={v.status}>
              <Poster poster={v.poster} title={title} />
              <div className="video-card-head">
                {ready ? (
                  <a href={`/watch/${encodeURIComponent(v.videoId)}`} onClick={linkClick} className="video-title" title={title}>
                    {title}
                  </a>
                ) : (
                  <span className="video-title" title={title}>
                    {title}
                  </span>
                )}
                <StatusBadge video={v} />
              </div>
              {v.status === 'processing' && <ProgressBar value={v.progress ?? 0} label={`Transcoding ${title}`} />}
              {v.status === 'failed' && <p className="error-text small">Failed: {v.error ?? 'no reason given'}</p>}
              <dl className="facts">
                <div>
                  <dt>Duration</dt>
                  <dd>{formatDuration(v.durationSeconds)}</dd>
                </div>
                {v.sizeBytes !== undefined && (
                  <div>
                    <dt>Size</dt>
                    <dd>{formatBytes(v.sizeBytes)}</dd>
                  </div>
                )}
                {v.cpuSeconds !== undefined && (
                  <div>
                    <dt>Encode</dt>
                    <dd title={`${v.cpuSeconds} CPU-seconds, ${v.encodeSeconds ?? 0} worker-seconds`}>
                      {Math.round(v.cpuSeconds)} CPU-s{v.estimatedCostUsd !== undefined ? ` · $${v.estimatedCostUsd.toPrecision(2)}` : ''}
                    </dd>
                  </div>
                )}
                <div>
                  <dt>Added</dt>
                  <dd>
                    <time dateTime={v.createdAt}>{new Date(v.createdAt).toLocaleString()}</time>
                  </dd>
                </div>
              </dl>
              {v.renditions?.length ? (
                <ul className="chips" aria-label="Renditions">
                  {[...v.renditions].sort((a, b) => b.height - a.height).map((r) => (
                    <li key={r.name} className="chip" title={`${r.width}×${r.height}, ${Math.round(r.bandwidth / 1000)} kb/s`}>
                      {r.name}
                    </li>
                  ))}
                </ul>
              ) : null}
              {ready && (
                <a href={`/watch/${encodeURIComponent(v.videoId)}`} onClick={linkClick} className="button primary watch" aria-label={`Watch ${title}`}>
                  ▶ Watch
                </a>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
