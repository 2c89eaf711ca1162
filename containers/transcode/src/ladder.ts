/**
 * Ladder planning: which H.264 renditions to produce for a source, from the
 * ladder's rungs (the default ladder is the contract's `DEFAULT_LADDER`).
 * Rules follow Apple's HLS Authoring Specification for Apple Devices ("Video"):
 * H.264 High profile at level ≤ 4.2, no frame rates above 60 fps, and a level
 * no higher than the resolution and frame rate require.
 */
import { DEFAULT_LADDER, type H264Profile, type LadderRung, type Rendition } from '@vod/contract';
import { toFrameRate } from './frame-rate.js';

export type { H264Profile, LadderRung, Rendition } from '@vod/contract';

/** Frame rates Apple lists as typical for VOD ("use a natural frame rate"). */
const STANDARD_FRAME_RATES = [24000 / 1001, 24, 25, 30000 / 1001, 30, 48, 50, 60000 / 1001, 60];
const DEFAULT_MAX_FRAME_RATE = 60;
/** Used when the source does not declare a usable frame rate. */
const FALLBACK_FRAME_RATE = 30;
/** Floor for the bit rate of a rendition smaller than the smallest rung, kbit/s. */
const MIN_VIDEO_BITRATE_KBPS = 48;

export interface LadderSource {
  /** Width as displayed (after rotation and pixel-aspect correction), pixels. */
  displayWidth: number;
  /** Height as displayed, pixels. */
  displayHeight: number;
  /** Source frame rate in fps; 0 or NaN when unknown (30 is assumed). */
  frameRate: number;
}

/**
 * Choose the renditions to encode for a video source. Pure function.
 *
 * Rules:
 * - Never upscale: rungs whose short side exceeds the source's short side are
 *   dropped. A source smaller than every rung gets one rendition at its own
 *   size, with the smallest rung's bit rate scaled by (pixel ratio)^0.75
 *   (floor 48 kbit/s).
 * - Rungs apply to the short side, so portrait sources stay portrait and the
 *   aspect ratio is kept; both dimensions are rounded to the nearest even
 *   number (4:2:0 chroma needs even sizes), never above the source size, min 2.
 * - Frame rate: the source rate, halved until it is within the rung's ceiling
 *   (60 fps by default, 30 fps for 360p and below per Apple's table), snapped
 *   to a standard rate (23.976 … 60) when within 1 %.
 * - Names are "<short side>p" (the rung's name when it matches); duplicates
 *   get a "-<kbps>k" suffix.
 * - Level: the rung's, else the lowest H.264 level that fits (min 3.0).
 *
 * @param video Display geometry and frame rate of the source (`SourceInfo.video`).
 * @param ladder Rungs, any order; the result is ordered by short side, largest first.
 * @throws RangeError when the display size is not positive or the ladder is empty.
 */
export function planLadder(video: LadderSource, ladder: readonly LadderRung[] = DEFAULT_LADDER): Rendition[] {
  const { displayWidth: w, displayHeight: h } = video;
  if (!(w > 0 && h > 0)) throw new RangeError(`Invalid source size ${w}x${h}`);
  if (ladder.length === 0) throw new RangeError('The ladder has no rungs');

  const landscape = w >= h;
  const srcShort = landscape ? h : w;
  const srcLong = landscape ? w : h;
  const aspect = srcLong / srcShort;
  const sorted = [...ladder].sort((a, b) => b.shortSide - a.shortSide || b.videoBitrateKbps - a.videoBitrateKbps);

  const picks: { rung: LadderRung; short: number; bitrate: number }[] = sorted
    .filter((r) => r.shortSide <= srcShort)
    .map((rung) => ({ rung, short: rung.shortSide, bitrate: rung.videoBitrateKbps }));

  if (picks.length === 0) {
    const smallest = sorted[sorted.length - 1]!;
    const rungLong = Math.round(smallest.shortSide * aspect);
    const pixelRatio = (srcShort * srcLong) / (smallest.shortSide * rungLong);
    const bitrate = Math.max(MIN_VIDEO_BITRATE_KBPS, Math.round(smallest.videoBitrateKbps * pixelRatio ** 0.75));
    picks.push({ rung: smallest, short: srcShort, bitrate: Math.min(bitrate, smallest.videoBitrateKbps) });
  }

  const used = new Set<string>();
  return picks.map(({ rung, short, bitrate }) => {
    const outShort = evenAtMost(short, srcShort);
    const outLong = evenAtMost(outShort * aspect, srcLong);
    const width = landscape ? outLong : outShort;
    const height = landscape ? outShort : outLong;
    const fps = outputFrameRate(video.frameRate, rung.maxFrameRate ?? DEFAULT_MAX_FRAME_RATE);
    const maxrateKbps = Math.round(bitrate * rung.maxrateFactor);
    const bufsizeKbits = Math.round(bitrate * rung.bufsizeFactor);

    let name = outShort === rung.shortSide ? rung.name : `${outShort}p`;
    if (used.has(name)) name = `${name}-${bitrate}k`;
    used.add(name);

    const rendition: Rendition = {
      name,
      width,
      height,
      frameRate: toFrameRate(fps),
      videoBitrateKbps: bitrate,
      maxrateKbps,
      bufsizeKbits,
      profile: rung.profile,
    };
    rendition.level =
      rung.level ?? h264Level({ width, height, frameRate: fps, maxrateKbps, bufsizeKbits, profile: rung.profile });
    return rendition;
  });
}

/**
 * Output frame rate for a source rate under a ceiling: halve until it fits,
 * then snap to a standard rate when within 1 %; otherwise round to 3 decimals.
 *
 * @param sourceFps Source frame rate in fps (≤ 0 or NaN → 30).
 * @param maxFps Ceiling in fps.
 */
export function outputFrameRate(sourceFps: number, maxFps: number = DEFAULT_MAX_FRAME_RATE): number {
  let fps = Number.isFinite(sourceFps) && sourceFps > 0 ? sourceFps : FALLBACK_FRAME_RATE;
  while (fps > maxFps * 1.01) fps /= 2;
  let snapped: number | undefined;
  let bestErr = 0.01;
  for (const std of STANDARD_FRAME_RATES) {
    const err = Math.abs(fps - std) / std;
    if (err <= bestErr) {
      snapped = std;
      bestErr = err;
    }
  }
  return snapped ?? Math.round(fps * 1000) / 1000;
}

/** Limits of one H.264 level (ITU-T H.264 Annex A, Table A-1). */
interface LevelLimits {
  level: string;
  /** Max macroblocks per second. */
  maxMbps: number;
  /** Max frame size in macroblocks. */
  maxFs: number;
  /** Max video bit rate in kbit/s for Baseline/Main (High: × 1.25). */
  maxBr: number;
  /** Max CPB size in kbit for Baseline/Main (High: × 1.25). */
  maxCpb: number;
}

const H264_LEVELS: readonly LevelLimits[] = [
  { level: '3.0', maxMbps: 40500, maxFs: 1620, maxBr: 10000, maxCpb: 10000 },
  { level: '3.1', maxMbps: 108000, maxFs: 3600, maxBr: 14000, maxCpb: 14000 },
  { level: '3.2', maxMbps: 216000, maxFs: 5120, maxBr: 20000, maxCpb: 20000 },
  { level: '4.0', maxMbps: 245760, maxFs: 8192, maxBr: 20000, maxCpb: 25000 },
  { level: '4.1', maxMbps: 245760, maxFs: 8192, maxBr: 50000, maxCpb: 62500 },
  { level: '4.2', maxMbps: 522240, maxFs: 8704, maxBr: 50000, maxCpb: 62500 },
  { level: '5.0', maxMbps: 589824, maxFs: 22080, maxBr: 135000, maxCpb: 135000 },
  { level: '5.1', maxMbps: 983040, maxFs: 36864, maxBr: 240000, maxCpb: 240000 },
  { level: '5.2', maxMbps: 2073600, maxFs: 36864, maxBr: 240000, maxCpb: 240000 },
];

/**
 * Lowest H.264 level (from 3.0 up; every HLS-capable decoder handles 3.0)
 * whose frame size, macroblock rate, bit rate and CPB limits fit the
 * rendition (ITU-T H.264 Table A-1; High profile limits are 1.25× Main's).
 * Apple: "content SHOULD NOT use a higher level than required by the content
 * resolution and frame rate", and at most 4.2 — a rendition needing more is
 * still given the level it needs (5.x) rather than an invalid one.
 *
 * @returns Level string such as "3.1"; "5.2" when nothing lower fits.
 */
export function h264Level(r: {
  width: number;
  height: number;
  frameRate: number;
  maxrateKbps: number;
  bufsizeKbits: number;
  profile: H264Profile;
}): string {
  const mbW = Math.ceil(r.width / 16);
  const mbH = Math.ceil(r.height / 16);
  const frameSize = mbW * mbH;
  const mbps = frameSize * r.frameRate;
  const brFactor = r.profile === 'high' ? 1.25 : 1;
  for (const l of H264_LEVELS) {
    const maxDim = Math.sqrt(8 * l.maxFs); // per-dimension limit in macroblocks
    if (
      frameSize <= l.maxFs &&
      mbW <= maxDim &&
      mbH <= maxDim &&
      mbps <= l.maxMbps &&
      r.maxrateKbps <= l.maxBr * brFactor &&
      r.bufsizeKbits <= l.maxCpb * brFactor
    ) {
      return l.level;
    }
  }
  return H264_LEVELS[H264_LEVELS.length - 1]!.level;
}

/** Round to the nearest even integer, but not above `max` (never upscale), and at least 2. */
function evenAtMost(value: number, max: number): number {
  const nearest = Math.round(value / 2) * 2;
  const ceiling = Math.floor(max / 2) * 2;
  return Math.max(2, Math.min(nearest, ceiling));
}
