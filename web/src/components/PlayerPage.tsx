import { useEffect, useId, useRef, useState } from 'react';
import { ApiError, isPlayable, type VideoRecord, type VodApi } from '@vod/client';
import { formatBytes, formatDuration } from '@vod/client';
import { PlaybackController, type Engine, type LevelInfo, type SubtitleInfo } from '../playback.js';
import { linkClick } from '../router.js';
import { ProgressBar, StatusBadge } from './common.js';
import { largestPosterUrl } from './Poster.js';
import { SeekPreview } from './SeekPreview.js';

function formatBitrate(bps: number): string {
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(1)} Mb/s` : `${Math.round(bps / 1000)} kb/s`;
}

export function PlayerPage({ videoId, api, record: listed }: { videoId: string; api: VodApi; record?: VideoRecord }) {
  const [record, setRecord] = useState<VideoRecord | undefined>(listed);
  const [loadError, setLoadError] = useState<string>();

  // The list refreshes every 2 s; also fetch this one directly (deep links, not-yet-listed videos).
  useEffect(() => {
    if (listed) setRecord(listed);
  }, [listed]);
  useEffect(() => {
    const ctl = new AbortController();
    api
      .getVideo(videoId, ctl.signal)
      .then(setRecord)
      .catch((err: unknown) => {
        if (ctl.signal.aborted) return;
        setLoadError(err instanceof ApiError && err.status === 404 ? 'There is no video with this ID.' : (err as Error).message);
      });
    return () => ctl.abort();
  }, [api, videoId]);

  const title = record?.title ?? record?.filename ?? videoId;
  return (
    <section aria-labelledby="player-title" className="player-page">
      <p className="back">
        <a href="/library" onClick={linkClick}>
          ← Library
        </a>
      </p>
      <div className="section-head">
        <h1 id="player-title" className="truncate" title={title}>
          {title}
        </h1>
        {record && <StatusBadge video={record} />}
      </div>
      {loadError && !record && (
        <div className="card message error" role="alert">
          {loadError}
        </div>
      )}
      {record?.status === 'failed' && (
        <div className="card message error" role="alert">
          <strong>This video could not be processed.</strong> {record.error ?? 'No reason was given.'}
        </div>
      )}
      {record && !isPlayable(record) && (record.status === 'queued' || record.status === 'processing' || record.status === 'uploading') && (
        <div className="card message" role="status">
          <p>
            {record.status === 'uploading'
              ? 'This video is still being uploaded.'
              : record.status === 'queued'
                ? 'Waiting for a transcoder…'
                : `Transcoding… ${Math.round(record.progress ?? 0)}%`}{' '}
            It will play here as soon as its start is encoded.
          </p>
          {record.status === 'processing' && <ProgressBar value={record.progress ?? 0} label="Transcoding" />}
        </div>
      )}
      {record?.status === 'processing' && record.playable && (
        <div className="card message info" role="status" data-testid="still-encoding">
          Still encoding ({Math.round(record.progress ?? 0)}%): it plays now, and the rest arrives while you watch.
        </div>
      )}
      {record && isPlayable(record) && <Player videoId={videoId} api={api} record={record} />}
    </section>
  );
}

function Player({ videoId, api, record }: { videoId: string; api: VodApi; record: VideoRecord }) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const controllerRef = useRef<PlaybackController>(undefined);
  const [engine, setEngine] = useState<Engine>();
  const [levels, setLevels] = useState<LevelInfo[]>([]);
  const [current, setCurrent] = useState<{ index: number; auto: boolean }>({ index: -1, auto: true });
  const [choice, setChoice] = useState(-1);
  const [notice, setNotice] = useState<string | null>(null);
  const [fatal, setFatal] = useState<string>();
  const [expiresAt, setExpiresAt] = useState<string>();
  const [attempt, setAttempt] = useState(0);
  const [subtitles, setSubtitles] = useState<SubtitleInfo[]>([]);
  const [subtitle, setSubtitle] = useState(-1);
  const selectId = useId();
  const subtitlesId = useId();

  useEffect(() => {
    const video = videoRef.current!;
    setFatal(undefined);
    const controller = new PlaybackController(video, () => api.getPlayback(videoId), {
      onEngine: setEngine,
      onLevels: setLevels,
      onLevel: (index, auto) => setCurrent({ index, auto }),
      onNotice: setNotice,
      onFatal: setFatal,
      onPlayback: (info) => setExpiresAt(info.expiresAt),
      onSubtitles: setSubtitles,
      onSubtitle: setSubtitle,
    });
    controllerRef.current = controller;
    controller.start().catch((err: unknown) => setFatal(`Could not get a playback link: ${(err as Error).message}`));
    return () => {
      controller.destroy();
      controllerRef.current = undefined;
    };
  }, [api, videoId, attempt]);

  const sorted = [...levels].sort((a, b) => b.height - a.height || b.bitrate - a.bitrate);
  const playing = levels[current.index];
  const playingLabel = playing ? playing.label : '…';

  return (
    <div className="player-wrap" data-testid="player" data-engine={engine ?? ''} data-level={playing?.label ?? ''}>
      <div className="video-box">
        <video ref={videoRef} controls playsInline preload="auto" poster={largestPosterUrl(record.poster)} aria-label={`Video: ${record.filename ?? videoId}`} data-testid="video" />
      </div>
      {record.storyboard?.available && record.durationSeconds ? (
        <SeekPreview storyboard={record.storyboard} duration={record.durationSeconds} videoRef={videoRef} />
      ) : null}
      {notice && (
        <div className="card message info" role="status" data-testid="player-notice">
          {notice}
        </div>
      )}
      {fatal && (
        <div className="card message error" role="alert" data-testid="player-error">
          <p>{fatal}</p>
          <button type="button" className="primary" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </div>
      )}
      <div className="player-bar">
        <div className="quality">
          <label htmlFor={selectId}>Quality</label>
          <select
            id={selectId}
            data-testid="quality"
            value={choice}
            disabled={engine !== 'hls.js' || levels.length === 0}
            onChange={(e) => {
              const idx = Number(e.target.value);
              setChoice(idx);
              controllerRef.current?.setLevel(idx);
            }}
          >
            <option value={-1}>{engine === 'native' ? 'Auto (browser)' : `Auto${current.auto && playing ? ` (${playing.label})` : ''}`}</option>
            {sorted.map((l) => (
              <option key={l.index} value={l.index}>
                {l.label} · {formatBitrate(l.bitrate)}
              </option>
            ))}
          </select>
          <span className="muted small" aria-live="polite" data-testid="now-playing">
            {engine === 'native' ? 'Quality chosen by the browser' : `Playing ${playingLabel}${current.auto ? ' (auto)' : ''}`}
          </span>
        </div>
        {subtitles.length > 0 && (
          <div className="quality">
            <label htmlFor={subtitlesId}>Subtitles</label>
            <select
              id={subtitlesId}
              data-testid="subtitles"
              value={subtitle}
              onChange={(e) => {
                const idx = Number(e.target.value);
                setSubtitle(idx);
                controllerRef.current?.setSubtitle(idx);
              }}
            >
              <option value={-1}>Off</option>
              {subtitles.map((t) => (
                <option key={t.index} value={t.index} lang={t.language}>
                  {t.label}
                </option>
              ))}
            </select>
          </div>
        )}
        <dl className="facts">
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(record.durationSeconds)}</dd>
          </div>
          <div>
            <dt>Renditions</dt>
            <dd>{[...(record.renditions ?? [])].sort((a, b) => b.height - a.height).map((r) => r.name).join(' · ') || '–'}</dd>
          </div>
          {record.download?.available && (
            <div>
              <dt>Download</dt>
              <dd>
                <DownloadButton api={api} videoId={videoId} label={`MP4 ${record.download.rendition} · ${formatBytes(record.download.bytes)}`} />
              </dd>
            </div>
          )}
          {expiresAt && (
            <div>
              <dt>Link valid until</dt>
              <dd>
                <time dateTime={expiresAt}>{new Date(expiresAt).toLocaleTimeString()}</time>
              </dd>
            </div>
          )}
        </dl>
      </div>
    </div>
  );
}

/** Fetches a fresh signed URL of the MP4 and opens it: the file comes with `Content-Disposition: attachment`, so the browser saves it. */
function DownloadButton({ api, videoId, label }: { api: VodApi; videoId: string; label: string }) {
  const [error, setError] = useState<string>();
  return (
    <>
      <button
        type="button"
        className="link-button"
        data-testid="download"
        onClick={async () => {
          setError(undefined);
          try {
            window.location.assign((await api.getDownload(videoId)).url);
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      >
        {label}
      </button>
      {error && <span className="error-text small"> {error}</span>}
    </>
  );
}
