/**
 * The source's own text tracks with real ffprobe and ffmpeg: an MKV with an
 * ASS and a SubRip track (and an MP4 with mov_text) is probed, its tracks
 * chosen and extracted, and each extracted file parses to the cues the
 * source was made from. Publishing on the emulator: worker.test.ts.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { parseCaptions } from '@vod/service-kit';
import { chooseTextTracks, probeSource } from '../../containers/transcode/src/probe.js';
import { buildExtractArgs, extractTextTracks, extractedFile } from '../../containers/transcode/src/text-tracks.js';
import { ffmpegRun } from './helpers.js';

const EN_SRT = '1\n00:00:01,000 --> 00:00:02,500\nHello <i>world</i>\n\n2\n00:00:03,000 --> 00:00:05,000\nSecond line\nwith two lines\n\n3\n00:00:06,500 --> 00:00:07,200\nThird\n';
const FR_SRT = '1\n00:00:00,500 --> 00:00:01,500\nBonjour\n';

describe('transcode/text-tracks (real ffprobe + ffmpeg)', function () {
  this.timeout(60_000);
  let dir: string;
  let mkv: string;
  let mp4: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vod-text-'));
    await writeFile(path.join(dir, 'en.srt'), EN_SRT);
    await writeFile(path.join(dir, 'fr.srt'), FR_SRT);
    mp4 = path.join(dir, 'src.mp4');
    mkv = path.join(dir, 'src.mkv');
    const picture = ['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10:duration=8'];
    await ffmpegRun([...picture, '-i', path.join(dir, 'en.srt'), '-map', '0', '-map', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:s', 'mov_text', '-metadata:s:s:0', 'language=eng', mp4]);
    // Streams: 0 video, 1 ASS (eng), 2 SubRip (fre, titled), 3 a second English track (ignored: one per language).
    await ffmpegRun([
      '-i', mp4, '-i', path.join(dir, 'fr.srt'), '-i', path.join(dir, 'en.srt'),
      '-map', '0:v', '-map', '0:s', '-map', '1', '-map', '2', '-c:v', 'copy', '-c:s:0', 'ass', '-c:s:1', 'srt', '-c:s:2', 'srt',
      '-metadata:s:s:0', 'language=eng', '-metadata:s:s:1', 'language=fre', '-metadata:s:s:1', 'title=Français', '-metadata:s:s:2', 'language=eng', mkv,
    ]);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('an MKV: ASS and SubRip tracks are listed and chosen, one per language, and extract to the source cues', async () => {
    const info = await probeSource(mkv);
    expect(info.textTracks.map((t) => [t.index, t.codec, t.language])).to.deep.equal([[1, 'ass', 'en'], [2, 'subrip', 'fr'], [3, 'subrip', 'en']]);
    const tracks = chooseTextTracks(info.textTracks);
    expect(tracks).to.deep.equal([
      { index: 1, language: 'en', label: 'English', codec: 'ass' },
      { index: 2, language: 'fr', label: 'Français', codec: 'subrip' },
    ]);
    const out = path.join(dir, 'mkv-out');
    await mkdir(out);
    const ran = await extractTextTracks(mkv, tracks, out);
    expect(ran.wallSeconds).to.be.greaterThan(0);
    const en = parseCaptions(await readFile(extractedFile(out, 1)));
    expect(en.cues.map((c) => [c.start, c.end, c.text])).to.deep.equal([
      [1, 2.5, 'Hello <i>world</i>'],
      [3, 5, 'Second line\nwith two lines'],
      [6.5, 7.2, 'Third'],
    ]);
    const fr = parseCaptions(await readFile(extractedFile(out, 2)));
    expect(fr.cues.map((c) => [c.start, c.end, c.text])).to.deep.equal([[0.5, 1.5, 'Bonjour']]);
  });

  it('an MP4: the mov_text track extracts to the source cues', async () => {
    const info = await probeSource(mp4);
    const tracks = chooseTextTracks(info.textTracks);
    expect(tracks).to.deep.equal([{ index: 1, language: 'en', label: 'English', codec: 'mov_text' }]);
    const out = path.join(dir, 'mp4-out');
    await mkdir(out);
    await extractTextTracks(mp4, tracks, out);
    const en = parseCaptions(await readFile(extractedFile(out, 1)));
    expect(en.cues.map((c) => [c.start, c.end])).to.deep.equal([[1, 2.5], [3, 5], [6.5, 7.2]]);
    expect(en.cues[1]!.text).to.equal('Second line\nwith two lines');
  });

  it('the command line reads the source through the allowlists and bounds each output', () => {
    const args = buildExtractArgs('https://bucket.s3.example/src?X-Amz-Signature=x', [{ index: 2 }, { index: 5 }], '/tmp/o');
    expect(args.inputOptions).to.include.members(['-format_whitelist', '-protocol_whitelist', 'https,tls,tcp']);
    expect(args.outputs.map((o) => [o.target, o.options.slice(0, 4)])).to.deep.equal([
      ['/tmp/o/track-2.vtt', ['-map', '0:2', '-c:s', 'webvtt']],
      ['/tmp/o/track-5.vtt', ['-map', '0:5', '-c:s', 'webvtt']],
    ]);
    for (const o of args.outputs) expect(o.options).to.include('-fs');
  });
});
