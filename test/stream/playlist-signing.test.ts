import { expect } from 'chai';
import { PlaylistError, signPlaylist } from '../../containers/stream/src/playlist-signing.js';
import { createVideoUrlSigner, roundedExpiry } from '../../containers/stream/src/url-signer.js';
import { trustedKeysFromPem, verifySignedRequest } from '../../local/cloudfront-verify.js';
import { countingSigner, makeKeyPair, playlistUris, requestFor, type TestKeyPair } from './support.js';

const BASE = 'https://d111111abcdef8.cloudfront.net';
const VIDEO = '0123456789abcdef0123';
const PREFIX = `${BASE}/videos/${VIDEO}/`;
const T0 = new Date('2030-06-01T12:00:00Z');

const MASTER = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=5192000,AVERAGE-BANDWIDTH=4628000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1920x1080,FRAME-RATE=29.970,AUDIO="aud"
1080p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2628000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=29.970,AUDIO="aud"
720p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=1240000,AVERAGE-BANDWIDTH=1128000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=854x480,FRAME-RATE=29.970,AUDIO="aud"
480p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=140800,CODECS="mp4a.40.2",AUDIO="aud"
audio/index.m3u8
`;

const MEDIA = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-KEY:METHOD=AES-128,URI="../keys/k1.bin",IV=0x00000000000000000000000000000001
#EXT-X-MAP:URI="init.mp4"
#EXTINF:6.006000,
seg_00001.ts
#EXTINF:6.006000,
seg_00002.ts
#EXT-X-DISCONTINUITY
#EXTINF:5.005,
#EXT-X-BYTERANGE:1000@0
seg_00003.ts
#EXTINF:2.5,
https://elsewhere.example/ad.ts
#EXT-X-ENDLIST
`;

/** Tag names (without values) in order, e.g. ['#EXTM3U', '#EXT-X-VERSION', …]. */
const tags = (text: string) => text.split('\n').filter((l) => l.startsWith('#')).map((l) => l.split(':')[0]);
/** Attribute names of the first line starting with `tag`. */
const attrNames = (text: string, tag: string, nth = 0) => {
  const line = text.split('\n').filter((l) => l.startsWith(`${tag}:`))[nth];
  return line.slice(tag.length + 1).match(/(?:^|,)([A-Z0-9-]+)=/g)!.map((a) => a.replace(/[,=]/g, '')).sort();
};

describe('playlist signing (hls-parser parse → edit URIs → stringify)', () => {
  let kp: TestKeyPair;
  before(() => {
    kp = makeKeyPair();
  });

  const opts = (relative: string, query = 'Policy=P&Signature=S&Key-Pair-Id=K') => ({ playlistUrl: `${PREFIX}${relative}`, signedPrefix: PREFIX, query });

  it('master: every variant and EXT-X-MEDIA URI becomes an absolute signed URL; every tag and attribute is kept', () => {
    const out = signPlaylist(MASTER, opts('master.m3u8'));
    const uris = playlistUris(out);
    expect(uris).to.deep.equal([
      `${PREFIX}audio/index.m3u8?Policy=P&Signature=S&Key-Pair-Id=K`,
      `${PREFIX}1080p/index.m3u8?Policy=P&Signature=S&Key-Pair-Id=K`,
      `${PREFIX}720p/index.m3u8?Policy=P&Signature=S&Key-Pair-Id=K`,
      `${PREFIX}480p/index.m3u8?Policy=P&Signature=S&Key-Pair-Id=K`,
      `${PREFIX}audio/index.m3u8?Policy=P&Signature=S&Key-Pair-Id=K`,
    ]);
    expect(tags(out)).to.deep.equal(tags(MASTER));
    for (let i = 0; i < 4; i++) expect(attrNames(out, '#EXT-X-STREAM-INF', i), `variant ${i}`).to.deep.equal(attrNames(MASTER, '#EXT-X-STREAM-INF', i));
    expect(attrNames(out, '#EXT-X-MEDIA')).to.deep.equal(attrNames(MASTER, '#EXT-X-MEDIA'));
    expect(out).to.include('AVERAGE-BANDWIDTH=4628000').and.include('CODECS="avc1.640028,mp4a.40.2"').and.include('FRAME-RATE=29.970');
    expect(out).to.include('RESOLUTION=1920x1080').and.include('GROUP-ID="aud"').and.include('CHANNELS="2"').and.include('LANGUAGE="en"');
  });

  it('media: segments, EXT-X-MAP and EXT-X-KEY are signed once each; foreign URIs untouched; tags kept', () => {
    const out = signPlaylist(MEDIA, opts('720p/index.m3u8'));
    const q = '?Policy=P&Signature=S&Key-Pair-Id=K';
    expect(playlistUris(out)).to.deep.equal([
      `${BASE}/videos/${VIDEO}/keys/k1.bin${q}`,
      `${PREFIX}720p/init.mp4${q}`,
      `${PREFIX}720p/seg_00001.ts${q}`,
      `${PREFIX}720p/seg_00002.ts${q}`,
      `${PREFIX}720p/seg_00003.ts${q}`,
      'https://elsewhere.example/ad.ts',
    ]);
    // Every tag survives except EXT-X-MEDIA-SEQUENCE:0, which hls-parser omits as the default (RFC 8216 §4.3.3.2).
    const expected = tags(MEDIA).filter((t) => t !== '#EXT-X-MEDIA-SEQUENCE');
    expect([...tags(out)].sort()).to.deep.equal([...expected].sort());
    for (const t of ['#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:6', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-INDEPENDENT-SEGMENTS', '#EXT-X-ENDLIST', '#EXT-X-DISCONTINUITY', '#EXT-X-BYTERANGE:1000@0', '#EXTINF:6.006,', '#EXTINF:5.005,']) {
      expect(out).to.include(t);
    }
    expect(out).to.include('IV=0x00000000000000000000000000000001').and.include('METHOD=AES-128');
  });

  it('master: SUBTITLES renditions, I-frame playlists and CLOSED-CAPTIONS=NONE survive', () => {
    const text = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",URI="subs/en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,SUBTITLES="subs",CLOSED-CAPTIONS=NONE
720p/index.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100000,URI="720p/iframes.m3u8"
`;
    const out = signPlaylist(text, opts('master.m3u8'));
    expect(out).to.include('SUBTITLES="subs"');
    expect(out.split('\n').filter((l) => l.includes('CLOSED-CAPTIONS=NONE'))).to.have.length(1); // not on the I-frame line
    expect(out).to.match(/#EXT-X-STREAM-INF:.*CLOSED-CAPTIONS=NONE/);
    expect(playlistUris(out).map((u) => u.split('?')[0])).to.have.members([`${PREFIX}subs/en.m3u8`, `${PREFIX}720p/index.m3u8`, `${PREFIX}720p/iframes.m3u8`]);
    expect(playlistUris(out).every((u) => u.endsWith('?Policy=P&Signature=S&Key-Pair-Id=K'))).to.equal(true);
  });

  it('leaves URIs that escape the video prefix unsigned', () => {
    const text = `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\n../../${'f'.repeat(20)}/seg.ts\n#EXTINF:6.0,\nok.ts\n#EXT-X-ENDLIST\n`;
    const uris = playlistUris(signPlaylist(text, opts('master.m3u8')));
    expect(uris[0]).to.equal(`../../${'f'.repeat(20)}/seg.ts`);
    expect(uris[1]).to.equal(`${PREFIX}ok.ts?Policy=P&Signature=S&Key-Pair-Id=K`);
  });

  it('keeps decimal durations when EXT-X-VERSION is missing (declares version 3)', () => {
    const text = '#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:5.5,\na.ts\n#EXTINF:6.006,\nb.ts\n#EXT-X-ENDLIST\n';
    const out = signPlaylist(text, opts('720p/index.m3u8'));
    expect(out).to.include('#EXT-X-VERSION:3').and.include('#EXTINF:5.5,').and.include('#EXTINF:6.006,');
  });

  it('rejects text that is not a playlist', () => {
    expect(() => signPlaylist('<html>nope</html>', opts('master.m3u8'))).to.throw(PlaylistError);
  });

  it('real signatures: every rewritten URI verifies at the edge; one RSA signature serves many requests in a window', () => {
    const sign = countingSigner();
    const signer = createVideoUrlSigner({ publicBaseUrl: BASE, keyPairId: kp.keyPairId, privateKey: kp.privateKey, ttlSeconds: 14_400, windowSeconds: 900, sign });
    const keys = trustedKeysFromPem({ [kp.keyPairId]: kp.publicKey });

    // 500 playlist renders at different instants inside one 15-minute window.
    const windowEnd = roundedExpiry(T0, 14_400, 900);
    const windowStart = new Date((windowEnd - 14_400 - 900) * 1000 + 1000);
    for (let i = 0; i < 500; i++) {
      const at = new Date(windowStart.getTime() + ((i * 1777) % 899_000));
      expect(roundedExpiry(at, 14_400, 900)).to.equal(windowEnd);
      const g = signer.grant(VIDEO, at);
      const out = signPlaylist(i % 2 ? MASTER : MEDIA, { playlistUrl: `${g.prefix}${i % 2 ? 'master.m3u8' : '720p/index.m3u8'}`, signedPrefix: g.prefix, query: g.query });
      if (i < 2) {
        for (const uri of playlistUris(out).filter((u) => u.startsWith(BASE))) {
          expect(verifySignedRequest(requestFor(uri, at), keys), uri).to.deep.include({ ok: true });
        }
      }
    }
    expect(sign.calls).to.equal(1);

    // The next window, and another video, each cost one more signature.
    signer.grant(VIDEO, new Date(windowStart.getTime() + 900_000));
    expect(sign.calls).to.equal(2);
    signer.grant('ffffffffffffffffffff', windowStart);
    expect(sign.calls).to.equal(3);
  });

  it('expiry: at least the TTL, at most TTL + window, on a window boundary', () => {
    for (const ms of [0, 1, 899_999, 900_000, 123_456_789]) {
      const at = new Date(T0.getTime() + ms);
      const exp = roundedExpiry(at, 14_400, 900);
      expect(exp % 900).to.equal(0);
      expect(exp * 1000 - at.getTime()).to.be.at.least(14_400_000).and.at.most(15_300_000);
    }
  });
});
