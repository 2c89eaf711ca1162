import { expect } from 'chai';
import type { ChunkSpan, EncodeSettings, Rendition } from '@vod/contract';
import { INPUT_FORMATS, TIMELINE_OFFSET_SECONDS, buildAudioArgs, buildChunkArgs, safeInputOptions } from '../../containers/transcode/src/ffmpeg-args.js';
import { planLadder } from '../../containers/transcode/src/ladder.js';

const settings: EncodeSettings = { segmentSeconds: 6, keyframeSeconds: 2, preset: 'veryfast' };
const ladder30 = planLadder({ displayWidth: 1280, displayHeight: 720, frameRate: 30 }).filter((r) => ['720p', '360p'].includes(r.name));
const chunk = (o: Partial<ChunkSpan> = {}): ChunkSpan => ({ index: 1, startSeconds: 12, endSeconds: 24, firstSegment: 2, last: false, ...o });
const opt = (args: string[], name: string) => args[args.indexOf(name) + 1];
const build = (renditions: Rendition[] = ladder30, c = chunk(), picture = { index: 0 }) =>
  buildChunkArgs({ input: '/in/src.mp4', outDir: '/out/job', chunk: c, picture, renditions, settings });

describe('transcode/ffmpeg-args', () => {
  describe('buildChunkArgs', () => {
    it('reads its range with a second of context, and puts frames back on the source clock', () => {
      const args = build();
      expect(opt(args.inputOptions, '-ss')).to.equal('11');
      expect(opt(args.inputOptions, '-t')).to.equal('14'); // 11 → 25
      expect(args.inputOptions).to.include('-benchmark');
      const graph = opt(args.outputs[0]!.options, '-filter_complex')!;
      expect(graph).to.match(/^\[0:0\]setpts=PTS\+11\/TB,split=2\[s0\]\[s1\];/);
      // The first chunk starts reading at 0: no seek, no clock shift.
      const first = build(ladder30, chunk({ index: 0, startSeconds: 0, endSeconds: 6, firstSegment: 0 }));
      expect(first.inputOptions).not.to.include('-ss');
      expect(opt(first.outputs[0]!.options, '-filter_complex')).not.to.contain('setpts');
    });

    it('keeps exactly the frames of each rendition grid in [start, end) — by frame number, also for NTSC rates', () => {
      const graph = opt(build().outputs[0]!.options, '-filter_complex')!;
      expect(graph).to.contain('[s0]fps=30,trim=start_pts=360:end_pts=720,scale=w=1280:h=720');
      const ntsc = planLadder({ displayWidth: 640, displayHeight: 360, frameRate: 30000 / 1001 });
      const g = opt(build(ntsc).outputs[0]!.options, '-filter_complex')!;
      // 12 s × 30000/1001 = 359.64 → frame 360 (12.012 s) is the first at or after 12 s; 24 s → frame 720 (24.024 s).
      expect(g).to.contain('fps=30000/1001,trim=start_pts=360:end_pts=720');
      // The last chunk has no end: everything the (bounded) read gives.
      const last = opt(build(ladder30, chunk({ last: true, endSeconds: 30 })).outputs[0]!.options, '-filter_complex')!;
      expect(last).to.contain('trim=start_pts=360,scale');
    });

    it('forces a keyframe on the first frame at or after every 2 s, and cuts segments every 6 s on the shared timeline', () => {
      const out = build(planLadder({ displayWidth: 640, displayHeight: 360, frameRate: 30000 / 1001 })).outputs[0]!;
      expect(opt(out.options, '-force_key_frames')).to.equal('12.012000,14.014000,16.016000,18.018000,20.020000,22.022000');
      expect(opt(out.options, '-segment_times')).to.equal(`${(18 + TIMELINE_OFFSET_SECONDS).toFixed(3)},99999999`);
      expect(opt(out.options, '-segment_start_number')).to.equal('2');
      expect(opt(out.options, '-output_ts_offset')).to.equal(String(TIMELINE_OFFSET_SECONDS));
      expect(out.options).to.include.members(['-avoid_negative_ts', 'disabled', 'mpegts_copyts=1', '-fps_mode', 'passthrough', '-sc_threshold', '0']);
      expect(out.target).to.equal('/out/job/360p/seg_%05d.ts');
      expect(opt(out.options, '-segment_list')).to.equal('/out/job/360p.csv');
    });

    it('per-rendition rate control and profile; the filter graph only once; de-interlacing before the split', () => {
      const args = build(ladder30, chunk(), { index: 3, interlaced: true } as never);
      expect(args.outputs.filter((o) => o.options.includes('-filter_complex'))).to.have.length(1);
      const top = args.outputs[0]!.options;
      expect(opt(top, '-map')).to.equal('[v0]');
      expect(opt(top, '-b:v')).to.equal('3000k');
      expect(opt(top, '-maxrate:v')).to.equal('4500k');
      expect(opt(top, '-bufsize:v')).to.equal('6000k');
      expect(opt(top, '-profile:v')).to.equal('high');
      expect(opt(args.outputs[1]!.options, '-b:v')).to.equal('730k');
      expect(opt(top, '-filter_complex')).to.match(/^\[0:3\]bwdif=mode=send_frame:deint=interlaced,setpts/);
    });

    it('encodes the first chunk of a video of several chunks with the faster first-chunk preset, every other chunk with the run preset', () => {
      const fast: EncodeSettings = { ...settings, firstChunkPreset: 'superfast' };
      const presets = (c: ChunkSpan, s: EncodeSettings) =>
        buildChunkArgs({ input: '/in/src.mp4', outDir: '/out/job', chunk: c, picture: { index: 0 }, renditions: ladder30, settings: s }).outputs.map((o) => opt(o.options, '-preset'));
      const first = chunk({ index: 0, startSeconds: 0, endSeconds: 6, firstSegment: 0 });
      expect(presets(first, fast)).to.deep.equal(['superfast', 'superfast']);
      expect(presets(chunk(), fast)).to.deep.equal(['veryfast', 'veryfast']);
      // A video of one chunk is ready when its only chunk is: nothing to gain from a lower quality per bit.
      expect(presets({ ...first, last: true }, fast)).to.deep.equal(['veryfast', 'veryfast']);
      // Never slower than the run's own preset, and absent means the run's preset.
      expect(presets(first, { ...fast, preset: 'ultrafast' })).to.deep.equal(['ultrafast', 'ultrafast']);
      expect(presets(first, settings)).to.deep.equal(['veryfast', 'veryfast']);
    });

    it('refuses chunks off the segment grid and unsafe output names', () => {
      expect(() => build(ladder30, chunk({ startSeconds: 10 }))).to.throw(RangeError, /grid/);
      expect(() => build(ladder30, chunk({ endSeconds: 20 }))).to.throw(RangeError, /grid/);
      expect(() => build(ladder30, chunk({ firstSegment: 3 }))).to.throw(RangeError, /segment 2/);
      expect(() => build([])).to.throw(RangeError);
      expect(() => build([{ ...ladder30[0]!, name: 'audio' }])).to.throw(RangeError, /reserved/);
      expect(() => buildChunkArgs({ input: 'x', outDir: '/o/%d', chunk: chunk(), picture: { index: 0 }, renditions: ladder30, settings })).to.throw(RangeError);
    });
  });

  describe('buildAudioArgs', () => {
    it('the whole track once, AAC-LC stereo 48 kHz, cut every 6 s on the shared timeline, bounded in length', () => {
      const args = buildAudioArgs({ input: '/in/src.mp4', outDir: '/out/job', index: 1, endSeconds: 20.3, settings });
      expect(opt(args.inputOptions, '-t')).to.equal('20.3');
      const o = args.outputs[0]!.options;
      expect(opt(o, '-map')).to.equal('0:1');
      expect(o).to.include.members(['-vn', '-c:a', 'aac', '-ac', '2', '-ar', '48000', '-b:a', '128k']);
      expect(opt(o, '-segment_times')).to.equal('7.400,13.400,19.400,99999999');
      expect(args.outputs[0]!.target).to.equal('/out/job/audio/seg_%05d.ts');
    });
  });

  describe('safeInputOptions (uploads are hostile input)', () => {
    it('only real media containers, only the protocol the input needs, TLS verified', () => {
      const https = safeInputOptions('https://bucket.s3.amazonaws.com/sources/x/source?X-Amz-Signature=1');
      expect(opt(https, '-protocol_whitelist')).to.equal('https,tls,tcp');
      expect(opt(https, '-tls_verify')).to.equal('1');
      expect(opt(safeInputOptions('http://127.0.0.1:4566/x'), '-protocol_whitelist')).to.equal('http,tcp');
      expect(opt(safeInputOptions('/tmp/x.mp4'), '-protocol_whitelist')).to.equal('file');
      const formats = opt(https, '-format_whitelist')!.split(',');
      expect(formats).to.deep.equal([...INPUT_FORMATS]);
      for (const refused of ['hls', 'dash', 'concat', 'image2', 'image2pipe', 'lavfi', 'tty', 'data']) expect(formats).not.to.include(refused);
    });
  });
});
