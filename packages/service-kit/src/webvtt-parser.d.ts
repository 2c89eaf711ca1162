/** Types of the parts of `webvtt-parser` (W3C's WebVTT validator, CC0) that service-kit uses. */
declare module 'webvtt-parser' {
  export interface ParsedCue {
    id: string;
    /** Seconds. */
    startTime: number;
    endTime: number;
    /** The cue payload as written (markup and entities untouched). */
    text: string;
    direction: string;
    snapToLines: boolean;
    linePosition: number | 'auto';
    lineAlign: string;
    textPosition: number | 'auto';
    positionAlign: string;
    size: number;
    alignment: string;
  }
  export interface ParseError {
    message: string;
    /** 1-based line of the input. */
    line: number;
    col?: number;
  }
  export class WebVTTParser {
    parse(input: string, mode?: 'subtitles' | 'chapters' | 'metadata'): { cues: ParsedCue[]; errors: ParseError[]; styles: string[]; time: number };
  }
}
