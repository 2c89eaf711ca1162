/**
 * Rewrites every URI in an HLS playlist (RFC 8216) to a CloudFront-signed URL.
 *
 * The playlist is parsed with hls-parser, each URI is edited on the parsed
 * object, and the object is stringified again — no line-by-line regex. URIs
 * covered: master playlists — EXT-X-STREAM-INF / EXT-X-I-FRAME-STREAM-INF
 * variants, EXT-X-MEDIA renditions (AUDIO, VIDEO, SUBTITLES), EXT-X-SESSION-DATA,
 * EXT-X-SESSION-KEY; media playlists — segments, EXT-X-KEY, EXT-X-MAP,
 * EXT-X-PART, EXT-X-PREFETCH, EXT-X-RENDITION-REPORT.
 *
 * Why absolute URLs: every URI is resolved against the playlist's own public URL
 * and written out absolute under PUBLIC_BASE_URL. A relative URI would also
 * work (the player resolves it against the playlist URL), but the player drops
 * the playlist's query when resolving, the result depends on which host name
 * and redirects the player used, and the signed policy's Resource names one
 * exact scheme+host. An absolute URL is unambiguous: the URL the player fetches
 * is byte-for-byte the URL the policy was written for.
 *
 * Only URIs that resolve inside the video's own prefix get the signed query;
 * anything else (another host, `data:`/`skd:` key URIs, a path escaping the
 * prefix) is left exactly as written — our signature would not cover it anyway.
 *
 * Fidelity of hls-parser's stringify (checked in test/stream/playlist-signing.test.ts):
 * every tag our ladder uses is kept (EXT-X-VERSION, EXT-X-INDEPENDENT-SEGMENTS,
 * EXT-X-MEDIA, EXT-X-STREAM-INF with BANDWIDTH, AVERAGE-BANDWIDTH, CODECS,
 * RESOLUTION, FRAME-RATE, AUDIO; EXT-X-TARGETDURATION, EXT-X-PLAYLIST-TYPE,
 * EXTINF, EXT-X-BYTERANGE, EXT-X-KEY, EXT-X-MAP, EXT-X-DISCONTINUITY,
 * EXT-X-ENDLIST). Known, harmless normalisations: `EXT-X-MEDIA-SEQUENCE:0` is
 * omitted (0 is the default, RFC 8216 §4.3.3.2); numbers are re-printed
 * (`6.006000` → `6.006`, `FRAME-RATE=30` → `30.000`); attribute order may change;
 * unknown/custom tags and comments are dropped.
 */
// Namespace import: hls-parser is CommonJS with `__esModule` set, so a default
// import is undefined under CJS-transpiling loaders (mocha + tsx).
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist } from 'hls-parser/types.js';

export class PlaylistError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlaylistError';
  }
}

export interface SignPlaylistOptions {
  /** The public URL this playlist is served at, e.g. `https://cdn/videos/ID/720p/index.m3u8` (relative URIs resolve against it). */
  playlistUrl: string;
  /** Only URLs starting with this get signed, e.g. `https://cdn/videos/ID/`. */
  signedPrefix: string;
  /** The signed query to append: `Policy=…&Signature=…&Key-Pair-Id=…`. */
  query: string;
}

/**
 * Parses `text`, signs every URI, stringifies.
 * @throws PlaylistError if `text` is not an HLS playlist (no leading `#EXTM3U`) or cannot be parsed.
 */
export function signPlaylist(text: string, opts: SignPlaylistOptions): string {
  if (!text.replace(/^\uFEFF/, '').startsWith('#EXTM3U')) throw new PlaylistError('Not an HLS playlist (no #EXTM3U header)');
  // hls-parser writes CLOSED-CAPTIONS=NONE on every variant when this option is on,
  // so turn it on only if the source says NONE (else it would hide in-band captions).
  return withParserOptions(/CLOSED-CAPTIONS=NONE/.test(text), () => {
    let playlist: MasterPlaylist | MediaPlaylist;
    try {
      playlist = HLS.parse(text) as MasterPlaylist | MediaPlaylist;
    } catch (err) {
      throw new PlaylistError(`Malformed playlist: ${(err as Error).message}`);
    }

    // Parsed objects can be shared (one EXT-X-KEY / EXT-X-MAP for many
    // segments, one rendition for many variants): rewrite each object once.
    const seen = new WeakSet<object>();
    const rewrite = (holder: { uri?: string } | undefined | null): void => {
      if (!holder || seen.has(holder) || !holder.uri) return;
      seen.add(holder);
      holder.uri = signUri(holder.uri, opts);
    };

    if (playlist.isMasterPlaylist) {
      for (const v of playlist.variants) {
        rewrite(v);
        for (const r of [...v.audio, ...v.video, ...v.subtitles]) rewrite(r);
      }
      for (const d of playlist.sessionDataList) rewrite(d);
      for (const k of playlist.sessionKeyList) rewrite(k);
    } else {
      let fractional = false;
      for (const s of playlist.segments) {
        rewrite(s);
        rewrite(s.key);
        rewrite(s.map);
        for (const part of s.parts ?? []) rewrite(part);
        if (typeof s.duration === 'number' && !Number.isInteger(s.duration)) fractional = true;
      }
      for (const s of playlist.prefetchSegments ?? []) rewrite(s);
      for (const r of playlist.renditionReports ?? []) rewrite(r);
      // hls-parser rounds EXTINF to integers when the version is < 3 (or absent).
      // Decimal EXTINF needs version 3 (RFC 8216 §7), so declare it rather than lose precision.
      if (fractional && (playlist.version ?? 1) < 3) playlist.version = 3;
    }

    try {
      return HLS.stringify(playlist, {
        // With allowClosedCaptionsNone hls-parser also writes CLOSED-CAPTIONS=NONE on
        // EXT-X-I-FRAME-STREAM-INF, where RFC 8216 §4.3.4.3 does not allow it: drop it there.
        variantProcessor: (lines, start, end, variant) => {
          if (!variant.isIFrameOnly) return;
          for (let i = start; i <= end; i++) lines[i] = lines[i].replace(/,CLOSED-CAPTIONS=NONE(?=,|$)/, '');
        },
      });
    } catch (err) {
      throw new PlaylistError(`Cannot write playlist: ${(err as Error).message}`);
    }
  });
}

/** `uri` resolved against the playlist URL; with the signed query appended if inside the signed prefix. */
export function signUri(uri: string, opts: SignPlaylistOptions): string {
  let abs: URL;
  try {
    abs = new URL(uri, opts.playlistUrl);
  } catch {
    return uri;
  }
  const hash = abs.hash;
  abs.hash = '';
  const href = abs.href;
  if (!href.startsWith(opts.signedPrefix)) return uri;
  return `${href}${abs.search ? '&' : '?'}${opts.query}${hash}`;
}

/**
 * hls-parser keeps its options in module state; set ours (lenient parsing —
 * strict mode rejects e.g. decimal EXTINF without EXT-X-VERSION, which players
 * accept —, keep `CLOSED-CAPTIONS=NONE` if present, no console output) only for one
 * synchronous call and restore whatever was there, so other users of the
 * library in the same process are unaffected.
 */
function withParserOptions<T>(allowClosedCaptionsNone: boolean, fn: () => T): T {
  const saved = HLS.getOptions();
  HLS.setOptions({ strictMode: false, allowClosedCaptionsNone, silent: true });
  try {
    return fn();
  } finally {
    HLS.setOptions(saved);
  }
}
