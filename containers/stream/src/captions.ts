/**
 * Captions and subtitles of a ready video: a WebVTT or SubRip file becomes a
 * SUBTITLES rendition (contract captions.ts). Routes (app.ts) parse the
 * multipart form; this validates, publishes and lists.
 *
 * Order of writes, so a crash at any step leaves nothing a player can trip
 * on and the request can simply be repeated: the track's segments and media
 * playlist (in a directory of their own), then its record, then the master
 * (`CaptionStore.publishMaster`: never half-written, no concurrent upload
 * lost), and only then the files of the track it replaced. Removal goes the
 * other way round: record, master, files.
 *
 * Captions are taken once the video is `ready` (409 `not_ready` before):
 * until then the transcode's coordinator is the master's only writer.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  CAPTION_LIMITS,
  MEDIA_PLAYLIST,
  addCaptionFieldsSchema,
  canonicalLanguage,
  languageName,
  type CaptionTrack,
  type ListCaptionsResponse,
  type StoredVideoRecord,
} from '@vod/contract';
import { AppError, CaptionStore, cuesWithin, isDeleted, newCaptionDir, parseCaptions, segmentCues, type StatusStore } from '@vod/service-kit';
import type { Logger } from 'pino';

export interface CaptionAdminDeps {
  s3: S3Client;
  mediaBucket: string;
  store: StatusStore;
  /** Called after the video's master changed, so this process drops its cached signed playlists. */
  onMasterChanged?: (videoId: string) => void;
  now?: () => Date;
}

export class CaptionAdmin {
  private readonly captions: CaptionStore;
  private readonly now: () => Date;

  constructor(private readonly deps: CaptionAdminDeps) {
    this.captions = new CaptionStore(deps.s3, deps.mediaBucket);
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Publishes a caption file as the video's track in `fields.language`.
   * @param file The uploaded bytes (at most `CAPTION_LIMITS.fileBytes`; the route enforces it).
   * @param fields The form's other fields (`language`, `label?`).
   * @throws AppError `bad_language`, `invalid_body` (label), `not_found`, `not_ready` (409),
   *   `invalid_captions` (the message names the line), `bad_request` (too many tracks).
   */
  async add(videoId: string, file: Uint8Array, fields: Record<string, unknown>, log: Logger): Promise<CaptionTrack> {
    const parsed = addCaptionFieldsSchema.safeParse(fields);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = String(issue.path[0] ?? 'language');
      throw new AppError(field === 'language' ? 'bad_language' : 'invalid_body', field === 'language' && fields.language === undefined ? 'language is required (a BCP 47 tag such as en)' : `${field}: ${issue.message}`);
    }
    const { language, label } = parsed.data;
    await this.ready(videoId);
    const { format, cues } = parseCaptions(file);

    const grid = await this.captions.segmentGrid(videoId);
    if (!grid) throw new AppError('not_ready', `Video ${videoId} has no published playlists`);
    const duration = grid.reduce((a, b) => a + b, 0);
    const kept = cuesWithin(cues, duration);
    const [existing, previous] = await Promise.all([this.captions.list(videoId), this.captions.get(videoId, language)]);
    if (!previous && existing.length >= CAPTION_LIMITS.tracks) {
      throw new AppError('bad_request', `Video ${videoId} already has ${existing.length} text tracks (at most ${CAPTION_LIMITS.tracks}); remove one first`);
    }

    const dir = newCaptionDir(language);
    const track: CaptionTrack = {
      language,
      label: label || languageName(language),
      source: 'sidecar',
      format,
      cues: kept.length,
      playlist: `${dir}/${MEDIA_PLAYLIST}`,
      createdAt: this.now().toISOString(),
    };
    await this.captions.publishFiles(videoId, dir, segmentCues(kept, grid), grid);
    await this.captions.put(videoId, track);
    await this.captions.publishMaster(videoId);
    this.deps.onMasterChanged?.(videoId);
    if (await this.deleted(videoId)) {
      await this.captions.remove(videoId, language);
      await this.captions.removeFiles(videoId, track);
      throw new AppError('not_found', `No video ${videoId}`);
    }
    if (previous && previous.playlist !== track.playlist) await this.captions.removeFiles(videoId, previous);
    log.info({ videoId, language, format, cues: kept.length, dropped: cues.length - kept.length, replaced: !!previous }, 'captions published');
    return track;
  }

  /** @throws AppError `not_found`. */
  async list(videoId: string): Promise<ListCaptionsResponse> {
    await this.existing(videoId);
    return { captions: await this.captions.list(videoId) };
  }

  /**
   * Removes the video's track in `language`: the master stops listing it, then its files go.
   * @throws AppError `bad_language`, `not_found` (no video, or no track in that language).
   */
  async remove(videoId: string, rawLanguage: string, log: Logger): Promise<void> {
    const language = canonicalLanguage(rawLanguage);
    if (!language) throw new AppError('bad_language', `${JSON.stringify(rawLanguage)} is not a BCP 47 language tag`);
    await this.existing(videoId);
    const track = await this.captions.get(videoId, language);
    if (!track) throw new AppError('not_found', `Video ${videoId} has no captions in ${language}`);
    await this.captions.remove(videoId, language);
    await this.captions.publishMaster(videoId);
    this.deps.onMasterChanged?.(videoId);
    await this.captions.removeFiles(videoId, track);
    log.info({ videoId, language }, 'captions removed');
  }

  private async existing(videoId: string): Promise<StoredVideoRecord> {
    const record = await this.deps.store.get(videoId);
    if (!record) throw new AppError('not_found', `No video ${videoId}`);
    return record;
  }

  private async ready(videoId: string): Promise<void> {
    const record = await this.existing(videoId);
    if (record.status !== 'ready') {
      throw new AppError('not_ready', `Video ${videoId} is ${record.status}; captions can be added once it is ready`);
    }
  }

  private deleted(videoId: string): Promise<boolean> {
    return isDeleted(this.deps.s3, this.deps.mediaBucket, videoId);
  }
}
