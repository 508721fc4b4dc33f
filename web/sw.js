// Service worker: keeps the page, the engine (WASM) and the weights, so a second visit works offline.
// Network first (so an updated page or model is seen at once), the cache when the network fails.
// Registered with scope '/' where the server allows it (scripts/serve sends Service-Worker-Allowed: /): the
// engine's pthread workers live in /build/wasm/, outside /web/, and must be served offline too.
const CACHE = 'trm-demo-v1';
const APP = [
  './', 'index.html', 'style.css', 'icon.svg', 'manifest.webmanifest', 'trm.js', 'trm-worker.js',
  'app/main.js', 'app/sudoku.js', 'app/maze.js', 'app/arc.js', 'app/model.js', 'app/samples.js', 'app/messages.js', 'app/timeline.js',
  'app/arc-tasks/index.json',
  'checkpoint.js', 'app/checkpoint-panel.js',
  '../build/wasm/trm-wasm.mjs', '../build/wasm/trm-wasm.wasm', '../build/wasm/trm-wasm-relaxed.wasm',
  '../build/wasm/trm-wasm-threads.mjs', '../build/wasm/trm-wasm-threads.wasm', '../build/wasm/trm-wasm-threads-relaxed.wasm',
  '../build/wasm/trm-wasm-threads.worker.js',
  '../weights/index.json',
];

const here = path => new URL(path, self.location.href).href;

// Adds each URL on its own: a file this copy doesn't have (say, no threaded build) must not stop the rest.
async function addAll(urls) {
  const cache = await caches.open(CACHE);
  await Promise.all(urls.map(async url => {
    try {
      const res = await fetch(url, { cache: 'no-cache' });
      if (res.ok) await cache.put(url, res);
    } catch { /* offline or missing: skip */ }
  }));
}

async function precache() {
  const urls = APP.map(here);
  try {
    const res = await fetch(here('app/arc-tasks/index.json'));
    for (const id of await res.json()) urls.push(here(`app/arc-tasks/${id}.json`));
  } catch { /* no bundled tasks */ }
  try {
    const index = await (await fetch(here('../weights/index.json'))).json();
    for (const m of index.models || []) urls.push(here(`../weights/${m.file}`));
  } catch { /* no shipped weights */ }
  await addAll(urls);
}

self.addEventListener('install', e => {
  e.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', e => {
  e.waitUntil((async () => {
    // Older versions of this worker's cache go; other caches (web/trm.js keeps its own weights cache) stay.
    for (const name of await caches.keys()) if (name.startsWith('trm-demo-') && name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

// The page asks to keep a model it loaded from a URL that isn't in the shipped list: { cache: [url] }.
self.addEventListener('message', e => {
  const urls = (e.data && Array.isArray(e.data.cache) ? e.data.cache : [])
    .filter(u => typeof u === 'string' && new URL(u).origin === self.location.origin);
  if (urls.length) e.waitUntil(addAll(urls));
});

self.addEventListener('fetch', e => {
  const req = e.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin || req.headers.has('range')) return;
  e.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const res = await fetch(req);
      if (res.status === 200) cache.put(req, res.clone()).catch(() => {});
      return res;
    } catch (err) {
      const hit = await cache.match(req, { ignoreSearch: true });
      if (hit) return hit;
      throw err;
    }
  })());
});
