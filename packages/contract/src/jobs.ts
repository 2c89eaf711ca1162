/**
 * Messages between the parts of the transcode pipeline.
 *
 * Jobs queue (standard SQS; any worker takes any message):
 *   `transcode`  upload service → worker: plan this video (probe, ladder, chunks).
 *   `chunk`      planner → workers: encode one time range of the source, every rendition.
 *   `audio`      planner → workers: encode the whole audio track once.
 *   `poster`     planner → workers: pick a representative frame, write the poster images.
 *   `download`   coordinator → workers, once the final playlists are out: remux one
 *                rendition's segments and the audio into a progressive MP4.
 *   `storyboard` coordinator → workers, then too: seek-preview sheets from one
 *                rendition's keyframes (its I-frame playlist's byte ranges).
 *   `captions`   coordinator → workers, then too: the source's own text tracks
 *                as WebVTT, segmented on the published grid (SUBTITLES renditions).
 *
 * Control queue (FIFO SQS, message group = videoId, so one video's messages
 * are handled one at a time, in order, by the coordinator):
 *   `planned`, `progress`, `chunk-done`, `audio-partial` (the audio encoded so far,
 *   published while the task runs), `audio-done`, `poster-done`, `download-done`,
 *   `storyboard-done`, `captions-done`, `failed`.
 *
 * Every message carries the video's `run` (1 for the first transcode, +1 for
 * each retry); a message from an older run is ignored.
 */
import { z } from 'zod';
import { captionTrackSchema } from './captions.js';
import { idSchema } from './ids.js';
import { downloadSchema, posterSchema, storyboardSchema } from './video.js';

const run = z.number().int().min(1);
const seconds = z.number().min(0);

/** An exact frame rate, `num/den` frames per second (e.g. 30000/1001). */
export const frameRateSchema = z.object({ num: z.number().int().positive(), den: z.number().int().positive() });
export type FrameRate = z.infer<typeof frameRateSchema>;

/** One H.264 rendition as planned for a source (transcode's `planLadder`). */
export const renditionSchema = z.object({
  /** Unique name, also its directory: "720p". */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/),
  /** Pixels, even. */
  width: z.number().int().min(2),
  height: z.number().int().min(2),
  frameRate: frameRateSchema,
  /** kbit/s. */
  videoBitrateKbps: z.number().int().positive(),
  /** kbit/s (x264 `-maxrate`). */
  maxrateKbps: z.number().int().positive(),
  /** kbit (x264 `-bufsize`). */
  bufsizeKbits: z.number().int().positive(),
  profile: z.enum(['high', 'main', 'baseline']),
  level: z.string().optional(),
});
export type Rendition = z.infer<typeof renditionSchema>;

/** What the chunk tasks need to know about the source's picture. */
export const sourcePictureSchema = z.object({
  /** Stream index (`-map 0:<index>`). */
  index: z.number().int().min(0),
  /** The source flags interlaced frames: de-interlace before scaling. */
  interlaced: z.boolean().optional(),
});

/** One chunk: source time `[startSeconds, endSeconds)`, on the segment grid. */
export const chunkSpanSchema = z.object({
  index: z.number().int().min(0),
  startSeconds: seconds,
  /** Exclusive end; for the last chunk, the source's duration plus a margin (nothing after it is encoded). */
  endSeconds: seconds,
  /** Number of the first segment this chunk writes (`seg_<n>.ts`). */
  firstSegment: z.number().int().min(0),
  last: z.boolean(),
});
export type ChunkSpan = z.infer<typeof chunkSpanSchema>;

/** Encoding settings every task of a run shares. */
export const encodeSettingsSchema = z.object({
  /** Segment duration, seconds (EXT-X-TARGETDURATION; a whole multiple of the keyframe interval). */
  segmentSeconds: z.number().int().positive(),
  /** Keyframe interval, seconds, the same in every rendition. */
  keyframeSeconds: z.number().int().positive(),
  /** x264 preset. */
  preset: z.string(),
  /**
   * x264 preset of the first chunk when it is not the whole video, if faster than `preset`:
   * the first chunk is what makes a video playable, so it trades some quality per bit for
   * start time. Absent: the first chunk uses `preset` (and in messages from before this existed).
   */
  firstChunkPreset: z.string().optional(),
});
export type EncodeSettings = z.infer<typeof encodeSettingsSchema>;

// --- jobs queue ----------------------------------------------------------------

export const transcodeJobSchema = z.object({
  type: z.literal('transcode'),
  videoId: idSchema,
  /** Uploads-bucket key of the original file (`keys.source(videoId)`). */
  sourceKey: z.string().min(1),
  /** Absent in messages from before retries existed: run 1. */
  run: run.default(1),
});
export type TranscodeJob = z.input<typeof transcodeJobSchema>;

export const chunkTaskSchema = z.object({
  type: z.literal('chunk'),
  videoId: idSchema,
  run,
  sourceKey: z.string().min(1),
  chunk: chunkSpanSchema,
  /** Chunks of this run (for log lines and priorities). */
  chunkCount: z.number().int().positive(),
  picture: sourcePictureSchema,
  renditions: z.array(renditionSchema).min(1),
  settings: encodeSettingsSchema,
});
export type ChunkTask = z.infer<typeof chunkTaskSchema>;

export const audioTaskSchema = z.object({
  type: z.literal('audio'),
  videoId: idSchema,
  run,
  sourceKey: z.string().min(1),
  /** Stream index of the audio track. */
  index: z.number().int().min(0),
  /** Seconds of audio to encode at most (the source's duration plus a margin). */
  endSeconds: seconds,
  settings: encodeSettingsSchema,
  /**
   * Source seconds (the ends of the video chunks) at which the audio encoded so
   * far is published and reported (`audio-partial`), so the video is playable
   * as soon as its first chunk is, not once the whole track is encoded. Absent: report at the end only.
   */
  reportAtSeconds: z.array(seconds).optional(),
});
export type AudioTask = z.infer<typeof audioTaskSchema>;

/** What the poster task needs to know about the source's picture. */
export const posterTaskSchema = z.object({
  type: z.literal('poster'),
  videoId: idSchema,
  run,
  sourceKey: z.string().min(1),
  picture: sourcePictureSchema,
  /** Seconds of the source (candidate frames are spread over it). */
  durationSeconds: z.number().positive(),
  /** The picture as shown (rotation and pixel aspect ratio applied), pixels. */
  displayWidth: z.number().int().positive(),
  displayHeight: z.number().int().positive(),
});
export type PosterTask = z.infer<typeof posterTaskSchema>;

export const downloadTaskSchema = z.object({
  type: z.literal('download'),
  videoId: idSchema,
  run,
  /** The rendition to remux (its segments `seg_00000.ts` … are published). */
  rendition: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** Segments of the rendition, numbered from 0. */
  videoSegments: z.number().int().positive(),
  /** Segments of the audio rendition, numbered from 0; 0 = the video has no audio. */
  audioSegments: z.number().int().min(0),
  /** The name a browser saves the file under. */
  filename: z.string().min(1),
  /** Bytes of those segments together (the task needs about twice this in scratch space). */
  bytes: z.number().int().positive(),
});
export type DownloadTask = z.infer<typeof downloadTaskSchema>;

export const storyboardTaskSchema = z.object({
  type: z.literal('storyboard'),
  videoId: idSchema,
  run,
  /** The rendition whose keyframes become the tiles (its I-frame playlist is published). */
  rendition: z.object({ name: z.string(), width: z.number().int().positive(), height: z.number().int().positive() }),
  /** Seconds of the presentation. */
  durationSeconds: z.number().positive(),
  /** Keyframe interval, seconds (tiles are every whole multiple of it). */
  keyframeSeconds: z.number().int().positive(),
});
export type StoryboardTask = z.infer<typeof storyboardTaskSchema>;

/**
 * A text subtitle stream of the source, as the planner chose it for extraction
 * (transcode probe.ts `textTracks`, `chooseTextTracks`): at most one per language.
 */
export const textTrackSchema = z.object({
  /** Absolute stream index in the source (`-map 0:<index>`). */
  index: z.number().int().min(0),
  /** Canonical BCP 47 tag (ISO 639-2 `eng` → `en`); `und` when the source names none. */
  language: z.string().min(1),
  /** Name for players' menus: the stream's title, else the language's English name. */
  label: z.string().min(1),
  /** ffprobe codec name: `mov_text`, `subrip`, `webvtt`, `ass`, `ssa`, `text`. */
  codec: z.string().min(1),
});
export type TextTrack = z.infer<typeof textTrackSchema>;

export const captionsTaskSchema = z.object({
  type: z.literal('captions'),
  videoId: idSchema,
  run,
  sourceKey: z.string().min(1),
  /** The tracks to extract (one ffmpeg run reads them all). */
  tracks: z.array(textTrackSchema).min(1),
});
export type CaptionsTask = z.infer<typeof captionsTaskSchema>;

export const workMessageSchema = z.discriminatedUnion('type', [
  transcodeJobSchema,
  chunkTaskSchema,
  audioTaskSchema,
  posterTaskSchema,
  downloadTaskSchema,
  storyboardTaskSchema,
  captionsTaskSchema,
]);
export type WorkMessage = z.infer<typeof workMessageSchema>;

// --- control queue ---------------------------------------------------------------

/**
 * One keyframe (IDR picture) inside a video segment, as an I-frame playlist
 * lists it (RFC 8216 §4.3.3.6 EXT-X-I-FRAMES-ONLY, §4.3.2.2 EXT-X-BYTERANGE):
 * the byte range holds the PAT/PMT packets written just before the picture
 * and every TS packet of the picture, so it decodes on its own.
 */
export const keyframeInfoSchema = z.object({
  /** Seconds from the segment's start (its first keyframe) to this picture's presentation time. */
  at: seconds,
  /** Bytes from the start of the segment file to the range's first TS packet. */
  offset: z.number().int().min(0),
  /** Bytes in the range (a multiple of 188, the TS packet size). */
  length: z.number().int().positive(),
});
export type KeyframeInfo = z.infer<typeof keyframeInfoSchema>;

/** A published segment: its number, duration (EXTINF, seconds) and size (bytes). */
export const segmentInfoSchema = z.object({
  n: z.number().int().min(0),
  duration: z.number().positive(),
  bytes: z.number().int().positive(),
  /** Video segments: its keyframes, in order (for the I-frame playlist). Absent for audio. */
  keyframes: z.array(keyframeInfoSchema).optional(),
});
export type SegmentInfo = z.infer<typeof segmentInfoSchema>;

/** Cost of one task: CPU-seconds of its ffmpeg process (rusage) and wall-clock seconds. */
export const taskCostSchema = z.object({ cpuSeconds: seconds, wallSeconds: seconds });
export type TaskCost = z.infer<typeof taskCostSchema>;

/** The plan of a run, as the coordinator keeps it. */
export const runPlanSchema = z.object({
  durationSeconds: z.number().positive(),
  chunks: z.array(chunkSpanSchema),
  renditions: z.array(renditionSchema),
  audio: z.object({ channels: z.number().int().positive(), language: z.string().optional() }).optional(),
  settings: encodeSettingsSchema,
  /** A poster task was sent: the run is complete only once it reports (absent in plans from before posters). */
  poster: z.boolean().optional(),
  /** An MP4 download of this rendition is made after the final playlists, before `ready`. */
  download: z.object({ rendition: z.string() }).optional(),
  /** Seek previews from this rendition's keyframes are made after the final playlists, before `ready`. */
  storyboard: z.object({ rendition: z.string() }).optional(),
  /** Uploads-bucket key of the source the run's tasks read (absent in older plans: `keys.source(videoId)`). */
  sourceKey: z.string().min(1).optional(),
  /** The source's text tracks, extracted after the final playlists, before `ready` (absent in plans from before extraction: none). */
  textTracks: z.array(textTrackSchema).optional(),
});
export type RunPlan = z.infer<typeof runPlanSchema>;

const control = { videoId: idSchema, run };

export const plannedMessageSchema = z.object({ type: z.literal('planned'), ...control, plan: runPlanSchema });
export const progressMessageSchema = z.object({
  type: z.literal('progress'),
  ...control,
  /** `chunk:<index>` or `audio`. */
  task: z.string(),
  /** 0–1 of that task. */
  fraction: z.number().min(0).max(1),
});
export const chunkDoneMessageSchema = z.object({
  type: z.literal('chunk-done'),
  ...control,
  index: z.number().int().min(0),
  /** By rendition name: CODECS of its video (RFC 6381) and its segments. */
  renditions: z.record(z.string(), z.object({ codecs: z.string(), segments: z.array(segmentInfoSchema).min(1) })),
  cost: taskCostSchema,
  /** Times this chunk was started (1 = first try). */
  attempt: z.number().int().min(1),
  /** The source ended (or stopped decoding) inside this chunk: nothing after it can be stitched. */
  endsEarly: z.boolean().optional(),
});
export const audioDoneMessageSchema = z.object({
  type: z.literal('audio-done'),
  ...control,
  segments: z.array(segmentInfoSchema).min(1),
  cost: taskCostSchema,
  attempt: z.number().int().min(1),
});
/** The audio so far (segments from 0, each already published), while the audio task still runs. */
export const audioPartialMessageSchema = z.object({
  type: z.literal('audio-partial'),
  ...control,
  segments: z.array(segmentInfoSchema).min(1),
  attempt: z.number().int().min(1),
});
export const posterDoneMessageSchema = z.object({
  type: z.literal('poster-done'),
  ...control,
  /** The poster made, or why there is none (a poster that cannot be made does not fail the video). */
  poster: posterSchema,
  cost: taskCostSchema,
  attempt: z.number().int().min(1),
});
export const downloadDoneMessageSchema = z.object({
  type: z.literal('download-done'),
  ...control,
  /** The MP4 made, or why there is none (a download that cannot be made does not fail the video). */
  download: downloadSchema,
  cost: taskCostSchema,
  attempt: z.number().int().min(1),
});
export const storyboardDoneMessageSchema = z.object({
  type: z.literal('storyboard-done'),
  ...control,
  /** The storyboard made, or why there is none (it never fails the video). */
  storyboard: storyboardSchema,
  cost: taskCostSchema,
  attempt: z.number().int().min(1),
});
export const captionsDoneMessageSchema = z.object({
  type: z.literal('captions-done'),
  ...control,
  /** The tracks published (a track that cannot be read is left out; extraction never fails the video). */
  tracks: z.array(captionTrackSchema),
  cost: taskCostSchema,
  attempt: z.number().int().min(1),
});
export const failedMessageSchema = z.object({
  type: z.literal('failed'),
  ...control,
  /** For people: why the video cannot be transcoded. */
  reason: z.string(),
});

export const controlMessageSchema = z.discriminatedUnion('type', [
  plannedMessageSchema,
  progressMessageSchema,
  chunkDoneMessageSchema,
  audioPartialMessageSchema,
  audioDoneMessageSchema,
  posterDoneMessageSchema,
  downloadDoneMessageSchema,
  storyboardDoneMessageSchema,
  captionsDoneMessageSchema,
  failedMessageSchema,
]);
export type ControlMessage = z.infer<typeof controlMessageSchema>;
export type ChunkDoneMessage = z.infer<typeof chunkDoneMessageSchema>;
export type AudioDoneMessage = z.infer<typeof audioDoneMessageSchema>;
export type AudioPartialMessage = z.infer<typeof audioPartialMessageSchema>;
export type PosterDoneMessage = z.infer<typeof posterDoneMessageSchema>;
