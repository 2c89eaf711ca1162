/** The transcode job message the upload service sends and the worker reads. */
import { z } from 'zod';

export const transcodeJobSchema = z.object({
  type: z.literal('transcode'),
  videoId: z.string().regex(/^[a-f0-9]{20}$/),
  /** Uploads-bucket key of the original file. */
  sourceKey: z.string().min(1),
});

export type TranscodeJob = z.infer<typeof transcodeJobSchema>;
