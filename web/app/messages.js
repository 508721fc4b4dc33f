// The page's wording of what the engine says: its refusals name the task and the rule ("sudoku: puzzle has 80
// characters; expected 81") and its verdicts count cells ("1 cells are not filled"); the page says them as
// sentences, in the singular where the count is 1, with what to do next.
export const sentence = text => (/[.!?]$/.test(text) ? text : `${text}.`);

export const singular = text => text.replace(/\b1 cells are\b/g, '1 cell is').replace(/\b1 given cells\b/g, '1 given cell')
  .replace(/\b1 cells\b/g, '1 cell');

export function plainError(message) {
  const text = singular(message.replace(/^(sudoku|maze|arc|solve|trm): /i, ''));
  return `The model could not run this puzzle: ${sentence(text)} Change the puzzle, or load another model, and press Solve again.`;
}

// A file the model panel could not load: the engine's reason, the file named first, then what to choose instead.
export function loadError(name, message) {
  let text = `${name}: ${(message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message).replace(/^(weights|safetensors): /, '')}`;
  text = text.replace(/header length \d+ runs past the end[^;]*/, 'its header does not fit in the file (the file is cut short, or not a safetensors file)')
    .replace(/metadata '([^']+)' is empty/, 'the file is incomplete: its metadata entry $1 is empty');
  if (/\bchoose\b/i.test(text)) return text;
  return `${sentence(text)} Choose a TRM weight file (.safetensors) or an official checkpoint (step_N) with its all_config.yaml.`;
}
