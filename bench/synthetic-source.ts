/**
 * Synthetic benchmark sources (ffmpeg `testsrc2` + a 440 Hz `sine`), made once
 * and kept in the temp dir: H.264 (ultrafast, keyframe every 250 frames) +
 * AAC in MP4, 30 fps.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Path of a `seconds`-long source of `width`×`height` at `videoKbps` kbit/s,
 * encoding it first if it is not there yet.
 */
export function syntheticSource(seconds: number, width: number, height: number, videoKbps: number): string {
  const dir = path.join(os.tmpdir(), 'vod-bench');
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `testsrc2-${height}p30-${seconds}s.mp4`);
  if (!existsSync(out)) {
    execFileSync('ffmpeg', [
      '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', `${videoKbps}k`, '-g', '250', '-c:a', 'aac', '-shortest', out,
    ]);
  }
  return out;
}
