/**
 * @vod/contract — the facts every part of the platform shares: ids, the S3
 * key layout and playlist names, the video record and its state machine, the
 * HTTP API's operations and schemas, error codes, job messages, the routing
 * table and CORS, queue timing, the default ladder, the shared-secret rule.
 *
 * Browser-safe: no Node or AWS imports (the web app bundles it).
 */
export * from './api.js';
export * from './captions.js';
export * from './errors.js';
export * from './ids.js';
export * from './jobs.js';
export * from './keys.js';
export * from './ladder.js';
export * from './queue.js';
export * from './routes.js';
export * from './secrets.js';
export * from './uploads.js';
export * from './video.js';
export * from './webhooks.js';
