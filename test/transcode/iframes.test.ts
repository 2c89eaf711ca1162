/**
 * I-frame playlists: the TS keyframe scanner (synthetic packets and a real
 * encoded segment, each range checked with ffprobe), and the playlists stitch
 * writes from the keyframes the chunk tasks report.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist } from 'hls-parser/types.js';
import type { RunPlan, SegmentInfo } from '@vod/contract';
import { planChunks } from '../../containers/transcode/src/chunk-plan.js';
import { planLadder } from '../../containers/transcode/src/ladder.js';
import { iframeEntries, iframePlaylist } from '../../containers/transcode/src/master-playlist.js';
import type { RunState } from '../../containers/transcode/src/run-store.js';
import { stitch } from '../../containers/transcode/src/stitch.js';
import { signPlaylist } from '../../containers/stream/src/playlist-signing.js';
import { TsKeyframeScanner, scanKeyframes } from '../../containers/transcode/src/ts-keyframes.js';
import { ffmpegRun, ffprobeJson } from './helpers.js';

/** One TS packet: PID, unit start, random-access flag, and a PES header with `pts` (90 kHz) when given. */
function packet(pid: number, opts: { start?: boolean; rai?: boolean; pts?: number; streamId?: number } = {}): Buffer {
  const p = Buffer.alloc(188, 0xff);
  p[0] = 0x47;
  p[1] = (opts.start ? 0x40 : 0) | ((pid >> 8) & 0x1f);
  p[2] = pid & 0xff;
  let i = 4;
  if (opts.rai) {
    p[3] = 0x30; // adaptation field + payload
    p[4] = 1;
    p[5] = 0x40;
    i = 6;
  } else p[3] = 0x10;
  if (opts.pts !== undefined) {
    const pts = opts.pts;
    Buffer.from([0, 0, 1, opts.streamId ?? 0xe0, 0, 0, 0x80, 0x80, 5]).copy(p, i);
    p[i + 9] = 0x21 | (Math.floor(pts / 2 ** 30) & 0x07) << 1;
    p[i + 10] = (Math.floor(pts / 2 ** 22) & 0xff);
    p[i + 11] = ((Math.floor(pts / 2 ** 15) & 0x7f) << 1) | 1;
    p[i + 12] = (Math.floor(pts / 2 ** 7) & 0xff);
    p[i + 13] = ((pts & 0x7f) << 1) | 1;
  }
  return p;
}

describe('transcode/I-frame playlists', () => {
  describe('TsKeyframeScanner', () => {
    it('a keyframe range starts at the tables written before it and ends where the next picture starts', () => {
      const base = 126_000; // 1.4 s
      const packets = [
        packet(0), packet(0x1000), // PAT, PMT
        packet(0x100, { start: true, rai: true, pts: base }), packet(0x100), packet(0x100), // keyframe, 3 packets
        packet(0x100, { start: true, pts: base + 3000 }), packet(0x100), // P picture
        packet(0), packet(0x1000), packet(0x100), // tables in the middle of a picture, then its last packet
        packet(0x11), packet(0), packet(0x1000), // SDT, PAT, PMT before the next keyframe
        packet(0x100, { start: true, rai: true, pts: base + 180_000 }), packet(0x100),
      ];
      const scanner = new TsKeyframeScanner();
      const all = Buffer.concat(packets);
      // Pushed in slices that cut packets in half: the scanner carries the rest over.
      for (let i = 0; i < all.length; i += 100) scanner.push(all.subarray(i, i + 100));
      expect(scanner.finish()).to.deep.equal([
        { at: 0, offset: 0, length: 5 * 188 },
        { at: 2, offset: 10 * 188, length: 5 * 188 },
      ]);
    });

    it('refuses what is not MPEG-TS', () => {
      const scanner = new TsKeyframeScanner();
      expect(() => scanner.push(Buffer.alloc(188))).to.throw(RangeError, /sync byte/);
      const partial = new TsKeyframeScanner();
      partial.push(packet(0).subarray(0, 100));
      expect(() => partial.finish()).to.throw(RangeError, /partial packet/);
    });

    it('on a real segment: every range decodes alone, to one keyframe at its time', async function () {
      this.timeout(60_000);
      const dir = await mkdtemp(path.join(os.tmpdir(), 'vod-iframes-'));
      try {
        const seg = path.join(dir, 'seg.ts');
        await ffmpegRun([
          '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-t', '6', '-c:v', 'libx264', '-preset', 'ultrafast',
          '-force_key_frames', 'expr:gte(t,n_forced*2)', '-sc_threshold', '0', '-output_ts_offset', '1.4', '-f', 'mpegts', seg,
        ]);
        const frames = await scanKeyframes(seg);
        expect(frames.map((f) => f.at)).to.deep.equal([0, 2, 4]);
        const bytes = await readFile(seg);
        let firstPts = 0;
        for (const [i, f] of frames.entries()) {
          expect(f.offset % 188, 'on a packet boundary').to.equal(0);
          const piece = path.join(dir, `kf${i}.ts`);
          await writeFile(piece, bytes.subarray(f.offset, f.offset + f.length));
          const probe = await ffprobeJson<{ frames: { key_frame: number; pict_type: string; pts_time: string }[] }>(piece, [
            '-show_entries', 'frame=key_frame,pict_type,pts_time',
          ]);
          expect(probe.frames, `range ${i}`).to.have.length(1);
          expect(probe.frames[0]).to.include({ key_frame: 1, pict_type: 'I' });
          if (i === 0) firstPts = Number(probe.frames[0]!.pts_time);
          expect(Number(probe.frames[0]!.pts_time) - firstPts, 'the picture at its time').to.be.closeTo(f.at, 1e-3);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('playlists', () => {
    const kf = (bytes: number) => [0, 2, 4].map((at, i) => ({ at, offset: i * 50_000, length: bytes }));
    const segs = (from: number, to: number, last = 4): SegmentInfo[] =>
      Array.from({ length: to - from }, (_, i) => ({
        n: from + i,
        duration: from + i === to - 1 ? last : 6,
        bytes: 200_000,
        keyframes: from + i === to - 1 && last === 4 ? kf(20_000).slice(0, 2) : kf(20_000),
      }));

    it('iframeEntries: one entry per keyframe, lasting until the next one (the last until its segment ends)', () => {
      const entries = iframeEntries(segs(0, 2))!;
      expect(entries.map((e) => [e.n, e.duration, e.offset])).to.deep.equal([
        [0, 2, 0], [0, 2, 50_000], [0, 2, 100_000],
        [1, 2, 0], [1, 2, 50_000],
      ]);
      expect(iframeEntries([{ n: 0, duration: 6, bytes: 10 }]), 'no keyframes reported').to.equal(undefined);
    });

    it('iframePlaylist: EXT-X-I-FRAMES-ONLY, version 4, BYTERANGE into the segments', () => {
      const text = iframePlaylist(iframeEntries(segs(0, 2))!, { ended: true });
      expect(text).to.contain('#EXT-X-I-FRAMES-ONLY').and.contain('#EXT-X-VERSION:4').and.contain('#EXT-X-BYTERANGE:20000@50000');
      const p = HLS.parse(text) as MediaPlaylist;
      expect(p.isIFrame).to.equal(true);
      expect(p.endlist).to.equal(true);
      expect(p.segments.map((s) => [s.uri, s.byterange?.offset, s.byterange?.length])).to.deep.equal([
        ['seg_00000.ts', 0, 20000], ['seg_00000.ts', 50000, 20000], ['seg_00000.ts', 100000, 20000],
        ['seg_00001.ts', 0, 20000], ['seg_00001.ts', 50000, 20000],
      ]);
    });

    it('the stream service signs it: EXT-X-I-FRAMES-ONLY and every BYTERANGE kept, every URI signed', () => {
      const text = iframePlaylist(iframeEntries(segs(0, 2))!, { ended: true });
      const prefix = 'https://cdn.example/videos/0123456789abcdef0123/';
      const signed = signPlaylist(text, { playlistUrl: `${prefix}360p/iframes.m3u8`, signedPrefix: prefix, query: 'Policy=p&Signature=s&Key-Pair-Id=k' });
      const p = HLS.parse(signed) as MediaPlaylist;
      expect(signed).to.contain('#EXT-X-I-FRAMES-ONLY');
      expect(p.segments.map((s) => [s.uri, s.byterange])).to.deep.equal(
        (HLS.parse(text) as MediaPlaylist).segments.map((s) => [`${prefix}360p/${s.uri}?Policy=p&Signature=s&Key-Pair-Id=k`, s.byterange]),
      );
    });

    it('stitch: an I-frame playlist per video rendition and one EXT-X-I-FRAME-STREAM-INF each in the master', () => {
      const renditions = planLadder({ displayWidth: 1280, displayHeight: 720, frameRate: 30 });
      const plan: RunPlan = {
        durationSeconds: 10,
        chunks: planChunks(10, { segmentSeconds: 6, chunkSeconds: 60, firstChunkSeconds: 6, endMarginSeconds: 2 }),
        renditions,
        audio: { channels: 2 },
        settings: { segmentSeconds: 6, keyframeSeconds: 2, preset: 'veryfast' },
      };
      const state: RunState = {
        chunks: { 0: { renditions: Object.fromEntries(renditions.map((r) => [r.name, { codecs: 'avc1.64001f', segments: segs(0, 2) }])), cost: { cpuSeconds: 1, wallSeconds: 1 }, attempt: 1 } },
        audio: { segments: [{ n: 0, duration: 6, bytes: 96_000 }, { n: 1, duration: 4, bytes: 64_000 }], cost: { cpuSeconds: 1, wallSeconds: 1 }, attempt: 1 },
        progress: {},
        publishedChunks: 0,
      };
      const out = stitch(plan, state, 1, true);
      const files = new Map(out.files);
      for (const r of renditions) expect(files.has(`${r.name}/iframes.m3u8`), r.name).to.equal(true);
      const masterText = files.get('master.m3u8')!;
      const master = HLS.parse(masterText) as MasterPlaylist;
      const iframes = master.variants.filter((v) => v.isIFrameOnly);
      expect(iframes.map((v) => v.uri).sort()).to.deep.equal(renditions.map((r) => `${r.name}/iframes.m3u8`).sort());
      for (const v of iframes) {
        const r = renditions.find((x) => v.uri.startsWith(`${x.name}/`))!;
        expect(v.resolution).to.deep.equal({ width: r.width, height: r.height });
        expect(v.codecs, 'video codec only').to.equal('avc1.64001f');
        // Each keyframe is 20 000 bytes shown for 2 s: 80 kbit/s.
        expect(v.bandwidth).to.equal(80_000);
      }
      // Not allowed on EXT-X-I-FRAME-STREAM-INF (RFC 8216 §4.3.4.3).
      for (const line of masterText.split('\n').filter((l) => l.startsWith('#EXT-X-I-FRAME-STREAM-INF'))) {
        expect(line).not.to.match(/FRAME-RATE|AUDIO=|CLOSED-CAPTIONS/);
      }
      expect(master.variants.filter((v) => !v.isIFrameOnly)).to.have.length(renditions.length);
    });
  });
});
