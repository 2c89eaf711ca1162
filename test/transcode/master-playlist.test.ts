import { expect } from 'chai';
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist } from 'hls-parser/types.js';
import type { SegmentInfo } from '@vod/contract';
import {
  avc1Codec,
  computeSegmentBitrates,
  masterPlaylist,
  measureSegments,
  mediaPlaylist as buildMediaPlaylist,
  orderVariants,
  targetDuration,
} from '../../containers/transcode/src/master-playlist.js';

/** A VOD media playlist as ffmpeg 5.1 writes it. */
function mediaPlaylist(durations: number[], targetDuration = 6): string {
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:6',
    `#EXT-X-TARGETDURATION:${targetDuration}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    ...durations.flatMap((d, i) => [`#EXTINF:${d.toFixed(6)},`, `seg_${String(i).padStart(5, '0')}.ts`]),
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
}

/** Segments with the given durations (s) and sizes (bytes), numbered from 0. */
const segments = (durations: number[], sizes: number[]): SegmentInfo[] => durations.map((duration, n) => ({ n, duration, bytes: sizes[n]! }));

describe('transcode/master-playlist', () => {
  describe('computeSegmentBitrates', () => {
    it('average = all bytes × 8 ÷ total duration; peak over windows of 0.5–1.5 × target duration', () => {
      // target 6 s → windows of 3..9 s. Segments: 6 s, 6 s, 2.3 s.
      const sizes = [600_000, 900_000, 500_000];
      const r = computeSegmentBitrates(mediaPlaylist([6, 6, 2.3]), sizes);
      expect(r.totalBytes).to.equal(2_000_000);
      expect(r.durationSeconds).to.be.closeTo(14.3, 1e-9);
      expect(r.averageBitrate).to.be.closeTo((2_000_000 * 8) / 14.3, 1e-6);
      // Candidates: [6]=800k, [6]=1.2M, [6+2.3]=(1.4MB×8)/8.3≈1.349M; [2.3] alone is below 3 s and
      // does not count, although 500 kB in 2.3 s (1.739 Mbit/s) is the highest single-segment rate.
      expect(r.peakBitrate).to.be.closeTo((1_400_000 * 8) / 8.3, 1e-6);
      expect(r.segmentCount).to.equal(3);
    });

    it('a window may span several short segments (2 s segments, target 2 → 1..3 s windows)', () => {
      const r = computeSegmentBitrates(mediaPlaylist([2, 2, 2, 2], 2), [100, 100, 400, 100]);
      expect(r.peakBitrate).to.equal((400 * 8) / 2); // a single 2 s segment (3 s is the max window)
      expect(r.averageBitrate).to.equal((700 * 8) / 8);
    });

    it('accepts a parsed playlist; a presentation shorter than half a target duration uses its average', () => {
      const parsed = HLS.parse(mediaPlaylist([1.5], 6));
      if (parsed.isMasterPlaylist) throw new Error('unexpected');
      const r = computeSegmentBitrates(parsed, [30_000]);
      expect(r.peakBitrate).to.equal(160_000);
      expect(r.averageBitrate).to.equal(160_000);
    });

    it('rejects mismatched sizes and empty playlists', () => {
      expect(() => computeSegmentBitrates(mediaPlaylist([6, 2]), [1])).to.throw(RangeError, /2 segments but 1 sizes/);
      expect(() => computeSegmentBitrates(mediaPlaylist([]), [])).to.throw(RangeError);
    });
  });

  describe('avc1Codec', () => {
    it('builds RFC 6381 avc1 strings from ffprobe or x264 profile names', () => {
      expect(avc1Codec('High', 31)).to.equal('avc1.64001f');
      expect(avc1Codec('High', 40)).to.equal('avc1.640028');
      expect(avc1Codec('high', '4.2')).to.equal('avc1.64002a');
      expect(avc1Codec('Main', 30)).to.equal('avc1.4d401e');
      expect(avc1Codec('main', '3.0')).to.equal('avc1.4d401e');
      expect(avc1Codec('Constrained Baseline', 30)).to.equal('avc1.42c01e');
    });
    it('rejects unknown profiles and levels', () => {
      expect(() => avc1Codec('Hi10P-ish', 31)).to.throw(RangeError);
      expect(() => avc1Codec('High', 0)).to.throw(RangeError);
    });
  });

  describe('orderVariants', () => {
    const v = (name: string, bandwidth: number, averageBandwidth: number) => ({ name, bandwidth, averageBandwidth });
    const ladder = [v('360p', 1_000_000, 900_000), v('1080p', 8_000_000, 6_300_000), v('540p', 2_900_000, 2_200_000), v('720p', 4_400_000, 3_200_000)];

    it('descending BANDWIDTH with the startup variant (highest average ≤ threshold) first', () => {
      expect(orderVariants(ladder, 2_500_000).map((x) => x.name)).to.deep.equal(['540p', '1080p', '720p', '360p']);
    });
    it('null threshold: plain descending order', () => {
      expect(orderVariants(ladder, null).map((x) => x.name)).to.deep.equal(['1080p', '720p', '540p', '360p']);
    });
    it('when every variant is above the threshold the lowest starts', () => {
      expect(orderVariants(ladder, 100).map((x) => x.name)).to.deep.equal(['360p', '1080p', '720p', '540p']);
    });
  });

  describe('mediaPlaylist', () => {
    it('EVENT while encoding (no ENDLIST), VOD with ENDLIST once complete; segments by number', () => {
      const segs = segments([6, 6, 2.3], [1, 1, 1]);
      const event = HLS.parse(buildMediaPlaylist(segs, { ended: false })) as MediaPlaylist;
      expect(event).to.include({ playlistType: 'EVENT', endlist: false, targetDuration: 6, mediaSequenceBase: 0 });
      expect(event.segments.map((x) => [x.uri, x.duration])).to.deep.equal([['seg_00000.ts', 6], ['seg_00001.ts', 6], ['seg_00002.ts', 2.3]]);
      const vod = HLS.parse(buildMediaPlaylist(segs, { ended: true })) as MediaPlaylist;
      expect(vod).to.include({ playlistType: 'VOD', endlist: true });
    });

    it('target duration: the longest EXTINF rounded (RFC 8216 §4.3.3.1), never below the given one', () => {
      expect(targetDuration(segments([6.006, 5.5], [1, 1]))).to.equal(6);
      expect(targetDuration(segments([6.6], [1]))).to.equal(7);
      expect((HLS.parse(buildMediaPlaylist(segments([2], [1]), { ended: false, targetDuration: 6 })) as MediaPlaylist).targetDuration).to.equal(6);
    });

    it('refuses an empty list or a gap in the numbers', () => {
      expect(() => buildMediaPlaylist([], { ended: true })).to.throw(RangeError);
      expect(() => buildMediaPlaylist([{ n: 0, duration: 6, bytes: 1 }, { n: 2, duration: 6, bytes: 1 }], { ended: true })).to.throw(RangeError, /segment 1/);
    });
  });

  describe('masterPlaylist (from segment lists)', () => {
    it('measures each rendition, adds the audio peak/average, and writes every attribute', () => {
      const v720 = segments([6, 2.3], [2_250_000, 600_000]);
      const v360 = segments([6, 2.3], [550_000, 150_000]);
      const audio = segments([6.016, 2.325333], [105_000, 41_000]);
      const result = masterPlaylist({
        variants: [
          { name: '360p', uri: '360p/index.m3u8', codecs: 'avc1.64001e', width: 640, height: 360, frameRate: 30, segments: v360 },
          { name: '720p', uri: '720p/index.m3u8', codecs: 'avc1.64001f', width: 1280, height: 720, frameRate: 30000 / 1001, segments: v720 },
        ],
        audio: { uri: 'audio/index.m3u8', codecs: 'mp4a.40.2', channels: 2, language: 'en', segments: audio },
        startupMaxAverageBandwidth: null,
      });

      const audioPeak = (146_000 * 8) / (6.016 + 2.325333);
      const m720 = measureSegments(v720);
      const a = measureSegments(audio);
      expect(a.peakBitrate).to.be.closeTo(audioPeak, 1e-6);
      expect(result.variants.map((x) => x.name)).to.deep.equal(['720p', '360p']);
      expect(result.variants[0]).to.include({
        bandwidth: Math.ceil(m720.peakBitrate + a.peakBitrate),
        averageBandwidth: Math.round(m720.averageBitrate + a.averageBitrate),
        codecs: 'avc1.64001f,mp4a.40.2',
      });

      const text = result.text;
      expect(text).to.match(/^#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n/);
      expect(text).to.contain(
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,LANGUAGE="en",CHANNELS="2",URI="audio/index.m3u8"',
      );
      expect(text).not.to.contain('FORCED');
      expect(text).to.contain('FRAME-RATE=29.970');

      const master = HLS.parse(text) as MasterPlaylist;
      expect(master.isMasterPlaylist).to.equal(true);
      const [top, low] = master.variants;
      expect(top).to.deep.include({ uri: '720p/index.m3u8', codecs: 'avc1.64001f,mp4a.40.2', resolution: { width: 1280, height: 720 } });
      expect(top!.bandwidth).to.equal(result.variants[0]!.bandwidth);
      expect(top!.averageBandwidth).to.equal(result.variants[0]!.averageBandwidth);
      expect(low!.resolution).to.deep.equal({ width: 640, height: 360 });
      for (const variant of master.variants) {
        expect(variant.audio[0]).to.include({ groupId: 'aud', isDefault: true, autoselect: true, uri: 'audio/index.m3u8' });
        expect(variant.bandwidth).to.be.at.least(variant.averageBandwidth!);
      }
    });

    it('audio-only: a single variant with CODECS="mp4a.40.2" and no group', () => {
      const result = masterPlaylist({ variants: [{ name: 'audio', uri: 'audio/index.m3u8', codecs: 'mp4a.40.2', segments: segments([6.016, 0.1], [100_000, 2_000]) }] });
      const master = HLS.parse(result.text) as MasterPlaylist;
      expect(master.variants).to.have.length(1);
      expect(master.variants[0]).to.deep.include({ uri: 'audio/index.m3u8', codecs: 'mp4a.40.2', audio: [] });
      expect(master.variants[0]!.resolution).to.equal(undefined);
      expect(result.text).not.to.contain('EXT-X-MEDIA');
      expect(result.audio).to.equal(undefined);
    });

    it('needs at least one variant, each with segments', () => {
      expect(() => masterPlaylist({ variants: [] })).to.throw(RangeError);
      expect(() => masterPlaylist({ variants: [{ name: 'x', uri: 'x/index.m3u8', codecs: 'avc1.64001e', segments: [] }] })).to.throw(RangeError);
    });
  });
});
