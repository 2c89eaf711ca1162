/**
 * What the page keeps in localStorage: the API token, and the uploadId of
 * every unfinished upload keyed by file (name + size + lastModified) so that
 * re-picking the same file after a reload resumes it.
 */
const TOKEN_KEY = 'vod.apiToken';
const PENDING_KEY = 'vod.pendingUploads';

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    /* storage disabled (private mode): the page still works, without resume */
  }
}

export function loadToken(): string {
  return read(TOKEN_KEY) ?? '';
}

export function saveToken(token: string): void {
  write(TOKEN_KEY, token.trim() || null);
}

/**
 * Accepts a token handed over in the URL fragment (`/#token=…`, as printed
 * by `npm start`), stores it and removes it from the address bar.
 */
export function takeTokenFromUrl(): string | undefined {
  const m = location.hash.match(/(?:^#|&)token=([^&]+)/);
  if (!m) return undefined;
  const token = decodeURIComponent(m[1]);
  saveToken(token);
  history.replaceState(history.state, '', location.pathname + location.search);
  return token;
}

export interface PendingUpload {
  uploadId: string;
  videoId: string;
  filename: string;
  size: number;
  lastModified: number;
  savedAt: string;
}

export function fileKey(f: { name: string; size: number; lastModified: number }): string {
  return `${f.name}|${f.size}|${f.lastModified}`;
}

export function loadPending(): Record<string, PendingUpload> {
  try {
    const v = JSON.parse(read(PENDING_KEY) ?? '{}') as unknown;
    return v && typeof v === 'object' ? (v as Record<string, PendingUpload>) : {};
  } catch {
    return {};
  }
}

export function savePending(key: string, value: PendingUpload | null): void {
  const all = loadPending();
  if (value) all[key] = value;
  else delete all[key];
  write(PENDING_KEY, JSON.stringify(all));
}
