// A tiny ARC model written here (random weights, no training), for the ARC tests in Node and in the browser:
// seq_len 900, vocab 12, hidden 16, one attention layer, named puzzle-embedding rows in `task.puzzle_identifiers`.
//   kind 'copy':   token embeddings and lm_head are the identity on the 12 tokens and the blocks are small, so every
//                  augmented copy predicts its own input: once un-augmented, all copies give the task's test input
//                  (which makes the votes exact: a copy that restored wrongly would vote elsewhere).
//   kind 'random': every weight random; copies disagree, several distinct answers rank by votes then confidence.
import { writeSafetensors } from '../../web/safetensors.js';

export const ARC_TASK_ID = 'aaaa0001';
export const OTHER_TASK_ID = 'bbbb0002';
// Rows as the reference identifiers.json names them: '<blank>' first, then each task and its augmented copies.
export const ARC_NAMES = ['<blank>', OTHER_TASK_ID, ARC_TASK_ID, `${ARC_TASK_ID}|||t1|||0123456789`,
  `${ARC_TASK_ID}|||t4|||0312456789`, `${OTHER_TASK_ID}|||t2|||0213456789`, `${ARC_TASK_ID}|||t7|||0987654321`];
export const ARC_COPIES = 4;  // rows of ARC_TASK_ID

// A task whose first test output is its input (so the copy model answers it correctly) and whose second isn't.
export const ARC_TASK = {
  train: [{ input: [[1, 2], [3, 4]], output: [[1, 2], [3, 4]] }],
  test: [
    { input: [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [9, 0, 3, 3, 1]], output: [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [9, 0, 3, 3, 1]] },
    { input: [[2, 2, 0], [0, 7, 5]], output: [[5, 7, 0], [0, 2, 2]] },
  ],
};

function rng(seed) {  // mulberry32, then Box-Muller
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (std) => std * Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

export function arcModelBytes(kind = 'copy', { names = ARC_NAMES, seed = 7, haltMaxSteps = 3 } = {}) {
  const D = 16, V = 12, I = 256, heads = 2;  // swiglu_width(1, 16) = 256
  const config = {
    seq_len: 900, vocab_size: V, hidden_size: D, num_heads: heads, expansion: 1, L_layers: 1, H_cycles: 1, L_cycles: 2,
    halt_max_steps: haltMaxSteps, mlp_t: false, pos_encodings: 'rope', puzzle_emb_ndim: D, puzzle_emb_len: 1,
    num_puzzle_identifiers: names.length, rms_norm_eps: 1e-5, rope_theta: 10000,
  };
  const normal = rng(seed);
  const tensor = (shape, f) => {
    const n = shape.reduce((x, y) => x * y, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; ++i) data[i] = f(i);
    return { dtype: 'F32', shape, data };
  };
  const random = (shape, std) => tensor(shape, () => normal(std));
  const copy = kind === 'copy';
  const identity = (i) => (Math.floor(i / D) === i % D ? 1 : 0);  // rows of [V, D]: token v -> unit vector v
  const small = copy ? 0.02 : 0.3;
  const entries = [
    ['H_init', random([D], copy ? 0.1 : 1)],
    ['L_init', random([D], copy ? 0.1 : 1)],
    ['embed_tokens.embedding_weight', copy ? tensor([V, D], identity) : random([V, D], 0.5)],
    ['lm_head.weight', copy ? tensor([V, D], identity) : random([V, D], 0.5)],
    ['q_head.weight', random([2, D], copy ? 0 : 0.3)],
    ['q_head.bias', tensor([2], (i) => (copy ? [-1, 1][i] : 0))],
    ['puzzle_emb.weights', random([names.length, D], copy ? 0.1 : 1)],
    ['L_level.layers.0.self_attn.qkv_proj.weight', random([3 * D, D], small)],
    ['L_level.layers.0.self_attn.o_proj.weight', random([D, D], small)],
    ['L_level.layers.0.mlp.gate_up_proj.weight', random([2 * I, D], small)],
    ['L_level.layers.0.mlp.down_proj.weight', random([D, I], small / 4)],
  ];
  return writeSafetensors(entries, {
    format: 'trm/1',
    config: JSON.stringify(config),
    task: JSON.stringify({ kind: 'arc', puzzle_identifiers: names }),
    source: JSON.stringify({ made_by: `tests/js/arc-model.mjs (${kind}, random weights, untrained)` }),
  });
}
