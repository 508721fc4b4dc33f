// The Node CLI (scripts/trm.mjs) and TRM.load take official checkpoints as the native CLI does: the reference cases
// of tests/vectors/ give the native CLI's output (info identically; predict and solve within the reference tolerance;
// an ARC task with --identifiers/--keep-puzzles the same answers), the malformed checkpoints the same refusals.
// And the limits both share: a device, pipe or folder is not a weight file; a file over MAX_FILE_BYTES is refused
// before it is read; TRM.load's threads are capped at MAX_THREADS, the CLIs' --threads bound.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { MAX_FILE_BYTES, MAX_THREADS, TRM } from '../../web/trm.js';
import { ARC_TASK } from './arc-model.mjs';
import { argmaxMismatches, caseWeights, nativeBuilt, NATIVE_CLI, readFile, relativeError, ROOT, SUDOKU, VECTORS } from './helpers.mjs';

const skip = nativeBuilt() ? false : 'build/native/trm is not built (scripts/build.sh native)';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-js-cli-checkpoint-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const native = (...args) => spawnSync(NATIVE_CLI, args, { encoding: 'utf8' });
const node = (...args) => spawnSync(process.execPath, [path.join(ROOT, 'scripts/trm.mjs'), ...args], { encoding: 'utf8' });
const SUDOKU_CASE = path.join(VECTORS, 'sudoku_att_rope');
const ARC_CASE = path.join(VECTORS, 'arc_att_rope_puzzle_emb');

// The same values, numbers that are not integers within 1e-4, at any depth (ms differ from run to run).
function same(x, y, where) {
  if (typeof x === 'number' && !Number.isInteger(x)) return assert.ok(Math.abs(x - y) < 1e-4, `${where}: ${x} vs ${y}`);
  if (x === null || typeof x !== 'object') return assert.deepEqual(y, x, where);
  assert.deepEqual(Object.keys(y), Object.keys(x), where);
  for (const k of Object.keys(x)) if (k !== 'ms') same(x[k], y[k], `${where}.${k}`);
}
function sameJsonLines(a, b) {
  const al = a.trim().split('\n'), bl = b.trim().split('\n');
  assert.equal(bl.length, al.length);
  al.forEach((line, i) => same(JSON.parse(line), JSON.parse(bl[i]), `line ${i + 1}`));
}

describe('scripts/trm.mjs with official checkpoints, against build/native/trm', { skip }, () => {
  test('info: the same text and the same note on stderr', () => {
    const step0 = path.join(SUDOKU_CASE, 'step_0');
    const n = native('info', step0), w = node('info', step0);
    assert.equal(w.status, 0, w.stderr);
    assert.equal(w.stdout, n.stdout);
    assert.equal(w.stderr, n.stderr);
    assert.match(w.stderr, /^trm: note: seq_len 81 assumed/);
    assert.match(w.stdout, /converted_from/);
  });

  test('predict with --dataset: the same tensors, within 1e-4 of the native scale', () => {
    const step0 = path.join(ARC_CASE, 'step_0'), inputs = path.join(ARC_CASE, 'reference.safetensors');
    const args = ['--config', path.join(ARC_CASE, 'all_config.yaml'), '--dataset', path.join(ARC_CASE, 'dataset.json'), '--inputs', inputs, '--steps', '2'];
    const n = native('predict', step0, ...args, '--out', path.join(tmp, 'n.safetensors'));
    assert.equal(n.status, 0, n.stderr);
    const w = node('predict', step0, ...args, '--out', path.join(tmp, 'w.safetensors'), '--threads', '1');
    assert.equal(w.status, 0, w.stderr);
    assert.equal(w.stderr, n.stderr);
    const a = readFile(path.join(tmp, 'n.safetensors')), b = readFile(path.join(tmp, 'w.safetensors'));
    assert.deepEqual([...b.tensors.keys()], [...a.tensors.keys()]);
    for (const [name, t] of a.tensors) {
      assert.ok(relativeError(b.tensors.get(name).data, t.data) <= 1e-4, name);
      if (name.endsWith('.logits')) assert.equal(argmaxMismatches(b.tensors.get(name).data, t.data, t.shape[2]), 0, name);
    }
  });

  test('solve --json: the same steps and answer', () => {
    const step0 = path.join(SUDOKU_CASE, 'step_0');
    const n = native('solve', step0, SUDOKU, '--json', '--halt', 'never');
    const w = node('solve', step0, SUDOKU, '--json', '--halt', 'never');
    assert.equal(n.status, 0, n.stderr);
    assert.equal(w.status, 0, w.stderr);
    sameJsonLines(n.stdout, w.stdout);
  });

  test('ARC with --identifiers and --keep-puzzles: the kept rows, the same votes and attempts', () => {
    // The reference ARC case has 5 puzzle rows: name them, keep one task's 2 rows.
    const ids = path.join(tmp, 'identifiers.json'), keep = path.join(tmp, 'keep.txt'), task = path.join(tmp, 'aaaa0001.json');
    fs.writeFileSync(ids, JSON.stringify(['<blank>', 'aaaa0001', 'bbbb0002', 'aaaa0001|||t1|||0123456789', 'bbbb0002|||t2|||0213456789']));
    fs.writeFileSync(keep, 'aaaa0001\n');
    fs.writeFileSync(task, JSON.stringify(ARC_TASK));
    const args = ['solve', path.join(ARC_CASE, 'step_0'), '--task', 'arc', task, '--identifiers', ids, '--keep-puzzles', keep, '--json'];
    const n = native(...args), w = node(...args);
    assert.equal(n.status, 0, n.stderr);
    assert.equal(w.status, 0, w.stderr);
    sameJsonLines(n.stdout, w.stdout);
    assert.equal(JSON.parse(w.stdout.trim().split('\n').pop()).copies, 2);

    fs.writeFileSync(keep, '\n  \n');
    const e = [native(...args), node(...args)];
    assert.deepEqual(e.map((r) => r.status), [1, 1]);
    assert.equal(e[1].stderr, e[0].stderr);
    assert.match(e[1].stderr, /keep\.txt: no task ids; expected one per line/);
  });

  test('errors: the same one line for a missing config, load options on a weight file, unknown options', () => {
    const lone = path.join(tmp, 'lone');
    fs.mkdirSync(lone, { recursive: true });
    fs.copyFileSync(path.join(SUDOKU_CASE, 'step_0'), path.join(lone, 'step_0'));
    const cases = [
      ['info', path.join(lone, 'step_0')],
      ['info', path.join(SUDOKU_CASE, 'step_0'), '--config', path.join(tmp, 'none.yaml')],
      ['info', caseWeights('sudoku_att_rope'), '--config', path.join(SUDOKU_CASE, 'all_config.yaml')],
      ['info', path.join(SUDOKU_CASE, 'step_0'), '--frobnicate', '1'],
    ];
    for (const args of cases) {
      const n = native(...args), w = node(...args);
      assert.equal(w.status, n.status, args.join(' '));
      assert.equal(w.stderr, n.stderr, args.join(' '));
      assert.equal(w.stderr.split('\n').length, 2, w.stderr);
    }
  });

  test('the malformed and hostile checkpoints of tests/malformed/checkpoints: one line each, as natively', () => {
    const r = spawnSync(path.join(ROOT, 'tests/malformed/check.sh'), [process.execPath, path.join(ROOT, 'scripts/trm.mjs')], {
      encoding: 'utf8', env: { ...process.env, MALFORMED_DIR: path.join(ROOT, 'tests/malformed/checkpoints') } });
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /20 passed, 0 failed/);
  });
});

describe('limits shared by both CLIs and TRM.load', { skip }, () => {
  test('a device, a folder, a pipe, a file over the limit: refused at once with the native message', async () => {
    const big = path.join(tmp, 'big.safetensors');
    fs.closeSync(fs.openSync(big, 'w'));
    fs.truncateSync(big, MAX_FILE_BYTES + 1);  // sparse: nothing is written
    const fifo = path.join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const expected = {
      '/dev/zero': '/dev/zero: not a regular file',
      [tmp]: `${tmp}: not a regular file`,
      [fifo]: `${fifo}: not a regular file`,
      [big]: `${big}: file is ${MAX_FILE_BYTES + 1} bytes; files read whole are limited to ${MAX_FILE_BYTES} bytes (1 GiB)`,
    };
    for (const [file, message] of Object.entries(expected)) {
      for (const args of [['info', file], ['predict', caseWeights('sudoku_att_rope'), '--inputs', file, '--steps', '1', '--out', path.join(tmp, 'o')]]) {
        const n = native(...args), w = node(...args);
        assert.equal(n.stderr, `trm ${args[0]}: ${message}\n`, `native ${args.join(' ')}`);
        assert.equal(w.stderr, n.stderr, `node ${args.join(' ')}`);
        assert.equal(w.status, 1);
      }
      await assert.rejects(TRM.load(file, { threads: 1 }), { message });
      await assert.rejects(TRM.load({ checkpoint: path.join(SUDOKU_CASE, 'step_0'), config: file }, { threads: 1 }), { message });
    }
    // a checkpoint is read by offset: only the first three refusals apply to it
    for (const file of ['/dev/zero', fifo]) {
      await assert.rejects(TRM.load({ checkpoint: file, config: path.join(SUDOKU_CASE, 'all_config.yaml') }, { threads: 1 }),
        { message: `${file}: not a regular file` });
    }
  });

  test(`threads: at most ${MAX_THREADS} in TRM.load, as in both CLIs`, async () => {
    for (const t of [MAX_THREADS + 1, 100000]) {
      await assert.rejects(TRM.load(caseWeights('sudoku_att_rope'), { threads: t }),
        { message: `TRM.load: option threads = ${t}; expected 'auto' or an integer in [1, ${MAX_THREADS}]` });
      for (const cli of [native, node]) {
        const r = cli('solve', caseWeights('sudoku_att_rope'), SUDOKU, '--threads', String(t));
        assert.equal(r.stderr, `trm solve: option --threads = '${t}'; expected an integer in [1, ${MAX_THREADS}]\n`);
      }
    }
  });
});

describe('TRM.load with a checkpoint set', () => {
  const file = (p, name = path.basename(p)) => new File([fs.readFileSync(p)], name);

  test('Files chosen together, told apart by name, load as the checkpoint converted; notes say what was assumed', async () => {
    const trm = await TRM.load([file(path.join(SUDOKU_CASE, 'all_config.yaml')), file(path.join(SUDOKU_CASE, 'step_0'))], { threads: 1 });
    try {
      assert.equal(trm.info.task.kind, 'sudoku');
      assert.equal(trm.info.notes.length, 1);
      assert.match(trm.info.notes[0], /seq_len 81 assumed/);
    } finally {
      trm.dispose();
    }
    const withDataset = await TRM.load({ checkpoint: path.join(SUDOKU_CASE, 'step_0'), config: path.join(SUDOKU_CASE, 'all_config.yaml'),
      dataset: file(path.join(SUDOKU_CASE, 'dataset.json')) }, { threads: 1 });
    assert.deepEqual(withDataset.info.notes, []);
    withDataset.dispose();
  });

  test('URLs: the files downloaded (the checkpoint with progress), then read as Files are', async () => {
    const { createServer } = await import('../../scripts/serve.mjs');
    const server = createServer(ROOT, { allow: ['tests/vectors/'], log: () => {} });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${server.address().port}/tests/vectors/sudoku_att_rope/`;
    try {
      const seen = [];
      const trm = await TRM.load({ checkpoint: `${base}step_0`, config: new URL(`${base}all_config.yaml`), dataset: `${base}dataset.json` },
        { threads: 1, onProgress: (p) => seen.push(p) });
      assert.deepEqual(trm.info.notes, []);
      assert.equal(trm.info.task.kind, 'sudoku');
      trm.dispose();
      const size = fs.statSync(path.join(SUDOKU_CASE, 'step_0')).size;
      assert.ok(seen.some((p) => p.loaded === size && p.total === size), 'the download reached the whole file');
      await assert.rejects(TRM.load({ checkpoint: `${base}step_9`, config: `${base}all_config.yaml` }, { threads: 1 }),
        { message: `${base}step_9: download failed (HTTP 404 Not Found)` });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('one clear line for each set that cannot be a model', async () => {
    const step0 = file(path.join(SUDOKU_CASE, 'step_0')), config = file(path.join(SUDOKU_CASE, 'all_config.yaml'));
    const cases = [
      [[step0], "step_0: a PyTorch checkpoint needs its run's all_config.yaml: load {checkpoint, config} or choose both files together"],
      [step0, "step_0: a PyTorch checkpoint needs its run's all_config.yaml: load {checkpoint, config} or choose both files together"],
      [[config], 'TRM.load: no checkpoint among the files; expected the checkpoint (step_N) with its all_config.yaml'],
      [[step0, config, file(path.join(SUDOKU_CASE, 'step_0'), 'step_1')], 'step_0 and step_1: two files for the checkpoint; expected one'],
      [[step0, config, new File(['{}'], 'task.json')], 'task.json: not a file of a checkpoint; expected all_config.yaml, dataset.json or identifiers.json'],
      [[step0, new File(['arch: [1'], 'all_config.yaml')], 'all_config.yaml:1: '],
    ];
    for (const [source, message] of cases) {
      await assert.rejects(TRM.load(source, { threads: 1 }), (e) => {
        assert.ok(e.message.startsWith(message), `${e.message}\nexpected: ${message}`);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    }
  });
});
