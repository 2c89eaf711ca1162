/**
 * Runs `UploadService.sweepExpired` now and then, so an upload abandoned for
 * good (nobody ever asks for it again) is still cleaned up: its `uploading`
 * record, session and part records. S3 itself aborts the multipart upload
 * (the uploads bucket's lifecycle rule). Every instance sweeps; the sweep is
 * idempotent, so overlapping runs are harmless.
 */
import type { Logger } from 'pino';
import type { UploadService } from './upload-service.js';

export interface SweepTiming {
  /** Before the first sweep, ms (lets the service settle after a start). */
  firstMs: number;
  /** Between sweeps, ms. */
  everyMs: number;
}

/** A minute after start, then hourly: expiry is counted in days, an hour late is fine. */
export const DEFAULT_SWEEP: SweepTiming = { firstMs: 60_000, everyMs: 3_600_000 };

/** Starts sweeping; a failed sweep is logged and the next one runs on schedule. @returns stop(), which waits for a running sweep. */
export function startExpirySweep(uploads: UploadService, log: Logger, timing: SweepTiming = DEFAULT_SWEEP): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = () => {
    running = uploads
      .sweepExpired(log)
      .then((removed) => {
        if (removed) log.info({ removed }, 'expired upload sessions swept');
      })
      .catch((err) => log.error({ err }, 'upload expiry sweep failed'))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(run, timing.everyMs).unref();
      });
  };
  timer = setTimeout(run, timing.firstMs).unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
