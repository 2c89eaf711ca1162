// hls.js ships no separate typings for its "light" build (no subtitles,
// alternate audio, DRM or CMCD — none of which this app uses); the API is the same.
declare module 'hls.js/light' {
  export * from 'hls.js';
  export { default } from 'hls.js';
}
