/**
 * The coordinator on the S3 + SQS emulator: exactly one finalize however its
 * messages arrive (twice, out of order, to competing coordinators through the
 * FIFO control queue), no lost progress updates, stale runs and deleted
 * videos ignored.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist } from 'hls-parser/types.js';
import { pino } from 'pino';
import { Consumer } from 'sqs-consumer';
import { controlMessageSchema, keys, newId, type ControlMessage, type RunPlan, type SegmentInfo, type WorkMessage } from '@vod/contract';
import { CaptionStore, StatusStore } from '@vod/service-kit';
import { planChunks } from '../../containers/transcode/src/chunk-plan.js';
import { controlSender } from '../../containers/transcode/src/control.js';
import { coordinate, type CoordinatorDeps } from '../../containers/transcode/src/coordinator.js';
import { planLadder } from '../../containers/transcode/src/ladder.js';
import { RunStore } from '../../containers/transcode/src/run-store.js';
import { startTestAws, type TestAws } from '../support/emulator.js';

const renditions = planLadder({ displayWidth: 640, displayHeight: 360, frameRate: 30 });
const settings = { segmentSeconds: 6, keyframeSeconds: 2, preset: 'veryfast' };
const plan: RunPlan = {
  durationSeconds: 130,
  chunks: planChunks(130, { segmentSeconds: 6, chunkSeconds: 60, firstChunkSeconds: 6, endMarginSeconds: 2 }),
  renditions,
  audio: { channels: 2 },
  settings,
};
const segs = (from: number, to: number): SegmentInfo[] => Array.from({ length: to - from }, (_, i) => ({ n: from + i, duration: from + i === 21 ? 4 : 6, bytes: 150_000 }));

/** Every message of one run: planned, four chunks, the audio. */
function runMessages(videoId: string, run = 1): ControlMessage[] {
  const chunks: ControlMessage[] = plan.chunks.map((c) => ({
    type: 'chunk-done',
    videoId,
    run,
    index: c.index,
    renditions: Object.fromEntries(renditions.map((r) => [r.name, { codecs: 'avc1.64001e', segments: segs(c.firstSegment, c.last ? 22 : c.endSeconds / 6) }])),
    cost: { cpuSeconds: 20, wallSeconds: 11 },
    attempt: 1,
  }));
  return [
    { type: 'planned', videoId, run, plan },
    ...chunks,
    { type: 'audio-done', videoId, run, segments: segs(0, 22), cost: { cpuSeconds: 2, wallSeconds: 2 }, attempt: 1 },
  ];
}

/** Stops consumers and waits until their last poll is done (an aborted poll could swallow a later test's message). */
const stopAll = (consumers: Consumer[]) => Promise.all(consumers.map((c) => new Promise((resolve) => {
  c.once('stopped', resolve);
  c.stop();
})));

describe('transcode/coordinator (emulator)', function () {
  this.timeout(60_000);
  let aws: TestAws;
  let deps: CoordinatorDeps;
  let records: StatusStore;

  before(async () => {
    aws = await startTestAws();
    records = new StatusStore(aws.s3, aws.mediaBucket);
    deps = { s3: aws.s3, logger: pino({ level: 'silent' }), mediaBucket: aws.mediaBucket, store: new RunStore(aws.s3, aws.mediaBucket), records, pricePerVcpuHour: 0.036 };
  });
  after(async () => aws?.stop());

  /** `n` coordinators competing for the control queue, as `n` workers would. */
  const coordinators = (n: number, onOutcome: (o: string) => void = () => {}) =>
    Array.from({ length: n }, () =>
      Consumer.create({
        queueUrl: aws.controlQueueUrl,
        sqs: aws.sqs,
        batchSize: 1,
        pollingCompleteWaitTimeMs: 5000,
        suppressFifoWarning: true,
        waitTimeSeconds: 1,
        visibilityTimeout: 30,
        handleMessage: async (m) => {
          onOutcome(await coordinate(deps, controlMessageSchema.parse(JSON.parse(m.Body!))));
          return m;
        },
      }),
    );
  const queuedVideo = async () => {
    const videoId = newId();
    await records.create({ videoId, status: 'queued' });
    return videoId;
  };
  const text = async (key: string) => (await aws.s3.send(new GetObjectCommand({ Bucket: aws.mediaBucket, Key: key }))).Body!.transformToString();

  it('playable after the first chunk and the audio; extended chunk by chunk; ready once, with cost', async () => {
    const videoId = await queuedVideo();
    const [planned, c0, c1, c2, c3, audio] = runMessages(videoId);
    expect(await coordinate(deps, planned!)).to.equal('applied');
    expect(await records.get(videoId)).to.include({ status: 'processing' });
    await coordinate(deps, c0!);
    expect((await records.get(videoId))!.playable, 'no audio yet').to.equal(undefined);
    await coordinate(deps, audio!);
    expect(await records.get(videoId)).to.include({ status: 'processing', playable: true });
    const first = HLS.parse(await text(keys.mediaPlaylist(videoId, '360p'))) as MediaPlaylist;
    expect(first).to.include({ playlistType: 'EVENT', endlist: false });
    expect(first.segments).to.have.length(1);
    await coordinate(deps, c2!); // out of order: no gap may be published
    expect((HLS.parse(await text(keys.mediaPlaylist(videoId, '360p'))) as MediaPlaylist).segments).to.have.length(1);
    await coordinate(deps, c1!);
    expect((HLS.parse(await text(keys.mediaPlaylist(videoId, '360p'))) as MediaPlaylist).segments).to.have.length(20);
    expect(await coordinate(deps, c3!)).to.equal('ready');
    const done = HLS.parse(await text(keys.mediaPlaylist(videoId, '360p'))) as MediaPlaylist;
    expect(done).to.include({ playlistType: 'VOD', endlist: true });
    expect(done.segments).to.have.length(22);
    const rec = await records.get(videoId);
    expect(rec).to.include({ status: 'ready', progress: 100, playable: true, durationSeconds: 130, cpuSeconds: 82, encodeSeconds: 46 });
    expect(rec!.estimatedCostUsd).to.be.closeTo((82 / 3600) * 0.036, 1e-6);
    // Anything after ready changes nothing.
    expect(await coordinate(deps, c3!)).to.equal('ignored');
    expect(await coordinate(deps, { type: 'failed', videoId, run: 1, reason: 'late' })).to.equal('ignored');
    expect(await records.get(videoId)).to.deep.equal(rec);
  });

  it('the audio reported while it encodes makes the video playable with the first chunk and grows its playlist; a shorter or late report changes nothing', async () => {
    const videoId = await queuedVideo();
    const [planned, c0, c1, c2, c3, audio] = runMessages(videoId);
    const partial = (to: number, attempt = 1): ControlMessage => ({ type: 'audio-partial', videoId, run: 1, segments: segs(0, to), attempt });
    const audioSegments = async () => (HLS.parse(await text(keys.mediaPlaylist(videoId, 'audio'))) as MediaPlaylist).segments.length;
    await coordinate(deps, planned!);
    await coordinate(deps, c0!);
    await coordinate(deps, partial(1));
    expect(await records.get(videoId)).to.include({ status: 'processing', playable: true });
    expect(await audioSegments()).to.equal(1);
    await coordinate(deps, partial(10));
    expect(await audioSegments(), 'more audio extends the audio playlist').to.equal(10);
    await coordinate(deps, partial(3, 2)); // a retried audio task starting over
    expect(await audioSegments(), 'never shrinks').to.equal(10);
    for (const m of [c1!, c2!, c3!]) expect(await coordinate(deps, m)).to.equal('applied'); // every chunk, but not the whole audio
    expect(await records.get(videoId)).to.include({ status: 'processing', playable: true });
    expect(await coordinate(deps, audio!)).to.equal('ready');
    const done = HLS.parse(await text(keys.mediaPlaylist(videoId, 'audio'))) as MediaPlaylist;
    expect(done).to.include({ playlistType: 'VOD', endlist: true });
    expect(done.segments).to.have.length(22);
    expect(await coordinate(deps, partial(5))).to.equal('ignored');
  });

  it('a planned poster: shown in the record as soon as it is made; ready waits for it; its cost counts', async () => {
    const videoId = await queuedVideo();
    const [planned, c0, c1, c2, c3, audio] = runMessages(videoId);
    const withPoster = { ...planned!, plan: { ...plan, poster: true } } as ControlMessage;
    for (const m of [withPoster, c0!, audio!, c1!]) await coordinate(deps, m);
    const poster = { available: true as const, atSeconds: 31.2, images: [{ format: 'jpeg' as const, width: 640, height: 360, bytes: 20_000, path: 'poster/poster-640.jpg' }] };
    expect(await coordinate(deps, { type: 'poster-done', videoId, run: 1, poster, cost: { cpuSeconds: 3, wallSeconds: 4 }, attempt: 1 })).to.equal('applied');
    expect(await records.get(videoId)).to.deep.include({ status: 'processing', poster });
    await coordinate(deps, c2!);
    expect(await coordinate(deps, c3!)).to.equal('ready');
    expect(await records.get(videoId)).to.deep.include({ status: 'ready', poster, cpuSeconds: 85 });

    // Every chunk and the audio, but no poster yet: not ready.
    const other = await queuedVideo();
    const msgs = runMessages(other);
    await coordinate(deps, { ...msgs[0]!, plan: { ...plan, poster: true } } as ControlMessage);
    for (const m of msgs.slice(1)) expect(await coordinate(deps, m)).to.equal('applied');
    expect(await records.get(other)).to.include({ status: 'processing', playable: true });
    const none = { available: false as const, reason: 'failed' as const, message: 'no frame' };
    expect(await coordinate(deps, { type: 'poster-done', videoId: other, run: 1, poster: none, cost: { cpuSeconds: 0, wallSeconds: 0 }, attempt: 3 })).to.equal('ready');
    expect(await records.get(other)).to.deep.include({ status: 'ready', poster: none });
  });

  it('a planned download and storyboard: the final playlists go out, each task is sent once, ready waits for both and carries them', async () => {
    const videoId = await queuedVideo();
    const sent: WorkMessage[] = [];
    const withSend: CoordinatorDeps = { ...deps, sendWork: async (m) => void sent.push(m) };
    const [planned, ...rest] = runMessages(videoId);
    await coordinate(withSend, { ...planned!, plan: { ...plan, download: { rendition: '360p' }, storyboard: { rendition: '234p' } } } as ControlMessage);
    for (const m of rest) expect(await coordinate(withSend, m)).to.equal('applied');
    // Complete to watch: VOD playlists are out, the record is playable at 99 %, not ready.
    expect(HLS.parse(await text(keys.mediaPlaylist(videoId, '360p')))).to.include({ playlistType: 'VOD', endlist: true });
    expect(await records.get(videoId)).to.include({ status: 'processing', playable: true, progress: 99 });
    expect(sent).to.have.length(2);
    expect(sent[0]).to.deep.include({ type: 'download', videoId, run: 1, rendition: '360p', width: 640, height: 360, videoSegments: 22, audioSegments: 22, bytes: 44 * 150_000 });
    expect(sent[1]).to.deep.include({ type: 'storyboard', videoId, run: 1, rendition: { name: '234p', width: 416, height: 234 }, durationSeconds: 130, keyframeSeconds: 2 });
    // A redelivered event does not send them again.
    await coordinate(withSend, rest[rest.length - 1]!);
    expect(sent).to.have.length(2);
    const download = { available: true as const, rendition: '360p', width: 640, height: 360, bytes: 3_000_000, filename: 'clip.mp4' };
    expect(await coordinate(withSend, { type: 'download-done', videoId, run: 1, download, cost: { cpuSeconds: 0.5, wallSeconds: 3 }, attempt: 1 })).to.equal('applied');
    expect(await records.get(videoId)).to.include({ status: 'processing' });
    const storyboard = { available: false as const, message: 'The seek previews could not be made: test' };
    expect(await coordinate(withSend, { type: 'storyboard-done', videoId, run: 1, storyboard, cost: { cpuSeconds: 0.25, wallSeconds: 1 }, attempt: 3 })).to.equal('ready');
    expect(await records.get(videoId)).to.deep.include({ status: 'ready', progress: 100, download, storyboard, cpuSeconds: 82.75 });
  });

  it('planned text tracks: the captions task is sent once after the final playlists; ready waits for it and its master keeps the SUBTITLES group', async () => {
    const videoId = await queuedVideo();
    const sent: WorkMessage[] = [];
    const withSend: CoordinatorDeps = { ...deps, sendWork: async (m) => void sent.push(m) };
    const textTracks = [{ index: 2, language: 'en', label: 'English', codec: 'mov_text' }];
    const [planned, ...rest] = runMessages(videoId);
    const sourceKey = `${keys.source(videoId)}-other`;
    await coordinate(withSend, { ...planned!, plan: { ...plan, sourceKey, textTracks } } as ControlMessage);
    for (const m of rest) expect(await coordinate(withSend, m)).to.equal('applied');
    expect(await records.get(videoId)).to.include({ status: 'processing', playable: true, progress: 99 });
    expect(sent).to.deep.equal([{ type: 'captions', videoId, run: 1, sourceKey, tracks: textTracks }]);
    await coordinate(withSend, rest[rest.length - 1]!);
    expect(sent, 'not sent again').to.have.length(1);
    // What the captions task leaves behind: a track record and the master rendered with it.
    const track = { language: 'en', label: 'English', source: 'embedded' as const, format: 'mov_text', cues: 3, playlist: 'captions/en_0000abcd/index.m3u8', createdAt: new Date().toISOString() };
    const captions = new CaptionStore(aws.s3, aws.mediaBucket);
    await captions.put(videoId, track);
    await captions.publishMaster(videoId);
    expect(await coordinate(withSend, { type: 'captions-done', videoId, run: 1, tracks: [track], cost: { cpuSeconds: 0.5, wallSeconds: 1 }, attempt: 1 })).to.equal('ready');
    expect(await records.get(videoId)).to.deep.include({ status: 'ready', cpuSeconds: 82.5 });
    // The final playlists were published again at `ready`: the master still lists the track on every variant.
    const master = HLS.parse(await text(keys.master(videoId))) as MasterPlaylist;
    for (const v of master.variants.filter((x) => !x.isIFrameOnly)) expect(v.subtitles.map((r) => [r.language, r.uri])).to.deep.equal([['en', track.playlist]]);
  });

  it('an audio-only run says "no picture" in its record', async () => {
    const videoId = await queuedVideo();
    const audioOnly: RunPlan = { ...plan, chunks: [], renditions: [], poster: false };
    await coordinate(deps, { type: 'planned', videoId, run: 1, plan: audioOnly });
    expect(await coordinate(deps, { type: 'audio-done', videoId, run: 1, segments: segs(0, 22), cost: { cpuSeconds: 1, wallSeconds: 1 }, attempt: 1 })).to.equal('ready');
    expect((await records.get(videoId))!.poster).to.deep.include({ available: false, reason: 'no_picture' });
  });

  it('exactly one finalize when every message arrives twice, shuffled, at three competing coordinators (FIFO control queue)', async () => {
    const videoId = await queuedVideo();
    const [planned, ...rest] = runMessages(videoId);
    const outcomes: string[] = [];
    const consumers = coordinators(3, (outcome) => outcomes.push(outcome));
    const send = controlSender(aws.sqs, aws.controlQueueUrl);
    await send(planned!);
    // Each message twice (a retried send after a lost answer has a new attempt number), in random order.
    const twice = [...rest, ...rest.map((m) => ({ ...m, attempt: 2 }) as ControlMessage)].sort(() => Math.random() - 0.5);
    await Promise.all(twice.map((m) => send(m)));
    for (const c of consumers) c.start();
    try {
      const deadline = Date.now() + 30_000;
      while (outcomes.length < 1 + twice.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    } finally {
      await stopAll(consumers);
    }
    expect(outcomes).to.have.length(1 + twice.length);
    expect(outcomes.filter((o) => o === 'ready'), 'finalized exactly once').to.have.length(1);
    expect(await records.get(videoId)).to.include({ status: 'ready' });
  });

  it('progress reported by several workers at once: no update is lost', async () => {
    const videoId = await queuedVideo();
    const send = controlSender(aws.sqs, aws.controlQueueUrl);
    await coordinate(deps, runMessages(videoId)[0]!);
    const reports = plan.chunks.map((c) => ({ type: 'progress' as const, videoId, run: 1, task: `chunk:${c.index}`, fraction: 0.5 }));
    await Promise.all(reports.map((r) => send(r)));
    const consumers = coordinators(3);
    for (const c of consumers) c.start();
    try {
      const deadline = Date.now() + 20_000;
      let state = await deps.store.state(videoId, 1);
      while (Object.keys(state.progress).length < reports.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        state = await deps.store.state(videoId, 1);
      }
      expect(Object.keys(state.progress).sort()).to.deep.equal(reports.map((r) => r.task).sort());
    } finally {
      await stopAll(consumers);
    }
    // Half of every chunk, no audio yet: just under half the work.
    expect((await records.get(videoId))!.progress).to.be.within(45, 49);
  });

  it('ignores messages of another run, and of a deleted video — removing what it wrote if the delete came meanwhile', async () => {
    const videoId = await queuedVideo();
    await records.transition(videoId, 'queued', { run: 2 });
    expect(await coordinate(deps, runMessages(videoId, 1)[0]!)).to.equal('ignored');
    expect(await coordinate(deps, runMessages(videoId, 2)[0]!)).to.equal('applied');

    await aws.s3.send(new PutObjectCommand({ Bucket: aws.mediaBucket, Key: keys.tombstone(videoId), Body: 'deleted' }));
    expect(await coordinate(deps, runMessages(videoId, 2)[1]!)).to.equal('ignored');
  });

  it('a failed task fails the video with its reason', async () => {
    const videoId = await queuedVideo();
    await coordinate(deps, runMessages(videoId)[0]!);
    expect(await coordinate(deps, { type: 'failed', videoId, run: 1, reason: 'The video is 7680x4320; the limit is …' })).to.equal('failed');
    expect(await records.get(videoId)).to.include({ status: 'failed', error: 'The video is 7680x4320; the limit is …' });
  });
});
