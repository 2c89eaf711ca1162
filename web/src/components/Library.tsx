import { useState, type FormEvent } from 'react';
import { ApiError, VIDEO_STATUSES, VIDEO_TEXT_LIMITS, formatBytes, formatDuration, isPlayable, type VideoRecord, type VideoStatus, type VodApi } from '@vod/client';
import { linkClick } from '../router.js';
import type { VideosState } from '../useVideos.js';
import { ProgressBar, StatusBadge } from './common.js';
import { Poster } from './Poster.js';

/** The name a video is shown by: its title, else the uploaded file's name, else its id. */
export function videoTitle(v: Pick<VideoRecord, 'title' | 'filename' | 'videoId'>): string {
  return v.title ?? v.filename ?? v.videoId;
}

export function Library({ state, api }: { state: VideosState; api: VodApi | undefined }) {
  const { videos, error, hasMore, loadMore, status, setStatus } = state;
  return (
    <section aria-labelledby="library-title">
      <div className="section-head">
        <h1 id="library-title">Library</h1>
        <label className="muted small">
          Show{' '}
          <select
            aria-label="Show videos"
            value={status ?? ''}
            onChange={(e) => setStatus((e.target.value || undefined) as VideoStatus | undefined)}
          >
            <option value="">all videos</option>
            {VIDEO_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s} only
              </option>
            ))}
          </select>
        </label>
        <span className="muted small" aria-live="polite">
          {error
            ? `Could not refresh: ${error.message}`
            : videos
              ? `${videos.length}${hasMore ? '+' : ''} video${videos.length === 1 ? '' : 's'} · updates every 2 s`
              : 'Loading…'}
        </span>
      </div>
      {videos && videos.length === 0 && (
        <div className="card empty">
          <p>{status ? `No ${status} videos.` : 'No videos yet.'}</p>
          {!status && (
            <a href="/" onClick={linkClick} className="button primary">
              Upload one
            </a>
          )}
        </div>
      )}
      <ul className="video-grid" aria-label="Videos">
        {videos?.map((v) => <VideoCard key={v.videoId} v={v} api={api} onChange={state.refresh} />)}
      </ul>
      {hasMore && (
        <p className="load-more">
          <button type="button" onClick={loadMore}>
            Load more
          </button>
        </p>
      )}
    </section>
  );
}

function VideoCard({ v, api, onChange }: { v: VideoRecord; api: VodApi | undefined; onChange: () => void }) {
  const title = videoTitle(v);
  const ready = isPlayable(v);
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string>();

  const act = async (what: () => Promise<unknown>) => {
    setBusy(true);
    setActionError(undefined);
    try {
      await what();
      onChange();
      return true;
    } catch (err) {
      setActionError(err instanceof ApiError ? err.message : String(err));
      return false;
    } finally {
      setBusy(false);
    }
  };
  const remove = () => {
    if (api && window.confirm(`Delete “${title}”? Its source and every published file are removed, and its playback links stop working.`)) {
      void act(() => api.deleteVideo(v.videoId));
    }
  };
  const rename = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const text = String(new FormData(e.currentTarget).get('title') ?? '').trim();
    if (api && (await act(() => api.updateVideo(v.videoId, { title: text || null })))) setEditing(false);
  };

  return (
    <li className="card video-card" data-testid="video-card" data-video-id={v.videoId} data-status={v.status}>
      <Poster poster={v.poster} title={title} />
      <div className="video-card-head">
        {editing ? (
          <form className="rename" onSubmit={rename}>
            <input type="text" name="title" aria-label="Title" defaultValue={v.title ?? ''} placeholder={v.filename ?? 'Title'} maxLength={VIDEO_TEXT_LIMITS.title} autoFocus />
            <button type="submit" disabled={busy}>
              Save
            </button>
            <button type="button" className="link-button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </form>
        ) : ready ? (
          <a href={`/watch/${encodeURIComponent(v.videoId)}`} onClick={linkClick} className="video-title" title={title} data-testid="video-title">
            {title}
          </a>
        ) : (
          <span className="video-title" title={title} data-testid="video-title">
            {title}
          </span>
        )}
        <StatusBadge video={v} />
      </div>
      {v.title && v.filename && <p className="muted small file-name">{v.filename}</p>}
      {v.description && <p className="small description">{v.description}</p>}
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
      {actionError && (
        <p className="error-text small" role="alert">
          {actionError}
        </p>
      )}
      <div className="card-actions">
        {ready && (
          <a href={`/watch/${encodeURIComponent(v.videoId)}`} onClick={linkClick} className="button primary watch" aria-label={`Watch ${title}`}>
            ▶ Watch
          </a>
        )}
        {v.status === 'failed' && api && (
          <button type="button" disabled={busy} onClick={() => void act(() => api.retryVideo(v.videoId))} aria-label={`Retry ${title}`}>
            ↻ Retry
          </button>
        )}
        {api && !editing && (
          <button type="button" className="link-button" disabled={busy} onClick={() => setEditing(true)} aria-label={`Rename ${title}`}>
            Rename
          </button>
        )}
        {api && (
          <button type="button" className="link-button danger" disabled={busy} onClick={remove} aria-label={`Delete ${title}`}>
            Delete
          </button>
        )}
      </div>
    </li>
  );
}
