/**
 * The whole local platform for end-to-end tests: the same processes as
 * `npm start` (emulator, upload, stream, transcode, edge), on free ports,
 * with a fresh temporary data directory that is removed on stop.
 */
import { startTemporaryStack, type RunningStack } from '../../local/stack.js';

export interface TestStack extends RunningStack {}

export const startStack = startTemporaryStack;
