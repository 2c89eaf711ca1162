/**
 * The S3 key layout, in one place. Every service builds keys here.
 *
 * Uploads bucket (private):
 *   sources/{videoId}/source          the original upload, as received
 *   sessions/{uploadId}.json          a chunked upload's session
 *   sessions/{uploadId}/parts/{n}.json one stored part's record (size, ETag)
 * Media bucket:
 *   videos/{videoId}/…                the published HLS ladder (public via signed URLs)
 *   records/{videoId}.json            the video's status record (never public)
 */

/** Server-generated ids: 20 lowercase hex characters. */
export const ID_PATTERN = /^[a-f0-9]{20}$/;

export const keys = {
  source: (videoId: string) => `sources/${videoId}/source`,
  session: (uploadId: string) => `sessions/${uploadId}.json`,
  partsPrefix: (uploadId: string) => `sessions/${uploadId}/parts/`,
  part: (uploadId: string, partNumber: number) => `sessions/${uploadId}/parts/${partNumber}.json`,
  videoPrefix: (videoId: string) => `videos/${videoId}/`,
  master: (videoId: string) => `videos/${videoId}/master.m3u8`,
  recordsPrefix: 'records/',
  record: (videoId: string) => `records/${videoId}.json`,
};
