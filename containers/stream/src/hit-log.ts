/**
 * The access log of the hot path (signed playlists served from memory): one
 * line per interval instead of one per request.
 *
 * A cache hit costs a few microseconds; writing a JSON line for it costs more
 * than the hit itself. What an operator needs from these requests is how many
 * were served and for which videos — per-request detail (viewer address,
 * user agent, timing) is in the CDN's own access logs (CloudFront standard
 * logs; locally the edge's access log). So hits are counted per video and
 * logged as `{ msg: "playlist cache hits", hits, videos: { id: count }, intervalMs }`
 * every `intervalMs`. Every other request (misses, errors, the API) keeps its
 * own access-log line. With the logger at `debug`, every hit is also logged.
 */
import type { Logger } from 'pino';

export interface HitLogOptions {
  /** Flush interval, ms (default 10 000). */
  intervalMs?: number;
  /** Videos named per line at most (the busiest; default 50). */
  maxVideos?: number;
}

export class HitLog {
  private counts = new Map<string, number>();
  private hits = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly intervalMs: number;
  private readonly maxVideos: number;
  /** True when every hit is logged on its own (logger at debug). */
  readonly perRequest: boolean;

  constructor(
    private readonly logger: Logger,
    opts: HitLogOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.maxVideos = opts.maxVideos ?? 50;
    this.perRequest = logger.isLevelEnabled('debug');
    this.timer = setInterval(() => this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** Counts one hit for `videoId`. */
  hit(videoId: string): void {
    this.hits++;
    this.counts.set(videoId, (this.counts.get(videoId) ?? 0) + 1);
  }

  /** Logs one hit on its own line (call only when `perRequest`: the caller builds `fields` only then). */
  detail(fields: Record<string, unknown>): void {
    this.logger.debug(fields, 'request completed');
  }

  /** Writes the line for the hits counted since the last one (nothing if none). */
  flush(): void {
    if (this.hits === 0) return;
    const busiest = [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, this.maxVideos);
    this.logger.info({ hits: this.hits, videos: Object.fromEntries(busiest), intervalMs: this.intervalMs }, 'playlist cache hits');
    this.counts = new Map();
    this.hits = 0;
  }

  /** Flushes and stops the timer. */
  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
