/**
 * Wall time of the one-pass HLS ladder encode (probe + plan + one ffmpeg
 * process + master playlist), on the 720p sample and on a synthetic 1080p
 * 60 s clip (testsrc2 + sine, made once with ffmpeg). Local files, no S3, so
 * the figure is the transcode itself.
 *
 *   npx tsx bench/transcode.ts            (TRANSCODE_PRESET=veryfast by default)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeHlsLadder } from '../containers/transcode/src/hls-encode.js';
import { planLadder } from '../containers/transcode/src/ladder.js';
import { probeSource } from '../containers/transcode/src/probe.js';
import { sampleMedia as media } from '../local/sample-media.js';

const preset = process.env.TRANSCODE_PRESET ?? 'veryfast';
const dir = mkdtempSync(path.join(os.tmpdir(), 'vod-bench-'));
const synthetic = path.join(os.tmpdir(), 'vod-bench-1080p-60s.mp4');
if (!existsSync(synthetic)) {
  console.log('making a 1080p 60 s synthetic clip…');
  execFileSync('ffmpeg', [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '60', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '18', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-ac', '2', '-shortest', synthetic,
  ]);
}

console.log(`preset ${preset}, ${os.cpus().length} cores`);
console.log('input                          duration  renditions                     wall time  × realtime');
for (const input of [media('hello-720p-h264-aac.mp4'), synthetic]) {
  const started = process.hrtime.bigint();
  const source = await probeSource(input);
  const renditions = source.video ? planLadder(source.video) : [];
  const outDir = path.join(dir, path.basename(input));
  const result = await encodeHlsLadder({ input, outDir, source, renditions, preset });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(
    `${path.basename(input).padEnd(30)} ${source.durationSeconds.toFixed(1).padStart(6)} s  ${result.variants.map((v) => v.name).join(',').padEnd(30)} ${seconds.toFixed(1).padStart(7)} s  ${(source.durationSeconds / seconds).toFixed(2)}`,
  );
}
rmSync(dir, { recursive: true, force: true });
