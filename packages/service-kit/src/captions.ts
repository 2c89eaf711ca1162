/**
 * A video's text tracks in S3 and the multivariant playlist that lists them.
 *
 * One record per track under `captions/{videoId}/{language}.json` (keys.ts):
 * that listing is the one place the SUBTITLES group is rendered from. The
 * master playlist is never patched by hand: `publishMaster` renders it from
 * the published master (its variants, measured bit rates, audio group — the
 * transcode's facts) and the current listing, replacing whatever SUBTITLES
 * group it had, so any writer renders the same text from the same facts.
 *
 * No upload is lost to a concurrent one although S3 has no compare-and-swap
 * (and the emulator no conditional PutObject): each writer stores its own
 * track record first (its own key: different languages never overwrite each
 * other), then renders and PUTs the master, then lists again and renders
 * once more if the listing changed meanwhile. The last master PUT is made by
 * a writer whose listing was taken after every record stored before that PUT,
 * so the final master always lists every stored track. S3 PutObject is
 * atomic: a reader never sees a half-written master.
 */
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CAPTIONS_DIR,
  MASTER_PLAYLIST,
  SUBTITLES_GROUP_ID,
  captionSegmentFile,
  keys,
  type CaptionTrack,
} from '@vod/contract';
// Namespace import: hls-parser's CJS entry is flagged __esModule without a default export.
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist, Rendition } from 'hls-parser/types.js';
import { isNotFound } from './aws.js';
import { getJson, putJson } from './s3-json.js';
import { deletePrefix } from './s3-prefix.js';

const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';
const VTT_CONTENT_TYPE = 'text/vtt; charset=utf-8';
/** Rounds of render-and-check before `publishMaster` gives up (each round one concurrent change). */
const MAX_PUBLISH_ROUNDS = 10;

/**
 * A track's directory under the video's prefix: `captions/en_3f9a01c2`. A new
 * upload of a language gets a new directory, so the CDN's year-long cache of
 * segments never serves an old file's cues at a new file's path.
 */
export function newCaptionDir(language: string): string {
  return `${CAPTIONS_DIR}/${language}_${randomBytes(4).toString('hex')}`;
}

/** The directory of a track's playlist (`captions/en_3f9a01c2/index.m3u8` → `captions/en_3f9a01c2/`). */
export function captionDirOf(track: Pick<CaptionTrack, 'playlist'>): string {
  return track.playlist.slice(0, track.playlist.lastIndexOf('/') + 1);
}

/**
 * The multivariant playlist `masterText` with exactly `tracks` as its
 * SUBTITLES group `subs` (RFC 8216 §4.3.4.1: TYPE=SUBTITLES, GROUP-ID, NAME,
 * LANGUAGE, DEFAULT=NO, AUTOSELECT=YES, URI), referenced by `SUBTITLES="subs"`
 * on every EXT-X-STREAM-INF; no tracks: no group. Any SUBTITLES group it had
 * is replaced. NAMEs are unique within the group (§4.3.4.1.1): a repeated
 * label gets its language appended. Pure.
 * @throws Error when `masterText` is not a multivariant playlist.
 */
export function withSubtitles(masterText: string, tracks: readonly Pick<CaptionTrack, 'language' | 'label' | 'playlist'>[]): string {
  const playlist = HLS.parse(masterText);
  if (!playlist.isMasterPlaylist) throw new Error('Expected a multivariant playlist');
  const master = playlist as MasterPlaylist;
  const sorted = [...tracks].sort((a, b) => a.language.localeCompare(b.language));
  const names = new Set<string>();
  const renditions = sorted.map((t) => {
    let name = t.label;
    if (names.has(name)) name = `${t.label} (${t.language})`;
    names.add(name);
    return new HLS.types.Rendition({
      type: 'SUBTITLES',
      groupId: SUBTITLES_GROUP_ID,
      name,
      language: t.language,
      isDefault: false,
      autoselect: true,
      uri: t.playlist,
    } as ConstructorParameters<typeof HLS.types.Rendition>[0]) as Rendition & { type: 'SUBTITLES' };
  });
  for (const v of master.variants) {
    // I-frame variants take no SUBTITLES attribute (RFC 8216 §4.3.4.3).
    v.subtitles = v.isIFrameOnly ? [] : renditions;
  }
  const text = HLS.stringify(master);
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** A text track's media playlist: VOD, one segment per `durations` entry (RFC 8216 §4.3.3). Pure. */
export function captionMediaPlaylist(durations: readonly number[]): string {
  const playlist = new HLS.types.MediaPlaylist({
    version: 3,
    targetDuration: Math.max(1, ...durations.map((d) => Math.round(d))),
    mediaSequenceBase: 0,
    playlistType: 'VOD',
    endlist: true,
    segments: durations.map((duration, n) => new HLS.types.Segment({ uri: captionSegmentFile(n), duration, mediaSequenceNumber: n })),
  });
  const text = HLS.stringify(playlist);
  return text.endsWith('\n') ? text : `${text}\n`;
}

export class CaptionStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  /** The video's text tracks, by language. */
  async list(videoId: string): Promise<CaptionTrack[]> {
    const found: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: keys.captionsPrefix(videoId), ContinuationToken: token }));
      found.push(...(page.Contents ?? []).flatMap((o) => (o.Key?.endsWith('.json') ? [o.Key] : [])));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const tracks = await Promise.all(found.map((key) => getJson<CaptionTrack>(this.s3, this.bucket, key)));
    return tracks.filter((t): t is CaptionTrack => !!t).sort((a, b) => a.language.localeCompare(b.language));
  }

  async get(videoId: string, language: string): Promise<CaptionTrack | undefined> {
    return getJson<CaptionTrack>(this.s3, this.bucket, keys.captionRecord(videoId, language));
  }

  /**
   * Uploads a track's segments and media playlist under `videos/{videoId}/{dir}/`
   * (segments immutable: cached for a year, like the video's), `concurrency` at a time.
   * @returns The keys written.
   */
  async publishFiles(videoId: string, dir: string, segments: readonly string[], durations: readonly number[], concurrency = 16): Promise<string[]> {
    const base = keys.videoFile(videoId, `${dir}/`);
    const written: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < segments.length) {
        const n = next++;
        const Key = base + captionSegmentFile(n);
        await this.s3.send(
          new PutObjectCommand({ Bucket: this.bucket, Key, Body: segments[n], ContentType: VTT_CONTENT_TYPE, CacheControl: 'public, max-age=31536000, immutable' }),
        );
        written.push(Key);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, segments.length) }, worker));
    const playlistKey = `${base}index.m3u8`;
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: playlistKey, Body: captionMediaPlaylist(durations), ContentType: PLAYLIST_CONTENT_TYPE, CacheControl: 'no-cache' }),
    );
    return [...written, playlistKey];
  }

  /**
   * The segment grid a text track follows: the EXTINF durations, seconds, of the
   * published master's first variant (RFC 8216 §3.5: subtitle segments line up with the media's).
   * @returns undefined when the video has no published master.
   */
  async segmentGrid(videoId: string): Promise<number[] | undefined> {
    const masterText = await this.text(keys.master(videoId));
    if (masterText === undefined) return undefined;
    const master = HLS.parse(masterText) as MasterPlaylist;
    const variant = master.variants.find((v) => !v.isIFrameOnly);
    if (!variant) throw new Error(`The master playlist of video ${videoId} has no variant`);
    const mediaText = await this.text(keys.videoFile(videoId, variant.uri));
    if (mediaText === undefined) return undefined;
    return (HLS.parse(mediaText) as MediaPlaylist).segments.map((s) => s.duration);
  }

  private async text(Key: string): Promise<string | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      return await out.Body!.transformToString('utf-8');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Stores a track's record (replacing the language's previous one). */
  async put(videoId: string, track: CaptionTrack): Promise<void> {
    await putJson(this.s3, this.bucket, keys.captionRecord(videoId, track.language), track);
  }

  /** Removes a track's record (its files stay until `removeFiles`). */
  async remove(videoId: string, language: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: keys.captionRecord(videoId, language) }));
  }

  /** Removes a track's published files (after the master stopped listing them). */
  async removeFiles(videoId: string, track: Pick<CaptionTrack, 'playlist'>): Promise<void> {
    await deletePrefix(this.s3, this.bucket, keys.videoFile(videoId, captionDirOf(track)));
  }

  /**
   * Renders the master from the published one and the stored tracks, and
   * PUTs it, until a listing taken after the PUT matches what was rendered
   * (see the module comment).
   * @returns The tracks the published master lists; undefined when the video has no master (nothing published).
   * @throws Error when the tracks kept changing for `MAX_PUBLISH_ROUNDS` rounds.
   */
  async publishMaster(videoId: string): Promise<CaptionTrack[] | undefined> {
    const Key = keys.master(videoId);
    let tracks = await this.list(videoId);
    for (let round = 0; round < MAX_PUBLISH_ROUNDS; round++) {
      const current = await this.text(Key);
      if (current === undefined) return undefined;
      const text = withSubtitles(current, tracks);
      if (text !== current) {
        await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: text, ContentType: PLAYLIST_CONTENT_TYPE, CacheControl: 'no-cache' }));
      }
      const after = await this.list(videoId);
      if (sameTracks(after, tracks)) return tracks;
      tracks = after;
    }
    throw new Error(`The text tracks of video ${videoId} kept changing; ${MASTER_PLAYLIST} not settled`);
  }
}

function sameTracks(a: readonly CaptionTrack[], b: readonly CaptionTrack[]): boolean {
  const id = (t: CaptionTrack) => `${t.language}\u0000${t.label}\u0000${t.playlist}`;
  return a.length === b.length && a.every((t, i) => id(t) === id(b[i]!));
}

