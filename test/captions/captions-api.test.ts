/**
 * Captions through the stream service against the S3 emulator: a WebVTT or
 * SRT file becomes segmented WebVTT on the video's segment grid and a
 * SUBTITLES group in the master; bad files are refused with their line;
 * concurrent uploads all end up in the master; the signed master a viewer
 * gets changes at once; delete and the video's own delete clean up.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist } from 'hls-parser/types.js';
import { keys, newId, type CaptionTrack } from '@vod/contract';
import { StatusStore, parseCaptions } from '@vod/service-kit';
import { createApp } from '../../containers/stream/src/app.js';
import { createVideoUrlSigner } from '../../containers/stream/src/url-signer.js';
import { startTestAws, type TestAws } from '../support/emulator.js';
import { listen, silentLogger } from '../support/http.js';
import { makeKeyPair } from '../stream/support.js';

const TOKEN = 'captions-test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const MASTER = [
  '#EXTM3U',
  '#EXT-X-VERSION:3',
  '#EXT-X-INDEPENDENT-SEGMENTS',
  '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"',
  '#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=800000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25.000,AUDIO="aud"',
  '360p/index.m3u8',
  '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100000,CODECS="avc1.64001f",RESOLUTION=640x360,URI="360p/iframes.m3u8"',
  '',
].join('\n');
/** The video's grid: 6 s, 6 s, 3.5 s. */
const MEDIA = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:6.000,\nseg_00000.ts\n#EXTINF:6.000,\nseg_00001.ts\n#EXTINF:3.500,\nseg_00002.ts\n#EXT-X-ENDLIST\n';

const SRT = `1
00:00:01,000 --> 00:00:03,000
Hello, <i>world</i>

2
00:00:05,500 --> 00:00:07,250
Across a boundary

3
00:00:20,000 --> 00:00:21,000
After the end
`;
const VTT = `WEBVTT

intro
00:00:00.500 --> 00:00:02.000 line:10%
Bonjour

00:00:13.000 --> 00:00:15.000
Fin
`;

describe('captions API (stream service, emulator)', function () {
  this.timeout(60_000);
  let aws: TestAws;
  let api: { url: string; close(): Promise<void> };
  let store: StatusStore;
  let t = Date.parse('2032-01-01T00:00:00Z');
  const signer = (() => {
    const kp = makeKeyPair();
    return createVideoUrlSigner({ publicBaseUrl: 'http://127.0.0.1:8080', keyPairId: kp.keyPairId, privateKey: kp.privateKey, ttlSeconds: 3600 });
  })();

  before(async () => {
    aws = await startTestAws();
    store = new StatusStore(aws.s3, aws.mediaBucket);
    const app = createApp({
      s3: aws.s3,
      mediaBucket: aws.mediaBucket,
      uploadsBucket: aws.uploadsBucket,
      signer,
      logger: await silentLogger(),
      apiToken: TOKEN,
      store,
      admin: { sqs: aws.sqs, jobsQueueUrl: aws.jobsQueueUrl, jobsDlqUrl: aws.dlqUrl },
    });
    api = await listen(app);
  });
  after(async () => {
    await api?.close();
    await aws?.stop();
  });

  const put = (key: string, body: string) => aws.s3.send(new PutObjectCommand({ Bucket: aws.mediaBucket, Key: key, Body: body }));
  const text = async (key: string) => (await aws.s3.send(new GetObjectCommand({ Bucket: aws.mediaBucket, Key: key }))).Body!.transformToString();
  const list = async (prefix: string) => ((await aws.s3.send(new ListObjectsV2Command({ Bucket: aws.mediaBucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);

  async function video(status: 'ready' | 'processing' = 'ready'): Promise<string> {
    const id = newId((t += 1000));
    await put(keys.master(id), MASTER);
    await put(keys.mediaPlaylist(id, '360p'), MEDIA);
    await store.create({ videoId: id, status: 'processing', filename: 'a.mp4', run: 1 });
    if (status === 'ready') await store.transition(id, 'ready', { progress: 100, playable: true });
    return id;
  }

  function upload(id: string, body: string | Uint8Array<ArrayBuffer>, fields: Record<string, string>, filename = 'subs.srt'): Promise<Response> {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.set(k, v);
    form.set('file', new Blob([body]), filename);
    return fetch(`${api.url}/api/videos/${id}/captions`, { method: 'POST', headers: auth, body: form });
  }
  const error = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;
  /** The master a viewer gets through the stream service, signed. */
  async function signedMaster(id: string): Promise<string> {
    const { url } = signer.signedUrl(id, 'master.m3u8', new Date());
    const u = new URL(url);
    const res = await fetch(`${api.url}${u.pathname}${u.search}`);
    expect(res.status).to.equal(200);
    return res.text();
  }

  it('an SRT file becomes segmented WebVTT on the video grid, listed as SUBTITLES on every variant', async () => {
    const id = await video();
    const res = await upload(id, SRT, { language: 'EN-us', label: 'English (CC)' });
    expect(res.status).to.equal(201);
    const track = (await res.json()) as CaptionTrack;
    expect(track).to.include({ language: 'en-US', label: 'English (CC)', source: 'sidecar', format: 'srt', cues: 2 });
    expect(track.playlist).to.match(/^captions\/en-US_[0-9a-f]{8}\/index\.m3u8$/);

    const master = HLS.parse(await text(keys.master(id))) as MasterPlaylist;
    const stream = master.variants.find((v) => !v.isIFrameOnly)!;
    expect(stream.subtitles).to.have.length(1);
    expect(stream.subtitles[0]).to.include({ type: 'SUBTITLES', groupId: 'subs', name: 'English (CC)', language: 'en-US', isDefault: false, autoselect: true, uri: track.playlist });
    // Everything the transcode wrote is still there.
    expect(stream).to.include({ bandwidth: 900000, averageBandwidth: 800000, codecs: 'avc1.64001f,mp4a.40.2', uri: '360p/index.m3u8' });
    expect(stream.audio[0]).to.include({ groupId: 'aud', uri: 'audio/index.m3u8' });
    expect(master.variants.filter((v) => v.isIFrameOnly)).to.have.length(1);

    const dir = track.playlist.replace(/index\.m3u8$/, '');
    const media = HLS.parse(await text(keys.videoFile(id, track.playlist))) as MediaPlaylist;
    expect(media.playlistType).to.equal('VOD');
    expect(media.endlist).to.equal(true);
    expect(media.targetDuration).to.equal(6);
    expect(media.segments.map((s) => [s.uri, s.duration])).to.deep.equal([
      ['seg_00000.vtt', 6],
      ['seg_00001.vtt', 6],
      ['seg_00002.vtt', 3.5],
    ]);
    const segs = await Promise.all([0, 1, 2].map((n) => text(keys.videoFile(id, `${dir}seg_0000${n}.vtt`))));
    for (const s of segs) expect(s.split('\n').slice(0, 2)).to.deep.equal(['WEBVTT', 'X-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000']);
    // The cue across the 6 s boundary is in both segments; the one after the end is in none.
    // (W3C's validator does not know RFC 8216's header line: drop it to parse.)
    const cuesOf = (seg: string) => parseCaptions(Buffer.from(seg.replace(/^WEBVTT\nX-TIMESTAMP-MAP=[^\n]*\n/, 'WEBVTT\n'))).cues;
    expect(cuesOf(segs[0]!).map((c) => [c.start, c.end, c.text])).to.deep.equal([
      [1, 3, 'Hello, <i>world</i>'],
      [5.5, 7.25, 'Across a boundary'],
    ]);
    expect(cuesOf(segs[1]!).map((c) => c.text)).to.deep.equal(['Across a boundary']);
    expect(segs[2]).to.not.match(/-->/);
    expect(segs.join('')).to.not.include('After the end');

    // The viewer's master, signed, names the track too (the signed URI of its playlist).
    expect(await signedMaster(id)).to.match(/TYPE=SUBTITLES,GROUP-ID="subs".*URI="http:\/\/127\.0\.0\.1:8080\/videos\/[0-9a-f]+\/captions\/en-US_[0-9a-f]{8}\/index\.m3u8\?Policy=/);
  });

  it('WebVTT keeps ids and settings; the label defaults to the language name; a second file in a language replaces the first', async () => {
    const id = await video();
    const first = (await (await upload(id, VTT, { language: 'fr' }, 'fr.vtt')).json()) as CaptionTrack;
    expect(first).to.include({ language: 'fr', label: 'French', format: 'webvtt', cues: 2 });
    const seg0 = await text(keys.videoFile(id, first.playlist.replace('index.m3u8', 'seg_00000.vtt')));
    expect(seg0).to.include('intro\n00:00:00.500 --> 00:00:02.000 line:10%\nBonjour');

    const second = (await (await upload(id, SRT, { language: 'fr', label: 'Français' })).json()) as CaptionTrack;
    expect(second.playlist).to.not.equal(first.playlist);
    const tracks = ((await (await fetch(`${api.url}/api/videos/${id}/captions`, { headers: auth })).json()) as { captions: CaptionTrack[] }).captions;
    expect(tracks.map((c) => [c.language, c.label])).to.deep.equal([['fr', 'Français']]);
    const master = await text(keys.master(id));
    expect(master.match(/TYPE=SUBTITLES/g)).to.have.length(1);
    expect(master).to.include(second.playlist);
    // The replaced track's files are gone; the new one's are there.
    expect(await list(keys.videoFile(id, first.playlist.replace('index.m3u8', '')))).to.deep.equal([]);
    expect(await list(keys.videoFile(id, second.playlist.replace('index.m3u8', '')))).to.have.length(4);
  });

  it('bad files are 400 invalid_captions naming the line; a bad language is 400 bad_language', async () => {
    const id = await video();
    const cases: [string, RegExp][] = [
      ['1\n00:00:01,000 --> 00:00:04,000\nok\n\n2\n00:00:05,000 --> 00:00:04,000\nbackwards\n', /^line 6: End timestamp is not greater than start timestamp/],
      ['WEBVTT\n\n00:00:01.000 --> 00:00:02.000\na\n\n00:00:3.000 --> 00:00:04.000\nb\n', /^line 6: /],
      ['WEBVTT\n\n00:00:05.000 --> 00:00:06.000\na\n\n00:00:01.000 --> 00:00:02.000\nb\n', /^line 6: Start timestamp is not greater than or equal to start timestamp of previous cue/],
      ['%PDF-1.4 not captions\n', /^line 1: neither WebVTT .* nor SubRip/],
      ['WEBVTT\n\n', /^line \d+: the file has no cues/],
    ];
    for (const [body, message] of cases) {
      const res = await upload(id, body, { language: 'en' });
      expect(res.status, body).to.equal(400);
      const e = await error(res);
      expect(e.code).to.equal('invalid_captions');
      expect(e.message).to.match(message);
    }
    const latin1 = await upload(id, Uint8Array.from([...Buffer.from('1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03,000 --> 00:00:04,000\ncaf'), 0xe9, 0x0a]), { language: 'en' });
    expect(await error(latin1)).to.deep.include({ code: 'invalid_captions', message: 'line 7: not UTF-8 text (save the file as UTF-8)' });
    const lang = await upload(id, SRT, { language: 'english!' });
    expect(lang.status).to.equal(400);
    expect((await error(lang)).code).to.equal('bad_language');
    const noLang = await upload(id, SRT, {});
    expect((await error(noLang)).code).to.equal('bad_language');
    const tooBig = await upload(id, `WEBVTT\n\n${'00:00:01.000 --> 00:00:02.000\nx\n\n'.repeat(80_000)}`, { language: 'en' });
    expect(tooBig.status).to.equal(413);
    expect((await error(tooBig)).code).to.equal('payload_too_large');
    expect(await list(keys.captionsPrefix(id))).to.deep.equal([]);
    expect(await text(keys.master(id))).to.equal(MASTER);
  });

  it('404 for a video that does not exist; 409 not_ready while it is processing', async () => {
    const missing = await upload(newId((t += 1000)), SRT, { language: 'en' });
    expect(missing.status).to.equal(404);
    expect((await error(missing)).code).to.equal('not_found');
    const id = await video('processing');
    const busy = await upload(id, SRT, { language: 'en' });
    expect(busy.status).to.equal(409);
    expect(await error(busy)).to.deep.include({ code: 'not_ready' });
    expect(await text(keys.master(id))).to.equal(MASTER);
  });

  it('uploads at once in several languages all end up in the master', async () => {
    const id = await video();
    const langs = ['de', 'es', 'it', 'ja', 'nl', 'pt-BR'];
    const answers = await Promise.all(langs.map((language) => upload(id, SRT, { language })));
    expect(answers.map((r) => r.status)).to.deep.equal(langs.map(() => 201));
    const master = HLS.parse(await text(keys.master(id))) as MasterPlaylist;
    expect(master.variants[0]!.subtitles.map((r) => r.language)).to.deep.equal(langs);
  });

  it('the signed master changes at once after an upload and a delete; DELETE removes the track', async () => {
    const id = await video();
    expect(await signedMaster(id)).to.not.include('SUBTITLES');
    const track = (await (await upload(id, SRT, { language: 'en' })).json()) as CaptionTrack;
    expect(await signedMaster(id)).to.include('SUBTITLES="subs"');

    const del = await fetch(`${api.url}/api/videos/${id}/captions/EN`, { method: 'DELETE', headers: auth });
    expect(del.status).to.equal(204);
    expect(await signedMaster(id)).to.not.include('SUBTITLES');
    expect(await text(keys.master(id))).to.not.include('SUBTITLES');
    expect(await list(keys.videoFile(id, track.playlist.replace('index.m3u8', '')))).to.deep.equal([]);
    expect(await list(keys.captionsPrefix(id))).to.deep.equal([]);
    const again = await fetch(`${api.url}/api/videos/${id}/captions/en`, { method: 'DELETE', headers: auth });
    expect(again.status).to.equal(404);
  });

  it('another stream instance serves the new master once it re-checks the video (readyTtlMs), not the cached one', async () => {
    const other = await listen(
      createApp({ s3: aws.s3, mediaBucket: aws.mediaBucket, uploadsBucket: aws.uploadsBucket, signer, logger: await silentLogger(), store, cache: { readyTtlMs: 200 } }),
    );
    try {
      const id = await video();
      const fromOther = async () => {
        const u = new URL(signer.signedUrl(id, 'master.m3u8', new Date()).url);
        return (await fetch(`${other.url}${u.pathname}${u.search}`)).text();
      };
      expect(await fromOther()).to.not.include('SUBTITLES');
      expect(await fromOther()).to.not.include('SUBTITLES'); // now from its cache
      expect((await upload(id, SRT, { language: 'en' })).status).to.equal(201);
      const deadline = Date.now() + 10_000;
      let seen = '';
      while (!seen.includes('SUBTITLES="subs"') && Date.now() < deadline) seen = await fromOther();
      expect(seen).to.include('SUBTITLES="subs"');
    } finally {
      await other.close();
    }
  });

  it("deleting the video removes its caption records and files", async () => {
    const id = await video();
    await upload(id, SRT, { language: 'en' });
    expect(await list(keys.captionsPrefix(id))).to.have.length(1);
    expect((await fetch(`${api.url}/api/videos/${id}`, { method: 'DELETE', headers: auth })).status).to.equal(204);
    expect(await list(keys.captionsPrefix(id))).to.deep.equal([]);
    expect(await list(keys.videoPrefix(id))).to.deep.equal([]);
  });
});
