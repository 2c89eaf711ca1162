/**
 * The encoding tasks with real ffmpeg on real and synthetic media: what a
 * chunk and the audio produce, and that chunks stitch into exactly what one
 * pass over the whole file produces — the same frames, segments and
 * timestamps, for 30, 29.97 and 60 → 30 fps.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist } from 'hls-parser/types.js';
import { TIMELINE_OFFSET_SECONDS } from '../../containers/transcode/src/ffmpeg-args.js';
import { encodeAudio, encodeChunk, encodeChunkInParallel, shareRenditions } from '../../containers/transcode/src/encode.js';
import { TranscodeError } from '../../containers/transcode/src/errors.js';
import { measureSegments } from '../../containers/transcode/src/master-playlist.js';
import { planLadder } from '../../containers/transcode/src/ladder.js';
import { segmentFile, type SegmentInfo } from '@vod/contract';
import { encodeFile, ffmpegRun, ffprobeJson, media, rejection, run } from './helpers.js';

interface Packet {
  pts_time: string;
  flags: string;
}

/** The master playlist, its variants without the I-frame playlists (`iframes` lists those). */
async function readMaster(outDir: string): Promise<MasterPlaylist & { iframes: MasterPlaylist['variants'] }> {
  const playlist = HLS.parse(await readFile(path.join(outDir, 'master.m3u8'), 'utf8'));
  expect(playlist.isMasterPlaylist, 'master.m3u8 is a master playlist').to.equal(true);
  const master = playlist as MasterPlaylist;
  const iframes = master.variants.filter((v) => v.isIFrameOnly);
  master.variants = master.variants.filter((v) => !v.isIFrameOnly);
  return Object.assign(master, { iframes });
}

async function readMedia(file: string): Promise<MediaPlaylist> {
  const playlist = HLS.parse(await readFile(file, 'utf8'));
  expect(playlist.isMasterPlaylist).to.equal(false);
  return playlist as MediaPlaylist;
}

/** Segment files listed by a media playlist (absolute paths). */
async function segmentsOf(outDir: string, uri: string): Promise<string[]> {
  const playlistPath = path.join(outDir, uri);
  const playlist = await readMedia(playlistPath);
  expect(playlist.playlistType).to.equal('VOD');
  expect(playlist.endlist).to.equal(true);
  return playlist.segments.map((s) => path.resolve(path.dirname(playlistPath), s.uri));
}

/** Decodes every frame; rejects on any decode error (-xerror). */
async function decodeAll(file: string): Promise<void> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
  expect(stderr.trim(), `decode errors in ${file}`).to.equal('');
}

/** Whether ffmpeg decodes the whole file without an error. */
async function decodes(file: string): Promise<boolean> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']).catch((err) => ({ stderr: String(err) }));
  return stderr.trim() === '';
}

async function videoPackets(file: string): Promise<Packet[]> {
  const { packets } = await ffprobeJson<{ packets: Packet[] }>(file, ['-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags']);
  return packets;
}

/** Presentation times of every frame of a rendition, in playlist order. */
async function framesOf(outDir: string, rendition: string): Promise<number[]> {
  const times: number[] = [];
  for (const seg of await segmentsOf(outDir, `${rendition}/index.m3u8`)) {
    const { frames } = await ffprobeJson<{ frames: { pts_time: string }[] }>(seg, ['-select_streams', 'v:0', '-show_entries', 'frame=pts_time']);
    times.push(...frames.map((f) => Number(f.pts_time)).sort((a, b) => a - b));
  }
  return times;
}

const listing = async (dir: string) => (await readdir(dir)).filter((f) => !f.endsWith('.csv')).sort();

describe('transcode/encode (real ffmpeg)', function () {
  this.timeout(180_000);
  const dirs: string[] = [];
  after(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  const encoded = async (...args: Parameters<typeof encodeFile>) => {
    const enc = await encodeFile(...args);
    dirs.push(enc.outDir);
    return enc;
  };
  const tmp = async (prefix: string) => {
    const d = await mkdtemp(path.join(os.tmpdir(), prefix));
    dirs.push(d);
    return d;
  };

  describe('hello-720p (H.264 + AAC), one chunk', () => {
    let enc: Awaited<ReturnType<typeof encodeFile>>;
    before(async function () {
      this.timeout(120_000);
      enc = await encoded(media('hello-720p-h264-aac.mp4'));
    });

    it('encodes 720p and every lower rung plus one audio rendition', async () => {
      expect(enc.plan.chunks).to.have.length(1);
      expect(enc.renditions.map((r) => r.name)).to.deep.equal(['720p', '540p', '360p', '234p']);
      expect(await listing(enc.outDir)).to.deep.equal(['234p', '360p', '540p', '720p', 'audio', 'master.m3u8']);
      expect(enc.stitched.durationSeconds).to.be.closeTo(8.3, 0.1);
      expect(enc.cpuSeconds, 'CPU-seconds from the ffmpeg processes').to.be.greaterThan(0);
    });

    it('master playlist: version, independent segments, audio group, measured attributes of every variant', async () => {
      const master = await readMaster(enc.outDir);
      expect(master.version).to.be.at.least(3);
      expect(master.independentSegments).to.equal(true);
      expect(master.iframes.map((v) => v.uri).sort()).to.deep.equal(['234p/iframes.m3u8', '360p/iframes.m3u8', '540p/iframes.m3u8', '720p/iframes.m3u8']);
      expect(master.variants.map((v) => v.uri).sort()).to.deep.equal(['234p/index.m3u8', '360p/index.m3u8', '540p/index.m3u8', '720p/index.m3u8']);
      // 540p's average (~1.7 Mbit/s) is under the 2.5 Mbit/s startup threshold, so it is listed first.
      expect(master.variants[0]!.uri).to.equal('540p/index.m3u8');
      const text = await readFile(path.join(enc.outDir, 'master.m3u8'), 'utf8');
      expect(text.match(/#EXT-X-MEDIA:/g)).to.have.length(1);
      const audio = measureSegments(enc.state.audio!.segments);
      for (const v of master.variants) {
        const rendition = enc.renditions.find((r) => `${r.name}/index.m3u8` === v.uri)!;
        expect(v.resolution).to.deep.equal({ width: rendition.width, height: rendition.height });
        expect(v.frameRate).to.equal(30);
        expect(v.codecs).to.equal(`${rendition.level === '3.1' ? 'avc1.64001f' : 'avc1.64001e'},mp4a.40.2`);
        expect(v.audio[0]).to.include({ type: 'AUDIO', groupId: 'aud', isDefault: true, autoselect: true, uri: 'audio/index.m3u8', channels: '2' });
        // BANDWIDTH / AVERAGE-BANDWIDTH = video + audio, measured on the segments.
        const video = measureSegments(enc.state.chunks[0]!.renditions[rendition.name]!.segments);
        expect(v.bandwidth).to.equal(Math.ceil(video.peakBitrate + audio.peakBitrate));
        expect(v.averageBandwidth).to.equal(Math.round(video.averageBitrate + audio.averageBitrate));
        // Capped VBR: average within reach of the target, peak under the 200 % Apple allows.
        const target = (rendition.videoBitrateKbps + 128) * 1000;
        expect(v.averageBandwidth!).to.be.below(target * 1.3);
        expect(v.bandwidth).to.be.below(target * 2);
      }
    });

    it('every segment decodes; video is H.264 at the planned size with no rotation, audio AAC-LC stereo 48 kHz', async () => {
      for (const r of enc.renditions) {
        const segments = await segmentsOf(enc.outDir, `${r.name}/index.m3u8`);
        expect(segments.length).to.equal(2); // 6 s + 2.3 s
        for (const seg of segments) await decodeAll(seg);
        const { streams } = await ffprobeJson<{ streams: Record<string, unknown>[] }>(segments[0]!, ['-show_streams']);
        expect(streams).to.have.length(1);
        expect(streams[0]).to.include({ codec_name: 'h264', profile: 'High', width: r.width, height: r.height, r_frame_rate: '30/1' });
        expect(streams[0]!.side_data_list, 'no display matrix').to.equal(undefined);
      }
      const audioSegments = await segmentsOf(enc.outDir, 'audio/index.m3u8');
      for (const seg of audioSegments) await decodeAll(seg);
      const { streams } = await ffprobeJson<{ streams: Record<string, unknown>[] }>(audioSegments[0]!, ['-show_streams']);
      expect(streams).to.have.length(1);
      expect(streams[0]).to.include({ codec_name: 'aac', profile: 'LC', channels: 2, sample_rate: '48000' });
    });

    it('I-frame playlists: every byte range holds exactly one of the segment\'s keyframes, in order, and nothing else', async () => {
      for (const r of enc.renditions) {
        const p = HLS.parse(await readFile(path.join(enc.outDir, r.name, 'iframes.m3u8'), 'utf8')) as MediaPlaylist;
        expect(p.isIFrame).to.equal(true);
        expect(p.segments).to.have.length(5); // keyframes at 0 2 4 | 6 8
        for (const seg of await segmentsOf(enc.outDir, `${r.name}/index.m3u8`)) {
          const { packets } = await ffprobeJson<{ packets: { pos: string; flags: string }[] }>(seg, ['-select_streams', 'v:0', '-show_entries', 'packet=pos,flags']);
          const positions = packets.map((x) => Number(x.pos));
          const keyPositions = packets.filter((x) => x.flags.startsWith('K')).map((x) => Number(x.pos));
          const ranges = p.segments.filter((s) => s.uri === path.basename(seg)).map((s) => s.byterange!);
          expect(ranges.length, `${r.name} ${path.basename(seg)}`).to.equal(keyPositions.length);
          ranges.forEach((range, i) => {
            const inside = positions.filter((pos) => pos >= range.offset && pos < range.offset + range.length);
            expect(inside, `${r.name} range ${i}: one picture, the keyframe`).to.deep.equal([keyPositions[i]]);
          });
        }
      }
    });

    it('keyframes every 2 s on the shared timeline, at the same times in every rendition; each segment starts with one', async () => {
      const keyframeTimes: string[][] = [];
      for (const r of enc.renditions) {
        const times: string[] = [];
        for (const seg of await segmentsOf(enc.outDir, `${r.name}/index.m3u8`)) {
          const packets = await videoPackets(seg);
          expect(packets[0]!.flags, `${r.name} ${path.basename(seg)} starts with a keyframe`).to.match(/^K/);
          times.push(...packets.filter((p) => p.flags.startsWith('K')).map((p) => p.pts_time));
        }
        keyframeTimes.push(times);
      }
      for (const times of keyframeTimes.slice(1)) expect(times).to.deep.equal(keyframeTimes[0]);
      expect(keyframeTimes[0]!.map((t) => Math.round((Number(t) - TIMELINE_OFFSET_SECONDS) * 1000) / 1000)).to.deep.equal([0, 2, 4, 6, 8]);
    });

    it('progress is within 0..1, non-decreasing, and ends at 1', () => {
      const p = enc.progress;
      expect(p.length).to.be.at.least(3);
      expect(p.every((x, i) => x >= 0 && x <= 1 && (i === 0 || x >= p[i - 1]!))).to.equal(true);
      expect(p.at(-1)).to.equal(1);
    });
  });

  describe('chunks stitch into exactly the single pass', () => {
    const cases = [
      { name: '30 fps', rate: '30', fps: 30, frames: 600 },
      { name: '29.97 fps', rate: '30000/1001', fps: 30000 / 1001, frames: 600 },
      { name: '60 fps (30 fps rungs below 540p)', rate: '60', fps: 60, frames: 1200 },
    ];
    for (const c of cases) {
      it(`${c.name}: same frames, segments and timestamps; the source's frame count`, async () => {
        const dir = await tmp('vod-chunks-');
        const src = path.join(dir, 'src.mp4');
        // Long GOPs in the source: chunk starts fall mid-GOP, so seeks decode from an earlier keyframe. 20 s in 6 s chunks:
        // [0,6) [6,12) [12,22), the 2 s after 18 s joining the chunk before (less than one segment).
        await ffmpegRun(['-f', 'lavfi', '-i', `testsrc2=size=960x540:rate=${c.rate}`, '-frames:v', String(c.frames), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '250', src]);
        const single = await encoded(src, { chunkSeconds: Infinity, preset: 'ultrafast' });
        const chunked = await encoded(src, { chunkSeconds: 6, preset: 'ultrafast' });
        expect(single.plan.chunks).to.have.length(1);
        expect(chunked.plan.chunks.map((x) => x.startSeconds)).to.deep.equal([0, 6, 12]);
        for (const r of chunked.renditions) {
          const a = await framesOf(single.outDir, r.name);
          const b = await framesOf(chunked.outDir, r.name);
          const expected = r.frameRate.num / r.frameRate.den > 31 ? c.frames : Math.round((c.frames * 30) / Math.round(c.fps));
          expect(b, `${r.name}: frame times`).to.deep.equal(a);
          expect(b.length, `${r.name}: frames`).to.equal(expected);
          // Continuous: every step is one frame, no gap and no overlap at a chunk boundary.
          const step = r.frameRate.den / r.frameRate.num;
          b.slice(1).forEach((t, i) => expect(t - b[i]!, `${r.name} at ${t}`).to.be.closeTo(step, 1e-3));
          const listA = (await readMedia(path.join(single.outDir, r.name, 'index.m3u8'))).segments.map((s) => [s.uri, s.duration]);
          const listB = (await readMedia(path.join(chunked.outDir, r.name, 'index.m3u8'))).segments.map((s) => [s.uri, s.duration]);
          expect(listB, `${r.name}: segments`).to.deep.equal(listA);
        }
      });
    }
  });

  it('the first chunk shared over two processes: the same segments and frames as one process; costs summed', async () => {
    const dir = await tmp('vod-parallel-');
    const src = path.join(dir, 'src.mp4');
    await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc2=size=960x540:rate=30', '-frames:v', '240', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '250', src]);
    const renditions = planLadder({ displayWidth: 960, displayHeight: 540, frameRate: 30 });
    expect(shareRenditions(renditions, 2).map((g) => g.map((r) => r.name))).to.deep.equal([['540p'], ['360p', '234p']]);
    const chunk = { index: 0, startSeconds: 0, endSeconds: 6, firstSegment: 0, last: false };
    const settings = { segmentSeconds: 6, keyframeSeconds: 2, preset: 'ultrafast' };
    const one = await encodeChunk({ input: src, outDir: path.join(dir, 'one'), chunk, picture: { index: 0 }, renditions, settings });
    const progress: number[] = [];
    const two = await encodeChunkInParallel({ input: src, outDir: path.join(dir, 'two'), chunk, picture: { index: 0 }, renditions, settings, onProgress: (f) => progress.push(f) }, 2);
    const shape = (o: typeof one) => Object.fromEntries(Object.entries(o.renditions).map(([name, r]) => [name, { codecs: r.codecs, segments: r.segments.map((x) => [x.n, x.duration, x.keyframes?.length]) }]));
    expect(shape(two)).to.deep.equal(shape(one));
    for (const r of renditions) {
      const frames = async (d: string) => (await ffprobeJson<{ frames: { pts_time: string }[] }>(path.join(d, r.name, segmentFile(0)), ['-select_streams', 'v:0', '-show_entries', 'frame=pts_time'])).frames.map((f) => f.pts_time);
      expect(await frames(path.join(dir, 'two')), r.name).to.deep.equal(await frames(path.join(dir, 'one')));
    }
    expect(two.cost.cpuSeconds).to.be.greaterThan(0);
    expect(progress.at(-1)).to.equal(1);
    expect(progress.every((x, i) => i === 0 || x >= progress[i - 1]!), 'progress never goes back').to.equal(true);
  });

  it('shareRenditions: by pixels per frame, largest first, each to the least loaded process; never an empty process', () => {
    const ladder = planLadder({ displayWidth: 1920, displayHeight: 1080, frameRate: 30 });
    expect(shareRenditions(ladder, 2).map((g) => g.map((r) => r.name))).to.deep.equal([['1080p'], ['720p', '540p', '360p', '234p']]);
    expect(shareRenditions(ladder, 1)).to.deep.equal([ladder]);
    expect(shareRenditions(ladder.slice(-1), 4)).to.deep.equal([ladder.slice(-1)]);
  });

  it('visualizer (video only): video renditions, no audio group', async () => {
    const enc = await encoded(media('visualizer-180p-h264-noaudio.mp4'));
    expect(await listing(enc.outDir)).to.deep.equal(['180p', 'master.m3u8']);
    const master = await readMaster(enc.outDir);
    expect(master.variants).to.have.length(1);
    expect(master.iframes.map((v) => v.uri)).to.deep.equal(['180p/iframes.m3u8']);
    expect(master.variants[0]).to.deep.include({ uri: '180p/index.m3u8', codecs: 'avc1.64001e', resolution: { width: 320, height: 180 }, frameRate: 30, audio: [] });
    expect(await readFile(path.join(enc.outDir, 'master.m3u8'), 'utf8')).not.to.contain('EXT-X-MEDIA');
    for (const seg of await segmentsOf(enc.outDir, '180p/index.m3u8')) await decodeAll(seg);
  });

  it('audio-only opus mkv: one audio-only rendition listed as a mp4a.40.2 variant', async () => {
    const enc = await encoded(media('audio-only-opus.mkv'));
    expect(await listing(enc.outDir)).to.deep.equal(['audio', 'master.m3u8']);
    const master = await readMaster(enc.outDir);
    expect(master.variants).to.have.length(1);
    expect(master.variants[0]).to.deep.include({ uri: 'audio/index.m3u8', codecs: 'mp4a.40.2', audio: [] });
    expect(master.variants[0]!.resolution).to.equal(undefined);
    expect(enc.stitched.renditions).to.deep.equal([{ name: 'audio', width: 0, height: 0, bandwidth: master.variants[0]!.bandwidth }]);
    const segments = await segmentsOf(enc.outDir, 'audio/index.m3u8');
    for (const seg of segments) await decodeAll(seg);
    const { streams } = await ffprobeJson<{ streams: Record<string, unknown>[] }>(segments[0]!, ['-show_streams']);
    expect(streams[0]).to.include({ codec_name: 'aac', channels: 2, sample_rate: '48000' }); // mono Opus → stereo AAC
    expect(enc.stitched.durationSeconds).to.be.closeTo(6.1, 0.15);
  });

  it('launch webm (VP8 + Vorbis) becomes H.264 + AAC at 24 fps, keeping the language', async () => {
    const enc = await encoded(media('launch-360p-vp8-vorbis.webm'));
    const master = await readMaster(enc.outDir);
    expect(master.variants.map((v) => `${v.resolution!.width}x${v.resolution!.height}@${v.frameRate}`).sort()).to.deep.equal(['416x234@24', '640x360@24']);
    expect(master.variants.every((v) => v.codecs === 'avc1.64001e,mp4a.40.2')).to.equal(true);
    expect(master.variants[0]!.audio[0]).to.include({ language: 'eng' });
    for (const v of master.variants) for (const seg of await segmentsOf(enc.outDir, v.uri)) await decodeAll(seg);
  });

  it('a rotated source comes out display-oriented (portrait) with no rotation metadata', async () => {
    const dir = await tmp('vod-rot-');
    const rotated = path.join(dir, 'rotated.mp4');
    await ffmpegRun(['-i', media('visualizer-180p-h264-noaudio.mp4'), '-t', '2', '-c', 'copy', '-metadata:s:v', 'rotate=90', rotated]);
    const enc = await encoded(rotated);
    expect(enc.source.video).to.include({ rotation: 270, displayWidth: 180, displayHeight: 320 });
    expect(enc.stitched.renditions.map((v) => `${v.width}x${v.height}`)).to.deep.equal(['180x320']);
    const [seg] = await segmentsOf(enc.outDir, `${enc.renditions[0]!.name}/index.m3u8`);
    const { streams } = await ffprobeJson<{ streams: Record<string, unknown>[] }>(seg!, ['-show_streams']);
    expect(streams[0]).to.include({ width: 180, height: 320 });
    expect(streams[0]!.side_data_list).to.equal(undefined);
  });

  it('5.1 surround audio is downmixed to one AAC-LC stereo rendition', async () => {
    const dir = await tmp('vod-51-');
    const surround = path.join(dir, 'surround.mkv');
    await ffmpegRun([
      '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '2', '-filter_complex', '[1:a]pan=5.1|FL=c0|FR=c0|FC=c0|LFE=c0|BL=c0|BR=c0[a]', '-map', '0:v', '-map', '[a]',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'ac3', surround,
    ]);
    const enc = await encoded(surround);
    expect(enc.source.audio).to.include({ channels: 6 });
    const audioSegs = await segmentsOf(enc.outDir, 'audio/index.m3u8');
    const { streams } = await ffprobeJson<{ streams: Record<string, unknown>[] }>(audioSegs[0]!, ['-show_streams']);
    expect(streams[0]).to.include({ codec_name: 'aac', profile: 'LC', channels: 2 });
  });

  it('an interlaced source is de-interlaced (progressive output)', async () => {
    const dir = await tmp('vod-il-');
    const interlaced = path.join(dir, 'interlaced.mp4');
    await ffmpegRun([
      '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=50', '-t', '2', // interleaving halves it to 25 fps
      '-vf', 'tinterlace=interleave_top,fieldorder=tff', '-flags', '+ilme+ildct', '-c:v', 'libx264', '-x264opts', 'tff=1', interlaced,
    ]);
    const enc = await encoded(interlaced);
    expect(enc.source.video).to.include({ interlaced: true });
    expect(enc.stitched.renditions.map((v) => `${v.width}x${v.height}`)).to.deep.equal(['312x234']);
    const [seg] = await segmentsOf(enc.outDir, `${enc.renditions[0]!.name}/index.m3u8`);
    const { streams } = await ffprobeJson<{ streams: Record<string, unknown>[] }>(seg!, ['-show_streams']);
    expect(streams[0]).to.include({ field_order: 'progressive', r_frame_rate: '25/1' });
  });

  it('the audio is handed over as it is encoded: whole segments from 0, growing, the same as the final list', async () => {
    const dir = await tmp('vod-audio-progressive-');
    const source = path.join(dir, 'tone.wav');
    await ffmpegRun(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=40', source]);
    const settings = { segmentSeconds: 6, keyframeSeconds: 2, preset: 'veryfast' };
    const reports: { segments: SegmentInfo[]; decoded: boolean[] }[] = [];
    const out = await encodeAudio({
      input: source,
      outDir: path.join(dir, 'out'),
      index: 0,
      endSeconds: 42,
      settings,
      segmentPollMs: 20,
      // Slow the hand-over down so ffmpeg runs ahead of it: each report must still list only whole segments.
      onSegments: async (segments) => {
        const decoded = await Promise.all(segments.map((x) => decodes(path.join(dir, 'out', 'audio', segmentFile(x.n)))));
        reports.push({ segments: structuredClone(segments), decoded });
      },
    });
    expect(out.segments.map((x) => x.n)).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
    expect(reports.length, 'at least one report before the end').to.be.greaterThan(0);
    let previous = 0;
    for (const r of reports) {
      expect(r.segments.length, 'reports grow').to.be.greaterThan(previous);
      previous = r.segments.length;
      expect(r.decoded.every(Boolean), 'every reported segment decodes when reported').to.equal(true);
      // Same numbers, durations and sizes as at the end: a reported segment was already complete.
      expect(r.segments).to.deep.equal(out.segments.slice(0, r.segments.length));
    }
  });

  describe('stopping and failing', () => {
    const chunk = { index: 0, startSeconds: 0, endSeconds: 10.3, firstSegment: 0, last: true };
    const settings = { segmentSeconds: 6, keyframeSeconds: 2, preset: 'veryfast' };
    const renditions = planLadder({ displayWidth: 1280, displayHeight: 720, frameRate: 30 });

    it('abort stops ffmpeg at once and rejects with an aborted TranscodeError, once the process is gone', async () => {
      const outDir = await tmp('vod-abort-');
      const controller = new AbortController();
      const started = Date.now();
      const err = await rejection(
        encodeChunk({ input: media('hello-720p-h264-aac.mp4'), outDir, chunk, picture: { index: 0 }, renditions, settings, signal: controller.signal, onProgress: () => controller.abort(new Error('shutdown')) }),
      );
      expect(err).to.be.instanceOf(TranscodeError);
      expect((err as TranscodeError).aborted).to.equal(true);
      expect(Date.now() - started).to.be.below(10_000);
      const { stdout } = await run('ps', ['-eo', 'args']).catch(() => ({ stdout: '' }));
      expect(stdout.split('\n').filter((l) => l.includes(outDir)), 'no ffmpeg left running').to.deep.equal([]);

      const early = await rejection(encodeChunk({ input: media('hello-720p-h264-aac.mp4'), outDir, chunk, picture: { index: 0 }, renditions, settings, signal: AbortSignal.abort() }));
      expect((early as TranscodeError).aborted).to.equal(true);
    });

    it('abort of a chunk shared over two processes settles only once both ffmpeg processes are gone', async () => {
      const outDir = await tmp('vod-abort-parallel-');
      const controller = new AbortController();
      expect(shareRenditions(renditions, 2).length).to.equal(2);
      const err = await rejection(
        encodeChunkInParallel({ input: media('hello-720p-h264-aac.mp4'), outDir, chunk, picture: { index: 0 }, renditions, settings, signal: controller.signal, onProgress: () => controller.abort(new Error('shutdown')) }, 2),
      );
      expect((err as TranscodeError).aborted).to.equal(true);
      const { stdout } = await run('ps', ['-eo', 'args']).catch(() => ({ stdout: '' }));
      expect(stdout.split('\n').filter((l) => l.includes(outDir)), 'no ffmpeg left running').to.deep.equal([]);

      // Stopped before it started (a stop during the task's first steps): no ffmpeg runs at all, so no file is written.
      const earlyDir = await tmp('vod-abort-parallel-early-');
      const early = await rejection(encodeChunkInParallel({ input: media('hello-720p-h264-aac.mp4'), outDir: earlyDir, chunk, picture: { index: 0 }, renditions, settings, signal: AbortSignal.abort() }, 2));
      expect((early as TranscodeError).aborted).to.equal(true);
      const written = (await readdir(earlyDir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
      expect(written, 'files written').to.deep.equal([]);
    });

    it('one process of a shared chunk failing stops the other; its own error is the one thrown, not the abort it caused', async () => {
      const outDir = await tmp('vod-fail-parallel-');
      // The smaller rungs' process fails at once (its output directory is a file); the 720p one is stopped.
      await writeFile(path.join(outDir, '234p'), 'not a directory');
      const err = await rejection(encodeChunkInParallel({ input: media('hello-720p-h264-aac.mp4'), outDir, chunk, picture: { index: 0 }, renditions, settings }, 2));
      expect((err as TranscodeError).aborted ?? false, (err as Error).message).to.equal(false);
      const { stdout } = await run('ps', ['-eo', 'args']).catch(() => ({ stdout: '' }));
      expect(stdout.split('\n').filter((l) => l.includes(outDir)), 'no ffmpeg left running').to.deep.equal([]);
    });

    it('ffmpeg failure: TranscodeError with the last stderr lines', async () => {
      const dir = await tmp('vod-fail-');
      const bogus = path.join(dir, 'not-a-video.mp4');
      await writeFile(bogus, 'plain text\n');
      const err = await rejection(encodeChunk({ input: bogus, outDir: path.join(dir, 'out'), chunk, picture: { index: 0 }, renditions: renditions.slice(-1), settings }));
      expect(err).to.be.instanceOf(TranscodeError);
      const te = err as TranscodeError;
      expect(te.aborted).to.equal(false);
      expect(te.exitCode).to.be.a('number').and.not.equal(0);
      expect(te.stderrTail.join('\n')).to.match(/Invalid data found when processing input|Invalid argument/);
      expect(existsSync(path.join(dir, 'out', 'master.m3u8'))).to.equal(false);
    });
  });
});
