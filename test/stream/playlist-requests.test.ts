/** What the hot path reads from a signed playlist URL (playlist-requests.ts): parsed once, right or not at all. */
import { expect } from 'chai';
import { PlaylistRequests, parsePlaylistRequest } from '../../containers/stream/src/playlist-requests.js';
import { customPolicy } from '../../containers/stream/src/url-signer.js';

const VIDEO = '0123456789abcdef0123';
/** A query as CloudFront forwards it: the custom policy in CloudFront's URL-safe base64, expiring at `expires`. */
const query = (expires: number) =>
  `Policy=${Buffer.from(customPolicy(`https://cdn.example/videos/${VIDEO}/*`, expires)).toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~')}&Signature=abc&Key-Pair-Id=K1`;

describe('stream/playlist-requests', () => {
  it('reads the video, the playlist under it, the path alone and the grant expiry', () => {
    expect(parsePlaylistRequest(`/videos/${VIDEO}/720p/index.m3u8?${query(1_900_000_000)}`)).to.deep.equal({
      videoId: VIDEO,
      relative: '720p/index.m3u8',
      path: `/videos/${VIDEO}/720p/index.m3u8`,
      grantExpiresAt: 1_900_000_000,
    });
    expect(parsePlaylistRequest(`/videos/${VIDEO}/master.m3u8?Expires=1900000000&Signature=abc&Key-Pair-Id=K1`)?.grantExpiresAt).to.equal(1_900_000_000);
  });

  it('leaves to the slow path (undefined) anything it is not sure of', () => {
    for (const url of [
      `/videos/${VIDEO}/master.m3u8`, // unsigned
      `/videos/${VIDEO}/master.m3u8?Signature=abc`, // no policy, no expiry
      `/videos/${VIDEO}/master.m3u8?Policy=not-a-policy`,
      `/videos/NOT-AN-ID/master.m3u8?${query(1_900_000_000)}`,
      `/videos/${VIDEO}/../records/${VIDEO}.m3u8?${query(1_900_000_000)}`,
      `/videos/${VIDEO}/a/b/c/index.m3u8?${query(1_900_000_000)}`, // deeper than 3 segments
      `/videos/${VIDEO}/720p/seg_00001.ts?${query(1_900_000_000)}`, // not a playlist
    ]) {
      expect(parsePlaylistRequest(url), url).to.equal(undefined);
    }
  });

  it('answers the same for the same URL, and keeps answering once the memo is full', () => {
    const requests = new PlaylistRequests(2_000);
    const urls = Array.from({ length: 50 }, (_, i) => `/videos/${VIDEO}/master.m3u8?${query(1_900_000_000 + i)}`);
    for (const url of [...urls, ...urls]) expect(requests.parse(url)).to.deep.equal(parsePlaylistRequest(url));
    expect(requests.parse(`/videos/${VIDEO}/master.m3u8`)).to.equal(undefined);
  });
});
