#!/usr/bin/env node
// Launcher for the TypeScript CLI (cli/vod.ts), compiled on the fly by tsx.
import { register } from 'tsx/esm/api';

register();
await import('../vod.ts');
