/**
 * Plays a signed HLS master playlist in a <video>: hls.js where Media Source
 * Extensions exist (it gives the quality and subtitles menus; the full build,
 * since the light one has no subtitle support), the browser's own HLS
 * otherwise (iOS Safari, whose controls have their own subtitles menu). When the signed URL has expired — the edge answers
 * 403 — a fresh one is fetched and playback continues from the same time.
 */
import type Hls from 'hls.js';
import type { ErrorData, Level } from 'hls.js';
import type { PlaybackInfo } from '@vod/client';

export interface LevelInfo {
  index: number;
  height: number;
  width: number;
  bitrate: number;
  label: string;
}

export type Engine = 'hls.js' | 'native' | 'none';

export interface PlaybackEvents {
  onEngine(engine: Engine): void;
  onLevels(levels: LevelInfo[]): void;
  /** Level now playing (index into levels) and whether ABR picks it. */
  onLevel(index: number, auto: boolean): void;
  /** A transient notice (null clears it). */
  onNotice(message: string | null): void;
  /** Playback cannot continue. */
  onFatal(message: string): void;
  /** Called with each signed URL in use (for display). */
  onPlayback?(info: PlaybackInfo): void;
  /** The master's subtitle tracks (EXT-X-MEDIA TYPE=SUBTITLES). */
  onSubtitles?(tracks: SubtitleInfo[]): void;
  /** The subtitle track shown (index into the tracks), -1 for none. */
  onSubtitle?(index: number): void;
}

export interface SubtitleInfo {
  index: number;
  /** NAME of the rendition. */
  label: string;
  /** LANGUAGE (BCP 47), when given. */
  language?: string;
}

export function levelLabel(l: { height: number; width: number }): string {
  return l.height ? `${l.height}p` : `${l.width}w`;
}

/** Master playlist 403s that mean "signature expired or refused". */
const SIGNATURE_STATUSES = new Set([401, 403, 410]);

export class PlaybackController {
  private hls?: Hls;
  private HlsClass?: typeof Hls;
  private destroyed = false;
  private lastRefresh = 0;
  private refreshing = false;
  private manualLevel = -1;
  /** The subtitle track chosen (-1: off), kept across a renewed signed URL. */
  private subtitle = -1;
  private mediaRecoveries = 0;
  private info?: PlaybackInfo;
  private readonly onNativeError = () => void this.handleNativeError();

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly fetchPlayback: () => Promise<PlaybackInfo>,
    private readonly events: PlaybackEvents,
    /** Start playing as soon as possible (the browser may refuse without a user gesture). */
    private readonly autoplay = true,
  ) {}

  async start(): Promise<void> {
    const info = await this.fetchPlayback();
    if (this.destroyed) return;
    this.setInfo(info);
    const { default: HlsClass } = await import('hls.js');
    if (this.destroyed) return;
    this.HlsClass = HlsClass;
    if (HlsClass.isSupported()) {
      this.events.onEngine('hls.js');
      this.attachHls(info.url, 0, this.autoplay);
    } else if (this.video.canPlayType('application/vnd.apple.mpegurl')) {
      this.events.onEngine('native');
      this.video.addEventListener('error', this.onNativeError);
      this.video.src = info.url;
      if (this.autoplay) void this.video.play().catch(() => undefined);
    } else {
      this.events.onEngine('none');
      this.events.onFatal('This browser cannot play HLS video (no Media Source Extensions and no native HLS).');
    }
  }

  /** -1 = automatic. */
  setLevel(index: number): void {
    this.manualLevel = index;
    if (!this.hls) return;
    // nextLevel switches at the next fragment without stalling playback.
    this.hls.nextLevel = index;
    this.events.onLevel(this.hls.currentLevel, index === -1);
  }

  /** Shows subtitle track `index` (-1: none). */
  setSubtitle(index: number): void {
    this.subtitle = index;
    if (!this.hls) return;
    this.hls.subtitleDisplay = index >= 0;
    this.hls.subtitleTrack = index;
    this.events.onSubtitle?.(index);
  }

  destroy(): void {
    this.destroyed = true;
    this.hls?.destroy();
    this.hls = undefined;
    this.video.removeEventListener('error', this.onNativeError);
  }

  private setInfo(info: PlaybackInfo) {
    this.info = info;
    this.events.onPlayback?.(info);
  }

  private attachHls(url: string, startPosition: number, resumePlaying = false): void {
    const HlsClass = this.HlsClass!;
    // From the start, also for a playlist that still grows (EVENT): hls.js would otherwise start near its live edge.
    const hls = new HlsClass({ startPosition: Math.max(0, startPosition), enableWorker: true });
    this.hls = hls;
    const E = HlsClass.Events;
    hls.on(E.MANIFEST_PARSED, (_e, data) => {
      const levels = data.levels.map((l: Level, index: number) => ({ index, height: l.height, width: l.width, bitrate: l.bitrate, label: levelLabel(l) }));
      this.events.onLevels(levels);
      if (this.manualLevel >= 0 && this.manualLevel < levels.length) hls.nextLevel = this.manualLevel;
      if (resumePlaying) void this.video.play().catch(() => undefined);
    });
    hls.on(E.LEVEL_SWITCHED, (_e, data) => this.events.onLevel(data.level, hls.autoLevelEnabled));
    hls.on(E.SUBTITLE_TRACKS_UPDATED, (_e, data) => {
      this.events.onSubtitles?.(data.subtitleTracks.map((t, index) => ({ index, label: t.name, language: t.lang })));
      // Subtitles stay as the viewer chose (off until they pick one), also after a renewed URL.
      hls.subtitleDisplay = this.subtitle >= 0;
      hls.subtitleTrack = this.subtitle < data.subtitleTracks.length ? this.subtitle : -1;
    });
    hls.on(E.SUBTITLE_TRACK_SWITCH, (_e, data) => this.events.onSubtitle?.(hls.subtitleDisplay ? data.id : -1));
    hls.on(E.FRAG_BUFFERED, () => {
      if (this.mediaRecoveries > 0) this.mediaRecoveries = 0;
    });
    hls.on(E.ERROR, (_e, data) => this.handleHlsError(hls, data));
    hls.loadSource(url);
    hls.attachMedia(this.video);
  }

  private handleHlsError(hls: Hls, data: ErrorData): void {
    if (hls !== this.hls || this.destroyed) return;
    const { ErrorTypes } = this.HlsClass!;
    const status = data.response?.code;
    if (data.type === ErrorTypes.NETWORK_ERROR && status !== undefined && SIGNATURE_STATUSES.has(status)) {
      void this.refresh();
      return;
    }
    if (!data.fatal) return;
    if (data.type === ErrorTypes.MEDIA_ERROR && this.mediaRecoveries < 2) {
      this.mediaRecoveries++;
      hls.recoverMediaError();
      return;
    }
    if (data.type === ErrorTypes.NETWORK_ERROR) {
      this.events.onFatal(`Network error while loading the video (${data.details}${status ? `, HTTP ${status}` : ''}). Check the connection and try again.`);
    } else {
      this.events.onFatal(`The video cannot be played in this browser (${data.details}).`);
    }
  }

  /** Gets a fresh signed URL and continues from the current position. */
  private async refresh(): Promise<void> {
    if (this.refreshing || this.destroyed) return;
    if (Date.now() - this.lastRefresh < 10_000) {
      this.events.onFatal('The video link was refused even after renewing it. Reload the page to try again.');
      this.hls?.stopLoad();
      return;
    }
    this.refreshing = true;
    this.lastRefresh = Date.now();
    const position = this.video.currentTime;
    // Keep playing if it was, or if playback had not started yet and should autoplay.
    const wasPlaying = !this.video.paused || (this.autoplay && position === 0);
    this.events.onNotice('The signed link expired — getting a fresh one…');
    try {
      const info = await this.fetchPlayback();
      if (this.destroyed) return;
      this.setInfo(info);
      if (this.hls) {
        this.hls.destroy();
        this.attachHls(info.url, position, wasPlaying);
      } else {
        this.video.src = info.url;
        this.video.addEventListener('loadedmetadata', () => {
          this.video.currentTime = position;
          if (wasPlaying) void this.video.play().catch(() => undefined);
        }, { once: true });
      }
      this.events.onNotice('Link renewed — playback continues.');
      setTimeout(() => !this.destroyed && this.events.onNotice(null), 4000);
    } catch (err) {
      this.events.onFatal(`Could not renew the video link: ${(err as Error).message}`);
    } finally {
      this.refreshing = false;
    }
  }

  private async handleNativeError(): Promise<void> {
    const err = this.video.error;
    if (!err || this.destroyed) return;
    // Native HLS does not expose HTTP statuses: treat network errors near or
    // past the expiry as an expired signature.
    const expired = this.info ? Date.parse(this.info.expiresAt) - Date.now() < 60_000 : false;
    if (err.code === MediaError.MEDIA_ERR_NETWORK && expired) {
      await this.refresh();
      return;
    }
    this.events.onFatal(`Playback failed (${err.message || `media error ${err.code}`}).`);
  }
}
