import { expect } from 'chai';
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist } from 'hls-parser/types.js';
import type { RunPlan, SegmentInfo } from '@vod/contract';
import type { RunState } from '../../containers/transcode/src/run-store.js';
import { runView, stitch } from '../../containers/transcode/src/stitch.js';
import { planLadder } from '../../containers/transcode/src/ladder.js';
import { planChunks } from '../../containers/transcode/src/chunk-plan.js';

const settings = { segmentSeconds: 6, keyframeSeconds: 2, preset: 'veryfast' };
const renditions = planLadder({ displayWidth: 640, displayHeight: 360, frameRate: 30 });
const plan: RunPlan = {
  durationSeconds: 130,
  chunks: planChunks(130, { segmentSeconds: 6, chunkSeconds: 60, firstChunkSeconds: 6, endMarginSeconds: 2 }),
  renditions,
  audio: { channels: 2, language: 'eng' },
  settings,
};
const segs = (from: number, to: number, bytes = 200_000): SegmentInfo[] =>
  Array.from({ length: to - from }, (_, i) => ({ n: from + i, duration: from + i === 21 ? 4 : 6, bytes }));
const chunkOut = (i: number) => {
  const c = plan.chunks[i]!;
  const to = c.last ? 22 : c.endSeconds / 6;
  return {
    renditions: Object.fromEntries(renditions.map((r) => [r.name, { codecs: 'avc1.64001e', segments: segs(c.firstSegment, to) }])),
    cost: { cpuSeconds: 10, wallSeconds: 6 },
    attempt: 1,
  };
};
const state = (done: number[], audio = true, progress: Record<string, number> = {}): RunState => ({
  chunks: Object.fromEntries(done.map((i) => [i, chunkOut(i)])),
  audio: audio ? { segments: segs(0, 22, 96_000), cost: { cpuSeconds: 1, wallSeconds: 1 }, attempt: 1 } : undefined,
  progress,
  publishedChunks: 0,
});

describe('transcode/stitch', () => {
  describe('runView', () => {
    it('playable once the first chunk and the audio are in; complete once every chunk is', () => {
      expect(plan.chunks).to.have.length(4); // [0,6) [6,60) [60,120) [120,132)
      expect(runView(plan, state([], true))).to.include({ playable: false, complete: false, contiguousChunks: 0 });
      expect(runView(plan, state([0], false))).to.include({ playable: false, audioReady: false });
      expect(runView(plan, state([0], true))).to.include({ playable: true, complete: false, contiguousChunks: 1 });
      // A gap keeps the prefix where it is.
      expect(runView(plan, state([0, 2, 3], true))).to.include({ contiguousChunks: 1, complete: false });
      expect(runView(plan, state([0, 1, 2, 3], true))).to.include({ contiguousChunks: 4, complete: true, usableChunks: 4 });
    });

    it('playable once the audio reported so far covers the first chunk; growing playlists list that audio, final ones need all of it', () => {
      const s = state([0, 1], false);
      s.audioPartial = { segments: segs(0, 0, 96_000), attempt: 1 };
      expect(runView(plan, s)).to.include({ playable: false, audioSegments: 0 });
      s.audioPartial = { segments: segs(0, 1, 96_000), attempt: 1 }; // [0,6): chunk 0 is covered
      expect(runView(plan, s)).to.include({ playable: true, audioReady: false, audioSegments: 1, complete: false });
      s.audioPartial = { segments: segs(0, 4, 96_000), attempt: 1 };
      const growing = stitch(plan, s, 2, false);
      const audio = HLS.parse(growing.files.find(([uri]) => uri === 'audio/index.m3u8')![1]) as MediaPlaylist;
      expect(audio).to.include({ playlistType: 'EVENT', endlist: false });
      expect(audio.segments.map((x) => x.uri)).to.deep.equal(['seg_00000.ts', 'seg_00001.ts', 'seg_00002.ts', 'seg_00003.ts']);
      expect(() => stitch(plan, s, 2, true)).to.throw(RangeError, /audio/);
      // The whole audio supersedes what was reported before it.
      s.audio = { segments: segs(0, 22, 96_000), cost: { cpuSeconds: 1, wallSeconds: 1 }, attempt: 1 };
      expect(runView(plan, s)).to.include({ audioReady: true, audioSegments: 22 });
    });

    it('a chunk that ended early is the last that counts', () => {
      const s = state([0, 1], true);
      s.chunks[1]!.endsEarly = true;
      expect(runView(plan, s)).to.include({ usableChunks: 2, complete: true });
    });

    it('a chunk that decoded nothing (the file ends before it) ends the video with the chunk before it', () => {
      const s = state([0, 1], true);
      s.chunks[2] = { renditions: {}, cost: { cpuSeconds: 1, wallSeconds: 1 }, attempt: 1, endsEarly: true };
      expect(runView(plan, s)).to.include({ usableChunks: 2, complete: true });
      const files = stitch(plan, s, 2, true).files.map(([uri]) => uri);
      expect(files.at(-1)).to.match(/master\.m3u8$/);
    });

    it('progress is weighted by source seconds, counts running tasks, and stays below 100 until ready', () => {
      expect(runView(plan, state([], false)).progress).to.equal(0);
      const half = runView(plan, state([0, 1], true)).progress;
      expect(half).to.be.within(45, 55);
      expect(runView(plan, state([0, 1], true, { 'chunk:2': 0.5 })).progress).to.be.greaterThan(half);
      expect(runView(plan, state([0, 1, 2], true, { 'chunk:3': 1 })).progress).to.equal(99);
    });

    it('audio-only and video-only runs', () => {
      const audioOnly: RunPlan = { ...plan, chunks: [], renditions: [] };
      expect(runView(audioOnly, state([], false))).to.include({ playable: false, complete: false });
      expect(runView(audioOnly, state([], true))).to.include({ playable: true, complete: true });
      const videoOnly: RunPlan = { ...plan, audio: undefined };
      expect(runView(videoOnly, state([0], false))).to.include({ playable: true, audioReady: true });
    });
  });

  describe('stitch', () => {
    it('EVENT playlists of the contiguous prefix; they only grow', () => {
      const s = state([0, 1, 2, 3]);
      const one = stitch(plan, s, 1, false);
      const two = stitch(plan, s, 2, false);
      const media = (out: ReturnType<typeof stitch>, uri: string) => HLS.parse(out.files.find(([p]) => p === uri)![1]) as MediaPlaylist;
      const a = media(one, '360p/index.m3u8');
      const b = media(two, '360p/index.m3u8');
      expect(a.playlistType).to.equal('EVENT');
      expect(a.endlist).to.equal(false);
      expect(a.segments.map((x) => x.uri)).to.deep.equal(['seg_00000.ts']);
      expect(b.segments.map((x) => x.uri).slice(0, 1)).to.deep.equal(['seg_00000.ts']);
      expect(b.segments).to.have.length(10);
      expect(b.targetDuration).to.equal(a.targetDuration); // fixed while it grows (RFC 8216 §6.2.1)
      // The audio is listed whole from the start.
      expect(media(one, 'audio/index.m3u8').segments).to.have.length(22);
    });

    it('the final VOD playlists list every segment once, numbers continuous, no discontinuity; the master comes last', () => {
      const out = stitch(plan, state([0, 1, 2, 3]), 4, true);
      expect(out.files.at(-1)![0]).to.equal('master.m3u8');
      for (const r of renditions) {
        const text = out.files.find(([p]) => p === `${r.name}/index.m3u8`)![1];
        const p = HLS.parse(text) as MediaPlaylist;
        expect(p.playlistType).to.equal('VOD');
        expect(p.endlist).to.equal(true);
        expect(p.segments.map((s) => s.uri)).to.deep.equal(Array.from({ length: 22 }, (_, i) => `seg_${String(i).padStart(5, '0')}.ts`));
        expect(text).not.to.contain('DISCONTINUITY');
      }
      const master = HLS.parse(out.files.at(-1)![1]) as MasterPlaylist;
      expect(master.variants.map((v) => v.uri).sort()).to.deep.equal(['234p/index.m3u8', '360p/index.m3u8']);
      expect(master.variants[0]!.audio[0]).to.include({ groupId: 'aud', language: 'eng', uri: 'audio/index.m3u8' });
      expect(out.durationSeconds).to.equal(130);
      expect(out.renditions.map((r) => r.name)).to.deep.equal(['360p', '234p']);
    });

    it('audio-only: the audio playlist is the one variant', () => {
      const out = stitch({ ...plan, chunks: [], renditions: [] }, state([], true), 0, true);
      expect(out.files.map(([p]) => p)).to.deep.equal(['audio/index.m3u8', 'master.m3u8']);
      expect(out.renditions).to.deep.equal([{ name: 'audio', width: 0, height: 0, bandwidth: out.renditions[0]!.bandwidth }]);
    });

    it('refuses to stitch what has not been reported', () => {
      expect(() => stitch(plan, state([0]), 2, false)).to.throw(RangeError);
      expect(() => stitch(plan, state([0], false), 1, false)).to.throw(RangeError, /audio/);
    });
  });
});
