/**
 * `npm start`: the whole platform on this machine. Prints the entry URL and
 * the API token; Ctrl-C stops everything.
 *
 * Environment: PORT (edge, default 8080), VOD_DATA_DIR (default .data),
 * VOD_API_TOKEN (default: generated once, kept in the data dir),
 * MAX_UPLOAD_BYTES, LOG_LEVEL.
 */
import path from 'node:path';
import { startStack } from './stack.js';

const dataDir = path.resolve(process.env.VOD_DATA_DIR ?? '.data');
const passThrough = Object.fromEntries(
  ['MAX_UPLOAD_BYTES', 'LOG_LEVEL', 'SIGNED_URL_TTL_SECONDS', 'TRANSCODE_PRESET'].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])),
);

console.log('Starting the VOD platform (emulator, upload, stream, transcode, edge)…');
try {
  const stack = await startStack({
    dataDir,
    port: Number(process.env.PORT ?? 8080),
    ports: { emulator: 4566, upload: 8081, stream: 8082, transcode: 8083 },
    apiToken: process.env.VOD_API_TOKEN,
    env: passThrough,
    onExit: (name, code, logFile) => console.error(`! ${name} exited (code ${code}); see ${logFile}`),
  });
  console.log(`
  VOD platform is running.

    Entry URL:  ${stack.baseUrl}
    API token:  ${stack.token}
    Web app:    ${stack.baseUrl}/#token=${encodeURIComponent(stack.token)}   (opens signed in)
    Data dir:   ${stack.dataDir}
    Logs:       ${stack.logDir}/{emulator,upload,stream,transcode,edge}.log

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
