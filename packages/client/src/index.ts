/**
 * @vod/client — the platform's HTTP client, shared by the web app and the CLI
 * (browser-safe: fetch, Blob, FormData, AbortSignal only).
 */
export * from './api.js';
export * from './format.js';
export * from './upload-client.js';
