/**
 * The library's videos: the newest `want` (one page at first, a page more per
 * "Load more"), optionally only one state, polled every 2 s while the tab is
 * visible. Each poll walks the pages from the top with the API's cursors
 * (`GET /api/videos?limit&cursor&status`), so a video uploaded meanwhile
 * shows at the top and nothing already shown drops out of view.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, LIST_LIMIT, type VideoRecord, type VideoStatus, type VodApi } from '@vod/client';

export interface VideosState {
  videos: VideoRecord[] | undefined;
  error: ApiError | Error | undefined;
  refresh: () => void;
  /** More (older) videos exist than are shown. */
  hasMore: boolean;
  /** Shows one page more. */
  loadMore: () => void;
  /** Only videos in this state (undefined: all). */
  status: VideoStatus | undefined;
  setStatus: (status: VideoStatus | undefined) => void;
}

export const POLL_MS = 2000;
/** Videos per "page" of the library. */
export const PAGE_SIZE = 24;

/** The newest `want` videos (matching `status`), walking the API's pages; and whether there are more. */
export async function newestVideos(api: VodApi, want: number, status: VideoStatus | undefined, signal?: AbortSignal): Promise<{ videos: VideoRecord[]; hasMore: boolean }> {
  const videos: VideoRecord[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await api.listVideosPage({ limit: Math.min(LIST_LIMIT.max, want - videos.length), cursor, status }, signal);
    videos.push(...page.videos);
    cursor = page.nextCursor ?? undefined;
    if (!cursor) return { videos, hasMore: false };
    if (videos.length >= want) return { videos, hasMore: true };
  }
}

export function useVideos(api: VodApi | undefined): VideosState {
  const [videos, setVideos] = useState<VideoRecord[]>();
  const [error, setError] = useState<ApiError | Error>();
  const [hasMore, setHasMore] = useState(false);
  const [want, setWant] = useState(PAGE_SIZE);
  const [status, setStatusState] = useState<VideoStatus>();
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
        ctl?.abort();
        ctl = new AbortController();
        try {
          const got = await newestVideos(api, want, status, ctl.signal);
          if (!stopped) {
            setVideos(got.videos);
            setHasMore(got.hasMore);
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
  }, [api, want, status]);

  const refresh = useCallback(() => kick.current(), []);
  const loadMore = useCallback(() => setWant((w) => w + PAGE_SIZE), []);
  const setStatus = useCallback((s: VideoStatus | undefined) => {
    setStatusState(s);
    setWant(PAGE_SIZE);
    setVideos(undefined);
  }, []);
  return { videos, error, refresh, hasMore, loadMore, status, setStatus };
}
