import { useEffect, useId, useRef, useState, useSyncExternalStore, type DragEvent } from 'react';
import { ApiError, VodApi, isPlayable, type VideoRecord } from '@vod/client';
import { cancelUpload } from '@vod/client';
import { formatBytes, formatEta, formatRate } from '@vod/client';
import { linkClick } from '../router.js';
import { loadPending, savePending, type PendingUpload } from '../storage.js';
import type { UploadItem, UploadQueue } from '../uploads.js';
import { ProgressBar, StatusBadge } from './common.js';

export function UploadPage(props: { queue: UploadQueue; videos: VideoRecord[] | undefined; token: string }) {
  const { queue } = props;
  const items = useSyncExternalStore(queue.subscribe, queue.getSnapshot);
  const inputRef = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const inputId = useId();

  const addFiles = (list: FileList | null) => {
    if (list && list.length) queue.add(Array.from(list));
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    addFiles(e.dataTransfer.files);
  };

  return (
    <section aria-labelledby="upload-title">
      <h1 id="upload-title">Upload</h1>
      <div
        className={`dropzone${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <input
          ref={inputRef}
          id={inputId}
          type="file"
          accept="video/*,.mkv,.mov,.mp4,.webm"
          multiple
          className="sr-only"
          tabIndex={-1}
          aria-hidden="true"
          data-testid="file-input"
          onChange={(e) => {
            addFiles(e.target.files);
            e.target.value = '';
          }}
        />
        <div className="drop-icon" aria-hidden="true">⇪</div>
        <p>
          <strong>Drop video files here</strong>
          <span className="muted"> or </span>
        </p>
        <button type="button" className="primary" onClick={() => inputRef.current?.click()}>
          Choose files
        </button>
        <p className="muted small">Large files go up in parts and resume where they stopped — even after a reload (pick the same file again).</p>
      </div>

      <PendingFromEarlier token={props.token} activeKeys={new Set(items.map((i) => i.key))} />

      {items.length > 0 && (
        <ul className="upload-list" aria-label="Uploads">
          {items.map((it) => (
            <UploadRow key={it.id} item={it} queue={queue} video={props.videos?.find((v) => v.videoId === it.videoId)} />
          ))}
        </ul>
      )}
    </section>
  );
}

function UploadRow({ item, queue, video }: { item: UploadItem; queue: UploadQueue; video?: VideoRecord }) {
  const pct = item.totalBytes > 0 ? (item.uploadedBytes / item.totalBytes) * 100 : 0;
  const shownPct = Math.floor(pct);
  let detail: string;
  switch (item.status) {
    case 'queued':
      detail = 'Waiting…';
      break;
    case 'uploading':
      detail = `${formatRate(item.rate)} · ${Number.isFinite(item.eta) ? `${formatEta(item.eta)} left` : 'estimating…'}`;
      break;
    case 'paused':
      detail = 'Paused';
      break;
    case 'error':
      detail = `Failed: ${item.error ?? 'unknown error'}`;
      break;
    case 'done':
      detail = 'Uploaded';
      break;
    case 'canceled':
      detail = 'Cancelled';
      break;
  }
  const tone = item.status === 'error' ? 'error' : item.status === 'done' ? 'ok' : item.status === 'paused' || item.status === 'canceled' ? 'warn' : 'accent';
  return (
    <li className="card upload-item" data-testid="upload-item" data-status={item.status} data-upload-id={item.uploadId ?? ''} data-video-id={item.videoId ?? ''}>
      <div className="upload-head">
        <span className="filename" title={item.file.name}>
          {item.file.name}
        </span>
        <span className="muted small">{formatBytes(item.totalBytes)}</span>
      </div>
      <ProgressBar value={pct} label={`Upload of ${item.file.name}`} tone={tone} />
      <div className="upload-meta">
        <span className="pct" data-testid="upload-percent">
          {shownPct}%
        </span>
        <span className={`small ${item.status === 'error' ? 'error-text' : 'muted'}`} aria-live="polite">
          {detail}
          {item.resumedParts ? ` · resumed (${item.resumedParts}/${item.partCount} parts were stored)` : ''}
        </span>
        <span className="actions">
          {item.status === 'uploading' || item.status === 'queued' ? (
            <button type="button" onClick={() => queue.pause(item.id)}>
              Pause
            </button>
          ) : null}
          {item.status === 'paused' || item.status === 'error' ? (
            <button type="button" className="primary" onClick={() => queue.resume(item.id)}>
              {item.status === 'error' ? 'Retry' : 'Resume'}
            </button>
          ) : null}
          {item.status !== 'done' && item.status !== 'canceled' ? (
            <button type="button" className="danger" onClick={() => void queue.cancel(item.id)}>
              Cancel
            </button>
          ) : (
            <button type="button" onClick={() => queue.remove(item.id)} aria-label={`Remove ${item.file.name} from the list`}>
              Clear
            </button>
          )}
        </span>
      </div>
      {item.status === 'done' && item.videoId && (
        <div className="upload-after">
          {video ? <StatusBadge video={video} /> : <span className="badge badge-queued">queued</span>}
          {video?.status === 'failed' && <span className="error-text small">{video.error ?? 'Transcoding failed'}</span>}
          {video && isPlayable(video) && (
            <a href={`/watch/${encodeURIComponent(item.videoId)}`} onClick={linkClick} className="button primary">
              ▶ Watch
            </a>
          )}
        </div>
      )}
    </li>
  );
}

/** Unfinished uploads remembered from an earlier visit: re-pick the file to resume, or discard. */
function PendingFromEarlier({ token, activeKeys }: { token: string; activeKeys: Set<string> }) {
  const [pending, setPending] = useState<[string, PendingUpload, number | undefined][]>([]);

  useEffect(() => {
    let stopped = false;
    const api = new VodApi({ baseUrl: '', token });
    const entries = Object.entries(loadPending());
    setPending(entries.map(([k, p]) => [k, p, undefined]));
    void (async () => {
      const checked: [string, PendingUpload, number | undefined][] = [];
      for (const [k, p] of entries) {
        try {
          const s = await api.getUpload(p.uploadId);
          if (s.state !== 'uploading') {
            savePending(k, null);
            continue;
          }
          checked.push([k, p, s.parts.reduce((sum, part) => sum + part.size, 0)]);
        } catch (err) {
          if (err instanceof ApiError && err.status === 404) savePending(k, null);
          else checked.push([k, p, undefined]);
        }
      }
      if (!stopped) setPending(checked);
    })();
    return () => {
      stopped = true;
    };
  }, [token]);

  const shown = pending.filter(([k]) => !activeKeys.has(k));
  if (shown.length === 0) return null;
  const discard = async (key: string, p: PendingUpload) => {
    savePending(key, null);
    setPending((list) => list.filter(([k]) => k !== key));
    await cancelUpload({ baseUrl: '', token, uploadId: p.uploadId }).catch(() => undefined);
  };
  return (
    <div className="card pending" aria-label="Unfinished uploads">
      <h2>Unfinished uploads</h2>
      <p className="muted small">Choose the same file again to continue where it stopped.</p>
      <ul>
        {shown.map(([key, p, stored]) => (
          <li key={key} data-testid="pending-upload">
            <span className="filename">{p.filename}</span>
            <span className="muted small">
              {stored !== undefined ? `${formatBytes(stored)} of ${formatBytes(p.size)} stored` : formatBytes(p.size)}
            </span>
            <button type="button" onClick={() => void discard(key, p)} aria-label={`Discard the unfinished upload of ${p.filename}`}>
              Discard
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
