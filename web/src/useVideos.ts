/** Polls GET /api/videos every 2 s while the tab is visible. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type VideoRecord, type VodApi } from '@vod/client';

export interface VideosState {
  videos: VideoRecord[] | undefined;
  error: ApiError | Error | undefined;
  refresh: () => void;
}

export const POLL_MS = 2000;

export function useVideos(api: VodApi | undefined): VideosState {
  const [videos, setVideos] = useState<VideoRecord[]>();
  const [error, setError] = useState<ApiError | Error>();
  const kick = useRef<() => void>(() => undefined);

  useEffect(() => {
    if (!api) return;
    setError(undefined); // a new token gets a fresh verdict
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let ctl: AbortController | undefined;
    const tick = async () => {
      clearTimeout(timer);
      if (stopped) return;
      if (document.visibilityState === 'visible') {
        ctl = new AbortController();
        try {
          const list = await api.listVideos(ctl.signal);
          if (!stopped) {
            setVideos(list);
            setError(undefined);
          }
        } catch (err) {
          if (!stopped && (err as Error).name !== 'AbortError') setError(err as Error);
        }
      }
      if (!stopped) timer = setTimeout(tick, POLL_MS);
    };
    kick.current = () => void tick();
    const onVisible = () => document.visibilityState === 'visible' && void tick();
    document.addEventListener('visibilitychange', onVisible);
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      ctl?.abort();
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [api]);

  const refresh = useCallback(() => kick.current(), []);
  return { videos, error, refresh };
}
