/**
 * @vod/service-kit — what every Node service shares: AWS clients, config
 * fragments, typed errors and their middleware, the base Express app,
 * `runService`, logging, JSON and object streaming from S3, status records.
 */
export * from './auth.js';
export * from './captions.js';
export * from './client-timeouts.js';
export * from './aws.js';
export * from './config.js';
export * from './errors.js';
export * from './http.js';
export * from './logger.js';
export * from './redrive.js';
export * from './run-service.js';
export * from './s3-json.js';
export * from './s3-object.js';
export * from './s3-prefix.js';
export * from './status-store.js';
export * from './video-events.js';
export * from './video-objects.js';
export * from './webvtt.js';
export * from './poll-backoff.js';
