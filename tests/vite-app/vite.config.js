// Builds the app against the repository's package ('trm-web' resolves to its package.json "exports").
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  logLevel: 'warn',
  resolve: { alias: { 'trm-web': fileURLToPath(new URL('../..', import.meta.url)) } },
  build: { target: 'es2022', emptyOutDir: true },
});
