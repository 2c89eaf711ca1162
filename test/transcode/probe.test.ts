import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type ffmpeg from 'fluent-ffmpeg';
import { InvalidMediaError, ProbeError } from '../../containers/transcode/src/errors.js';
import { chooseTextTracks, interpretProbe, probeSource, type SourceTextTrack } from '../../containers/transcode/src/probe.js';
import { ffmpegRun, media, rejection } from './helpers.js';


const stream = (s: Partial<ffmpeg.FfprobeStream>): ffmpeg.FfprobeStream => ({ index: 0, ...s }) as ffmpeg.FfprobeStream;
const data = (streams: ffmpeg.FfprobeStream[], format: Partial<ffmpeg.FfprobeFormat> = { duration: 10, format_name: 'mov,mp4,m4a,3gp,3g2,mj2' }) =>
  ({ streams, format, chapters: [] }) as unknown as ffmpeg.FfprobeData;

describe('transcode/probe', () => {
  describe('interpretProbe (rules, no ffprobe)', () => {
    const h264 = { codec_type: 'video', codec_name: 'h264', width: 1920, height: 1080, avg_frame_rate: '30000/1001', r_frame_rate: '30000/1001' };

    it('ignores attached pictures (cover art) and subtitle/data streams', () => {
      const info = interpretProbe(
        data([
          stream({ index: 0, codec_type: 'audio', codec_name: 'mp3', channels: 2, sample_rate: 44100 }),
          stream({ index: 1, codec_type: 'video', codec_name: 'mjpeg', width: 600, height: 600, disposition: { attached_pic: 1 } }),
          stream({ index: 2, codec_type: 'subtitle', codec_name: 'mov_text' }),
          stream({ index: 3, codec_type: 'data', codec_name: 'bin_data' }),
        ]),
      );
      expect(info.video).to.equal(undefined);
      expect(info.audio).to.deep.equal({ index: 0, codec: 'mp3', channels: 2, sampleRate: 44100 });
    });

    it('lists the text subtitle streams with BCP 47 languages; bitmap subtitles are not listed', () => {
      const info = interpretProbe(
        data([
          stream({ ...h264, index: 0 }),
          stream({ index: 1, codec_type: 'subtitle', codec_name: 'mov_text', tags: { language: 'eng', handler_name: 'SubtitleHandler' } }),
          stream({ index: 2, codec_type: 'subtitle', codec_name: 'subrip', tags: { language: 'fre', title: 'Français (SDH)' }, disposition: { forced: 0 } }),
          stream({ index: 3, codec_type: 'subtitle', codec_name: 'hdmv_pgs_subtitle', tags: { language: 'deu' } }),
          stream({ index: 4, codec_type: 'subtitle', codec_name: 'dvd_subtitle', tags: { language: 'spa' } }),
          stream({ index: 5, codec_type: 'subtitle', codec_name: 'ass', tags: { LANGUAGE: 'ger', title: 'Deutsch "Forced"' }, disposition: { forced: 1 } }),
          stream({ index: 6, codec_type: 'subtitle', codec_name: 'webvtt', tags: { language: 'und' } }),
          stream({ index: 7, codec_type: 'subtitle', codec_name: 'webvtt', tags: { language: 'not a tag!' } }),
          stream({ index: 8, codec_type: 'subtitle', codec_name: 'dvb_subtitle' }),
          stream({ index: 9, codec_type: 'subtitle', codec_name: 'text' }),
        ]),
      );
      expect(info.textTracks).to.deep.equal([
        { index: 1, codec: 'mov_text', language: 'en', forced: false },
        { index: 2, codec: 'subrip', language: 'fr', title: 'Français (SDH)', forced: false },
        // A title with double quotes cannot be an HLS NAME: the language's name is used instead.
        { index: 5, codec: 'ass', language: 'de', forced: true },
        { index: 6, codec: 'webvtt', language: 'und', forced: false },
        { index: 7, codec: 'webvtt', language: 'und', forced: false },
        { index: 9, codec: 'text', language: 'und', forced: false },
      ]);
      expect(interpretProbe(data([stream(h264)])).textTracks).to.deep.equal([]);
    });

    it('chooses one text track per language (a full one before a forced one), labelled by title or language name', () => {
      const t = (index: number, language: string, extra: Partial<SourceTextTrack> = {}): SourceTextTrack => ({ index, codec: 'subrip', language, forced: false, ...extra });
      expect(
        chooseTextTracks([t(2, 'en', { forced: true, title: 'Signs' }), t(3, 'en', { title: 'English (CC)' }), t(4, 'fr'), t(5, 'fr'), t(6, 'und'), t(7, 'pt-BR')]),
      ).to.deep.equal([
        { index: 3, language: 'en', label: 'English (CC)', codec: 'subrip' },
        { index: 4, language: 'fr', label: 'French', codec: 'subrip' },
        { index: 6, language: 'und', label: 'Subtitles', codec: 'subrip' },
        { index: 7, language: 'pt-BR', label: 'Brazilian Portuguese', codec: 'subrip' },
      ]);
      expect(chooseTextTracks(Array.from({ length: 60 }, (_, i) => t(i, `x-${i}`)))).to.have.length(50);
    });

    it('reads the display matrix rotation (counter-clockwise in ffprobe) as a clockwise angle and swaps display dims', () => {
      const phone = interpretProbe(data([stream({ ...h264, rotation: '-90' })])); // iPhone portrait
      expect(phone.video).to.include({ rotation: 90, width: 1920, height: 1080, displayWidth: 1080, displayHeight: 1920 });
      const other = interpretProbe(data([stream({ ...h264, rotation: 90 })]));
      expect(other.video).to.include({ rotation: 270, displayWidth: 1080, displayHeight: 1920 });
      const upside = interpretProbe(data([stream({ ...h264, rotation: 180 })]));
      expect(upside.video).to.include({ rotation: 180, displayWidth: 1920, displayHeight: 1080 });
    });

    it('flags interlaced field orders', () => {
      expect(interpretProbe(data([stream({ ...h264, field_order: 'tt' })])).video!.interlaced).to.equal(true);
      expect(interpretProbe(data([stream({ ...h264, field_order: 'progressive' })])).video!.interlaced).to.equal(false);
    });

    it('falls back to the legacy rotate tag', () => {
      const info = interpretProbe(data([stream({ ...h264, tags: { rotate: '270' } })]));
      expect(info.video).to.include({ rotation: 270, displayWidth: 1080, displayHeight: 1920 });
    });

    it('corrects anamorphic pixels (720x576, SAR 64:45 → 1024x576)', () => {
      const info = interpretProbe(data([stream({ ...h264, width: 720, height: 576, sample_aspect_ratio: '64:45', avg_frame_rate: '25/1' })]));
      expect(info.video).to.include({ width: 720, displayWidth: 1024, displayHeight: 576, frameRate: 25 });
    });

    it('frame rate: avg_frame_rate, else r_frame_rate, ignoring 0/0 and timebase-like values', () => {
      const a = interpretProbe(data([stream({ ...h264, avg_frame_rate: '0/0', r_frame_rate: '24/1' })]));
      expect(a.video!.frameRate).to.equal(24);
      const b = interpretProbe(data([stream({ ...h264, avg_frame_rate: '0/0', r_frame_rate: '90000/1' })]));
      expect(b.video!.frameRate).to.equal(0);
    });

    it('prefers the default-disposition stream and keeps a real language tag', () => {
      const info = interpretProbe(
        data([
          stream({ index: 1, codec_type: 'audio', codec_name: 'aac', channels: 2, sample_rate: 48000, tags: { language: 'und' } }),
          stream({ index: 2, codec_type: 'audio', codec_name: 'ac3', channels: 6, sample_rate: 48000, disposition: { default: 1 }, tags: { language: 'fra' } }),
        ]),
      );
      expect(info.audio).to.deep.equal({ index: 2, codec: 'ac3', channels: 6, sampleRate: 48000, language: 'fra' });
    });

    it('uses the longest stream duration when the container has none', () => {
      const info = interpretProbe(data([stream({ ...h264, duration: '4.5' })], { format_name: 'matroska,webm', duration: 'N/A' as unknown as number }));
      expect(info.durationSeconds).to.equal(4.5);
    });

    it('throws InvalidMediaError for no streams, only pictures, still images and zero duration', () => {
      const cases: [ffmpeg.FfprobeData, RegExp][] = [
        [data([stream({ codec_type: 'subtitle', codec_name: 'subrip' })]), /no video or audio stream/],
        [data([stream({ codec_type: 'video', codec_name: 'png', width: 10, height: 10, disposition: { attached_pic: 1 } })]), /only a still picture/],
        [data([stream({ codec_type: 'video', codec_name: 'png', width: 64, height: 64 })], { format_name: 'png_pipe' }), /still image/],
        [data([stream({ codec_type: 'video', codec_name: 'mjpeg', width: 64, height: 64 })], { format_name: 'image2', duration: 0.04 }), /still image/],
        [data([stream(h264)], { format_name: 'mov,mp4,m4a,3gp,3g2,mj2' }), /no playable duration/],
      ];
      for (const [input, message] of cases) {
        expect(() => interpretProbe(input)).to.throw(InvalidMediaError, message);
      }
    });

    it('an MJPEG video with many frames is a video, not a still image', () => {
      const info = interpretProbe(data([stream({ codec_type: 'video', codec_name: 'mjpeg', width: 640, height: 480, nb_frames: '300', avg_frame_rate: '30/1' })], { format_name: 'avi', duration: 10 }));
      expect(info.video!.codec).to.equal('mjpeg');
    });
  });

  describe('probeSource (real ffprobe)', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'probe-test-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('hello-720p: H.264 1280x720 ~30 fps + AAC stereo 48 kHz, 8.3 s', async () => {
      const info = await probeSource(media('hello-720p-h264-aac.mp4'));
      expect(info.durationSeconds).to.be.closeTo(8.32, 0.01);
      expect(info.video).to.include({ index: 0, codec: 'h264', width: 1280, height: 720, displayWidth: 1280, displayHeight: 720, rotation: 0, interlaced: false });
      expect(info.video!.frameRate).to.be.closeTo(2500 / 83, 1e-9); // avg_frame_rate of this VFR phone clip
      expect(info.audio).to.deep.equal({ index: 1, codec: 'aac', channels: 2, sampleRate: 48000 });
    });

    it('visualizer: video only', async () => {
      const info = await probeSource(media('visualizer-180p-h264-noaudio.mp4'));
      expect(info.audio).to.equal(undefined);
      expect(info.video).to.include({ codec: 'h264', displayWidth: 320, displayHeight: 180, frameRate: 30 });
      expect(info.durationSeconds).to.be.closeTo(7.17, 0.01);
    });

    it('launch webm: VP8 + Vorbis with a language tag', async () => {
      const info = await probeSource(media('launch-360p-vp8-vorbis.webm'));
      expect(info.formatName).to.equal('matroska,webm');
      expect(info.video).to.include({ codec: 'vp8', width: 640, height: 360, frameRate: 24 });
      expect(info.audio).to.deep.include({ codec: 'vorbis', channels: 2, sampleRate: 48000, language: 'eng' });
    });

    it('audio-only opus mkv: no video', async () => {
      const info = await probeSource(media('audio-only-opus.mkv'));
      expect(info.video).to.equal(undefined);
      expect(info.audio).to.include({ codec: 'opus', channels: 1, sampleRate: 48000 });
      expect(info.durationSeconds).to.be.closeTo(6.14, 0.01);
    });

    it('a rotated MP4 reports the rotation and display (portrait) size', async () => {
      const rotated = path.join(dir, 'rotated.mp4');
      // ffmpeg 5.1's mov muxer writes rotate=90 as a matrix ffprobe reads as 90° counter-clockwise.
      await ffmpegRun(['-i', media('visualizer-180p-h264-noaudio.mp4'), '-t', '1', '-c', 'copy', '-metadata:s:v', 'rotate=90', rotated]);
      const info = await probeSource(rotated);
      expect(info.video).to.include({ width: 320, height: 180, rotation: 270, displayWidth: 180, displayHeight: 320 });
    });

    it('a text file → InvalidMediaError with a readable message (no path in it)', async () => {
      const file = path.join(dir, 'notes.mp4');
      await writeFile(file, 'These are my holiday notes, not a video.\n');
      const err = await rejection(probeSource(file));
      expect(err).to.be.instanceOf(InvalidMediaError);
      expect(err.message).to.equal('The uploaded file is not a video or audio file ffmpeg can read (ffprobe: Invalid data found when processing input)');
      expect(err.message).not.to.contain(dir);
    });

    it('random bytes and an empty file → InvalidMediaError', async () => {
      const garbage = path.join(dir, 'garbage.bin');
      await writeFile(garbage, randomBytes(64 * 1024));
      expect(await rejection(probeSource(garbage))).to.be.instanceOf(InvalidMediaError);
      const empty = path.join(dir, 'empty.mov');
      await writeFile(empty, '');
      expect(await rejection(probeSource(empty))).to.be.instanceOf(InvalidMediaError);
    });

    it('a PNG image is refused as a format; one picture in a video container is "a still image"', async () => {
      const png = path.join(dir, 'picture.png');
      await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc2=size=64x64', '-frames:v', '1', png]);
      const err = await rejection(probeSource(png));
      expect(err).to.be.instanceOf(InvalidMediaError);
      expect(err.message).to.match(/not (an audio or video|a video or audio) file/);
      const still = path.join(dir, 'picture.mkv');
      await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc2=size=64x64', '-frames:v', '1', '-c:v', 'png', still]);
      const stillErr = await rejection(probeSource(still));
      expect(stillErr).to.be.instanceOf(InvalidMediaError);
      expect(stillErr.message).to.equal('The file is a still image, not a video');
    });

    it('a missing file or unreachable URL → ProbeError (retryable), URL query redacted', async () => {
      const missing = await rejection(probeSource(path.join(dir, 'nope.mp4')));
      expect(missing).to.be.instanceOf(ProbeError);
      expect(missing.message).to.match(/No such file or directory/);
      const url = 'http://127.0.0.1:9/videos/x.mp4?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA';
      const unreachable = await rejection(probeSource(url));
      expect(unreachable).to.be.instanceOf(ProbeError);
      expect(unreachable.message).to.match(/Connection refused/);
      expect(unreachable.message).not.to.contain('deadbeef');
    });

    it('a playlist or manifest upload is refused without fetching anything it names (format allowlist)', async () => {
      const requests: string[] = [];
      const server = http.createServer((req, res) => {
        requests.push(req.url ?? '');
        res.end('#EXTM3U\n');
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const hls = path.join(dir, 'video.mp4');
        await writeFile(hls, `#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\n${base}/segment.ts\n#EXT-X-ENDLIST\n`);
        const dash = path.join(dir, 'video.mpd');
        await writeFile(dash, `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"><Period><AdaptationSet><Representation id="1" bandwidth="1"><BaseURL>${base}/x.mp4</BaseURL></Representation></AdaptationSet></Period></MPD>`);
        const concat = path.join(dir, 'list.txt');
        await writeFile(concat, `ffconcat version 1.0\nfile '${base}/a.mp4'\n`);
        for (const file of [hls, dash, concat]) {
          const err = await rejection(probeSource(file));
          expect(err, file).to.be.instanceOf(InvalidMediaError);
          expect(err.message).to.match(/not (an audio or video|a video or audio) file/);
          expect(err.message).not.to.contain(base);
        }
        expect(requests, 'nothing the files name was fetched').to.deep.equal([]);
      } finally {
        server.close();
      }
    });
  });
});
