import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

// The dashboard is a static single-page app served by the API server at "/".
// `vite build --config web/vite.config.ts` writes it to web/dist.
export default defineConfig({
  root: here,
  base: '/',
  publicDir: 'public',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Everything is loaded from files, never inlined, so a strict CSP (default-src 'self') holds.
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: {
    // `vite --config web/vite.config.ts` for UI work; API calls go to a locally running server.
    proxy: { '/v1': process.env.SOCIALFLOW_API_URL ?? 'http://127.0.0.1:8080' },
  },
});
