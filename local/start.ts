/**
 * `npm start`: the whole platform on this machine. Prints the entry URL and
 * the API token; Ctrl-C stops everything.
 *
 * Environment: PORT (edge, default 8080), VOD_DATA_DIR (default .data),
 * VOD_API_TOKEN (default: generated once, kept in the data dir),
 * TRANSCODE_WORKERS (worker processes, default 2), VOD_WEBHOOK_URLS (webhook
 * receivers, comma-separated http(s) URLs), VOD_WEBHOOK_SECRET (default:
 * generated once, kept in the data dir), and passed through to the
 * services: MAX_UPLOAD_BYTES, LOG_LEVEL, SIGNED_URL_TTL_SECONDS,
 * TRANSCODE_PRESET, FIRST_CHUNK_PRESET, LADDER, CHUNK_SECONDS, FIRST_CHUNK_SECONDS, DOWNLOAD_RENDITION,
 * SPOT_PRICE_PER_VCPU_HOUR.
 */
import path from 'node:path';
import { env, loadConfigOrExit } from '@vod/service-kit';
import { z } from 'zod';
import { startStack } from './stack.js';
import { reportSupervision } from './supervisor.js';

const dataDir = path.resolve(process.env.VOD_DATA_DIR ?? '.data');
const passThrough = Object.fromEntries(
  ['MAX_UPLOAD_BYTES', 'LOG_LEVEL', 'SIGNED_URL_TTL_SECONDS', 'TRANSCODE_PRESET', 'FIRST_CHUNK_PRESET', 'LADDER', 'CHUNK_SECONDS', 'FIRST_CHUNK_SECONDS', 'SPOT_PRICE_PER_VCPU_HOUR', 'DOWNLOAD_RENDITION'].flatMap(
    (k) => (process.env[k] ? [[k, process.env[k]!]] : []),
  ),
);
const transcodeWorkers = Number(process.env.TRANSCODE_WORKERS ?? 2);
if (!Number.isInteger(transcodeWorkers) || transcodeWorkers < 1) {
  console.error(`TRANSCODE_WORKERS must be a whole number ≥ 1 (got ${process.env.TRANSCODE_WORKERS})`);
  process.exit(1);
}

// The delivery worker's own rules, checked here too so a bad URL stops `npm start` with the message on the terminal.
const webhooks = loadConfigOrExit(
  'npm start',
  z.object({ VOD_WEBHOOK_URLS: env.webhookReceivers.VOD_WEBHOOK_URLS, VOD_WEBHOOK_SECRET: env.webhookReceivers.VOD_WEBHOOK_SECRET.optional() }),
);

console.log(`Starting the VOD platform (emulator, upload, stream, ${transcodeWorkers} transcode workers, edge)…`);
try {
  const stack = await startStack({
    dataDir,
    port: Number(process.env.PORT ?? 8080),
    ports: { emulator: 4566, upload: 8081, stream: 8082, transcode: 8083 },
    apiToken: process.env.VOD_API_TOKEN,
    env: passThrough,
    transcodeWorkers,
    webhookUrls: webhooks.VOD_WEBHOOK_URLS,
    webhookSecret: webhooks.VOD_WEBHOOK_SECRET,
  });
  // Supervision, as ECS does it: a dead part is started again.
  reportSupervision(stack.events, (line) => console.error(line));
  console.log(`
  VOD platform is running.

    Entry URL:  ${stack.baseUrl}
    API token:  ${stack.token}
    Web app:    ${stack.baseUrl}/#token=${encodeURIComponent(stack.token)}   (opens signed in)
    Webhooks:   ${webhooks.VOD_WEBHOOK_URLS.length ? `${webhooks.VOD_WEBHOOK_URLS.length} receiver(s) at ${webhooks.VOD_WEBHOOK_URLS.map((u) => new URL(u).host).join(', ')}` : 'none (set VOD_WEBHOOK_URLS)'}; secret ${webhooks.VOD_WEBHOOK_SECRET ? 'from VOD_WEBHOOK_SECRET' : `in ${path.join(stack.dataDir, 'webhook-secret')}`}
    Data dir:   ${stack.dataDir}
    Logs:       ${stack.logDir}/{emulator,upload,stream,edge,webhooks,${stack.workers.join(',')}}.log

  Upload a video:   npx vod upload ../shared/media/hello-720p-h264-aac.mp4
  List videos:      npx vod status

  Ctrl-C to stop.
`);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping…');
    await stack.stop();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} catch (err) {
  console.error(`Could not start: ${(err as Error).message}`);
  process.exit(1);
}
