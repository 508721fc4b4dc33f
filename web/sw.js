// Service worker: keeps the page and what it used, so a second visit works offline.
// Installing it fetches only the page itself (HTML, CSS, scripts, the bundled ARC tasks, the model index): of the
// four engine builds a browser runs one, and a visitor may never open a tab's model, so those are kept when used.
// The page posts the engine files it loaded ({ cache: [urls] }, from the engine's info.files): on the first visit they
// were fetched before this worker took control. Weight files are kept by web/trm.js in its own cache.
// Network first (so an updated page is seen at once), the cache when the network fails.
// Registered with scope '/' where the server allows it (scripts/serve sends Service-Worker-Allowed: /): the
// engine's files live in /build/wasm/, outside /web/, and must be served offline too.
const CACHE = 'trm-demo-v3';
const APP = [
  './', 'index.html', 'style.css', 'icon.svg', 'manifest.webmanifest', 'trm.js', 'trm-worker.js',
  'app/main.js', 'app/sudoku.js', 'app/maze.js', 'app/arc.js', 'app/model.js', 'app/samples.js', 'app/messages.js', 'app/timeline.js',
  'app/arc-tasks/index.json',
  'checkpoint.js', 'app/checkpoint-panel.js', 'safetensors.js', 'webgpu/backend.js', 'webgpu/network.js', 'webgpu/kernels.js',
  '../weights/index.json',
];

const here = path => new URL(path, self.location.href).href;
const isWeights = url => new URL(url).pathname.endsWith('.safetensors');

// Adds each URL on its own: a file this copy doesn't have must not stop the rest. mode 'no-cache' asks the server
// whether a file changed; 'force-cache' takes the copy the page has just downloaded (the browser's HTTP cache).
async function addAll(urls, mode = 'no-cache') {
  const cache = await caches.open(CACHE);
  await Promise.all(urls.map(async url => {
    try {
      const res = await fetch(url, { cache: mode });
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

// The page asks to keep files it used: { cache: [url] }, same origin only; those already kept are not fetched again.
self.addEventListener('message', e => {
  const urls = (e.data && Array.isArray(e.data.cache) ? e.data.cache : [])
    .filter(u => typeof u === 'string' && new URL(u).origin === self.location.origin && !isWeights(u));
  if (!urls.length) return;
  e.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const missing = [];
    for (const url of urls) if (!(await cache.match(url))) missing.push(url);
    await addAll(missing, 'force-cache');
  })());
});

self.addEventListener('fetch', e => {
  const req = e.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin || req.headers.has('range')) return;
  e.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const res = await fetch(req);
      if (res.status === 200 && !isWeights(req.url)) cache.put(req, res.clone()).catch(() => {});
      return res;
    } catch (err) {
      const hit = await cache.match(req, { ignoreSearch: true });
      if (hit) return hit;
      throw err;
    }
  })());
});
