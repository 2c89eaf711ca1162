/**
 * The embedded AWS for local runs: fauxqs serving the S3 and SQS APIs on one
 * port, in its own process. State (queues, messages, objects) persists under
 * `$VOD_DATA_DIR/emulator` (SQLite) and `$VOD_DATA_DIR/s3` (object files).
 * Prints one JSON line `{"ready":true,"endpoint":…,"jobsQueueUrl":…}` when up.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startFauxqs } from 'fauxqs';
import { CONTROL_QUEUE, JOBS_DLQ, JOBS_QUEUE, WEBHOOKS_QUEUE, emulatorInit } from './resources.js';

const dataDir = path.resolve(process.env.VOD_DATA_DIR ?? '.data');
const port = Number(process.env.EMULATOR_PORT ?? 4566);
mkdirSync(path.join(dataDir, 'emulator'), { recursive: true });
mkdirSync(path.join(dataDir, 's3'), { recursive: true });

const server = await startFauxqs({
  port,
  host: '127.0.0.1',
  logger: false,
  dataDir: path.join(dataDir, 'emulator'),
  s3StorageDir: path.join(dataDir, 's3'),
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
