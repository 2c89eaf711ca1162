/**
 * Captions end to end on the whole local stack (the same processes as
 * `npm start`): a real video is transcoded, `vod captions add` sends an SRT
 * file, the master fetched through the signed local edge lists the SUBTITLES
 * group, the segmented WebVTT carries exactly the uploaded cues with an
 * X-TIMESTAMP-MAP that matches the PTS measured on the video's own MPEG-TS
 * segments, and the web app in Chromium shows a cue on the picture
 * (screenshot kept in test-artifacts/captions-player.png).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist } from 'hls-parser/types.js';
import type { Browser } from 'playwright-core';
import { MPEGTS_CLOCK_HZ, type CaptionTrack } from '@vod/contract';
import { TIMESTAMP_MAP, parseCaptions } from '@vod/service-kit';
import { startStack, stackApi, until, type TestStack } from '../support/stack.js';
import { ARTIFACTS, CHROMIUM, REPO_ROOT, SAMPLE, buildWeb, collectPageErrors, hasSignature, launchChromium } from '../web/helpers.js';

const run = promisify(execFile);
const VOD = path.join(REPO_ROOT, 'cli', 'bin', 'vod.js');

/** Three cues over the 8.3 s sample: one in each 6-second segment and one across the boundary. */
const SRT = `1
00:00:00,500 --> 00:00:03,500
Hello from the <b>captions</b> test

2
00:00:05,000 --> 00:00:07,000
This cue crosses a segment boundary

3
00:00:07,200 --> 00:00:08,000
Last words
`;

describe('captions end to end: CLI → stack → signed edge → Chromium', function () {
  this.timeout(300_000);
  let stack: TestStack;
  let browser: Browser;
  let api: ReturnType<typeof stackApi>;
  let videoId: string;
  let track: CaptionTrack;
  let tmp: string;

  before(async function () {
    this.timeout(240_000);
    if (!existsSync(CHROMIUM)) throw new Error(`No browser at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
    tmp = path.join(os.tmpdir(), `vod-captions-${process.pid}`);
    mkdirSync(tmp, { recursive: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    buildWeb();
    [stack, browser] = await Promise.all([startStack({ env: { LADDER: '360' } }), launchChromium()]);
    api = stackApi(stack);
    const form = new FormData();
    form.set('file', new Blob([readFileSync(SAMPLE)]), 'hello.mp4');
    ({ videoId } = await api<{ videoId: string }>('/api/videos', { method: 'POST', body: form }));
    await until('the video to be ready', () => api(`/api/videos/${videoId}`), (v) => v.status === 'ready' || v.status === 'failed');
    expect((await api(`/api/videos/${videoId}`)).status).to.equal('ready');
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** `vod …` in a child process against the stack. */
  function vod(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [VOD, ...args], {
        cwd: tmp,
        env: { ...process.env, VOD_URL: stack.baseUrl, VOD_API_TOKEN: stack.token, VOD_HOME: tmp },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  it('vod captions add / list; a broken file is refused with its line', async () => {
    const bad = path.join(tmp, 'bad.srt');
    writeFileSync(bad, SRT.replace('00:00:05,000 --> 00:00:07,000', '00:00:05,000 -> 00:00:07,000'));
    const refused = await vod('captions', 'add', videoId, bad, '--lang', 'en');
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/line 6: /);

    const file = path.join(tmp, 'hello.srt');
    writeFileSync(file, SRT);
    const added = await vod('--json', 'captions', 'add', videoId, file, '--lang', 'en', '--label', 'English');
    expect(added.code, added.stderr).to.equal(0);
    track = JSON.parse(added.stdout) as CaptionTrack;
    expect(track).to.include({ language: 'en', label: 'English', format: 'srt', cues: 3, source: 'sidecar' });
    const listed = await vod('captions', 'list', videoId);
    expect(listed.stdout).to.match(/^en\s+English\s+\(3 cues, srt, sidecar/m);
  });

  it('the signed master lists the track; its WebVTT segments hold the uploaded cues on the video timeline', async () => {
    const { url } = await api<{ url: string }>(`/api/videos/${videoId}/playback`);
    const masterText = await (await fetch(url)).text();
    const master = HLS.parse(masterText) as MasterPlaylist;
    const variant = master.variants.find((v) => !v.isIFrameOnly)!;
    const subs = variant.subtitles[0]!;
    expect(subs).to.include({ type: 'SUBTITLES', groupId: 'subs', name: 'English', language: 'en' });
    expect(master.variants.filter((v) => !v.isIFrameOnly).every((v) => v.subtitles[0]?.uri === subs.uri)).to.equal(true);
    expect(hasSignature(subs.uri!)).to.equal(true);

    const mediaText = await (await fetch(subs.uri!)).text();
    const media = HLS.parse(mediaText) as MediaPlaylist;
    expect(media).to.include({ playlistType: 'VOD', endlist: true, targetDuration: 6 });
    // The same grid as the video's own segments.
    const video = HLS.parse(await (await fetch(variant.uri)).text()) as MediaPlaylist;
    expect(media.segments.map((s) => s.duration)).to.deep.equal(video.segments.map((s) => s.duration));

    // Segments only through signed URLs.
    const unsigned = new URL(media.segments[0]!.uri);
    unsigned.search = '';
    expect((await fetch(unsigned)).status).to.equal(403);
    const segments = await Promise.all(media.segments.map(async (s) => {
      const res = await fetch(s.uri);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/vtt/);
      return res.text();
    }));
    for (const s of segments) expect(s.split('\n')[1]).to.equal(TIMESTAMP_MAP);
    // Every uploaded cue is there (once per segment it overlaps), with its times and text.
    const uploaded = parseCaptions(Buffer.from(SRT)).cues.map((c) => `${c.start}-${c.end} ${c.text}`);
    const published = new Set(segments.flatMap((s) => parseCaptions(Buffer.from(s.replace(/^(WEBVTT)\n.*\n/, '$1\n'))).cues.map((c) => `${c.start}-${c.end} ${c.text}`)));
    expect([...published].sort()).to.deep.equal([...uploaded].sort());

    // MPEGTS in X-TIMESTAMP-MAP is the PTS of cue time 0: the video's first frame sits there (ffprobe on its first segment).
    const probe = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=start_time', '-of', 'default=nw=1:nk=1', video.segments[0]!.uri]);
    const startSeconds = Number(probe.stdout.trim().split('\n')[0]);
    const startPts = Math.round(startSeconds * MPEGTS_CLOCK_HZ);
    const mapped = Number(/MPEGTS:(\d+)/.exec(TIMESTAMP_MAP)![1]);
    console.log(`      first video PTS ${startPts} (${startSeconds} s); X-TIMESTAMP-MAP MPEGTS:${mapped}`);
    expect(Math.abs(startPts - mapped)).to.be.at.most(MPEGTS_CLOCK_HZ / 25); // within one frame
  });

  it('the web player has a subtitles menu and shows a cue on the picture in Chromium', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    try {
      const page = await context.newPage();
      const errors = collectPageErrors(page);
      await page.goto(`${stack.baseUrl}/watch/${videoId}#token=${encodeURIComponent(stack.token)}`);
      const menu = page.getByTestId('subtitles');
      await menu.waitFor({ timeout: 60_000 });
      expect(await menu.locator('option').allTextContents()).to.deep.equal(['Off', 'English']);
      await menu.selectOption({ label: 'English' });
      // Pause on the first cue and wait until the browser has it as an active cue of the showing track.
      await page.getByTestId('video').evaluate((v: HTMLVideoElement) => {
        v.pause();
        v.currentTime = 2;
      });
      const cue = await page.waitForFunction(
        () => {
          const v = document.querySelector('video')!;
          for (const t of Array.from(v.textTracks)) {
            if (t.mode !== 'showing' || !t.activeCues) continue;
            const texts = Array.from(t.activeCues).map((c) => (c as VTTCue).text);
            if (texts.length) return texts.join('\n');
          }
          return false;
        },
        undefined,
        { timeout: 60_000, polling: 250 },
      );
      expect(await cue.jsonValue()).to.equal('Hello from the <b>captions</b> test');
      await page.getByTestId('video').screenshot({ path: path.join(ARTIFACTS, 'captions-player.png') });
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
