/**
 * The default adaptive bit-rate ladder and the audio rendition: the rungs the
 * transcode worker encodes and infra sizes the transcode task for.
 *
 * Values follow the "Video" section of Apple's HLS Authoring Specification for
 * Apple Devices (bit-rate variant table: 416x234 @ 145 kb/s ≤ 30 fps,
 * 640x360 @ 730 kb/s ≤ 30 fps, 960x540 @ 2000 kb/s, 1280x720 @ 3000 kb/s,
 * 1920x1080 @ 6000 kb/s, the top three at the source frame rate), with H.264
 * High profile and frame rates of at most 60 fps.
 */

export type H264Profile = 'high' | 'main' | 'baseline';

/** One rung of the ladder configuration. */
export interface LadderRung {
  /** Rendition name, also its directory. Convention: "<short side>p". */
  name: string;
  /** Length of the picture's shorter side in pixels (the height of a landscape picture). */
  shortSide: number;
  /** Target average video bit rate, kbit/s. */
  videoBitrateKbps: number;
  /** VBV maximum rate as a multiple of `videoBitrateKbps` (x264 `-maxrate`). */
  maxrateFactor: number;
  /** VBV buffer size as a multiple of `videoBitrateKbps`, i.e. seconds at the target rate (x264 `-bufsize`). */
  bufsizeFactor: number;
  profile: H264Profile;
  /** H.264 level such as "3.1"; omitted = the lowest level that fits the rendition. */
  level?: string;
  /** Frame-rate ceiling in fps; default 60 (Apple: no frame rates above 60 fps). */
  maxFrameRate?: number;
}

/**
 * Capped VBR at 150 % of the target with a 2-second (at target rate) VBV
 * buffer. Apple allows a VOD peak of up to 200 % of the average; over a
 * 6-second segment this bounds the peak at about maxrate + bufsize ÷ 6 s ≈ 183 %.
 */
const MAXRATE_FACTOR = 1.5;
const BUFSIZE_FACTOR = 2;
const rung = (name: string, shortSide: number, videoBitrateKbps: number, maxFrameRate?: number): LadderRung => ({
  name,
  shortSide,
  videoBitrateKbps,
  maxrateFactor: MAXRATE_FACTOR,
  bufsizeFactor: BUFSIZE_FACTOR,
  profile: 'high',
  ...(maxFrameRate ? { maxFrameRate } : {}),
});

/** Default ladder, highest first. */
export const DEFAULT_LADDER: readonly LadderRung[] = Object.freeze([
  rung('1080p', 1080, 6000),
  rung('720p', 720, 3000),
  rung('540p', 540, 2000),
  rung('360p', 360, 730, 30),
  rung('234p', 234, 145, 30),
]);

/**
 * The rungs of the default ladder with the given short sides (a deployment's
 * `vod:ladder` / the worker's `LADDER`), highest first; all of them when
 * `shortSides` is empty or absent.
 * @throws Error naming any short side that is not a rung of the default ladder.
 */
export function selectLadder(shortSides?: readonly number[]): LadderRung[] {
  if (!shortSides || shortSides.length === 0) return [...DEFAULT_LADDER];
  const known = new Map(DEFAULT_LADDER.map((r) => [r.shortSide, r]));
  const unknown = shortSides.filter((s) => !known.has(s));
  if (unknown.length) {
    throw new Error(`Ladder rungs ${unknown.join(', ')} are not in the default ladder (${[...known.keys()].join(', ')}).`);
  }
  return DEFAULT_LADDER.filter((r) => shortSides.includes(r.shortSide));
}

/** The single audio rendition: AAC-LC stereo 48 kHz (Apple HLS Authoring Spec, "Audio"). */
export const AUDIO = Object.freeze({
  /** ffmpeg encoder name (native AAC encoder, AAC-LC profile). */
  codec: 'aac',
  /** RFC 6381 codec string for AAC-LC, used in CODECS. */
  codecs: 'mp4a.40.2',
  bitrateKbps: 128,
  channels: 2,
  sampleRate: 48000,
} as const);
