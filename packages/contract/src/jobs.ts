/** Messages on the jobs queue: what the upload service sends and the transcode worker reads. */
import { z } from 'zod';
import { idSchema } from './ids.js';

export const transcodeJobSchema = z.object({
  type: z.literal('transcode'),
  videoId: idSchema,
  /** Uploads-bucket key of the original file (`keys.source(videoId)`). */
  sourceKey: z.string().min(1),
});

export type TranscodeJob = z.infer<typeof transcodeJobSchema>;
