/**
 * The worker side of the pipeline's state machine, on the S3 + SQS emulator
 * with real ffmpeg and a real (short) recording.
 */
import { readFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { pino } from 'pino';
import { StatusStore } from '@vod/service-kit';
import { runTranscodeJob, type PipelineDeps } from '../../containers/transcode/src/pipeline.js';
import { publishLadder } from '../../containers/transcode/src/publish.js';
import { createWorker } from '../../containers/transcode/src/worker.js';
import { newId } from '@vod/contract';
import { startTestAws, type TestAws } from '../support/emulator.js';
import { media } from '../support/media.js';

describe('transcode pipeline (emulator + real ffmpeg)', function () {
  this.timeout(120_000);
  let aws: TestAws;
  let workDir: string;
  let deps: PipelineDeps;
  let store: StatusStore;

  before(async () => {
    aws = await startTestAws();
    workDir = mkdtempSync(path.join(os.tmpdir(), 'vod-work-'));
    deps = {
      s3: aws.s3,
      logger: pino({ level: 'silent' }),
      uploadsBucket: aws.uploadsBucket,
      mediaBucket: aws.mediaBucket,
      workDir,
      preset: 'ultrafast',
      maxAttempts: 3,
    };
    store = new StatusStore(aws.s3, aws.mediaBucket);
  });
  after(async () => {
    await aws?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  async function queuedVideo(file: string, status: 'queued' | 'processing' | 'failed' = 'queued') {
    const videoId = newId();
    const sourceKey = `sources/${videoId}/source`;
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.uploadsBucket, Key: sourceKey, Body: readFileSync(file) }));
    await store.create({ videoId, status });
    return { type: 'transcode' as const, videoId, sourceKey };
  }
  const exists = (key: string) => aws.s3.send(new HeadObjectCommand({ Bucket: aws.mediaBucket, Key: key })).then(() => true, () => false);
  const never = new AbortController().signal;

  it('queued → processing → ready, publishing the ladder and removing its temp files', async () => {
    const job = await queuedVideo(media('visualizer-180p-h264-noaudio.mp4'));
    expect(await runTranscodeJob(deps, job, 1, never)).to.equal('ready');
    const rec = await store.get(job.videoId);
    expect(rec).to.include({ status: 'ready', progress: 100 });
    expect(rec!.renditions!.map((r) => r.height)).to.deep.equal([180]);
    expect(await exists(`videos/${job.videoId}/master.m3u8`)).to.equal(true);
    expect(readdirSync(workDir)).to.deep.equal([]);
  });

  it('a redelivered job for a ready video is a no-op', async () => {
    const job = await queuedVideo(media('visualizer-180p-h264-noaudio.mp4'));
    await runTranscodeJob(deps, job, 1, never);
    const before = await store.get(job.videoId);
    expect(await runTranscodeJob(deps, job, 2, never)).to.equal('skipped');
    expect(await store.get(job.videoId)).to.deep.equal(before);
  });

  it('re-runs a job whose worker crashed mid-way (record left processing) to a correct result', async () => {
    const job = await queuedVideo(media('visualizer-180p-h264-noaudio.mp4'), 'processing');
    // Debris of the crashed run: a half-written segment.
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.mediaBucket, Key: `videos/${job.videoId}/180p/seg_00000.ts`, Body: 'half' }));
    expect(await runTranscodeJob(deps, job, 2, never)).to.equal('ready');
    const seg = await aws.s3.send(new GetObjectCommand({ Bucket: aws.mediaBucket, Key: `videos/${job.videoId}/180p/seg_00000.ts` }));
    expect((await seg.Body!.transformToByteArray()).length).to.be.greaterThan(1000);
  });

  it('a file that is not media ends failed with a readable reason, and is not retried', async () => {
    const job = await queuedVideo(path.join(path.dirname(media('x')), 'README.md'));
    expect(await runTranscodeJob(deps, job, 1, never)).to.equal('failed');
    const rec = await store.get(job.videoId);
    expect(rec!.status).to.equal('failed');
    expect(rec!.error).to.match(/not a video or audio file/i);
    expect(readdirSync(workDir)).to.deep.equal([]);
  });

  it('retries other errors, and marks the video failed on the last attempt', async () => {
    const job = { type: 'transcode' as const, videoId: newId(), sourceKey: 'sources/missing/source' };
    await store.create({ videoId: job.videoId, status: 'queued' });
    let err = await runTranscodeJob(deps, job, 1, never).catch((e) => e);
    expect(err).to.be.instanceOf(Error);
    expect((await store.get(job.videoId))!.status).to.equal('processing');
    err = await runTranscodeJob(deps, job, 3, never).catch((e) => e);
    expect(err).to.be.instanceOf(Error);
    const rec = await store.get(job.videoId);
    expect(rec!.status).to.equal('failed');
    expect(rec!.error).to.match(/after 3 attempts/);
  });

  it('an abort (shutdown) puts the video back to queued and releases the job', async () => {
    const job = await queuedVideo(media('hello-720p-h264-aac.mp4'));
    const abort = new AbortController();
    const outcome = runTranscodeJob({ ...deps, preset: 'veryfast' }, job, 1, abort.signal);
    setTimeout(() => abort.abort(), 1500);
    expect(await outcome).to.equal('released');
    expect((await store.get(job.videoId))!.status).to.equal('queued');
    expect(await exists(`videos/${job.videoId}/master.m3u8`)).to.equal(false);
    expect(readdirSync(workDir)).to.deep.equal([]);
  });

  it('a job that keeps failing ends failed and rests in the dead-letter queue (no poison loop)', async () => {
    const worker = createWorker({ ...deps, sqs: aws.sqs, queueUrl: aws.jobsQueueUrl, pollWaitSeconds: 1, retryDelaySeconds: 1 });
    const job = { type: 'transcode' as const, videoId: newId(), sourceKey: 'sources/gone/source' };
    await store.create({ videoId: job.videoId, status: 'queued' });
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: aws.jobsQueueUrl, MessageBody: JSON.stringify(job) }));
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: aws.jobsQueueUrl, MessageBody: 'not json' }));
    worker.start();
    const dlqDepth = async () =>
      Number((await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: aws.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes!.ApproximateNumberOfMessages);
    const deadline = Date.now() + 60_000;
    while ((await dlqDepth()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    await worker.stop(0);
    expect(await dlqDepth()).to.equal(2);
    const rec = await store.get(job.videoId);
    expect(rec!.status).to.equal('failed');
    expect(rec!.error).to.match(/after 3 attempts/);
    const left = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.jobsQueueUrl, WaitTimeSeconds: 1 }));
    expect(left.Messages ?? []).to.deep.equal([]);
    // Drain the DLQ so later tests start clean.
    const { PurgeQueueCommand } = await import('@aws-sdk/client-sqs');
    await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: aws.dlqUrl }));
  });

  it('the SQS worker takes a job, deletes its message when done, and releases a running job on stop', async () => {
    const worker = createWorker({ ...deps, sqs: aws.sqs, queueUrl: aws.jobsQueueUrl, visibilityTimeoutSeconds: 30, heartbeatSeconds: 5 });
    const quick = await queuedVideo(media('visualizer-180p-h264-noaudio.mp4'));
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: aws.jobsQueueUrl, MessageBody: JSON.stringify(quick) }));
    worker.start();
    const deadline = Date.now() + 60_000;
    while ((await store.get(quick.videoId))!.status !== 'ready' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect((await store.get(quick.videoId))!.status).to.equal('ready');

    const slow = await queuedVideo(media('hello-720p-h264-aac.mp4'));
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: aws.jobsQueueUrl, MessageBody: JSON.stringify(slow) }));
    while (worker.current() !== slow.videoId && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(worker.current()).to.equal(slow.videoId);
    await worker.stop(0);
    expect((await store.get(slow.videoId))!.status).to.equal('queued');
    // The released message is visible again for another worker; the finished one is gone.
    const got = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.jobsQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }));
    expect((got.Messages ?? []).map((m) => JSON.parse(m.Body!).videoId)).to.deep.equal([slow.videoId]);
  });
});

describe('publishLadder', () => {
  it('uploads the multivariant playlist last, after every segment and media playlist', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vod-pub-'));
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(path.join(dir, '720p'));
    writeFileSync(path.join(dir, 'master.m3u8'), '#EXTM3U\n');
    writeFileSync(path.join(dir, '720p', 'index.m3u8'), '#EXTM3U\n');
    for (let i = 0; i < 20; i++) writeFileSync(path.join(dir, '720p', `seg_${i}.ts`), 'x');
    const keys: string[] = [];
    const s3 = {
      send: async (cmd: PutObjectCommand) => {
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        keys.push(cmd.input.Key!);
        (cmd.input.Body as NodeJS.ReadableStream & { destroy(): void }).destroy();
        return {};
      },
    } as unknown as S3Client;
    const result = await publishLadder(s3, 'media', 'abc', dir);
    expect(result.files).to.equal(22);
    expect(keys).to.have.length(22);
    expect(keys.at(-1)).to.equal('videos/abc/master.m3u8');
    rmSync(dir, { recursive: true, force: true });
  });
});
