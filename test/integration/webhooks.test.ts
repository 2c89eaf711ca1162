/**
 * Webhooks end to end on the local stack (the same processes `npm start`
 * runs): a receiver on 127.0.0.1 verifies, with the `standardwebhooks`
 * library as a user's receiver would, the signature of every event of a
 * video's whole life — while the stack's webhook worker is stopped mid-way
 * (the events wait in the queue) and killed with SIGKILL (the stack restarts
 * it, as ECS would) — and of a video that fails and an upload that is
 * abandoned; and across a restart of the whole stack on the same data.
 */
import { readFileSync, rmSync } from 'node:fs';
import { expect } from 'chai';
import type { WebhookEvent, WebhookEventType } from '@vod/contract';
import { startStack as startStackOn, type RunningStack } from '../../local/stack.js';
import { startStack, type TestStack } from '../support/stack.js';
import { media } from '../support/media.js';
import { newWebhookSecret, startReceiver, type TestReceiver } from '../support/webhook-receiver.js';

type Json = Record<string, any>;

describe('webhooks end to end on the local stack', function () {
  this.timeout(300_000);
  let stack: TestStack;
  let receiver: TestReceiver;

  before(async () => {
    // The deployment's secret (VOD_WEBHOOK_SECRET), shared with the receiver.
    const secret = newWebhookSecret();
    receiver = await startReceiver(secret);
    stack = await startStack({
      transcodeWorkers: 1,
      webhookUrls: [receiver.url],
      webhookSecret: secret,
      env: { LADDER: '360', TRANSCODE_PRESET: 'ultrafast' },
      // Short polls, so stopping the worker does not wait out a 20 s long poll.
      partEnv: { webhooks: { POLL_WAIT_SECONDS: '2' } },
    });
  });
  after(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  const auth = () => ({ authorization: `Bearer ${stack.token}` });
  const api = async (p: string, init?: RequestInit): Promise<Json> => {
    const res = await fetch(stack.baseUrl + p, { ...init, headers: { ...auth(), ...init?.headers } });
    const text = await res.text();
    if (!res.ok) throw new Error(`${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : {};
  };
  const eventsOf = (videoId: string): WebhookEvent[] => receiver.events().filter((e) => e.videoId === videoId);
  const typesOf = (videoId: string): WebhookEventType[] =>
    eventsOf(videoId)
      .sort((a, b) => a.data.updatedAt.localeCompare(b.data.updatedAt) || a.timestamp.localeCompare(b.timestamp))
      .map((e) => e.type);
  const has = (videoId: string, type: WebhookEventType) => () => eventsOf(videoId).some((e) => e.type === type);

  async function startUpload(file: string): Promise<{ uploadId: string; videoId: string }> {
    const size = readFileSync(file).length;
    return api('/api/uploads', { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ filename: 'clip.mp4', size }) }) as any;
  }
  async function putOnlyPart(uploadId: string, file: string): Promise<void> {
    const form = new FormData();
    form.append('chunk', new Blob([readFileSync(file)]), 'clip.mp4');
    await api(`/api/uploads/${uploadId}/parts/1`, { method: 'PUT', body: form });
  }
  async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('signs every event of a video’s life, across a stopped and a killed webhook worker', async () => {
    const file = media('hello-720p-h264-aac.mp4');
    const { uploadId, videoId } = await startUpload(file);
    await receiver.until(has(videoId, 'video.created'), 'video.created');
    await putOnlyPart(uploadId, file);

    // The worker goes away; the upload completes and the transcode starts meanwhile.
    await stack.stopPart('webhooks');
    await api(`/api/uploads/${uploadId}/complete`, { method: 'POST' });
    await until('the video processing', async () => ['processing', 'ready'].includes((await api(`/api/videos/${videoId}`)).status));
    expect(has(videoId, 'video.uploaded')(), 'nothing delivered while the worker is stopped').to.equal(false);
    const restartedAt = Date.now();
    await stack.startPart('webhooks');
    await receiver.until(has(videoId, 'video.processing'), 'video.processing after the restart');
    const uploaded = receiver.received.find((r) => r.event?.videoId === videoId && r.event.type === 'video.uploaded');
    expect(uploaded!.at, 'the event queued while the worker was stopped came after its restart').to.be.at.least(restartedAt);

    // Killed without a word: the stack restarts it, and nothing is lost.
    const restarted = new Promise<void>((resolve) => stack.events.on('started', (name) => name === 'webhooks' && resolve()));
    stack.processes.get('webhooks')!.kill('SIGKILL');
    await restarted;
    await receiver.until(has(videoId, 'video.ready'), 'video.ready', 240_000);

    expect(typesOf(videoId)).to.deep.equal(['video.created', 'video.uploaded', 'video.processing', 'video.ready']);
    const ready = eventsOf(videoId).find((e) => e.type === 'video.ready')!;
    expect(ready.data).to.include({ videoId, status: 'ready', playable: true });
    expect(ready.data.renditions?.length).to.be.greaterThan(0);
    expect(ready.data).to.not.have.property('run');
    expect(receiver.received.filter((r) => r.verifyError), 'every request verified').to.deep.equal([]);
  });

  it('signs the events of a video that fails and of an upload that is abandoned', async () => {
    const garbage = new FormData();
    garbage.append('file', new Blob([Buffer.alloc(4096, 7)]), 'not-a-video.mp4');
    const { videoId: failedId } = await api('/api/videos', { method: 'POST', body: garbage });

    const file = media('hello-720p-h264-aac.mp4');
    const { uploadId, videoId: abandonedId } = await startUpload(file);
    await api(`/api/uploads/${uploadId}`, { method: 'DELETE' });

    await receiver.until(() => has(failedId, 'video.failed')() && has(abandonedId, 'video.deleted')(), 'video.failed and video.deleted', 120_000);
    expect(typesOf(failedId)).to.deep.equal(['video.created', 'video.uploaded', 'video.failed']);
    expect(eventsOf(failedId).find((e) => e.type === 'video.failed')!.data.error).to.be.a('string').that.is.not.empty;
    expect(typesOf(abandonedId).sort()).to.deep.equal(['video.created', 'video.deleted']);
    expect(receiver.received.filter((r) => r.verifyError), 'every request verified').to.deep.equal([]);
  });
});

describe('webhooks across a restart of the whole local stack', function () {
  this.timeout(400_000);
  let receiver: TestReceiver;
  let stack: RunningStack | undefined;
  let dataDir: string | undefined;
  const secret = newWebhookSecret();
  const options = { transcodeWorkers: 1, env: { LADDER: '360', TRANSCODE_PRESET: 'ultrafast' } };

  before(async () => {
    receiver = await startReceiver(secret);
  });
  after(async () => {
    await stack?.stop();
    await receiver?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses no event when the stack stops right after the upload and starts again on its data', async () => {
    const first = await startStack({ ...options, webhookUrls: [receiver.url], webhookSecret: secret, keepData: true });
    stack = first;
    dataDir = first.dataDir;
    const call = async (s: RunningStack, p: string, init: RequestInit = {}): Promise<Json> => {
      const res = await fetch(s.baseUrl + p, { ...init, headers: { authorization: `Bearer ${s.token}`, ...init.headers } });
      const text = await res.text();
      if (!res.ok) throw new Error(`${p}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : {};
    };
    const file = media('hello-720p-h264-aac.mp4');
    const form = new FormData();
    form.append('file', new Blob([readFileSync(file)]), 'clip.mp4');
    // Stop the webhook worker first, so the upload's events are still queued when everything stops.
    await first.stopPart('webhooks');
    const { videoId } = await call(first, '/api/videos', { method: 'POST', body: form });
    await first.stop();
    stack = undefined;
    expect(receiver.events().filter((e) => e.videoId === videoId), 'nothing delivered before the restart').to.deep.equal([]);

    stack = await startStackOn({ ...options, dataDir: dataDir!, port: 0, apiToken: first.token, webhookUrls: [receiver.url], webhookSecret: secret });
    await receiver.until((r) => r.events().some((e) => e.videoId === videoId && e.type === 'video.ready'), 'video.ready after the restart', 300_000);
    const types = receiver
      .events()
      .filter((e) => e.videoId === videoId)
      .sort((a, b) => a.data.updatedAt.localeCompare(b.data.updatedAt) || a.timestamp.localeCompare(b.timestamp))
      .map((e) => e.type);
    expect(types).to.deep.equal(['video.created', 'video.uploaded', 'video.processing', 'video.ready']);
    expect(receiver.received.filter((r) => r.verifyError), 'every request verified').to.deep.equal([]);
  });
});
