/**
 * `npm run redrive [-- --max N]`: moves dead-lettered transcode jobs back to
 * the jobs queue with the SQS API directly — no API token needed, just
 * access to the queues. (`vod redrive` does the same through the API.)
 *
 * Queues: `JOBS_QUEUE_URL` and `JOBS_DLQ_URL` when set (with the AWS SDK's
 * standard region and credentials — e.g. the `jobsQueueUrl` and
 * `deadLetterQueueUrl` stack outputs), else the local stack's emulator that
 * `npm start` runs on 127.0.0.1:4566 (`EMULATOR_PORT`).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { redriveMessages } from '@vod/service-kit';
import { JOBS_DLQ, JOBS_QUEUE, LOCAL_REGION } from './resources.js';

function parseMax(argv: string[]): number | undefined {
  const i = argv.indexOf('--max');
  if (i < 0) return undefined;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) {
    console.error('--max must be a whole number ≥ 1');
    process.exit(2);
  }
  return n;
}

const max = parseMax(process.argv.slice(2));
const { JOBS_QUEUE_URL, JOBS_DLQ_URL } = process.env;
if (!!JOBS_QUEUE_URL !== !!JOBS_DLQ_URL) {
  console.error('Set both JOBS_QUEUE_URL and JOBS_DLQ_URL (e.g. from `pulumi stack output jobsQueueUrl` and `deadLetterQueueUrl`), or neither for the local stack.');
  process.exit(2);
}
let sqs: SQSClient;
let to: string;
let from: string;
if (JOBS_QUEUE_URL && JOBS_DLQ_URL) {
  sqs = new SQSClient({});
  [to, from] = [JOBS_QUEUE_URL, JOBS_DLQ_URL];
} else {
  const endpoint = `http://127.0.0.1:${process.env.EMULATOR_PORT ?? 4566}`;
  sqs = new SQSClient({ region: LOCAL_REGION, endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  [to, from] = [`${endpoint}/000000000000/${JOBS_QUEUE}`, `${endpoint}/000000000000/${JOBS_DLQ}`];
}

try {
  const moved = await redriveMessages(sqs, { from, to, max });
  console.log(moved === 0 ? `Nothing to move: ${from} is empty.` : `Moved ${moved} job${moved === 1 ? '' : 's'} from ${from} back to ${to}.`);
} catch (err) {
  const e = err as Error & { cause?: { code?: string } };
  const hint = !JOBS_QUEUE_URL && /ECONNREFUSED|fetch failed/.test(`${e.message} ${e.cause?.code ?? ''}`) ? ' Is the local stack running (`npm start`)?' : '';
  console.error(`redrive failed: ${e.message}.${hint}`);
  process.exitCode = 1;
} finally {
  sqs.destroy();
}
