// A tiny static server for the demo page, on 127.0.0.1 only, with no dependencies.
//   scripts/serve --port N [--root DIR]     (DIR defaults to the repository root; `/` goes to /web/)
// Every response carries COOP/COEP (so the threaded WASM build can use SharedArrayBuffer) and a strict
// Content-Security-Policy: the page may load nothing from any other origin.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "style-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

const SECURITY_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

function send(res, status, headers, body) {
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers });
  res.end(body);
}

// Maps a URL path to a file under root, or null (outside root, or a hidden path such as /.git/).
function resolvePath(root, urlPath) {
  let decoded;
  try { decoded = decodeURIComponent(urlPath); } catch { return null; }
  if (decoded.includes('\0')) return null;
  const parts = decoded.split('/').filter(Boolean);
  if (parts.some(p => p.startsWith('.'))) return null;
  const file = path.join(root, ...parts);
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

export function createServer(root) {
  root = path.resolve(root);
  return http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }, 'method not allowed\n');
    }
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/' && fs.existsSync(path.join(root, 'web', 'index.html'))) {
      return send(res, 302, { Location: '/web/' }, '');
    }
    let file = resolvePath(root, url.pathname);
    let stat = null;
    try { stat = file && fs.statSync(file); } catch { stat = null; }
    if (stat && stat.isDirectory()) {
      if (!url.pathname.endsWith('/')) return send(res, 301, { Location: url.pathname + '/' + url.search }, '');
      file = path.join(file, 'index.html');
      try { stat = fs.statSync(file); } catch { stat = null; }
    }
    if (!stat || !stat.isFile()) {
      return send(res, 404, { 'Content-Type': 'text/plain; charset=utf-8' }, 'not found\n');
    }
    const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const headers = {
      'Content-Type': MIME[path.extname(file).toLowerCase()] || 'application/octet-stream',
      'Cache-Control': 'no-cache',
      ETag: etag,
      'Last-Modified': stat.mtime.toUTCString(),
    };
    // The demo's service worker (web/sw.js) controls the whole site: the engine's files live outside /web/.
    if (path.basename(file) === 'sw.js') headers['Service-Worker-Allowed'] = '/';
    if (req.headers['if-none-match'] === etag) return send(res, 304, headers, '');
    headers['Content-Length'] = stat.size;
    if (req.method === 'HEAD') return send(res, 200, headers, '');
    res.writeHead(200, { ...SECURITY_HEADERS, ...headers });
    fs.createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
}

function main(argv) {
  let port = 8080;
  let root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port' && i + 1 < argv.length) port = Number(argv[++i]);
    else if (argv[i] === '--root' && i + 1 < argv.length) root = path.resolve(argv[++i]);
    else {
      console.error('usage: scripts/serve --port N [--root DIR]');
      process.exit(2);
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve: --port: expected a port number 0-65535, got ${port}`);
    process.exit(2);
  }
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    console.error(`serve: --root ${root}: not a directory`);
    process.exit(2);
  }
  const server = createServer(root);
  server.on('error', e => { console.error(`serve: ${e.message}`); process.exit(1); });
  server.listen(port, '127.0.0.1', () => {
    const url = `http://127.0.0.1:${server.address().port}/`;
    console.log(`serving ${root} at ${url}` + (fs.existsSync(path.join(root, 'web', 'index.html')) ? ` (demo: ${url}web/)` : ''));
  });
  const stop = () => { server.close(); server.closeAllConnections(); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
