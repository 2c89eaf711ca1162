import { useMemo, useRef, useState } from 'react';
import { VodApi } from '@vod/client';
import { Library } from './components/Library.js';
import { PlayerPage } from './components/PlayerPage.js';
import { TokenForm } from './components/TokenForm.js';
import { UploadPage } from './components/UploadPage.js';
import { linkClick, matchRoute, usePath } from './router.js';
import { loadToken, saveToken, takeTokenFromUrl } from './storage.js';
import { UploadQueue } from './uploads.js';
import { useVideos } from './useVideos.js';

export function App() {
  const [token, setToken] = useState(() => takeTokenFromUrl() ?? loadToken());
  const [editingToken, setEditingToken] = useState(false);
  const [rejected, setRejected] = useState(false);
  const tokenRef = useRef(token);
  tokenRef.current = token;
  const api = useMemo(() => (token ? new VodApi({ baseUrl: '', token }) : undefined), [token]);
  const [queue] = useState(
    () => new UploadQueue({ getToken: () => tokenRef.current, maxActive: 2, concurrency: 4, onUnauthorized: () => setRejected(true) }),
  );
  const videos = useVideos(api);
  const path = usePath();
  const route = matchRoute(path);
  const unauthorized = rejected || (videos.error as { status?: number } | undefined)?.status === 401;

  /** Keeps the token; uploads that failed for want of it start again. */
  const saveNewToken = (t: string) => {
    const candidate = t.trim();
    saveToken(candidate);
    tokenRef.current = candidate; // the queue reads it before the next render
    setToken(candidate);
    setEditingToken(false);
    setRejected(false);
    queue.retryErrored();
  };

  const nav = (href: string, label: string, active: boolean) => (
    <a href={href} onClick={linkClick} aria-current={active ? 'page' : undefined} className={active ? 'active' : undefined}>
      {label}
    </a>
  );

  return (
    <>
      <header className="topbar">
        <div className="topbar-inner">
          <a href="/" onClick={linkClick} className="brand" aria-label="VOD home">
            <span className="logo" aria-hidden="true">▶</span> VOD
          </a>
          <nav aria-label="Main">
            {nav('/', 'Upload', route.page === 'upload')}
            {nav('/library', 'Library', route.page === 'library' || route.page === 'watch')}
          </nav>
          {token && (
            <button type="button" className="link-button" onClick={() => setEditingToken((v) => !v)}>
              API token
            </button>
          )}
        </div>
      </header>
      <main className="container">
        {!token || editingToken || unauthorized ? (
          <TokenForm
            initial={token}
            rejected={unauthorized && !editingToken}
            onSave={saveNewToken}
            onCancel={token && !unauthorized ? () => setEditingToken(false) : undefined}
          />
        ) : null}
        {token && !unauthorized && (
          <>
            {route.page === 'upload' && <UploadPage queue={queue} videos={videos.videos} token={token} />}
            {route.page === 'library' && <Library state={videos} api={api} />}
            {route.page === 'watch' && api && (
              <PlayerPage key={route.videoId} videoId={route.videoId} api={api} record={videos.videos?.find((v) => v.videoId === route.videoId)} />
            )}
            {route.page === 'notFound' && (
              <section className="card">
                <h1>Page not found</h1>
                <p>
                  <a href="/" onClick={linkClick}>
                    Go to uploads
                  </a>
                </p>
              </section>
            )}
          </>
        )}
      </main>
    </>
  );
}
