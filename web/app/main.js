// The demo page: three views (sudoku, maze, ARC), one solve panel, one model panel.
// Deep links: #sudoku=<81 chars>, #maze=<900 chars, row-major> or #arc=<bundled task id> open that puzzle; &solve=1
// starts solving; &model=<same-origin URL> loads that weight file instead of the shipped one.
// When a solve ends, [data-testid=result] holds the answer as text and data-verified="true"|"false" (ARC: the two
// attempts' grids as JSON, verified when one of them matches the task's known answer, absent when it has none).
import { TRM } from '../trm.js';
import { SUDOKU_SAMPLES } from './samples.js';
import { createSudokuView, parseSudoku } from './sudoku.js';
import { createMazeView, parseMaze, MAZE_LEVELS } from './maze.js';
import { checkArcTask, createArcAttempts, rowsForTask, showArcTask, tasksOf } from './arc.js';
import { shippedModels, modelKind, modelRows, modelSummary, rawSource, solvedSentence, weakModelWarning, WEIGHTS_DIR } from './model.js';
import { askTasks, checkpointSet, offerSave } from './checkpoint-panel.js';
import { loadError, plainError, sentence, singular } from './messages.js';
import { createTimeline } from './timeline.js';

const $ = id => document.getElementById(id);
const KIND_NAMES = { sudoku: 'sudoku', maze: 'maze', arc: 'ARC' };

// ---- state
let view = 'sudoku';
const models = {};        // kind -> { trm, name, checkpoint? }: checkpoint { set, keepPuzzles } when read from one
const loading = {};       // kind -> Promise of the model (or null) while the shipped one loads
const missing = {};       // kind -> why there is no model for it
let shipped = [];         // weights/index.json entries
let running = null;       // { run, cancelled } while a solve runs
// What runs the network (TRM.load's backend): the link's `backend=` (auto, webgpu or wasm) when the page opens.
const backend = new URLSearchParams(location.hash.slice(1)).get('backend') || 'auto';

// ---- views
const sudoku = createSudokuView($('sudoku-grid'), {
  onChange: p => { $('sudoku-text').value = p; $('sudoku-sample').value = ''; clearResult(); },
});
const maze = createMazeView($('maze-board'), {
  tool: () => document.querySelector('input[name=maze-tool]:checked').value,
  onChange: () => { $('maze-info').textContent = maze.describe(); clearResult(); },
});
const arc = createArcAttempts($('arc-attempts'), $('arc-legend'));
const views = { sudoku, maze, arc };

for (const s of SUDOKU_SAMPLES) {
  const opt = document.createElement('option');
  opt.value = s.puzzle;
  opt.textContent = `${s.name} (${81 - s.puzzle.split('.').length + 1} givens)`;
  $('sudoku-sample').append(opt);
}
$('sudoku-sample').addEventListener('change', e => {
  if (!e.target.value) return;
  setSudoku(e.target.value);
});
$('sudoku-text').addEventListener('change', e => {
  const p = parseSudoku(e.target.value);
  if (p) setSudoku(p);
  else setVerdict('The puzzle text needs exactly 81 cells: digits 1-9, and . or 0 for blanks.', 'bad');
});
$('sudoku-clear').addEventListener('click', () => setSudoku('.'.repeat(81)));
$('sudoku-generate').addEventListener('click', newSudoku);
$('sudoku-grade').addEventListener('change', showSolvedNotes);
$('maze-generate').addEventListener('click', newMaze);
$('maze-clear-path').addEventListener('click', () => { maze.clearAnswer(); clearResult(); });
$('maze-show-shortest').addEventListener('change', e => { maze.showShortest = e.target.checked; });
$('sudoku-link').addEventListener('click', () => copyLink(`sudoku=${sudoku.puzzle}`));
$('maze-link').addEventListener('click', () => copyLink(`maze=${encodeURIComponent(maze.maze.replace(/ /g, '.'))}`));

// A running solve and the verdict belong to the open view: a puzzle set in the background (a "New maze" that
// finished after the user moved on) must not cancel or clear them.
function setSudoku(p) {
  const open = view === 'sudoku';
  if (open && running) cancel({ quiet: true });
  sudoku.setPuzzle(p);
  $('sudoku-text').value = p;
  $('sudoku-sample').value = SUDOKU_SAMPLES.some(s => s.puzzle === p) ? p : '';
  if (open) clearResult();
}

function setMaze(m) {
  const open = view === 'maze';
  if (open && running) cancel({ quiet: true });
  maze.setMaze(m);
  $('maze-info').textContent = maze.describe();
  if (open) clearResult();
}

for (const [i, level] of MAZE_LEVELS.entries()) {
  const opt = document.createElement('option');
  opt.value = String(i);
  opt.textContent = `${level.name}: path of ${level.path[0]}-${level.path[1]} cells`;
  $('maze-level').append(opt);
}
$('maze-level').addEventListener('change', () => { showSolvedNotes(); newMaze(); });

// The weights/index.json entry of the model loaded for `kind` when it is the shipped one, else undefined.
function shippedEntry(kind) {
  const entry = shipped.find(m => m.kind === kind);
  return entry && models[kind]?.name === entry.file ? entry : undefined;
}
// What the shipped model solves of the new puzzles chosen (`solved` in weights/index.json, measured; the model card
// has the commands). A model the user loaded has no such figures.
function showSolvedNotes() {
  $('maze-level-note').textContent = solvedSentence(shippedEntry('maze'), MAZE_LEVELS[Number($('maze-level').value)].path.join('-'));
  $('sudoku-grade-note').textContent = solvedSentence(shippedEntry('sudoku'), $('sudoku-grade').value);
}

// A new everyday sudoku from the engine's generator (in the sudoku model's worker), of the chosen grade. A puzzle
// the user typed or opened meanwhile stays.
async function newSudoku() {
  const before = sudoku.puzzle;
  setVerdict('Making a new puzzle…', '');
  const m = await ensureModel('sudoku');
  if (sudoku.puzzle !== before) return;
  if (!m) return setVerdict('New puzzles come from the engine, which starts with a sudoku model; type one instead.', 'bad');
  try {
    setSudoku((await m.trm.generate({ grade: $('sudoku-grade').value, givens: [28, 36] })).question);
  } catch (e) {
    setVerdict(`No new puzzle: ${e.message}`, 'bad');
  }
}

// A new maze from the engine's generator (it runs in the maze model's worker) at the chosen level. A maze the
// user drew or opened meanwhile stays.
async function newMaze() {
  const before = maze.maze;
  const level = MAZE_LEVELS[Number($('maze-level').value)];
  $('maze-info').textContent = 'Making a new maze…';
  const m = await ensureModel('maze');
  if (maze.maze !== before) return;
  if (!m) {
    $('maze-info').textContent = 'New mazes come from the engine, which starts with a maze model; draw one instead.';
    return;
  }
  try {
    setMaze((await m.trm.generate({ path: level.path })).question);
  } catch (e) {
    $('maze-info').textContent = `No new maze: ${e.message}`;
  }
  showSolvedNotes();
}

async function copyLink(fragment) {
  history.replaceState(null, '', `#${fragment}`);
  try {
    await navigator.clipboard.writeText(location.href);
    setVerdict('Link copied: it opens this puzzle.', '');
  } catch {
    setVerdict('The address bar now holds a link to this puzzle.', '');
  }
}

// ---- tabs
const tabs = [...document.querySelectorAll('[role=tab]')];
for (const tab of tabs) {
  tab.addEventListener('click', () => showView(tab.dataset.view));
  tab.addEventListener('keydown', e => {
    const i = tabs.indexOf(tab);
    const next = e.key === 'ArrowRight' ? (i + 1) % tabs.length : e.key === 'ArrowLeft' ? (i + tabs.length - 1) % tabs.length : -1;
    if (next < 0) return;
    e.preventDefault();
    tabs[next].focus();
    showView(tabs[next].dataset.view);
  });
}

function showView(name) {
  if (name === view) return;
  if (running) cancel();
  view = name;
  for (const tab of tabs) {
    const on = tab.dataset.view === name;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`view-${tab.dataset.view}`).hidden = !on;
  }
  if (name === 'maze' && !maze.maze.includes('S')) newMaze();
  clearResult();
  showModelPanel();
  ensureModel(name);
  updateArcNote();
}

// ---- models
// doing: what the bytes are for ('Downloading the model', or 'Reading step_N' for a checkpoint read from a file).
function setProgress(loaded, total, doing = 'Downloading the model') {
  const bar = $('model-progress');
  bar.hidden = false;
  if (total) { bar.max = total; bar.value = loaded; } else bar.removeAttribute('value');
  $('model-status').textContent = total
    ? `${doing}… ${(loaded / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB`
    : `${doing}… ${(loaded / 1e6).toFixed(1)} MB`;
  // Also above the board, where a phone shows it at first (the model panel is far below; its status is the one read out).
  $('load-note').hidden = false;
  $('load-note').textContent = $('model-status').textContent;
}

function showError(message) {
  const el = $('model-error');
  el.hidden = !message;
  el.textContent = message || '';
}

// Loads a weight file (URL or bytes) or a checkpoint set ({checkpoint, config, ...} with the ARC tasks to keep) and
// installs it for the view its task belongs to; returns its kind.
// With `unlessLoaded` (a shipped model, loaded in the background), a model the user loaded meanwhile stays.
async function loadModel(source, name, { unlessLoaded = false, keepPuzzles } = {}) {
  $('model-status').textContent = `Loading ${name}…`;
  const checkpoint = source && source.checkpoint ? { set: source, keepPuzzles } : null;
  const doing = checkpoint ? `Reading ${name}` : undefined;
  try {
    const trm = await TRM.load(source, { onProgress: ({ loaded, total }) => setProgress(loaded, total, doing), threads: 'auto', keepPuzzles, backend });
    const kind = modelKind(trm.info);
    if (models[kind] && unlessLoaded) {
      trm.dispose();
      return kind;
    }
    if (models[kind]) {
      if (running) cancel();
      models[kind].trm.dispose();
    }
    models[kind] = { trm, name, checkpoint };
    delete missing[kind];
    keepOffline(trm.info.files);
    return kind;
  } finally {
    $('model-progress').hidden = $('load-note').hidden = true;
  }
}

// The model for `kind`: the one loaded, or the shipped one (loaded on first use), or null.
function ensureModel(kind, url) {
  if (models[kind]) return Promise.resolve(models[kind]);
  if (loading[kind]) return loading[kind];
  const entry = shipped.find(m => m.kind === kind);
  const src = url || (entry && new URL(entry.file, WEIGHTS_DIR).href);
  if (!src) {
    missing[kind] = `No ${KIND_NAMES[kind]} model ships with this copy of the page.`;
    showModelPanel();
    return Promise.resolve(null);
  }
  const name = url ? decodeURIComponent(new URL(url).pathname.split('/').pop()) : entry.file;
  loading[kind] = loadModel(src, name, { unlessLoaded: true })
    .then(k => {
      if (k !== kind) missing[kind] = `${name} is a ${KIND_NAMES[k] || k} model, not a ${KIND_NAMES[kind]} one.`;
      return models[kind] || null;
    })
    .catch(e => {
      missing[kind] = `The ${KIND_NAMES[kind]} model ${name} could not be loaded: ${e.message}`;
      return null;
    })
    .finally(() => { delete loading[kind]; showModelPanel(); updateArcNote(); refreshIdleVerdict(); });
  showModelPanel();
  return loading[kind];
}


function showModelPanel() {
  showSolvedNotes();
  const m = models[view];
  const info = $('model-info');
  info.replaceChildren();
  offerSave(m && m.checkpoint);
  $('model-card').hidden = $('model-source').hidden = !m;
  if (m) {
    $('model-status').textContent = `Loaded for ${KIND_NAMES[view]}: ${m.name}.`;
    if (view !== 'arc') {
      $('strategy-note').textContent = `Best measured for this model: ${m.trm.info.bestStrategy} (see its model card).`;
    }
    for (const [label, text] of modelRows(m.name, m.trm.info)) {
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = label;
      dd.textContent = text;
      info.append(dt, dd);
    }
    const entry = shippedEntry(view);
    $('model-summary').textContent = modelSummary(m.trm.info, entry).join(' ');
    $('model-card-link').hidden = !entry;
    $('model-source-text').textContent = rawSource(m.trm.info.source);
  } else if (loading[view]) {
    if (!$('model-status').textContent.startsWith('Downloading')) $('model-status').textContent = 'Loading the model…';
  } else {
    $('model-status').textContent = `${sentence(missing[view] || `No ${KIND_NAMES[view]} model is loaded`)} ` +
      'Load a TRM weight file (.safetensors) or an official checkpoint for this task below.';
  }
  $('solve').disabled = !!running;
}

// Files chosen or dropped for the model panel: one weight file, or a checkpoint with its all_config.yaml (and
// dataset.json, identifiers.json). With identifiers.json (ARC) the panel first asks which tasks to keep.
async function loadUserFiles(files) {
  showError('');
  let name = files.map(f => f.name).join(', ');
  try {
    const set = checkpointSet(files);
    let source, keepPuzzles;
    if (set) {
      name = set.checkpoint.name;
      if (set.identifiers) {
        keepPuzzles = await askTasks(set, currentArc && currentArc.id);
        if (!keepPuzzles) return;
      }
      source = set;
    } else {
      source = new Uint8Array(await files[0].arrayBuffer());
    }
    const kind = await loadModel(source, name, { keepPuzzles });
    if (kind === 'generic') {
      showError(`${name} loaded, but its task is neither sudoku, maze nor ARC.`);
    } else if (kind !== view) {
      showView(kind);
    }
    refreshIdleVerdict();
  } catch (e) {
    showError(loadError(name, e.message));
  }
  showModelPanel();
  updateArcNote();
}

$('model-file').addEventListener('change', e => {
  const files = [...e.target.files];
  e.target.value = '';
  if (files.length) loadUserFiles(files);
});

// ---- ARC
let arcTasks = [];
async function loadArcIndex() {
  const base = new URL('arc-tasks/', import.meta.url);
  try {
    arcTasks = await (await fetch(new URL('index.json', base))).json();
  } catch {
    arcTasks = [];
  }
  for (const id of arcTasks) {
    const opt = document.createElement('option');
    opt.value = id;
    opt.textContent = `${id} (ARC-AGI-1 evaluation)`;
    $('arc-task').append(opt);
  }
  if (arcTasks.length) await showBundledArc(arcTasks[0]);
}

async function showBundledArc(id) {
  try {
    const res = await fetch(new URL(`arc-tasks/${encodeURIComponent(id)}.json`, import.meta.url));
    showArc(id, checkArcTask(await res.json()));
  } catch (e) {
    showArcError(`${id}: ${e.message}`);
  }
}

let currentArc = null;  // { id, task }: the task shown, its id naming the model's rows

function showArc(name, task) {
  if (running) cancel();
  showArcError('');
  currentArc = { id: name, task };
  $('arc-title').textContent = `Task ${name}`;
  showArcTask($('arc-pairs'), task);
  const select = $('arc-test');
  select.replaceChildren();
  task.test.forEach((p, i) => {
    const opt = document.createElement('option');
    opt.value = String(i);
    opt.textContent = `Test ${i + 1}${p.output ? '' : ' (no known answer)'}`;
    select.append(opt);
  });
  $('arc-test-field').hidden = task.test.length < 2;
  if (view === 'arc') clearResult();
  updateArcNote();
}

function showArcError(message) {
  $('arc-error').hidden = !message;
  $('arc-error').textContent = message;
}

async function loadArcFile(file) {
  try {
    const task = checkArcTask(JSON.parse(await file.text()));
    $('arc-task').value = '';
    showArc(file.name.replace(/\.json$/i, ''), task);
  } catch (e) {
    showArcError(`${file.name}: ${e.message}`);
  }
}

$('arc-task').addEventListener('change', e => { if (e.target.value) showBundledArc(e.target.value); });
$('arc-file').addEventListener('change', e => {
  const file = e.target.files[0];
  e.target.value = '';
  if (file) loadArcFile(file);
});

$('arc-test').addEventListener('change', () => { if (running) cancel(); clearResult(); });

function updateArcNote() {
  const m = models.arc;
  let forTask = '';
  if (m && currentArc) {
    const rows = rowsForTask(m.trm.info, currentArc.id);
    forTask = rows
      ? ` For task ${currentArc.id} it has ${rows} embedding${rows === 1 ? '' : 's'} (the task and its augmented copies): ` +
        'press Solve to run them and let them vote.'
      : ` It has no embedding for task ${currentArc.id}, so it cannot run it: pick a task it was trained on, or ` +
        'load weights converted with this task kept.';
  }
  $('arc-model').textContent = m
    ? `ARC model loaded: ${m.name}, with ${m.trm.info.config.num_puzzle_identifiers} task embeddings for ` +
      `${tasksOf(m.trm.info)} tasks. TRM learns an embedding for each ARC task it was trained on (and for each ` +
      `augmented copy of it), so it runs only those tasks.${forTask}`
    : 'No ARC model is loaded, so this view shows the task only. TRM learns an embedding for each ARC task it ' +
      'was trained on, so an ARC model runs only on its own training tasks and their augmented copies. To try ' +
      'one, choose a checkpoint of the reference TRM training code in the model panel with its all_config.yaml ' +
      'and identifiers.json: the panel asks which tasks to keep and reads only their embeddings.';
}

// ---- solving
const result = $('result');
const stepConfidence = step => (step.attempts ? (step.attempts[0] ? step.attempts[0].confidence : null) : step.confidence);
const timeline = createTimeline({
  range: $('timeline'), chart: $('halt-chart'), confidenceOf: stepConfidence,
  onShow: (step, k, n) => {
    views[view].showStep(step);
    $('step').textContent = `${step.step} of ${step.maxSteps}${k < n ? ` (looking back; the solve had ${n} steps)` : ''}`;
    setConfidence(stepConfidence(step));
  },
});

function clearResult() {
  result.textContent = '';
  delete result.dataset.verified;
  delete result.dataset.state;
  showIdleVerdict();
  $('step').textContent = '–';
  $('ms').textContent = '–';
  setConfidence(null);
  timeline.reset();
  if (views[view]) views[view].clearAnswer();
}

// Before any solve of the view's puzzle, the verdict line says what Solve will do (for ARC: that it needs a model).
function refreshIdleVerdict() {
  if (!running && !result.dataset.state) showIdleVerdict();
}
function showIdleVerdict() {
  if (view === 'sudoku' && sudoku.clash) setVerdict(clashVerdict(), 'bad');
  else setVerdict(idleVerdict(), '');
}
const clashVerdict = () => `Two givens clash (${sudoku.clash}), so the puzzle has no solution: change one of the cells marked in red.`;
function idleVerdict() {
  if (view === 'arc' && !models.arc && !loading.arc) return 'Load an ARC model to solve this task.';
  const m = models[view];
  const weak = m && view !== 'arc' ? weakModelWarning(m.trm.info, shippedEntry(view)) : '';
  return `Press Solve to watch the model work.${weak ? ` ${weak}` : ''}`;
}

function setVerdict(text, cls) {
  const v = $('verdict');
  v.textContent = text;
  v.className = `verdict ${cls}`.trim();
}

function setConfidence(c) {
  const pct = c === null ? 0 : Math.round(c * 100);
  $('confidence-fill').style.width = `${pct}%`;
  $('confidence-bar').setAttribute('aria-valuenow', String(pct));
  $('confidence').textContent = c === null ? '–' : `${pct}%`;
}

function finishVerdict(kind, step) {
  if (kind === 'arc') {
    const known = step.attempts.filter(a => a.correct !== undefined);
    const hit = step.attempts.findIndex(a => a.correct);
    if (!known.length) return 'This task file has no answer for the test input to compare with.';
    return hit >= 0 ? `Attempt ${hit + 1} matches the known answer.` : `No attempt matches the known answer.`;
  }
  const n = step.badCells.length;
  const marked = n ? ', marked in red' : '';
  if (kind === 'sudoku') {
    return step.verified ? 'Verified: a complete, valid sudoku that keeps every given.'
      : `Not solved: ${singular(step.message || 'the grid breaks the rules')}${marked}.`;
  }
  return step.verified ? 'Verified: the path joins start and goal, and no path is shorter.'
    : `Not a shortest path: ${singular(step.message || 'the path is broken or too long')}${marked}.`;
}

// After a wrong answer: what to try next.
function nextTry(kind, strategy) {
  if (kind === 'arc') return '';
  if (kind === 'maze') return 'The model is small and briefly trained: try a shorter maze (Difficulty of a new maze).';
  return strategy && strategy !== 'model' ? 'The model is small and briefly trained: try an easier puzzle (New puzzle, singles only).'
    : 'The model is small and briefly trained: try the strategy Best measured for the model, or an easier puzzle.';
}

function setRunning(on, kind) {
  views[kind].setBusy(on);
  if (!on && running) return;  // another solve has started since
  // A disabled button loses the focus to the top of the page: it moves to the other button instead.
  const [from, to] = on ? [$('solve'), $('cancel')] : [$('cancel'), $('solve')];
  const refocus = document.activeElement === from;
  $('cancel').disabled = !on;
  $('solve').disabled = on;
  if (refocus) to.focus();
}

async function solve() {
  if (running) return;
  const kind = view;
  let puzzle = kind === 'sudoku' ? sudoku.puzzle : maze.maze;
  const options = { halt: $('halt-early').checked ? 'early' : 'never' };
  if (kind === 'arc') {
    if (!currentArc) {
      setVerdict('Pick an ARC task first.', 'bad');
      return;
    }
    puzzle = currentArc.task;
    Object.assign(options, { taskId: currentArc.id, test: Number($('arc-test').value) || 0, maxCopies: Number($('arc-copies').value),
      certainty: true });  // a map beside each attempt shows how sure the model is of each cell
  } else {
    options.strategy = $('strategy').value;
    options.logits = true;  // the board shows how sure the model is of each digit or path cell
  }
  if (kind === 'sudoku' && sudoku.clash) {
    setVerdict(clashVerdict(), 'bad');
    return;
  }
  if (kind === 'maze' && (puzzle.split('S').length !== 2 || puzzle.split('G').length !== 2)) {
    setVerdict('A maze needs exactly one start (S) and one goal (G).', 'bad');
    return;
  }
  clearResult();
  running = { run: null, cancelled: false };
  const me = running;
  setRunning(true, kind);
  result.dataset.state = 'solving';
  setVerdict('Loading the model…', '');
  const model = await ensureModel(kind);
  if (!model || me.cancelled) {
    if (running === me) running = null;
    setRunning(false, kind);
    if (view !== kind || me.quiet) return;  // the user moved to another view or puzzle, which cancelled this solve
    result.dataset.state = me.cancelled ? 'cancelled' : 'error';
    setVerdict(me.cancelled ? 'Cancelled.' : `${sentence(missing[kind] || 'No model')} Load one in the model panel.`, me.cancelled ? '' : 'bad');
    return;
  }
  setVerdict('Thinking…', '');
  let last = null, totalMs = 0;
  let engine = model.trm.info.backend;  // changes when the GPU fails mid-run and the network moves to WASM
  try {
    me.run = model.trm.solve(puzzle, options);
    for await (const step of me.run) {
      if (me.cancelled) break;
      if (model.trm.info.backend !== engine) {
        engine = model.trm.info.backend;
        if (view === kind) showModelPanel();
      }
      last = step;
      totalMs += step.ms;
      views[kind].showStep(step);
      timeline.push(step);
      $('step').textContent = `${step.step} of ${step.maxSteps}`;
      $('ms').textContent = `${Math.round(step.ms)} ms/step`;
      setConfidence(stepConfidence(step));
      if (step.strategy) {
        $('strategy-note').textContent = `${options.strategy === 'best' ? `Best for this model: ${step.strategy}. ` : ''}` +
          `${step.modelCalls} model call${step.modelCalls === 1 ? '' : 's'}${step.note ? `; ${step.note}` : ''}.`;
      }
    }
    if (view !== kind || me.quiet) {
      // the user moved to another view or puzzle, which cancelled this solve: nothing to show
    } else if (me.cancelled || !last || !last.done) {
      result.dataset.state = 'cancelled';
      setVerdict(`Cancelled${last ? ` after ${last.step} step${last.step === 1 ? '' : 's'}` : ''}.`, '');
    } else {
      if (kind === 'arc') {
        result.textContent = JSON.stringify(last.attempts.map(a => a.grid));
        if (last.attempts.some(a => a.correct !== undefined)) result.dataset.verified = String(last.attempts.some(a => a.correct));
      } else {
        result.textContent = last.prediction;
        result.dataset.verified = String(!!last.verified);
      }
      result.dataset.state = 'done';
      $('ms').textContent = `${Math.round(totalMs / last.step)} ms/step, ${(totalMs / 1000).toFixed(1)} s in all`;
      const good = kind === 'arc' ? last.attempts.some(a => a.correct) : last.verified;
      const neutral = kind === 'arc' && !last.attempts.some(a => a.correct !== undefined);
      const how = last.strategy ? ` (strategy ${last.strategy}, ${last.modelCalls} model call${last.modelCalls === 1 ? '' : 's'})` : '';
      setVerdict(finishVerdict(kind, last) + how + (good || neutral ? '' : ` ${nextTry(kind, last.strategy)}`), neutral ? '' : good ? 'good' : 'bad');
    }
  } catch (e) {
    if (view === kind && !me.quiet) {
      result.dataset.state = me.cancelled ? 'cancelled' : 'error';
      setVerdict(me.cancelled ? 'Cancelled.' : plainError(e.message), me.cancelled ? '' : 'bad');
    }
  } finally {
    if (running === me) running = null;
    setRunning(false, kind);
    if (view === kind && !me.quiet) timeline.finish();
  }
}

// quiet: the puzzle was replaced, so the solve ends without a verdict about it.
function cancel({ quiet = false } = {}) {
  if (!running) return;
  running.cancelled = true;
  running.quiet = quiet;
  if (running.run) running.run.cancel();
}

$('solve').addEventListener('click', solve);
$('cancel').addEventListener('click', cancel);

// ---- drag and drop: weights anywhere, ARC tasks too
let dragDepth = 0;
window.addEventListener('dragenter', e => { e.preventDefault(); dragDepth++; $('drop-overlay').hidden = false; });
window.addEventListener('dragleave', () => { if (--dragDepth <= 0) { dragDepth = 0; $('drop-overlay').hidden = true; } });
window.addEventListener('dragover', e => e.preventDefault());
window.addEventListener('drop', e => {
  e.preventDefault();
  dragDepth = 0;
  $('drop-overlay').hidden = true;
  const files = [...e.dataTransfer.files];
  if (!files.length) return;
  if (files.length === 1 && /\.json$/i.test(files[0].name)) {
    showView('arc');
    loadArcFile(files[0]);
  } else {
    loadUserFiles(files);
  }
});

// ---- deep links
function sameOriginUrl(text) {
  try {
    const url = new URL(text, location.href);
    return url.origin === location.origin ? url.href : null;
  } catch {
    return null;
  }
}

async function openHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const modelUrl = params.get('model') && sameOriginUrl(params.get('model'));
  const kind = ['sudoku', 'maze', 'arc'].find(k => params.has(k));
  if (modelUrl && !models[kind || view] && !loading[kind || view]) ensureModel(kind || view, modelUrl);
  if (kind === 'sudoku') {
    const p = parseSudoku(params.get('sudoku'));
    if (!p) return setVerdict('The link’s sudoku needs 81 cells: digits 1-9, and . or 0 for blanks.', 'bad');
    showView(kind);
    setSudoku(p);
  } else if (kind === 'maze') {
    const m = parseMaze(params.get('maze'));
    if (!m) return setVerdict('The link’s maze needs 900 cells: # (wall), . or space (open), one S and one G.', 'bad');
    showView(kind);
    setMaze(m);
  } else if (kind === 'arc') {
    showView('arc');
    const id = params.get('arc');
    if (arcTasks.includes(id)) {
      $('arc-task').value = id;
      await showBundledArc(id);
    }
  }
  if (kind && params.get('solve') === '1') solve();
}

window.addEventListener('hashchange', openHash);

// ---- offline: the service worker keeps the page and the engine build it ran; web/trm.js keeps the weights loaded
// Scope: the whole site where the server allows it (the engine's files are outside web/), else web/ only.
const SW_URL = new URL('../sw.js', import.meta.url);
const swReady = 'serviceWorker' in navigator && location.protocol !== 'file:'
  ? navigator.serviceWorker.register(SW_URL, { scope: new URL('../../', import.meta.url).pathname })
    .catch(() => navigator.serviceWorker.register(SW_URL))
    .then(() => navigator.serviceWorker.ready)
    .catch(() => null)
  : Promise.resolve(null);

// The engine's files, fetched on the first visit before the service worker took over: it keeps them once asked.
function keepOffline(urls) {
  swReady.then(reg => reg && reg.active && reg.active.postMessage({ cache: urls }));
}

// ---- start
async function start() {
  setSudoku(SUDOKU_SAMPLES[0].puzzle);
  updateArcNote();
  shipped = await shippedModels();
  await loadArcIndex();
  const params = new URLSearchParams(location.hash.slice(1));
  if (location.hash.length > 1) await openHash();
  if (!params.get('model')) ensureModel(view);
  showModelPanel();
}
start();
