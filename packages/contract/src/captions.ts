/**
 * Captions and subtitles: the facts the API, the stream service, the
 * transcode worker and the clients share about text tracks.
 *
 * A video has at most one text track per language (BCP 47 tag, RFC 5646),
 * published as an HLS SUBTITLES rendition (RFC 8216 §4.3.4.1): a media
 * playlist of segmented WebVTT (RFC 8216 §3.5) on the video's own segment
 * grid, listed in the multivariant playlist's `subs` group.
 *
 * Browser-safe (zod and `Intl` only).
 */
import { z } from 'zod';
import { MEDIA_PLAYLIST, SEGMENT } from './keys.js';

/** `POST /api/videos/:id/captions` multipart/form-data field names. */
export const CAPTION_FIELDS = {
  /** The WebVTT (`.vtt`) or SubRip (`.srt`) file, UTF-8. */
  file: 'file',
  /** Its language, a BCP 47 tag (`en`, `pt-BR`, `zh-Hant`). */
  language: 'language',
  /** Optional name shown in players' menus (default: the language's name). */
  label: 'label',
} as const;

export const CAPTION_LIMITS = {
  /** Largest caption file accepted, bytes (a two-hour film's subtitles are ~100 KB). */
  fileBytes: 2 * 1024 * 1024,
  /** Longest label, characters. */
  label: 100,
  /** Most text tracks on one video. */
  tracks: 50,
} as const;

/** GROUP-ID of the SUBTITLES renditions in every master playlist (RFC 8216 §4.3.4.1.1). */
export const SUBTITLES_GROUP_ID = 'subs';

/**
 * Seconds added to every timestamp of the published media: the MPEG-TS
 * segments' presentation time of source second 0 (the transcode's
 * `-output_ts_offset`, which keeps every PTS positive). The WebVTT segments'
 * `X-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000` says the same: cue time 0
 * is PTS 1.4 s × 90 kHz (RFC 8216 §3.5).
 */
export const TIMELINE_OFFSET_SECONDS = 1.4;
/** The MPEG-TS clock, ticks per second (ISO/IEC 13818-1 PTS). */
export const MPEGTS_CLOCK_HZ = 90_000;

/** Where a text track came from: uploaded beside the video, or extracted from the source's own tracks. */
export const CAPTION_SOURCES = ['sidecar', 'embedded'] as const;
export type CaptionSource = (typeof CAPTION_SOURCES)[number];

/**
 * The canonical form of a BCP 47 language tag (`EN-us` → `en-US`), or
 * undefined when it is not a well-formed tag (ECMA-402 `Intl.getCanonicalLocales`).
 * Only letters, digits and `-` survive, so the tag is also a safe path segment.
 */
export function canonicalLanguage(tag: string): string | undefined {
  if (!/^[A-Za-z0-9-]{1,35}$/.test(tag)) return undefined;
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    return canonical && /^[A-Za-z0-9-]+$/.test(canonical) ? canonical : undefined;
  } catch {
    return undefined;
  }
}

/** The language's own name in English (`pt-BR` → `Portuguese (Brazil)`), or the tag itself. */
export function languageName(tag: string): string {
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(tag) ?? tag;
  } catch {
    return tag;
  }
}

export const languageSchema = z
  .string()
  .transform((s, ctx) => {
    const tag = canonicalLanguage(s.trim());
    if (!tag) {
      ctx.addIssue({ code: 'custom', message: `language must be a BCP 47 tag such as en, pt-BR or zh-Hant (got ${JSON.stringify(s)})` });
      return z.NEVER;
    }
    return tag;
  })
  .meta({ description: 'A BCP 47 language tag (RFC 5646), e.g. `en`, `pt-BR`; stored in canonical case.' });

/** `POST /api/videos/:id/captions` form fields besides the file. */
export const addCaptionFieldsSchema = z.object({
  [CAPTION_FIELDS.language]: languageSchema,
  [CAPTION_FIELDS.label]: z
    .string()
    .trim()
    .max(CAPTION_LIMITS.label, `label must be at most ${CAPTION_LIMITS.label} characters`)
    .refine((t) => !/[\u0000-\u001F\u007F"]/.test(t), 'label must be one line without control characters or double quotes')
    .optional(),
});

/** A video's text track, as `GET /api/videos/:id/captions` lists it (also the stored record of it). */
export const captionTrackSchema = z.object({
  /** Canonical BCP 47 tag: the track's id within its video. */
  language: z.string(),
  /** Name shown in players' menus. */
  label: z.string(),
  source: z.enum(CAPTION_SOURCES),
  /** The uploaded file's format (sidecar) or the source's codec (embedded: `mov_text`, `subrip`, `webvtt`, `ass`). */
  format: z.string(),
  /** Cues published. */
  cues: z.number().int().min(0),
  /** The track's media playlist, relative to the video's prefix (`captions/en/index.m3u8`). */
  playlist: z.string(),
  /** ISO 8601. */
  createdAt: z.string(),
});
export type CaptionTrack = z.infer<typeof captionTrackSchema>;

export const listCaptionsResponseSchema = z.object({ captions: z.array(captionTrackSchema) });
export type ListCaptionsResponse = z.infer<typeof listCaptionsResponseSchema>;

/** Directory of the text tracks under a video's prefix. */
export const CAPTIONS_DIR = 'captions';
/** WebVTT segment files: `seg_00000.vtt` (RFC 8216 §3.5). */
export function captionSegmentFile(n: number): string {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`Segment number must be a whole number ≥ 0 (got ${n})`);
  return `${SEGMENT.prefix}${String(n).padStart(SEGMENT.digits, '0')}.vtt`;
}
/** `captions/en`: a track's directory under the video's prefix. */
export function captionDir(language: string): string {
  return `${CAPTIONS_DIR}/${language}`;
}
/** `captions/en/index.m3u8`: a track's media playlist under the video's prefix. */
export function captionPlaylistPath(language: string): string {
  return `${captionDir(language)}/${MEDIA_PLAYLIST}`;
}
