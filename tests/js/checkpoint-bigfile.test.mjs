// The memory target in WASM: the native test's sparse checkpoint with a 1 GiB puzzle-embedding table
// (tests/cpp/test_checkpoint.cpp "[bigfile]", written into a temporary folder), read from a Blob by
// web/checkpoint.js with the task's rows kept, loaded with TRM.load and one ARC task solved, in a child process
// whose peak resident memory must stay under 300 MB; without a task to keep, refused before the table is read.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { ROOT } from './helpers.mjs';

const CHILD = `
import fs from 'node:fs';
import { convertCheckpoint } from ${JSON.stringify(path.join(ROOT, 'web/checkpoint.js'))};
import { TRM } from ${JSON.stringify(path.join(ROOT, 'web/trm.js'))};
const dir = process.argv[2];
// Without the task to keep, the whole table would be read: refused before a byte of it is.
const refused = await convertCheckpoint(await fs.openAsBlob(dir + '/step_0'), { name: 'step_0',
  config: fs.readFileSync(dir + '/all_config.yaml', 'utf8') }).then(() => '', (e) => e.message);
const t0 = performance.now();
const { bytes } = await convertCheckpoint(await fs.openAsBlob(dir + '/step_0'), {
  name: 'step_0', config: fs.readFileSync(dir + '/all_config.yaml', 'utf8'),
  identifiers: await fs.openAsBlob(dir + '/identifiers.json'), keepPuzzles: fs.readFileSync(dir + '/keep.txt', 'utf8') });
const trm = await TRM.load(bytes, { threads: 1 });
const run = trm.solve(fs.readFileSync(dir + '/abc.json', 'utf8'), { taskId: 'abc' });
for await (const step of run) void step;
const result = await run.result;
const ms = performance.now() - t0;
trm.dispose();
console.log(JSON.stringify({ refused, copies: trm.info.config.num_puzzle_identifiers, attempts: result.attempts.length, ms,
                             maxRssMb: process.resourceUsage().maxRSS / 1024 }));
`;

test('a 1 GiB checkpoint read from a Blob solves one ARC task in WASM in under 300 MB', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-js-bigfile-'));
  try {
    execFileSync(path.join(ROOT, 'build/native/tests/cpp/trm_tests'), ['[bigfile]'], { env: { ...process.env, TRM_BIGFILE_DIR: dir }, stdio: 'pipe' });
    assert.ok(fs.statSync(path.join(dir, 'step_0')).size > 2 ** 30);
    fs.writeFileSync(path.join(dir, 'child.mjs'), CHILD);
    const out = execFileSync(process.execPath, [path.join(dir, 'child.mjs'), dir], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop());
    console.log(`checkpoint-bigfile: ${JSON.stringify({ ...r, refused: undefined })}`);
    assert.match(r.refused, /^step_0: the model needs \d+ bytes of this checkpoint, more than the 1073741824 the engine can hold; an ARC checkpoint needs its identifiers\.json/);
    assert.equal(r.copies, 2);
    assert.ok(r.attempts >= 1);
    assert.ok(r.maxRssMb < 300, `peak RSS ${r.maxRssMb} MB`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
