// scripts/serve.mjs against hostile requests (issue 22): no request stops it, every refusal is a 4xx with a log line,
// nothing outside the page, the package's WASM and the shipped models is served, links never lead outside the root,
// redirects never go to `//name/`, and only loopback Host names are answered (DNS rebinding).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { createServer } from '../../scripts/serve.mjs';

// A root laid out like the repository, with things that must never be served.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-serve-'));
const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-serve-outside-'));
const write = (rel, text) => { fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true }); fs.writeFileSync(path.join(root, rel), text); };
write('web/index.html', '<!doctype html>page');
write('web/app/main.js', 'export {};');
write('build/wasm/trm-wasm.wasm', 'wasm');
write('build/wasm/cmake-st/CMakeCache.txt', 'build folder');
write('build/native/trm', 'binary');
write('weights/m.safetensors', 'weights');
write('weights/m_state.pt', 'training state');
write('README.md', 'readme');
write('weights/README.md', 'model cards');
write('docs/NOTES.md', 'not linked from the page');
write('src/model.cpp', 'source');
write('.git/HEAD', 'ref');
fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret');
fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'web/secret.txt'));
fs.symlinkSync(outside, path.join(root, 'web/out'));
fs.symlinkSync(path.join(root, 'web/index.html'), path.join(root, 'web/inside.html'));  // a link inside the root is fine

// One raw request on its own connection: the status line and body as the server sent them ('' if it closed).
// halfClose: send nothing more (a request cut short is then answered or closed, not waited on).
function raw(port, text, halfClose = false) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => { out += d; });
    s.on('error', () => resolve(out));
    s.on('close', () => resolve(out));
    if (halfClose) s.end(text);
    else s.write(text);
    s.setTimeout(5000, () => s.destroy());
  });
}
const statusOf = (response) => Number(response.split(' ', 2)[1] ?? 0);
const get = (port, target, host = `127.0.0.1:${port}`) => raw(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);

describe('scripts/serve', () => {
  let server, port;
  const logs = [];
  before(async () => {
    server = createServer(root, { log: (line) => logs.push(line) });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    port = server.address().port;
  });
  after(() => {
    server.close();
    server.closeAllConnections();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });
  const alive = async () => assert.equal(statusOf(await get(port, '/web/')), 200, 'the server still answers');

  test('serves the page, the WASM build and the shipped models', async () => {
    assert.equal(statusOf(await get(port, '/')), 302);
    assert.match(await get(port, '/'), /\r\nLocation: \/web\/\r\n/);
    assert.match(await get(port, '/web/'), /^HTTP\/1\.1 200 [^]*page$/);
    assert.equal(statusOf(await get(port, '/web/app/main.js')), 200);
    assert.equal(statusOf(await get(port, '/web/inside.html')), 200);
    assert.equal(statusOf(await get(port, '/build/wasm/trm-wasm.wasm')), 200);
    assert.equal(statusOf(await get(port, '/weights/m.safetensors')), 200);
    // The page links to the README and the model cards.
    assert.equal(statusOf(await get(port, '/README.md')), 200);
    assert.equal(statusOf(await get(port, '/weights/README.md')), 200);
    assert.equal(statusOf(await get(port, 'http://127.0.0.1/web/index.html')), 404, 'absolute-form targets are not plain paths');
  });

  test('COOP/COEP on every response (refusals too), and none with isolated: false; CSP either way', async () => {
    for (const target of ['/web/', '/build/wasm/trm-wasm.wasm', '/src/model.cpp']) {
      const r = await get(port, target);
      assert.match(r, /\r\nCross-Origin-Opener-Policy: same-origin\r\n/, target);
      assert.match(r, /\r\nCross-Origin-Embedder-Policy: require-corp\r\n/, target);
    }
    const open = createServer(root, { log: () => {}, isolated: false });
    await new Promise((r) => open.listen(0, '127.0.0.1', r));
    try {
      for (const target of ['/web/', '/build/wasm/trm-wasm.wasm', '/src/model.cpp']) {
        const r = await get(open.address().port, target);
        assert.doesNotMatch(r, /Cross-Origin-(Opener|Embedder)-Policy/, target);
        assert.match(r, /\r\nContent-Security-Policy: default-src 'self'/, target);
      }
    } finally {
      open.close();
      open.closeAllConnections();
    }
  });

  test('no request of any form stops it; each refusal is a 4xx and a log line', async () => {
    const targets = ['//', '//evil.example/', '///etc/passwd', '/%', '/%zz', '/web/%00', '/web/..%2f..%2fetc/passwd', '/web/%2e%2e/src/model.cpp',
      '/web\\..\\src', '*', 'evil', '/' + 'a/'.repeat(3000), '/web/' + '%C0%AF'.repeat(10), '/\u00e9'];
    for (const t of targets) {
      const before = logs.length;
      const status = statusOf(await get(port, t));
      // A name too long for the file system makes stat() throw: the handler's error becomes a 500 and a log line.
      assert.ok(status === 0 || (status >= 400 && status < 600), `${JSON.stringify(t.slice(0, 40))}: status ${status}`);
      if (status) assert.ok(logs.length > before, `${JSON.stringify(t.slice(0, 40))}: no log line`);
      await alive();
    }
    for (const text of ['\r\n\r\n', 'GARBAGE\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', `GET /web/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX: ${'x'.repeat(100_000)}\r\n\r\n`,
      'GET /web/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n', 'GET /web/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'POST /web/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc', 'GET /web/ HTTP/1.1\r\nHost: 127.0.0.1\r\n']) {
      const status = statusOf(await raw(port, text, true));
      assert.ok(status === 0 || (status >= 400 && status < 500) || status === 200, `${JSON.stringify(text.slice(0, 40))}: status ${status}`);
      await alive();
    }
  });

  test('nothing outside the root, through a link or otherwise', async () => {
    for (const t of ['/web/secret.txt', '/web/out/secret.txt', '/web/out/']) {
      const res = await get(port, t);
      assert.equal(statusOf(res), 404, t);
      assert.doesNotMatch(res, /secret$/);
    }
  });

  test('only what the page and the package need', async () => {
    for (const t of ['/.git/HEAD', '/src/model.cpp', '/build/native/trm', '/build/wasm/cmake-st/CMakeCache.txt', '/weights/m_state.pt', '/build/', '/weights/', '/docs/NOTES.md', '/web/README.md/x']) {
      assert.equal(statusOf(await get(port, t)), 404, t);
    }
  });

  test('a folder redirects to its own path with one leading slash, never to //name/', async () => {
    const res = await get(port, '/web');
    assert.equal(statusOf(res), 301);
    assert.match(res, /\r\nLocation: \/web\/\r\n/);
    for (const t of ['//web', '//evil.example', '/web//app', '//web/app']) {
      const r = await get(port, t);
      assert.doesNotMatch(r, /\r\nLocation: \/\//i, t);
    }
  });

  test('only loopback Host names (DNS rebinding)', async () => {
    for (const host of ['localhost', `localhost:${port}`, '127.0.0.1', '[::1]:80', 'LOCALHOST']) {
      assert.equal(statusOf(await get(port, '/web/', host)), 200, host);
    }
    for (const host of ['evil.example', `evil.example:${port}`, '127.0.0.1.evil.example', 'localhost.evil.example', '0.0.0.0', '']) {
      assert.equal(statusOf(await get(port, '/web/', host)), 403, host);
    }
    assert.equal(statusOf(await raw(port, 'GET /web/ HTTP/1.0\r\n\r\n')), 403, 'no Host header at all');
    assert.ok(logs.some((l) => /403 "GET" "\/web\/": Host "evil\.example" is not a loopback name/.test(l)), logs.join('\n'));
  });
});
