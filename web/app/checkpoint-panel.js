// The model panel's part for official PyTorch checkpoints: which files were chosen, which ARC tasks to keep (asked
// when identifiers.json comes with the checkpoint), and "Save as safetensors" for the model loaded from one. The
// reading and converting is web/checkpoint.js's (TRM.load calls it); this module only asks and hands over.
import { convertCheckpoint, sortFiles } from '../checkpoint.js';

const $ = id => document.getElementById(id);

// Files chosen or dropped together: null when they are one weight file (loaded as before), else the checkpoint set
// ({checkpoint, config, dataset?, identifiers?}). Throws naming the file when they cannot be one model.
export function checkpointSet(files) {
  if (files.length === 1 && /\.safetensors$/i.test(files[0].name)) return null;
  const set = sortFiles(files);
  if (set.weights) throw new Error(`${set.weights.name}: a weight file is loaded on its own, not with other files`);
  if (set.others.length) {
    throw new Error(`${set.others[0].name}: not a file of a checkpoint; expected all_config.yaml, dataset.json or identifiers.json`);
  }
  if (!set.checkpoint) throw new Error(`no checkpoint among ${files.map(f => f.name).join(', ')}; choose the checkpoint (step_N) with its all_config.yaml`);
  if (!set.config) {
    throw new Error(`${set.checkpoint.name}: a PyTorch checkpoint needs its run's all_config.yaml; choose or drop both files together`);
  }
  return set;
}

// ARC (identifiers.json given): which tasks to keep, asked in the panel's form. Resolves to the ids, or null when
// the user cancels. `suggested`: the task the ARC view shows.
export function askTasks(set, suggested) {
  const form = $('checkpoint-ask');
  $('checkpoint-ask-file').textContent = set.checkpoint.name;
  $('checkpoint-tasks').value = suggested || '';
  $('checkpoint-ask-error').hidden = true;
  form.hidden = false;
  $('checkpoint-tasks').focus();
  return new Promise(resolve => {
    const done = ids => {
      form.hidden = true;
      form.onsubmit = null;
      $('checkpoint-ask-cancel').onclick = null;
      resolve(ids);
    };
    form.onsubmit = e => {
      e.preventDefault();
      const ids = $('checkpoint-tasks').value.split(/[\s,]+/).filter(Boolean);
      if (ids.length) return done(ids);
      $('checkpoint-ask-error').textContent = 'Enter at least one task id: the model keeps only their puzzle embeddings.';
      $('checkpoint-ask-error').hidden = false;
    };
    $('checkpoint-ask-cancel').onclick = () => done(null);
  });
}

// "Save as safetensors" for a model loaded from a checkpoint (null: hide it). The file is converted again from the
// same Files at the precision chosen, and offered as a download.
let saving = null;  // { set, keepPuzzles, name }
export function offerSave(source) {
  saving = source;
  $('model-save').hidden = !source;
  $('model-save-note').textContent = '';
}

async function save() {
  const { set, keepPuzzles } = saving;
  const dtype = $('model-save-dtype').value;
  const note = $('model-save-note');
  note.textContent = 'Converting…';
  try {
    const { bytes } = await convertCheckpoint(set.checkpoint, { config: set.config, dataset: set.dataset, identifiers: set.identifiers,
      keepPuzzles, dtype });
    const name = `${set.checkpoint.name.replace(/\.[^.]*$/, '')}${!keepPuzzles ? '' : keepPuzzles.length < 3 ? `-${keepPuzzles.join('-')}` : `-${keepPuzzles.length}-tasks`}.${dtype}.safetensors`;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    note.textContent = `Saved ${name} (${(bytes.length / 1e6).toFixed(1)} MB): load it next time, no checkpoint needed.`;
  } catch (e) {
    note.textContent = `Not saved: ${e.message}`;
  }
}

$('model-save-button').addEventListener('click', () => { if (saving) save(); });
