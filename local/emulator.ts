/**
 * The embedded AWS for local runs: fauxqs serving the S3 and SQS APIs on one
 * port, in its own process. State (queues, messages, objects) persists under
 * `$VOD_DATA_DIR/emulator` (SQLite) and `$VOD_DATA_DIR/s3` (object files).
 * Prints one JSON line `{"ready":true,"endpoint":…,"jobsQueueUrl":…}` when up.
 */
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startFauxqs } from 'fauxqs';
import { CONTROL_QUEUE, JOBS_DLQ, JOBS_QUEUE, UPLOADS_BUCKET, WEBHOOKS_QUEUE, emulatorInit } from './resources.js';
import { withBucketCors } from './emulator-cors.js';
import { cachedReadBody, fauxqsObjectFile } from './emulator-read-cache.js';

const dataDir = path.resolve(process.env.VOD_DATA_DIR ?? '.data');
const port = Number(process.env.EMULATOR_PORT ?? 4566);
mkdirSync(path.join(dataDir, 'emulator'), { recursive: true });
mkdirSync(path.join(dataDir, 's3'), { recursive: true });

// fauxqs reads a whole object file for every GET, range GETs included; keep large bodies
// between reads (see emulator-read-cache.ts). Its file persistence is not exported, so it
// is reached beside the package's entry point.
const s3StorageDir = path.join(dataDir, 's3');
const { FileS3Persistence } = (await import(new URL('./s3/fileS3Persistence.js', import.meta.resolve('fauxqs')).href)) as {
  FileS3Persistence: { prototype: { readBody(bucket: string, key: string): Buffer } };
};
const readBody = FileS3Persistence.prototype.readBody;
const cached = new WeakMap<object, (bucket: string, key: string) => Buffer>();
FileS3Persistence.prototype.readBody = function (this: object, bucket: string, key: string): Buffer {
  let read = cached.get(this);
  if (!read) cached.set(this, (read = cachedReadBody(readBody.bind(this), (b, k) => fauxqsObjectFile(s3StorageDir, b, k))));
  return read(bucket, key);
};

// Browsers PUT upload parts straight to the uploads bucket, which in AWS has a CORS rule
// (emulator-cors.ts); fauxqs has no CORS, and builds its one HTTP server inside
// startFauxqs (Fastify calls http.createServer), so its request handler is wrapped there.
const createServer = http.createServer;
http.createServer = ((options: http.ServerOptions, handler: http.RequestListener) =>
  createServer(options, withBucketCors(UPLOADS_BUCKET, handler))) as typeof http.createServer;

const server = await startFauxqs({
  port,
  host: '127.0.0.1',
  logger: false,
  dataDir: path.join(dataDir, 'emulator'),
  s3StorageDir,
  init: emulatorInit(),
});
const endpoint = `http://127.0.0.1:${server.port}`;
// fauxqs accepts any host in a queue URL; one on the endpoint's own host is
// what the SDK then calls (it prefers the QueueUrl's host over AWS_ENDPOINT_URL).
const queueUrl = (name: string) => `${endpoint}/${server.inspectQueue(name)!.arn.split(':')[4]}/${name}`;
console.log(
  JSON.stringify({
    ready: true,
    endpoint,
    jobsQueueUrl: queueUrl(JOBS_QUEUE),
    jobsDlqUrl: queueUrl(JOBS_DLQ),
    controlQueueUrl: queueUrl(CONTROL_QUEUE),
    webhooksQueueUrl: queueUrl(WEBHOOKS_QUEUE),
  }),
);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
