/** A minimal history-API router: the edge serves index.html for every page path. */
import { useEffect, useState, type MouseEvent } from 'react';

const listeners = new Set<() => void>();

export function navigate(to: string): void {
  if (to === location.pathname + location.search) return;
  history.pushState(null, '', to);
  for (const fn of listeners) fn();
  window.scrollTo(0, 0);
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return path;
}

/** onClick for <a href> links: client-side navigation, but keep ctrl/middle-click. */
export function linkClick(e: MouseEvent<HTMLAnchorElement>): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(e.currentTarget.getAttribute('href') ?? '/');
}

export type Route = { page: 'upload' } | { page: 'library' } | { page: 'watch'; videoId: string } | { page: 'notFound' };

export function matchRoute(path: string): Route {
  if (path === '/' || path === '') return { page: 'upload' };
  if (path === '/library') return { page: 'library' };
  const m = path.match(/^\/watch\/([^/]+)\/?$/);
  if (m) return { page: 'watch', videoId: decodeURIComponent(m[1]) };
  return { page: 'notFound' };
}
