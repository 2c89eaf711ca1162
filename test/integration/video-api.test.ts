/**
 * The API after an upload, end to end on the local stack (the processes
 * `npm start` runs, through the edge that checks signatures as CloudFront
 * does): a title, pages of the library, a failed video retried into a ready
 * one without re-uploading, a ready video deleted — its playback URL then
 * fails — and the dead-letter redrive of `npm run redrive`.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import * as HLS from 'hls-parser';
import { REPO_ROOT } from '../../local/stack.js';
import { media } from '../support/media.js';
import { startStack, type TestStack } from '../support/stack.js';

type Json = Record<string, any>;
const run = promisify(execFile);

describe('local stack: title, pages, retry, delete and redrive end to end', function () {
  this.timeout(300_000);
  let stack: TestStack;
  // Read at every (re)start of the worker: the test raises its duration limit between the two runs.
  const workerEnv: Record<string, string> = { MAX_SOURCE_DURATION_SECONDS: '5' };

  const auth = () => ({ authorization: `Bearer ${stack.token}` });
  const call = (p: string, init: RequestInit = {}) => fetch(stack.baseUrl + p, { ...init, headers: { ...auth(), ...init.headers } });
  const api = async (p: string, init?: RequestInit): Promise<Json> => {
    const res = await call(p, init);
    const body = res.status === 204 ? {} : await res.json();
    if (!res.ok) throw new Error(`${p}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
  async function waitFor(videoId: string, done: (r: Json) => boolean, timeoutMs = 200_000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rec = await api(`/api/videos/${videoId}`);
      if (done(rec)) return rec;
      if (Date.now() > deadline) throw new Error(`video ${videoId} is still ${rec.status}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  before(async () => {
    stack = await startStack({ transcodeWorkers: 1, env: { POLL_WAIT_SECONDS: '1', LADDER: '360' }, partEnv: { 'transcode-1': workerEnv } });
  });
  after(async () => stack?.stop());

  let videoId: string;

  it('a failed video is transcoded again from its stored source: retry → ready, no re-upload', async () => {
    const form = new FormData();
    form.append('file', new Blob([readFileSync(media('hello-720p-h264-aac.mp4'))]), 'hello.mp4');
    videoId = (await api('/api/videos', { method: 'POST', body: form })).videoId;
    const failed = await waitFor(videoId, (r) => r.status === 'failed' || r.status === 'ready');
    expect(failed.status).to.equal('failed');
    expect(failed.error).to.match(/duration/i);
    expect((await api(`/api/videos?status=failed`)).videos.map((v: Json) => v.videoId)).to.deep.equal([videoId]);

    // The operator raises the limit (a new worker configuration), then retries.
    delete workerEnv.MAX_SOURCE_DURATION_SECONDS;
    await stack.stopPart('transcode-1');
    await stack.startPart('transcode-1');
    const retried = await call(`/api/videos/${videoId}/retry`, { method: 'POST' });
    expect(retried.status).to.equal(202);
    expect(await retried.json()).to.deep.equal({ videoId, status: 'queued', run: 2 });

    const ready = await waitFor(videoId, (r) => r.status === 'ready' || r.status === 'failed');
    expect(ready).to.include({ status: 'ready', playable: true });
    expect(ready).to.not.have.property('error');
    const again = await call(`/api/videos/${videoId}/retry`, { method: 'POST' });
    expect(again.status).to.equal(409);
    expect((await again.json()).error.code).to.equal('not_failed');
  });

  it('PATCH gives it a title that the list shows; the list pages', async () => {
    const patched = await api(`/api/videos/${videoId}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Hello' }) });
    expect(patched).to.include({ videoId, title: 'Hello', filename: 'hello.mp4' });
    const unknown = await call(`/api/videos/${videoId}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'ready' }) });
    expect(unknown.status).to.equal(400);
    const page = await api('/api/videos?limit=1');
    expect(page.videos.map((v: Json) => [v.videoId, v.title])).to.deep.equal([[videoId, 'Hello']]);
    expect(page.nextCursor).to.equal(null);
    expect((await call('/api/videos?limit=0')).status).to.equal(400);
    expect((await call('/api/videos?cursor=bogus')).status).to.equal(400);
  });

  it('DELETE removes a ready video: its playback URL and segment URLs stop working; twice is 404', async () => {
    const { url } = await api(`/api/videos/${videoId}/playback`);
    const master = HLS.parse(await (await fetch(url)).text()) as HLS.types.MasterPlaylist;
    const mediaUrl = new URL(master.variants[0]!.uri, url).toString();
    const playlist = HLS.parse(await (await fetch(mediaUrl)).text()) as HLS.types.MediaPlaylist;
    const segmentUrl = new URL(playlist.segments[0]!.uri, mediaUrl).toString();
    expect((await fetch(segmentUrl)).status, 'plays before the delete').to.equal(200);

    const res = await call(`/api/videos/${videoId}`, { method: 'DELETE' });
    expect(res.status).to.equal(204);

    for (const u of [url, mediaUrl, segmentUrl]) {
      const after = await fetch(u);
      expect([403, 404], `${new URL(u).pathname} after the delete`).to.include(after.status);
    }
    expect((await call(`/api/videos/${videoId}`)).status).to.equal(404);
    expect((await call(`/api/videos/${videoId}/playback`)).status).to.equal(404);
    expect((await call(`/api/videos/${videoId}/source`)).status).to.equal(404);
    expect((await api('/api/videos')).videos).to.deep.equal([]);
    const twice = await call(`/api/videos/${videoId}`, { method: 'DELETE' });
    expect(twice.status).to.equal(404);
    expect((await twice.json()).error.code).to.equal('not_found');
  });

  it('`npm run redrive` moves dead-lettered jobs back to the jobs queue; `POST /api/jobs/redrive` too', async () => {
    const { AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = stack.serviceEnv;
    const sqs = new SQSClient({ endpoint: AWS_ENDPOINT_URL, region: AWS_REGION, credentials: { accessKeyId: AWS_ACCESS_KEY_ID!, secretAccessKey: AWS_SECRET_ACCESS_KEY! } });
    try {
      // Jobs of videos that no longer exist: the worker takes and drops them once they are back.
      const job = (n: number) => JSON.stringify({ type: 'transcode', videoId: `${'0'.repeat(19)}${n}`, sourceKey: 'sources/x/source', run: 1 });
      for (const n of [1, 2]) await sqs.send(new SendMessageCommand({ QueueUrl: stack.jobsDlqUrl, MessageBody: job(n) }));
      const env = { ...process.env, AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, JOBS_QUEUE_URL: stack.jobsQueueUrl, JOBS_DLQ_URL: stack.jobsDlqUrl };
      const { stdout } = await run('npm', ['run', '--silent', 'redrive', '--', '--max', '1'], { cwd: REPO_ROOT, env });
      expect(stdout).to.match(/^Moved 1 job from .*vod-jobs-dlq back to .*vod-jobs\.$/m);

      const viaApi = await call('/api/jobs/redrive', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(await viaApi.json()).to.deep.equal({ moved: 1 });
      const left = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.jobsDlqUrl, WaitTimeSeconds: 1 }));
      expect(left.Messages ?? []).to.deep.equal([]);
    } finally {
      sqs.destroy();
    }
  });
});

