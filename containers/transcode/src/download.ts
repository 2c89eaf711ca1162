/**
 * The MP4 download: a progressive MP4 (H.264/AAC, `+faststart`: the index
 * first, so it plays while it downloads) of one rendition, made without
 * encoding anything again — the rendition's published segments and the
 * audio's are read back from the media bucket (streamed into two local TS
 * files: our segments share one timeline, so they join byte for byte) and
 * remuxed with `-c copy`. It runs as a task once the final playlists are out
 * (coordinator.ts), so it never holds up playback.
 *
 * The object gets `Content-Disposition: attachment` with the original name
 * at upload time: a signed CloudFront URL cannot ask S3 to override response
 * headers (no `response-content-disposition` through Origin Access Control),
 * and the header then travels with the object through any cache.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { AUDIO_RENDITION, DOWNLOAD_FILE, keys, type Rendition } from '@vod/contract';
import { contentDisposition } from '@vod/service-kit';
import { TranscodeError } from './errors.js';
import type { FfmpegArgs } from './ffmpeg-args.js';
import { runFfmpeg } from './ffmpeg-runner.js';
import { CONTENT_TYPES } from './publish.js';

/** Default download rung: the 720p rung's short side (the source's own size when it is smaller). */
export const DEFAULT_DOWNLOAD_SHORT_SIDE = 720;

/**
 * The rendition to offer as a download: the largest whose shorter side is at
 * most `shortSide` (so a 1080p source gets its 720p rendition, a 480p source
 * its top one, never upscaled); the smallest if all are larger. Pure.
 * @returns undefined when there is no video rendition.
 */
export function chooseDownloadRendition(renditions: readonly Rendition[], shortSide: number): Rendition | undefined {
  const short = (r: Rendition) => Math.min(r.width, r.height);
  const fitting = renditions.filter((r) => short(r) <= shortSide).sort((a, b) => short(b) - short(a));
  return fitting[0] ?? [...renditions].sort((a, b) => short(a) - short(b))[0];
}

/** The saved file's name: the upload's name with `.mp4` for its extension ("Holiday 2024.MOV" → "Holiday 2024.mp4"). Pure. */
export function downloadFilename(original: string | undefined, videoId: string): string {
  const base = (original ?? '').split(/[/\\]/).pop()!.trim();
  const stem = base.replace(/\.[A-Za-z0-9]{1,5}$/, '').trim();
  return `${stem || videoId}.mp4`;
}

/** The ffmpeg command that remuxes the joined TS files into `out` (no re-encode). Pure. */
export function buildRemuxArgs(videoTs: string, audioTs: string | undefined, out: string): FfmpegArgs {
  const options = [
    '-map', '0:v:0',
    ...(audioTs ? ['-map', '1:a:0'] : []),
    '-c', 'copy',
    // ADTS (as in TS) to the AudioSpecificConfig MP4 wants.
    ...(audioTs ? ['-bsf:a', 'aac_adtstoasc'] : []),
    '-movflags', '+faststart',
    '-f', 'mp4',
  ];
  const inputOptions = ['-hide_banner', '-nostdin', '-benchmark', '-protocol_whitelist', 'file', '-f', 'mpegts'];
  return {
    input: videoTs,
    inputOptions,
    extraInputs: audioTs ? [{ input: audioTs, options: ['-protocol_whitelist', 'file', '-f', 'mpegts'] }] : [],
    outputs: [{ options, target: out }],
  };
}

export interface DownloadJob {
  videoId: string;
  rendition: string;
  videoSegments: number;
  audioSegments: number;
  filename: string;
}

export interface DownloadOutput {
  bytes: number;
  key: string;
  cpuSeconds: number;
  wallSeconds: number;
}

/**
 * Makes the MP4 of `job` in `dir` and uploads it to `videos/{videoId}/download.mp4`.
 * @throws TranscodeError when ffmpeg fails or writes nothing; an S3 error.
 */
export async function makeDownload(
  s3: S3Client,
  bucket: string,
  job: DownloadJob,
  dir: string,
  opts: { signal?: AbortSignal; niceness?: number; partSize?: number } = {},
): Promise<DownloadOutput> {
  const started = performance.now();
  const videoTs = path.join(dir, 'video.ts');
  await joinSegments(s3, bucket, job.videoId, job.rendition, job.videoSegments, videoTs, opts.signal);
  let audioTs: string | undefined;
  if (job.audioSegments > 0) {
    audioTs = path.join(dir, 'audio.ts');
    await joinSegments(s3, bucket, job.videoId, AUDIO_RENDITION, job.audioSegments, audioTs, opts.signal);
  }
  const out = path.join(dir, DOWNLOAD_FILE);
  const args = buildRemuxArgs(videoTs, audioTs, out);
  const ran = await runFfmpeg(args, { signal: opts.signal, niceness: opts.niceness });
  const { size } = await stat(out).catch(() => ({ size: 0 }));
  if (size === 0) throw new TranscodeError('The MP4 download came out empty');

  const key = keys.videoFile(job.videoId, DOWNLOAD_FILE);
  await new Upload({
    client: s3,
    params: {
      Bucket: bucket,
      Key: key,
      Body: createReadStream(out),
      ContentType: CONTENT_TYPES.mp4,
      ContentDisposition: contentDisposition(job.filename, 'attachment'),
      CacheControl: 'public, max-age=31536000, immutable',
    },
    // Multipart in 8 MiB parts (the upload service's part size): streamed, at most two parts in memory.
    partSize: opts.partSize ?? 8 * 1024 * 1024,
    queueSize: 2,
  }).done();
  const cpuSeconds = Number.isFinite(ran.cpuSeconds) ? ran.cpuSeconds : 0;
  return { bytes: size, key, cpuSeconds: Math.round(cpuSeconds * 1000) / 1000, wallSeconds: Math.round((performance.now() - started) / 1000 * 1000) / 1000 };
}

/** Streams segments 0…count−1 of a rendition, in order, into one file (never more than one S3 body in flight). */
async function joinSegments(s3: S3Client, bucket: string, videoId: string, rendition: string, count: number, file: string, signal?: AbortSignal): Promise<void> {
  for (let n = 0; n < count; n++) {
    if (signal?.aborted) throw new TranscodeError('Download aborted', { aborted: true, cause: signal.reason });
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: keys.segment(videoId, rendition, n) }), { abortSignal: signal });
    await pipeline(out.Body as Readable, createWriteStream(file, { flags: n === 0 ? 'w' : 'a' }), { signal });
  }
}
