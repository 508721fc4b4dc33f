#!/usr/bin/env node
// node scripts/trm.mjs info|predict|solve ...: the native CLI (src/trm_cli.cpp) on the WASM engine, through the
// JavaScript API (web/trm.js). Same arguments, same output, same exit status; one extra option, --threads T
// (1: the single-thread build; default: the threaded build with one thread per core).
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

import { MAX_FILE_BYTES, MAX_THREADS, TRM } from '../web/trm.js';
import { readSafetensors, writeSafetensors } from '../web/safetensors.js';

const USAGE =
  'usage:\n' +
  '  trm info W.safetensors\n' +
  '  W may also be an official PyTorch checkpoint (step_N): --config all_config.yaml (default: beside it)\n' +
  '      [--dataset dataset.json] [--identifiers identifiers.json [--keep-puzzles TASK_IDS.txt]]\n' +
  '  trm predict W --inputs I.safetensors --steps N --out O.safetensors [--threads T]\n' +
  '  trm solve W PUZZLE [--strategy S] [--halt early|never] [--steps N] [--threads T] [--json]   (PUZZLE: text or a file holding it)\n' +
  '  trm solve W --task arc TASK.json [--task-id ID] [--test K] [--max-copies N] [--halt early|never] [--steps N] [--json]\n' +
  '  trm eval W --data FILE.csv [--strategy S] [--limit N] [--halt early|never|both] [--threads T] [--json]\n' +
  '  --strategy model|steps|vote|commit|best (solve, eval), with --copies N, --commit N, --round-steps N, --max-calls N,\n' +
  '      --backtracks N, --threshold P, --carry 0|1, --seed N: see src/solve.h\n' +
  '  --threads: worker threads per step (default: one per hardware thread)\n';

// --- the CLI -------------------------------------------------------------------------------------------------------

// Positionals and `--name value` options; `flags` take no value (as Args in src/trm_cli.cpp).
function parseArgs(argv, flags) {
  const pos = [];
  const opt = new Map();
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a.startsWith('--')) {
      if (flags.includes(a)) opt.set(a, '1');
      else if (i + 1 < argv.length) opt.set(a, argv[++i]);
      else throw new Error(`option ${a} needs a value`);
    } else pos.push(a);
  }
  const args = {
    pos, opt,
    get: (k, def = '') => (opt.has(k) ? opt.get(k) : def),
    need: (k) => { if (!opt.has(k)) throw new Error(`missing option ${k}`); return opt.get(k); },
    integer: (k, def, lo, hi) => {
      if (!opt.has(k)) return def;
      const s = opt.get(k);
      const v = /^[+-]?\d+$/.test(s) ? Number(s) : NaN;
      if (!(v >= lo && v <= hi)) throw new Error(`option ${k} = '${s}'; expected an integer in [${lo}, ${hi}]`);
      return v;
    },
    checkKnown: (known) => {
      for (const k of opt.keys()) if (!known.includes(k) && !LOAD_OPTIONS.includes(k)) throw new Error(`unknown option ${k}`);
    },
  };
  args.threads = () => { const t = args.integer('--threads', 0, 1, MAX_THREADS); return t === 0 ? 'auto' : t; };
  args.earlyHalt = () => {
    const h = args.get('--halt', 'early');
    if (h !== 'early' && h !== 'never') throw new Error(`option --halt = '${h}'; expected early or never`);
    return h === 'early';
  };
  return args;
}

const out = (s) => process.stdout.write(s);

// A file read whole, refused as the native CLI refuses it (trm::read_file): not there, not a regular file (a device
// such as /dev/zero, a pipe), or over the size limit.
function readWhole(path) {
  let st;
  try { st = fs.statSync(path); } catch { throw new Error(`${path}: cannot open file`); }
  if (!st.isFile()) throw new Error(`${path}: not a regular file`);
  if (st.size > MAX_FILE_BYTES) throw new Error(`${path}: file is ${st.size} bytes; files read whole are limited to ${MAX_FILE_BYTES} bytes (1 GiB)`);
  try { return fs.readFileSync(path); } catch { throw new Error(`${path}: cannot open file`); }
}

// Whether a file is a torch.save checkpoint (a zip, or the legacy pickle's magic, which the reader refuses by name),
// after the checks the native CLI makes before it opens one.
function isTorchFile(path) {
  let st;
  try { st = fs.statSync(path); } catch { throw new Error(`${path}: cannot open file`); }
  if (!st.isFile()) throw new Error(`${path}: not a regular file`);
  const head = Buffer.alloc(14);
  const fd = fs.openSync(path, 'r');
  try { fs.readSync(fd, head, 0, head.length, 0); } finally { fs.closeSync(fd); }
  const legacy = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
  return head.readUInt32LE(0) === 0x04034b50 || legacy.every((x, i) => head[i] === x);
}

// The options every command that takes a weight file also takes, for checkpoints (src/checkpoint_loader.cpp).
const LOAD_OPTIONS = ['--config', '--dataset', '--identifiers', '--keep-puzzles'];

// pos[0] as an engine: a weight file, or an official checkpoint with --config (default: all_config.yaml beside it),
// --dataset, --identifiers and --keep-puzzles, read as the native CLI reads them; what was assumed about the
// architecture goes to stderr, one line each.
async function loadModel(a, threads) {
  const path = a.pos[0];
  if (!isTorchFile(path)) {
    if (LOAD_OPTIONS.some((k) => a.opt.has(k))) {
      throw new Error(`${path}: --config, --dataset, --identifiers, --keep-puzzles and --task apply to PyTorch checkpoints; this is not a zip file`);
    }
    return TRM.load(path, { threads });
  }
  const file = (p) => new File([readWhole(p)], p);  // named by its path, as in the native messages
  let config;
  const configPath = a.get('--config') || `${path.lastIndexOf('/') < 0 ? '.' : path.slice(0, path.lastIndexOf('/'))}/all_config.yaml`;
  try {
    config = file(configPath);
  } catch (e) {
    if (a.opt.has('--config')) throw e;
    throw new Error(`${path}: a PyTorch checkpoint needs its run's all_config.yaml (--config FILE); none found at ${configPath}`);
  }
  const set = { checkpoint: path, config };
  if (a.opt.has('--dataset')) set.dataset = file(a.get('--dataset'));
  if (a.opt.has('--identifiers')) set.identifiers = file(a.get('--identifiers'));
  const keepPuzzles = a.opt.has('--keep-puzzles') ? file(a.get('--keep-puzzles')) : undefined;
  const trm = await TRM.load(set, { threads, keepPuzzles });
  for (const n of trm.info.notes) process.stderr.write(`trm: note: ${printable(n, MAX_MESSAGE)}\n`);
  return trm;
}

// Text from a file (names, metadata, messages quoting them) as the native CLI prints it (src/json_read.h printable):
// newline, tab and CR as \n \t \r, other control characters as \xNN, C1 controls as \u00NN, so that
// nothing read from a file breaks a line or drives the terminal; cut at `max` characters with "...".
export function printable(text, max = 200) {
  let out = '';
  for (const ch of String(text)) {
    if (out.length >= max) return `${out}...`;
    const c = ch.codePointAt(0);
    if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80 && c <= 0x9f) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}
const MAX_MESSAGE = 2000;

// printf's %g for the few values the CLI prints with it.
const fmtG = (x) => String(Number(x.toPrecision(6)));

// A double as nlohmann::json dumps it (shortest round-trip digits; decimal for exponents in (-4, 15], else d.ddde+XX).
function jsonNumber(x, integer) {
  if (!Number.isFinite(x)) return 'null';
  if (integer) return String(x);
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, exp] = Math.abs(x).toExponential().split('e');
  const digits = mant.replace('.', '');
  const k = digits.length, n = Number(exp) + 1;  // value = 0.digits x 10^n
  let s;
  if (k <= n && n <= 15) s = digits + '0'.repeat(n - k) + '.0';
  else if (n > 0 && n <= 15) s = `${digits.slice(0, n)}.${digits.slice(n)}`;
  else if (n > -4 && n <= 0) s = `0.${'0'.repeat(-n)}${digits}`;
  else {
    const e = n - 1;
    s = (k === 1 ? digits : `${digits[0]}.${digits.slice(1)}`) + 'e' + (e < 0 ? '-' : '+') + String(Math.abs(e)).padStart(2, '0');
  }
  return sign + s;
}

// A value as nlohmann::json dumps it: keys sorted, no spaces; numbers under a key in `doubles` as doubles, the
// others as integers.
function jsonDump(v, doubles, key = '') {
  if (typeof v === 'number') return jsonNumber(v, !doubles.includes(key));
  if (Array.isArray(v)) return `[${v.map((x) => jsonDump(x, doubles, key)).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${jsonDump(v[k], doubles, k)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

// One JSON line as the native CLI prints it: keys sorted, numbers as nlohmann dumps them. `ints` names integer fields.
function jsonLine(obj, ints) {
  const parts = Object.keys(obj).sort().map((key) => {
    const v = obj[key];
    let s;
    if (typeof v === 'number') s = jsonNumber(v, ints.includes(key));
    else if (Array.isArray(v)) s = `[${v.join(',')}]`;
    else if (v !== null && typeof v === 'object') s = jsonLine(v, ints).slice(0, -1);
    else s = JSON.stringify(v);
    return `${JSON.stringify(key)}:${s}`;
  });
  return `{${parts.join(',')}}\n`;
}

async function cmdInfo(a) {
  if (a.pos.length !== 1) throw new Error('info needs one weight file');
  a.checkKnown([]);
  const trm = await loadModel(a, 1);
  try {
    const c = trm.info.config;
    const i = trm.info;
    // Text from the file (and its name) escaped: a newline or an escape sequence in it must not reach the terminal.
    out(`file        ${printable(a.pos[0], Infinity)}\n`);
    out(`task        ${printable(i.taskJson, Infinity)}\n`);
    out(`variant     ${c.mlp_t ? 'token-mixing MLP (mlp_t)' : 'attention'}, positions ${c.pos_encodings}, ${c.L_layers} layers, ` +
      `hidden ${c.hidden_size}, heads ${c.num_heads}, expansion ${fmtG(c.expansion)}\n`);
    out(`sequence    ${c.seq_len} tokens + ${i.prefixLen} puzzle-prefix positions, vocabulary ${c.vocab_size}\n`);
    out(`recursion   H_cycles ${c.H_cycles} x L_cycles ${c.L_cycles}, up to ${c.halt_max_steps} supervision steps\n`);
    out(`puzzle emb  ${c.num_puzzle_identifiers} rows x ${c.puzzle_emb_ndim}\n`);
    out(`parameters  ${i.parameters} (storage ${i.storageDtype})\n`);
    out(`config      ${i.configJson}\n`);
    if (i.source) out(`source      ${printable(i.source, Infinity)}\n`);
  } finally {
    trm.dispose();
  }
}

async function cmdPredict(a) {
  if (a.pos.length !== 1) throw new Error('predict needs one weight file');
  a.checkKnown(['--inputs', '--steps', '--out', '--threads']);
  const trm = await loadModel(a, a.threads());
  try {
    const c = trm.info.config;
    const inPath = a.need('--inputs'), outPath = a.need('--out');
    const steps = a.integer('--steps', c.halt_max_steps, 1, 100000);
    if (!a.opt.has('--steps')) throw new Error('missing option --steps');
    const bytes = readWhole(inPath);
    const inp = readSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), inPath);
    const inputs = inp.tensors.get('inputs'), ids = inp.tensors.get('puzzle_identifiers');
    if (!inputs || inputs.dtype !== 'I32' || inputs.shape.length !== 2 || inputs.shape[1] !== c.seq_len || inputs.shape[0] < 1) {
      throw new Error(`${inPath}: tensor 'inputs' must be I32 [B, ${c.seq_len}]`);
    }
    const B = inputs.shape[0];
    if (!ids || ids.dtype !== 'I32' || ids.shape.length !== 1 || ids.shape[0] !== B) {
      throw new Error(`${inPath}: tensor 'puzzle_identifiers' must be I32 [${B}]`);
    }
    const res = await trm.predict(inputs.data, ids.data, { steps, zH: true });
    const S = trm.info.positions, D = c.hidden_size;
    const entries = [];
    res.steps.forEach((r, k) => {
      entries.push([`step${k}.logits`, { dtype: 'F32', shape: [B, c.seq_len, c.vocab_size], data: r.logits }]);
      entries.push([`step${k}.q_halt_logits`, { dtype: 'F32', shape: [B], data: r.qHalt }]);
      entries.push([`step${k}.q_continue_logits`, { dtype: 'F32', shape: [B], data: r.qContinue }]);
      entries.push([`step${k}.z_H`, { dtype: 'F32', shape: [B, S, D], data: r.zH }]);
    });
    try { fs.writeFileSync(outPath, writeSafetensors(entries)); } catch { throw new Error(`${outPath}: cannot open for writing`); }
  } finally {
    trm.dispose();
  }
}

// The solve options of solve and eval; the engine's defaults where an option is absent (src/solve.h SolveOptions),
// as the native CLI (src/trm_cli.cpp solve_options).
function solveOptions(a, halt) {
  const options = { halt, strategy: a.get('--strategy', 'model') };
  const numeric = [['--steps', 'maxSteps', 1, 100000], ['--copies', 'copies', 1, 4096], ['--commit', 'commit', 1, 100000],
    ['--round-steps', 'roundSteps', 1, 100000], ['--max-calls', 'maxCalls', 1, 2 ** 30], ['--backtracks', 'backtracks', 0, 2 ** 30],
    ['--seed', 'seed', 0, 2147483647]];
  for (const [flag, key, lo, hi] of numeric) if (a.opt.has(flag)) options[key] = a.integer(flag, 0, lo, hi);
  if (a.opt.has('--carry')) options.carry = a.integer('--carry', 0, 0, 1) === 1;
  if (a.opt.has('--threshold')) {
    const v = a.get('--threshold'), x = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v) ? Number(v) : NaN;
    if (!(x > 0 && x <= 2)) throw new Error(`option --threshold = '${v}'; expected a number in (0, 2]`);
    options.threshold = x;
  }
  return options;
}

async function cmdSolve(a) {
  if (a.pos.length !== 2) throw new Error('solve needs a weight file and a puzzle');
  a.checkKnown(['--halt', '--steps', '--threads', '--json', '--task', '--task-id', '--test', '--max-copies', '--strategy', '--copies',
    '--commit', '--round-steps', '--max-calls', '--backtracks', '--seed', '--carry', '--threshold']);
  const trm = await loadModel(a, a.threads());
  try {
    const kind = trm.info.task.kind;
    const asked = a.get('--task', kind);
    if (asked !== kind) throw new Error(`solve: --task ${asked} but the model's task is '${kind}'`);
    if (kind === 'arc') return await solveArc(a, trm);
    if (kind !== 'sudoku' && kind !== 'maze') {
      throw new Error(`solve: the model's task is '${kind}'; solve handles sudoku and maze models (use predict for raw tokens)`);
    }
    let text = a.pos[1];
    if (fs.existsSync(text)) text = readWhole(text).toString('utf8');  // a file holding the puzzle, as natively
    const json = a.opt.has('--json'), early = a.earlyHalt();
    const options = solveOptions(a, early ? 'early' : 'never');
    let last = null;
    const run = trm.solve(text, options);
    for await (const s of run) {
      last = s;
      const plain = s.strategy === 'model';  // the plain model prints exactly what it always has
      if (json) {
        const line = { step: s.step, q_halt: s.qHalt, q_continue: s.qContinue, confidence: s.confidence, changed: s.changed.length,
          ms: s.ms, prediction: s.prediction };
        if (!plain) Object.assign(line, { model_calls: s.modelCalls, note: s.note });
        out(jsonLine(line, ['step', 'changed', 'model_calls']));
      } else {
        const side = kind === 'sudoku' ? 9 : 30;
        let grid = '';
        for (let r = 0; r < side; ++r) grid += `  ${s.prediction.slice(r * side, (r + 1) * side)}\n`;
        const q = s.qHalt.toFixed(3);
        const extra = plain ? '' : `  ${s.modelCalls} model calls${s.note ? `  ${s.note}` : ''}`;
        out(`step ${s.step}/${s.maxSteps}  confidence ${(100 * s.confidence).toFixed(1).padStart(5)}% (q_halt ${s.qHalt >= 0 ? '+' : ''}${q})  ` +
          `${s.changed.length} cells changed  ${s.ms.toFixed(1)} ms${extra}\n${grid}`);
      }
    }
    await run.result;
    const plain = last.strategy === 'model';
    if (json) {
      const done = { done: true, steps: last.step, answer: last.prediction, verified: last.verified, message: last.message,
        bad_cells: last.badCells, givens_changed: last.givensChanged };
      if (!plain) Object.assign(done, { strategy: last.strategy, model_calls: last.modelCalls });
      out(jsonLine(done, ['steps', 'model_calls', 'givens_changed']));
    } else {
      let extra = plain ? '' : ` (strategy ${last.strategy}, ${last.modelCalls} model calls)`;
      if (last.givensChanged) extra += `; the network changed ${last.givensChanged} givens, shown as given`;
      out(`${last.verified ? 'VERIFIED' : 'NOT VERIFIED'} after ${last.step} steps: ${last.message}${extra}\n`);
    }
  } finally {
    trm.dispose();
  }
}

// question,answer rows of a CSV, header first, quotes around a field removed (src/trm_cli.cpp read_csv).
function readCsv(path, limit) {
  let text;
  try { text = readWhole(path).toString('utf8'); } catch { throw new Error(`${path}: cannot open file`); }
  const lines = text.split('\n');
  if (lines.length === 1 && lines[0] === '') throw new Error(`${path}: empty file; expected a header 'question,answer'`);
  const strip = (l) => (l.endsWith('\r') ? l.slice(0, -1) : l);
  const header = strip(lines[0]);
  if (header !== 'question,answer') throw new Error(`${path}: header is '${header}'; expected 'question,answer'`);
  const unquote = (f) => (f.length >= 2 && f[0] === '"' && f.at(-1) === '"' ? f.slice(1, -1) : f);
  const rows = [];
  for (let n = 1; n < lines.length && (limit <= 0 || rows.length < limit); ++n) {
    const line = strip(lines[n]);
    if (line === '') continue;
    const comma = line.indexOf(',');
    if (comma < 0) throw new Error(`${path}: line ${n + 1} has no comma; expected question,answer`);
    rows.push([unquote(line.slice(0, comma)), unquote(line.slice(comma + 1))]);
  }
  return rows;
}

// Accuracy on a CSV, as `trm eval` in src/trm_cli.cpp prints it: the same scoring, fields and lines. Puzzles run one
// after another through the JS API (each solve is the C++ SolveRun).
async function cmdEval(a) {
  if (a.pos.length !== 1) throw new Error('eval needs one weight file');
  a.checkKnown(['--data', '--limit', '--halt', '--batch', '--threads', '--json', '--strategy', '--steps', '--copies', '--commit',
    '--round-steps', '--max-calls', '--backtracks', '--seed', '--carry', '--threshold']);
  const trm = await loadModel(a, a.threads());
  try {
    const kind = trm.info.task.kind;
    if (kind !== 'sudoku' && kind !== 'maze') {
      throw new Error(`eval: the model's task is '${kind}'; eval handles sudoku and maze models (use predict for raw tokens)`);
    }
    const data = a.need('--data');
    const rows = readCsv(data, a.integer('--limit', 0, 0, 2 ** 30));
    if (!rows.length) throw new Error(`${data}: no puzzles`);
    const halt = a.get('--halt', 'early');
    if (!['early', 'never', 'both'].includes(halt)) throw new Error(`option --halt = '${halt}'; expected early, never or both`);
    a.integer('--batch', 8, 1, 4096);  // accepted for older command lines, as natively
    const options = solveOptions(a, halt === 'early' ? 'early' : 'never');
    const scoreEarly = halt !== 'never', scoreAll = halt !== 'early', json = a.opt.has('--json');
    const T = trm.info.config.seq_len;
    const blank = () => ({ exact: 0, cellsRight: 0, steps: 0, calls: 0, shownExact: 0, givensChanged: 0, puzzlesGivensChanged: 0 });
    const early = blank(), all = blank();
    // `model` scores the network's own answer (a changed given is wrong, as the paper scores it); the shown answer
    // differs from it only at the givens it changed, each right as shown, so the network has `givensChanged` fewer.
    const score = (s, answer, step) => {
      let right = 0;
      for (let i = 0; i < T; ++i) right += step.prediction[i] === answer[i];
      const own = step.strategy === 'model' ? right - step.givensChanged : right;
      s.exact += own === T;
      s.cellsRight += own;
      s.shownExact += right === T;
      s.givensChanged += step.givensChanged;
      s.puzzlesGivensChanged += step.givensChanged > 0;
      s.steps += step.step;
      s.calls += step.modelCalls;
    };
    const t0 = performance.now(), cpu0 = process.cpuUsage();
    let strategy = '', done = 0;
    for (const [question, answerText] of rows) {
      const run = trm.solve(question, options);
      let last = null, earlyScored = false;
      for await (const s of run) {
        last = s;
        if (strategy === '') {
          strategy = s.strategy;
          if (halt === 'both' && strategy !== 'model') {
            run.cancel();
            throw new Error('option --halt both scores the plain model only; use --strategy model, or --halt early|never');
          }
        }
        if (scoreEarly && scoreAll && !earlyScored && (s.qHalt > 0 || s.done)) {
          score(early, answerText, s);  // where early halting stops it
          earlyScored = true;
        }
      }
      await run.result;
      score(scoreAll ? all : early, answerText, last);
      ++done;
    }
    const secs = (performance.now() - t0) / 1000, n = done;
    const cpu = process.cpuUsage(cpu0), cpuMs = (cpu.user + cpu.system) / 1000;
    const shown = scoreEarly ? early : all;
    process.stderr.write(`eval ${n}/${rows.length}  exact ${(100 * shown.exact / n).toFixed(2)}%  ` +
      `cells ${(100 * shown.cellsRight / (n * T)).toFixed(2)}%  mean steps ${(shown.steps / n).toFixed(2)}  ` +
      `mean model calls ${(shown.calls / n).toFixed(1)}  ${(n / Math.max(1e-9, secs)).toFixed(1)} puzzles/s\n`);
    const metrics = (s) => ({ exact_accuracy: s.exact / n, cell_accuracy: s.cellsRight / (n * T), mean_steps: s.steps / n,
      mean_model_calls: s.calls / n, shown_exact_accuracy: s.shownExact / n, mean_givens_changed: s.givensChanged / n,
      puzzles_givens_changed: s.puzzlesGivensChanged / n });
    if (json) {
      const o = { count: n, halt, seconds: secs, threads: 1, batch: 1, strategy, ms_per_puzzle: 1000 * secs / n,
        cpu_ms_per_puzzle: cpuMs / n, kernels: /I8/i.test(trm.info.storageDtype ?? '') ? 'simd+int8' : 'simd' };
      if (halt === 'both') { o.early = metrics(early); o.never = metrics(all); } else Object.assign(o, metrics(shown));
      out(jsonLine(o, ['count', 'threads', 'batch']));
    } else {
      for (const [name, s] of [['early', early], ['never', all]]) {
        if (halt !== name && halt !== 'both') continue;
        out(`${n} puzzles  exact ${(100 * s.exact / n).toFixed(2)}%  cells ${(100 * s.cellsRight / (n * T)).toFixed(2)}%  ` +
          `mean steps ${(s.steps / n).toFixed(2)} (halt ${name})  strategy ${strategy}  mean model calls ${(s.calls / n).toFixed(1)}  ` +
          `${(1000 * secs / n).toFixed(1)} ms per puzzle (${(cpuMs / n).toFixed(1)} ms CPU)  ${secs.toFixed(1)} s  ` +
          `shown exact ${(100 * s.shownExact / n).toFixed(2)}%  the network changed givens in ${(100 * s.puzzlesGivensChanged / n).toFixed(2)}% of puzzles\n`);
      }
    }
  } finally {
    trm.dispose();
  }
}

// ARC (src/trm_cli.cpp cmd_solve_arc): every augmented copy the model knows for the task runs as one batch; the
// copies vote on the answer.
async function solveArc(a, trm) {
  const file = a.pos[1];
  const text = readWhole(file).toString('utf8');
  let id = a.get('--task-id');
  if (!id) {  // the file name without folders and extension, as ARC task ids are
    id = file.slice(file.lastIndexOf('/') + 1);
    if (id.lastIndexOf('.json') >= 0) id = id.slice(0, id.lastIndexOf('.json'));
  }
  // The engine parses the task; --test is checked here against the test count when the JSON has one to count.
  let tests = null;
  try { const j = JSON.parse(text); if (Array.isArray(j?.test) && j.test.length) tests = j.test.length; } catch { /* the engine says why */ }
  const test = a.integer('--test', 0, 0, tests === null ? 1 << 30 : tests - 1);
  const maxCopies = a.integer('--max-copies', 0, 0, 1 << 20);
  const json = a.opt.has('--json'), early = a.earlyHalt();
  const maxSteps = a.integer('--steps', trm.info.config.halt_max_steps, 1, 100000);
  let last = null;
  const run = trm.solve(text, { taskId: id, label: file, test, maxCopies, halt: early ? 'early' : 'never', maxSteps });
  for await (const s of run) {
    last = s;
    if (json) out(jsonDump({ step: s.step, ms: s.ms, active: s.active, distinct: s.distinct, top_votes: s.attempts[0].votes }, ['ms']) + '\n');
    else {
      out(`step ${s.step}/${maxSteps}  ${s.copies} copies  ${s.distinct} distinct answers, the leader has ${s.attempts[0].votes} votes  ` +
        `${s.ms.toFixed(1)} ms\n`);
    }
  }
  await run.result;
  const attempts = last.attempts;
  if (json) {
    out(jsonDump({ done: true, task: id, test, copies: last.copies, attempts }, ['confidence']) + '\n');
  } else {
    attempts.forEach((at, i) => {
      const verdict = at.correct === undefined ? '' : at.correct ? ', CORRECT' : ', wrong';
      out(`attempt ${i + 1}: ${at.votes} votes, confidence ${(100 * at.confidence).toFixed(1)}%${verdict}\n  ${JSON.stringify(at.grid)}\n`);
    });
  }
}

export async function main(argv) {
  if (argv.length < 1 || argv[0] === '--help' || argv[0] === '-h') {
    (argv.length < 1 ? process.stderr : process.stdout).write(USAGE);
    return argv.length < 1 ? 2 : 0;
  }
  const [cmd, ...rest] = argv;
  const commands = { info: [cmdInfo, []], predict: [cmdPredict, []], solve: [cmdSolve, ['--json']], eval: [cmdEval, ['--json']] };
  if (!commands[cmd]) {
    process.stderr.write(`trm: unknown command '${printable(cmd)}'\n${USAGE}`);
    return 2;
  }
  try {
    const [run, flags] = commands[cmd];
    await run(parseArgs(rest, flags));
    return 0;
  } catch (e) {
    process.stderr.write(`trm ${cmd}: ${printable(e.message, MAX_MESSAGE)}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });  // `| head`
  process.exitCode = await main(process.argv.slice(2));
}
