// Small random attention models of any configuration, for the hostile-input and soak tests: every tensor the
// config implies (TRM_SPEC.md "Weights", attention variant, rope, no puzzle embedding), random weights, untrained.
import { writeSafetensors } from '../../web/safetensors.js';

const swigluWidth = (expansion, width) => Math.ceil(Math.round((expansion * width * 2) / 3) / 256) * 256;

export function modelBytes(over = {}, { task = { kind: 'sudoku' }, source = 'tests/js/hostile-models.mjs (random weights)', seed = 1, extra = [] } = {}) {
  const config = {
    seq_len: 81, vocab_size: 11, hidden_size: 16, num_heads: 2, expansion: 2, L_layers: 1, H_cycles: 1, L_cycles: 2,
    halt_max_steps: 3, mlp_t: false, pos_encodings: 'rope', puzzle_emb_ndim: 0, puzzle_emb_len: 0, num_puzzle_identifiers: 1,
    rms_norm_eps: 1e-5, rope_theta: 10000, ...over,
  };
  const D = config.hidden_size, V = config.vocab_size, I = swigluWidth(config.expansion, D);
  let a = seed >>> 0;
  const uniform = () => {  // mulberry32
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
  const random = (shape, scale = 0.5) => ({ dtype: 'F32', shape, data: Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => scale * uniform()) });
  const entries = [
    ['H_init', random([D])], ['L_init', random([D])],
    ['embed_tokens.embedding_weight', random([V, D])], ['lm_head.weight', random([V, D])],
    ['q_head.weight', random([2, D])], ['q_head.bias', random([2])],
  ];
  for (let l = 0; l < config.L_layers; ++l) {
    const p = `L_level.layers.${l}.`;
    entries.push([`${p}self_attn.qkv_proj.weight`, random([3 * D, D], 0.2)], [`${p}self_attn.o_proj.weight`, random([D, D], 0.2)],
      [`${p}mlp.gate_up_proj.weight`, random([2 * I, D], 0.2)], [`${p}mlp.down_proj.weight`, random([D, I], 0.1)]);
  }
  entries.push(...extra.map(([name, shape]) => [name, random(shape)]));
  return writeSafetensors(entries, { format: 'trm/1', config: JSON.stringify(config), task: typeof task === 'string' ? task : JSON.stringify(task), source });
}
