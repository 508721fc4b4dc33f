// A tiny static server for the demo page, on 127.0.0.1 only, with no dependencies.
//   scripts/serve --port N [--root DIR] [--no-isolation]     (DIR defaults to the repository root; `/` goes to /web/)
// Only the page, the package's WASM builds and the shipped models are served (PUBLIC), only to loopback Host names,
// never through a link that leads outside the root; no request stops the server (each error: a 4xx/5xx and a line).
// Every response carries COOP/COEP (so the threaded WASM build can use SharedArrayBuffer) and a strict
// Content-Security-Policy: the page may load nothing from any other origin. --no-isolation leaves COOP/COEP out: the page
// is then not cross-origin isolated and runs the single-thread build, as on a host that cannot send those headers.
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

const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};
const SECURITY_HEADERS = {
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

// What the page and the package need, as paths relative to the root: the page (web/), the package's WASM builds and
// the shipped models with their index. Nothing else is served (not build/, .git/, the sources or the tests): a page
// that reached this server through DNS rebinding, or a request crafted by hand, finds nothing more.
const PUBLIC = [
  /^web\//,
  /^build\/wasm\/trm-wasm(-threads)?(-relaxed)?\.(mjs|wasm)$/,
  /^build\/wasm\/trm-wasm-threads\.worker\.js$/,
  /^build\/wasm\/package\.json$/,
  /^weights\/[^/]+\.(safetensors|json|png)$/,
  /^(weights\/)?README\.md$/,  // the page links to the README and the model cards
];

// Host names that reach this server only from this machine; any other Host header is a page on another name
// (DNS rebinding) and is refused. A port may follow.
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d{1,5})?$/i;


// The request target's path as segments, or null when it is not a plain absolute path of safe segments (no
// hidden segment such as .git or .., no NUL, no empty segment as in `//`, no scheme or authority).
function segments(target) {
  if (typeof target !== 'string' || !target.startsWith('/') || target.startsWith('//')) return null;
  const raw = target.split(/[?#]/, 1)[0];
  let decoded;
  try { decoded = decodeURIComponent(raw); } catch { return null; }
  if (/[\0\\]/.test(decoded)) return null;
  const parts = decoded.split('/').slice(1);
  if (parts.length && parts[parts.length - 1] === '') parts.pop();  // a trailing slash names a folder
  if (parts.some((p) => p === '' || p.startsWith('.'))) return null;
  return parts;
}

const refusal = (status, text) => Object.assign(new Error(text), { status });

// options.allow: more folders to serve, relative to the root ('build/native/vectors/'), for tests;
// options.log: where a line goes for every refused request and every error (console.error by default);
// options.isolated: false leaves out COOP/COEP (the page is then not cross-origin isolated).
export function createServer(root, { allow = [], log = (line) => console.error(line), isolated = true } = {}) {
  root = fs.realpathSync(path.resolve(root));
  const served = (rel) => PUBLIC.some((re) => re.test(rel)) || allow.some((dir) => rel.startsWith(dir));
  const always = isolated ? { ...ISOLATION_HEADERS, ...SECURITY_HEADERS } : SECURITY_HEADERS;
  function send(res, status, headers, body) {
    res.writeHead(status, { ...always, ...headers });
    res.end(body);
  }

  function handle(req, res) {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw refusal(405, `method ${req.method} not allowed`);
    if (!LOOPBACK_HOST.test(req.headers.host ?? '')) throw refusal(403, `Host ${JSON.stringify(req.headers.host ?? '')} is not a loopback name`);
    const parts = segments(req.url);
    if (!parts) throw refusal(404, 'not a plain path under the root');
    if (parts.length === 0) return send(res, 302, { Location: '/web/' }, '');
    const rel = parts.join('/');
    let file = path.join(root, ...parts);
    let stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat?.isDirectory()) {
      // Redirect to the folder's own path: one leading slash, each segment encoded, never `//name/`.
      if (!req.url.split(/[?#]/, 1)[0].endsWith('/')) return send(res, 301, { Location: `/${parts.map(encodeURIComponent).join('/')}/` }, '');
      file = path.join(file, 'index.html');
      stat = fs.statSync(file, { throwIfNoEntry: false });
    }
    const relFile = path.relative(root, file).split(path.sep).join('/');
    if (!stat?.isFile() || !served(relFile)) throw refusal(404, 'not found');
    // Symbolic links may point anywhere: serve a file only when its real path is inside the root too.
    const real = fs.realpathSync(file);
    if (!real.startsWith(root + path.sep)) throw refusal(404, `${rel} leads outside the root`);
    const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const headers = {
      'Content-Type': MIME[path.extname(file).toLowerCase()] || 'application/octet-stream',
      'Cache-Control': 'no-cache',
      ETag: etag,
      'Last-Modified': stat.mtime.toUTCString(),
    };
    // The demo's service worker (web/sw.js) controls the whole site: the engine's files live outside /web/.
    if (relFile === 'web/sw.js') headers['Service-Worker-Allowed'] = '/';
    if (req.headers['if-none-match'] === etag) return send(res, 304, headers, '');
    headers['Content-Length'] = stat.size;
    if (req.method === 'HEAD') return send(res, 200, headers, '');
    res.writeHead(200, { ...always, ...headers });
    fs.createReadStream(real).on('error', (e) => {
      log(`serve: ${JSON.stringify(req.url)}: ${e.message}`);
      res.destroy();
    }).pipe(res);
  }

  const server = http.createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      const status = e.status ?? 500;
      log(`serve: ${status} ${JSON.stringify(req.method)} ${JSON.stringify(req.url)}: ${e.message}`);
      if (res.headersSent) return res.destroy();
      const headers = { 'Content-Type': 'text/plain; charset=utf-8', ...(status === 405 ? { Allow: 'GET, HEAD' } : {}) };
      try {
        send(res, status, headers, `${http.STATUS_CODES[status] ?? 'error'}\n`.toLowerCase());
      } catch (e2) {
        log(`serve: could not answer: ${e2.message}`);
        res.destroy();
      }
    }
  });
  // A request Node cannot parse (bad request line, oversized headers): a 400 and a log line, the server goes on.
  server.on('clientError', (e, socket) => {
    log(`serve: 400: ${e.code ?? e.message}`);
    if (socket.writable && !socket.writableEnded) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

function main(argv) {
  let port = 8080;
  let root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  let isolated = true;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port' && i + 1 < argv.length) port = Number(argv[++i]);
    else if (argv[i] === '--root' && i + 1 < argv.length) root = path.resolve(argv[++i]);
    else if (argv[i] === '--no-isolation') isolated = false;
    else {
      console.error('usage: scripts/serve --port N [--root DIR] [--no-isolation]');
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
  const server = createServer(root, { isolated });
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
