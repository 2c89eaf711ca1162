import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist } from 'hls-parser/types.js';
import { TranscodeError } from '../../containers/transcode/src/errors.js';
import { buildFfmpegArgs, type EncodeOptions } from '../../containers/transcode/src/ffmpeg-args.js';
import { encodeHlsLadder } from '../../containers/transcode/src/hls-encode.js';
import { planLadder, type Rendition } from '../../containers/transcode/src/ladder.js';
import { measureMediaPlaylist } from '../../containers/transcode/src/master-playlist.js';
import { probeSource, type SourceInfo } from '../../containers/transcode/src/probe.js';
import { ffmpegRun, ffprobeJson, media, run, rejection } from './helpers.js';

interface Packet {
  pts_time: string;
  flags: string;
}


async function readMaster(outDir: string): Promise<MasterPlaylist> {
  const playlist = HLS.parse(await readFile(path.join(outDir, 'master.m3u8'), 'utf8'));
  expect(playlist.isMasterPlaylist, 'master.m3u8 is a master playlist').to.equal(true);
  return playlist as MasterPlaylist;
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

async function videoPackets(file: string): Promise<Packet[]> {
  const { packets } = await ffprobeJson<{ packets: Packet[] }>(file, ['-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags']);
  return packets;
}

/** Uses the real probe + ladder, encodes into a fresh temp dir. */
async function encodeFile(file: string, extra: Partial<EncodeOptions> = {}) {
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'hls-test-'));
  const source = await probeSource(file);
  const renditions = source.video ? planLadder(source.video) : [];
  const progress: number[] = [];
  const started = Date.now();
  const result = await encodeHlsLadder({ input: file, outDir, source, renditions, onProgress: (p) => progress.push(p), ...extra });
  return { outDir, source, renditions, result, progress, ms: Date.now() - started };
}

const SOURCE_AV: SourceInfo = {
  durationSeconds: 10,
  formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
  video: { index: 0, width: 1280, height: 720, displayWidth: 1280, displayHeight: 720, rotation: 0, frameRate: 30, codec: 'h264' },
  audio: { index: 1, codec: 'aac', channels: 6, sampleRate: 48000 },
};

describe('transcode/hls-encode', () => {
  describe('buildFfmpegArgs', () => {
    const renditions = planLadder({ displayWidth: 1280, displayHeight: 720, frameRate: 30 }).filter((r) => ['720p', '360p'].includes(r.name));
    const opts: EncodeOptions = { input: '/in/src.mp4', outDir: '/out/job', source: SOURCE_AV, renditions };
    const valueOf = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

    it('one split filter graph, per-variant rate control, aligned 2 s keyframes and an audio group', () => {
      const { inputOptions, outputOptions: o, output } = buildFfmpegArgs(opts);
      expect(inputOptions).to.deep.equal(['-hide_banner', '-nostdin']);
      expect(valueOf(o, '-filter_complex')).to.equal(
        '[0:0]split=2[s0][s1];' +
          '[s0]fps=30,scale=w=1280:h=720,setsar=1,format=yuv420p[v0];' +
          '[s1]fps=30,scale=w=640:h=360,setsar=1,format=yuv420p[v1]',
      );
      expect(o.join(' ')).to.contain('-map [v0] -map [v1]');
      expect(o.join(' ')).to.contain('-b:v:0 3000k -maxrate:v:0 4500k -bufsize:v:0 6000k -profile:v:0 high -level:v:0 3.1');
      expect(o.join(' ')).to.contain('-b:v:1 730k -maxrate:v:1 1095k -bufsize:v:1 1460k -profile:v:1 high -level:v:1 3.0');
      expect(valueOf(o, '-force_key_frames')).to.equal('expr:gte(t,n_forced*2)');
      expect(valueOf(o, '-sc_threshold')).to.equal('0');
      expect(valueOf(o, '-preset')).to.equal('veryfast');
      expect(o.join(' ')).to.contain('-map 0:1 -c:a aac -b:a 128k -ac 2 -ar 48000');
      expect(valueOf(o, '-hls_time')).to.equal('6');
      expect(valueOf(o, '-hls_playlist_type')).to.equal('vod');
      expect(valueOf(o, '-hls_segment_type')).to.equal('mpegts');
      expect(valueOf(o, '-hls_flags')).to.equal('independent_segments');
      expect(valueOf(o, '-master_pl_name')).to.equal('master.m3u8');
      expect(valueOf(o, '-hls_segment_filename')).to.equal('/out/job/%v/seg_%05d.ts');
      expect(valueOf(o, '-var_stream_map')).to.equal('a:0,agroup:aud,name:audio v:0,agroup:aud,name:720p v:1,agroup:aud,name:360p');
      expect(output).to.equal('/out/job/%v/index.m3u8');
    });

    it('interlaced sources are de-interlaced once, before the split', () => {
      const source = { ...SOURCE_AV, video: { ...SOURCE_AV.video!, interlaced: true } };
      expect(valueOf(buildFfmpegArgs({ ...opts, source }).outputOptions, '-filter_complex')).to.match(
        /^\[0:0\]bwdif=mode=send_frame:deint=interlaced,split=2\[s0\]\[s1\];/,
      );
    });

    it('video-only: no audio map and no agroup; audio-only: one "audio" stream', () => {
      const videoOnly = buildFfmpegArgs({ ...opts, source: { ...SOURCE_AV, audio: undefined } }).outputOptions;
      expect(valueOf(videoOnly, '-var_stream_map')).to.equal('v:0,name:720p v:1,name:360p');
      expect(videoOnly).not.to.include('-c:a');
      const audioOnly = buildFfmpegArgs({ ...opts, source: { ...SOURCE_AV, video: undefined }, renditions: [] }).outputOptions;
      expect(valueOf(audioOnly, '-var_stream_map')).to.equal('a:0,name:audio');
      expect(audioOnly).not.to.include('-filter_complex');
      expect(audioOnly).not.to.include('-c:v');
    });

    it('URL inputs reconnect; custom preset, keyframe and segment lengths; NTSC rates stay exact', () => {
      const ntsc: Rendition[] = [{ ...renditions[0]!, frameRate: 30000 / 1001 }];
      const { inputOptions, outputOptions: o } = buildFfmpegArgs({
        ...opts,
        input: 'https://bucket.s3.amazonaws.com/src?X-Amz-Signature=abc',
        renditions: ntsc,
        preset: 'medium',
        keyframeSeconds: 1,
        segmentSeconds: 4,
      });
      expect(inputOptions).to.include.members(['-reconnect', '-reconnect_on_network_error', '-rw_timeout']);
      expect(valueOf(o, '-preset')).to.equal('medium');
      expect(valueOf(o, '-force_key_frames')).to.equal('expr:gte(t,n_forced*1)');
      expect(valueOf(o, '-hls_time')).to.equal('4');
      expect(valueOf(o, '-filter_complex')).to.contain('fps=30000/1001,');
    });

    it('rejects inconsistent options', () => {
      const bad: Partial<EncodeOptions>[] = [
        { segmentSeconds: 5 }, // not a multiple of 2 s keyframes
        { renditions: [], source: { ...SOURCE_AV, audio: undefined } }, // nothing to encode
        { source: { ...SOURCE_AV, video: undefined } }, // renditions without video
        { renditions: [renditions[0]!, { ...renditions[1]!, name: '720p' }] }, // duplicate
        { renditions: [{ ...renditions[0]!, name: 'audio' }] }, // reserved
        { renditions: [{ ...renditions[0]!, name: '720p v:9' }] }, // would corrupt var_stream_map
        { renditions: [{ ...renditions[0]!, width: 1279 }] }, // odd width
        { outDir: '/out/100%' }, // ffmpeg would expand the %
      ];
      for (const b of bad) expect(() => buildFfmpegArgs({ ...opts, ...b }), JSON.stringify(b)).to.throw(RangeError);
    });
  });

  describe('encodeHlsLadder with real ffmpeg', function () {
    this.timeout(120_000);
    const dirs: string[] = [];
    after(async () => {
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    });

    describe('hello-720p (H.264 + AAC)', () => {
      let enc: Awaited<ReturnType<typeof encodeFile>>;
      before(async function () {
        this.timeout(120_000);
        enc = await encodeFile(media('hello-720p-h264-aac.mp4'));
        dirs.push(enc.outDir);
      });

      it('encodes 720p and every lower rung plus one audio rendition, in well under a minute', async () => {
        expect(enc.renditions.map((r) => r.name)).to.deep.equal(['720p', '540p', '360p', '234p']);
        expect((await readdir(enc.outDir)).sort()).to.deep.equal(['234p', '360p', '540p', '720p', 'audio', 'master.m3u8']);
        expect(enc.ms).to.be.below(60_000);
        expect(enc.result.durationSeconds).to.be.closeTo(8.3, 0.1);
      });

      it('master playlist: version, independent segments, audio group, every variant attribute', async () => {
        const master = await readMaster(enc.outDir);
        expect(master.version).to.be.at.least(3);
        expect(master.independentSegments).to.equal(true);
        expect(master.variants.map((v) => v.uri).sort()).to.deep.equal(['234p/index.m3u8', '360p/index.m3u8', '540p/index.m3u8', '720p/index.m3u8']);
        // 540p's average (~1.7 Mbit/s) is under the 2.5 Mbit/s startup threshold, so it is listed first.
        expect(master.variants[0]!.uri).to.equal('540p/index.m3u8');
        const rest = master.variants.slice(1).map((v) => v.bandwidth);
        expect(rest).to.deep.equal([...rest].sort((a, b) => b - a));

        const text = await readFile(path.join(enc.outDir, 'master.m3u8'), 'utf8');
        expect(text.match(/#EXT-X-MEDIA:/g)).to.have.length(1);
        expect(text).not.to.contain('group_aud'); // ffmpeg's own group name is gone

        for (const v of master.variants) {
          const rendition = enc.renditions.find((r) => `${r.name}/index.m3u8` === v.uri)!;
          expect(v.resolution).to.deep.equal({ width: rendition.width, height: rendition.height });
          expect(v.frameRate).to.equal(30);
          expect(v.codecs).to.equal(`${rendition.level === '3.1' ? 'avc1.64001f' : 'avc1.64001e'},mp4a.40.2`);
          expect(v.averageBandwidth).to.be.a('number').and.to.be.above(0);
          expect(v.bandwidth).to.be.at.least(v.averageBandwidth!);
          expect(v.audio).to.have.length(1);
          expect(v.audio[0]).to.include({ type: 'AUDIO', groupId: 'aud', isDefault: true, autoselect: true, uri: 'audio/index.m3u8', channels: '2' });

          // BANDWIDTH / AVERAGE-BANDWIDTH = video + audio, measured from the files.
          const video = await measureMediaPlaylist(path.join(enc.outDir, v.uri));
          const audio = await measureMediaPlaylist(path.join(enc.outDir, 'audio/index.m3u8'));
          expect(v.bandwidth).to.equal(Math.ceil(video.peakBitrate + audio.peakBitrate));
          expect(v.averageBandwidth).to.equal(Math.round(video.averageBitrate + audio.averageBitrate));
          // Capped VBR: average within reach of the target, peak under the 200 % Apple allows.
          const target = (rendition.videoBitrateKbps + 128) * 1000;
          expect(v.averageBandwidth!).to.be.below(target * 1.3);
          expect(v.bandwidth).to.be.below(target * 2);
        }
      });

      it('EncodeResult matches the master playlist', async () => {
        const master = await readMaster(enc.outDir);
        expect(enc.result.masterPlaylist).to.equal(path.join(enc.outDir, 'master.m3u8'));
        expect(enc.result.variants.map((v) => v.uri)).to.deep.equal(master.variants.map((v) => v.uri));
        enc.result.variants.forEach((v, i) => {
          expect(v.bandwidth).to.equal(master.variants[i]!.bandwidth);
          expect(v.averageBandwidth).to.equal(master.variants[i]!.averageBandwidth);
          expect(v.codecs).to.equal(master.variants[i]!.codecs);
        });
        expect(enc.result.audio).to.include({ name: 'audio', uri: 'audio/index.m3u8', groupId: 'aud', codecs: 'mp4a.40.2', channels: 2, sampleRate: 48000 });
        expect(enc.result.audio!.bandwidth).to.be.within(100_000, 200_000);
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

      it('keyframes are aligned: each segment starts with a keyframe, at the same time in every rendition', async () => {
        const keyframeTimes: string[][] = [];
        const segmentStarts: string[][] = [];
        for (const r of enc.renditions) {
          const times: string[] = [];
          const starts: string[] = [];
          for (const seg of await segmentsOf(enc.outDir, `${r.name}/index.m3u8`)) {
            const packets = await videoPackets(seg);
            expect(packets[0]!.flags, `${r.name} ${path.basename(seg)} starts with a keyframe`).to.match(/^K/);
            starts.push(packets[0]!.pts_time);
            times.push(...packets.filter((p) => p.flags.startsWith('K')).map((p) => p.pts_time));
          }
          keyframeTimes.push(times);
          segmentStarts.push(starts);
        }
        for (const times of keyframeTimes.slice(1)) expect(times).to.deep.equal(keyframeTimes[0]);
        for (const starts of segmentStarts.slice(1)) expect(starts).to.deep.equal(segmentStarts[0]);
        // One keyframe every 2 s: 8.3 s → keyframes at 0, 2, 4, 6, 8.
        const first = Number(keyframeTimes[0]![0]);
        expect(keyframeTimes[0]!.map((t) => Math.round((Number(t) - first) * 1000) / 1000)).to.deep.equal([0, 2, 4, 6, 8]);
      });

      it('progress is monotonic, within 0..100, and ends at 100', () => {
        const p = enc.progress;
        expect(p.length).to.be.at.least(3);
        expect(p.every((x, i) => x >= 0 && x <= 100 && (i === 0 || x > p[i - 1]!))).to.equal(true);
        expect(p.at(-1)).to.equal(100);
        expect(p.at(-2)).to.be.at.least(90);
      });
    });

    it('visualizer (video only): video renditions, no audio group', async () => {
      const enc = await encodeFile(media('visualizer-180p-h264-noaudio.mp4'));
      dirs.push(enc.outDir);
      expect((await readdir(enc.outDir)).sort()).to.deep.equal(['180p', 'master.m3u8']);
      const master = await readMaster(enc.outDir);
      expect(master.variants).to.have.length(1);
      const [v] = master.variants;
      expect(v).to.deep.include({ uri: '180p/index.m3u8', codecs: 'avc1.64001e', resolution: { width: 320, height: 180 }, frameRate: 30, audio: [] });
      expect(await readFile(path.join(enc.outDir, 'master.m3u8'), 'utf8')).not.to.contain('EXT-X-MEDIA');
      expect(enc.result.audio).to.equal(undefined);
      for (const seg of await segmentsOf(enc.outDir, v!.uri)) await decodeAll(seg);
    });

    it('audio-only opus mkv: one audio-only rendition listed as a mp4a.40.2 variant', async () => {
      const enc = await encodeFile(media('audio-only-opus.mkv'));
      dirs.push(enc.outDir);
      expect((await readdir(enc.outDir)).sort()).to.deep.equal(['audio', 'master.m3u8']);
      const master = await readMaster(enc.outDir);
      expect(master.variants).to.have.length(1);
      expect(master.variants[0]).to.deep.include({ uri: 'audio/index.m3u8', codecs: 'mp4a.40.2', audio: [] });
      expect(master.variants[0]!.resolution).to.equal(undefined);
      expect(enc.result.variants).to.deep.equal([]);
      expect(enc.result.audio).to.include({ name: 'audio', codecs: 'mp4a.40.2', channels: 2 });
      expect(enc.result.audio!.bandwidth).to.equal(master.variants[0]!.bandwidth);
      const segments = await segmentsOf(enc.outDir, 'audio/index.m3u8');
      for (const seg of segments) await decodeAll(seg);
      const { streams } = await ffprobeJson<{ streams: Record<string, unknown>[] }>(segments[0]!, ['-show_streams']);
      expect(streams[0]).to.include({ codec_name: 'aac', channels: 2, sample_rate: '48000' }); // mono Opus → stereo AAC
      expect(enc.result.durationSeconds).to.be.closeTo(6.1, 0.15);
    });

    it('launch webm (VP8 + Vorbis) becomes H.264 + AAC at 24 fps', async () => {
      const enc = await encodeFile(media('launch-360p-vp8-vorbis.webm'));
      dirs.push(enc.outDir);
      const master = await readMaster(enc.outDir);
      expect(master.variants.map((v) => `${v.resolution!.width}x${v.resolution!.height}@${v.frameRate}`).sort()).to.deep.equal(['416x234@24', '640x360@24']);
      expect(master.variants.every((v) => v.codecs === 'avc1.64001e,mp4a.40.2')).to.equal(true);
      expect(master.variants[0]!.audio[0]).to.include({ language: 'eng' });
      for (const v of master.variants) for (const seg of await segmentsOf(enc.outDir, v.uri)) await decodeAll(seg);
      expect(enc.progress.at(-1)).to.equal(100);
    });

    it('a rotated source comes out display-oriented (portrait) with no rotation metadata', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'hls-rot-'));
      dirs.push(dir);
      const rotated = path.join(dir, 'rotated.mp4');
      await ffmpegRun(['-i', media('visualizer-180p-h264-noaudio.mp4'), '-t', '2', '-c', 'copy', '-metadata:s:v', 'rotate=90', rotated]);
      const enc = await encodeFile(rotated);
      dirs.push(enc.outDir);
      expect(enc.source.video).to.include({ rotation: 270, displayWidth: 180, displayHeight: 320 });
      expect(enc.result.variants.map((v) => `${v.width}x${v.height}`)).to.deep.equal(['180x320']);
      const [seg] = await segmentsOf(enc.outDir, enc.result.variants[0]!.uri);
      const { streams } = await ffprobeJson<{ streams: Record<string, unknown>[] }>(seg!, ['-show_streams']);
      expect(streams[0]).to.include({ width: 180, height: 320 });
      expect(streams[0]!.side_data_list).to.equal(undefined);
      expect(streams[0]!.tags ?? {}).not.to.have.property('rotate');
    });

    it('5.1 surround audio is downmixed to one AAC-LC stereo rendition', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'hls-51-'));
      dirs.push(dir);
      const surround = path.join(dir, 'surround.mkv');
      await ffmpegRun([
        '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
        '-t', '2', '-filter_complex', '[1:a]pan=5.1|FL=c0|FR=c0|FC=c0|LFE=c0|BL=c0|BR=c0[a]', '-map', '0:v', '-map', '[a]',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'ac3', surround,
      ]);
      const enc = await encodeFile(surround);
      dirs.push(enc.outDir);
      expect(enc.source.audio).to.include({ channels: 6 });
      expect(enc.result.audio).to.include({ codecs: 'mp4a.40.2', channels: 2 });
      const audioSegs = await segmentsOf(enc.outDir, enc.result.audio!.uri);
      const { streams } = await ffprobeJson<{ streams: Record<string, unknown>[] }>(audioSegs[0]!, ['-show_streams']);
      expect(streams[0]).to.include({ codec_name: 'aac', profile: 'LC', channels: 2 });
    });

    it('an interlaced source is de-interlaced (progressive output)', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'hls-il-'));
      dirs.push(dir);
      const interlaced = path.join(dir, 'interlaced.mp4');
      await ffmpegRun([
        '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=50', '-t', '2', // interleaving halves it to 25 fps
        '-vf', 'tinterlace=interleave_top,fieldorder=tff', '-flags', '+ilme+ildct', '-c:v', 'libx264', '-x264opts', 'tff=1', interlaced,
      ]);
      const enc = await encodeFile(interlaced);
      dirs.push(enc.outDir);
      expect(enc.source.video).to.include({ interlaced: true });
      expect(enc.result.variants.map((v) => `${v.width}x${v.height}@${v.frameRate}`)).to.deep.equal(['312x234@25']);
      const [seg] = await segmentsOf(enc.outDir, enc.result.variants[0]!.uri);
      const { streams } = await ffprobeJson<{ streams: Record<string, unknown>[] }>(seg!, ['-show_streams']);
      expect(streams[0]).to.include({ field_order: 'progressive' });
    });

    it('abort: kills ffmpeg and rejects with an aborted TranscodeError', async () => {
      const outDir = await mkdtemp(path.join(os.tmpdir(), 'hls-abort-'));
      dirs.push(outDir);
      const input = media('hello-720p-h264-aac.mp4');
      const source = await probeSource(input);
      const controller = new AbortController();
      const started = Date.now();
      const err = await rejection(
        encodeHlsLadder({
          input,
          outDir,
          source,
          renditions: planLadder(source.video!),
          onProgress: () => controller.abort(new Error('shutdown')),
          signal: controller.signal,
        }),
      );
      expect(err).to.be.instanceOf(TranscodeError);
      expect((err as TranscodeError).aborted).to.equal(true);
      expect(Date.now() - started).to.be.below(10_000);
      expect(existsSync(path.join(outDir, 'master.m3u8')) && (await readFile(path.join(outDir, 'master.m3u8'), 'utf8')).includes('AVERAGE-BANDWIDTH')).to.equal(false);

      const already = AbortSignal.abort();
      const early = await rejection(encodeHlsLadder({ input, outDir, source, renditions: planLadder(source.video!), signal: already }));
      expect((early as TranscodeError).aborted).to.equal(true);
    });

    it('ffmpeg failure: TranscodeError with the last stderr lines', async () => {
      const outDir = await mkdtemp(path.join(os.tmpdir(), 'hls-fail-'));
      dirs.push(outDir);
      const bogus = path.join(outDir, 'not-a-video.mp4');
      await writeFile(bogus, 'plain text\n');
      const err = await rejection(encodeHlsLadder({ input: bogus, outDir: path.join(outDir, 'hls'), source: SOURCE_AV, renditions: planLadder(SOURCE_AV.video!).slice(-1) }));
      expect(err).to.be.instanceOf(TranscodeError);
      const te = err as TranscodeError;
      expect(te.aborted).to.equal(false);
      expect(te.exitCode).to.be.a('number').and.not.equal(0);
      expect(te.stderrTail.join('\n')).to.contain('Invalid data found when processing input');
      expect(te.message).to.match(/^ffmpeg exited with code \d+: .*Invalid data found/);
    });
  });
});
