/**
 * Web app build: `vite build --config web/vite.config.ts` → web/dist/ (static
 * files the local edge serves at `/`). Dev server: `vite --config
 * web/vite.config.ts` proxies /api and /videos to VOD_URL (default the local
 * edge on :8080).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));
const target = process.env.VOD_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: here,
  base: '/',
  plugins: [react()],
  build: {
    outDir: path.join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // hls.js's full build (subtitles need it; ~580 kB) is its own chunk, loaded by the player page only.
    chunkSizeWarningLimit: 640,
  },
  server: {
    fs: { allow: [path.resolve(here, '..')] },
    proxy: {
      '/api': { target, changeOrigin: true },
      '/videos': { target, changeOrigin: true },
    },
  },
});
