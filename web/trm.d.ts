// Types of web/trm.js: the Tiny Recursive Model in WebAssembly, run in a Worker.

export interface LoadProgress {
  /** Bytes received so far (a checkpoint: downloaded, then read from the file). */
  loaded: number;
  /**
   * Bytes expected (Content-Length), or 0 when the server does not say. Reading a checkpoint: the bytes asked for so
   * far (the reader asks in a few rounds, so it grows).
   */
  total: number;
}

/** A file of a checkpoint set: a File or Blob, a URL, or in Node a path. */
export type CheckpointFile = Blob | string | URL;

/**
 * An official PyTorch checkpoint (`step_N`, as the reference code's torch.save writes it) with its run's
 * all_config.yaml; optionally the dataset's dataset.json (sizes all_config.yaml lacks) and, for ARC, identifiers.json
 * (the names of the puzzle-embedding rows). Or the Files chosen together (an array or FileList), told apart by name:
 * *.yaml the config, *dataset*.json, *identifiers*.json, the remaining one the checkpoint.
 */
export type CheckpointSet =
  | { checkpoint: CheckpointFile; config: CheckpointFile; dataset?: CheckpointFile; identifiers?: CheckpointFile }
  | File[] | FileList;

export type ModelSource = string | URL | ArrayBuffer | Uint8Array | Blob | CheckpointSet;

export interface LoadOptions {
  onProgress?: (progress: LoadProgress) => void;
  /**
   * Threads for each step. 'auto' (default): one per core (at most 8) when SharedArrayBuffer is available (Node, or a
   * cross-origin-isolated page), else 1. 1 selects the single-thread build; more selects the pthreads build, falling
   * back to the single-thread build if it cannot start (see `TRMInfo.fallback`). At most MAX_THREADS (256), as the
   * CLIs' --threads; more is refused.
   */
  threads?: 'auto' | number;
  /**
   * The build with WebAssembly relaxed SIMD (fused multiply-add: about 1.3x the float32 matrix products on x86).
   * 'auto' (default): where the JavaScript engine runs it (Chrome 114+, Node 22+; Node 20 with
   * --experimental-wasm-relaxed-simd); true: always, an error where it cannot; false: never. Results agree with the
   * plain build to rounding (a fused multiply-add rounds once).
   */
  relaxedSimd?: 'auto' | boolean;
  /**
   * Which engine runs the network (web/webgpu/backend.js). 'auto' (default): WebGPU when navigator.gpu gives an adapter
   * that is not a software fallback and the first step of two built-in check models there agrees with the WASM engine
   * (relative error <= 1e-4), else WASM; `info.backendReason` says which and why. 'webgpu': any adapter, a software one
   * too, still checked; rejects when there is none or the check fails. 'wasm': never looks at the GPU. On WebGPU the
   * WASM engine still embeds the inputs and runs the solve loop, strategies and ARC voting; every network step runs on
   * the GPU as one submission, its carry staying there. Float32 on both unless `precision` says otherwise.
   *
   * If the GPU fails during a run (its device lost, a step's submission or read-back failing), the run does not fail:
   * the network moves to WASM for good (later runs and loadModel too; TRM.load again to retry WebGPU), `info.backend`
   * becomes the WASM build (`info.precision` 'f32') and `info.backendReason` says what failed and how the run went
   * on: from the GPU's carry, read back, where it can still be read; else started again on WASM, the steps already
   * delivered recomputed and not delivered again. Either way the run's steps go on from the one that failed.
   */
  backend?: 'auto' | 'webgpu' | 'wasm';
  /**
   * What the network's weights are stored in on WebGPU (web/webgpu/backend.js). 'f32' (default): float32 throughout.
   * 'f16': the blocks' weights (attention's qkv and o, both SwiGLUs, the token-mixing MLP) rounded to float16 on upload
   * and stored two to a 32-bit word, half the memory and half the bytes each product reads; lm_head, q_head, the carry,
   * the activations and all the math (accumulation included) stay float32. Needs no shader-f16 (WGSL's
   * unpack2x16float reads them), so it runs on any adapter; the load rejects when the check models' first step is not
   * within 1e-2 of the WASM engine (the bound int8 weights meet). 'auto': 'f16' where the adapter offers shader-f16
   * (hardware built for half precision), else float32. `info.precision` and `info.precisionReason` say which and why.
   * The WASM engine computes in float32 whatever is asked for here.
   */
  precision?: 'f32' | 'f16' | 'auto';
  /** Browser: keep downloaded weights in the Cache API ('trm-weights-v1') and load from there next time. Default true. */
  cache?: boolean;
  /** Names the weights in error messages (default: the URL or path, or 'weights' for bytes). */
  label?: string;
  /**
   * A checkpoint with named puzzle rows (ARC, with identifiers.json): keep only the rows of these task ids and
   * their augmented copies (an array, or text with one id a line). Without it every row is kept.
   */
  keepPuzzles?: string[] | string | Blob;
  /**
   * Milliseconds a cancelled solve may keep the engine busy before its worker is replaced: terminated, and a fresh
   * worker started with the same model (kept by this object), so that the cancel takes effect at once and the object
   * stays usable. The cancelled run ends as cancelled; calls queued behind it run on the new worker, in their order;
   * calls made meanwhile wait for it; `info` does not change. 'auto' (default): 1000 where there is shared memory
   * (Node, cross-origin-isolated pages), whose flag stops the engine before its next network call, so only a single
   * network call longer than a second needs the new worker; 1000 on WebGPU too, whose worker hears a cancel during a
   * step (it awaits the GPU) and drops the step in flight; 0 elsewhere (pages without COOP/COEP), where the engine
   * would otherwise finish its step first. Infinity: never replace the worker (the solve stops where the engine
   * heeds the cancel). A restart costs about what a load costs (start the worker, compile the WASM, load the model).
   */
  cancelTimeout?: 'auto' | number;
}

/** Files read whole in Node (weight files, a checkpoint's config) are at most this many bytes (1 GiB), as natively. */
export const MAX_FILE_BYTES: number;
/** The most threads an engine runs (LoadOptions.threads), as both CLIs' --threads: 256. */
export const MAX_THREADS: number;

/** The architecture fields of TRM_SPEC.md, from the weight file's `config` metadata. */
export interface TRMConfig {
  seq_len: number; vocab_size: number; hidden_size: number; num_heads: number; expansion: number;
  L_layers: number; H_cycles: number; L_cycles: number; halt_max_steps: number; mlp_t: boolean;
  pos_encodings: 'rope' | 'learned' | 'none';
  puzzle_emb_ndim: number; puzzle_emb_len: number; num_puzzle_identifiers: number;
  rms_norm_eps: number; rope_theta: number;
}

export type WasmBuild = 'wasm-simd' | 'wasm-simd-threads' | 'wasm-relaxed-simd' | 'wasm-relaxed-simd-threads';

export interface TRMInfo {
  config: TRMConfig;
  /** The weight file's `task` metadata. */
  task: { kind: 'sudoku' | 'maze' | 'arc' | 'generic'; puzzle_identifiers?: string[]; [key: string]: unknown };
  parameters: number;
  /** How the weights were stored: F32, F16, BF16 or I8. */
  storageDtype: string;
  /** The weight file's `source` metadata. */
  source: string;
  /** What runs the network: 'webgpu' (LoadOptions.backend), else the WASM build: relaxed SIMD or not
   *  (LoadOptions.relaxedSimd), single-thread or pthreads. */
  backend: 'webgpu' | WasmBuild;
  /** The WASM build loaded (with WebGPU too: it runs everything around the network). */
  wasm: WasmBuild;
  /** Why this backend: what was asked for, the adapter, the check step's agreement, or why WebGPU was not used; after
   *  the GPU failed during a run (LoadOptions.backend), what failed and how the run went on on WASM. */
  backendReason: string;
  /** The WebGPU adapter looked at, or null when none was (backend 'wasm', no navigator.gpu, no adapter); shaderF16:
   *  whether it offers the shader-f16 feature (what LoadOptions.precision 'auto' looks for). */
  adapter: { vendor: string; architecture: string; description: string; fallback: boolean; shaderF16?: boolean } | null;
  /** What the network's weights are stored in (LoadOptions.precision): 'f16' only on WebGPU. */
  precision: 'f32' | 'f16';
  /** Why: what was asked for, whether the adapter offers shader-f16, the float16 check step's agreement. */
  precisionReason: string;
  /** Threads each step runs on. */
  threads: number;
  /** The URLs of the build's files that were fetched (glue, .wasm, and the pthread worker for threads): what a page
   *  keeps for offline use. */
  files: string[];
  /** The strategy 'best' runs for this model: the weight file's task.strategy, else the one measured best with the
   *  shipped model of its task (the model cards' strategy tables). */
  bestStrategy: Strategy;
  /** Positions the network runs on (seq_len + puzzle prefix) and the prefix length. */
  positions: number;
  prefixLen: number;
  /** config and task exactly as stored (what `trm info` prints). */
  configJson: string;
  taskJson: string;
  /** The URL or path loaded, or null for bytes; whether the bytes came from the Cache API. */
  url: string | null;
  fromCache: boolean;
  /** Why the threaded build was asked for and not used. */
  fallback?: string;
  /** A checkpoint: what was assumed about the architecture (sizes all_config.yaml lacks), one sentence each. */
  notes: string[];
}

/**
 * Test-time strategies (src/solve.h): 'model' the plain TRM (default); 'steps' more supervision steps than trained,
 * until the answer verifies; 'vote' the task's symmetries as one batch, averaged per cell; 'commit' fill the most
 * confident legal cells, feed them back as givens and run again, backtracking on a dead end; 'best' the one the
 * weight file names (task.strategy), else the one measured best for the task. Every strategy but 'model' keeps the
 * givens in its answer.
 */
export type Strategy = 'model' | 'steps' | 'vote' | 'commit' | 'best';

export interface SolveOptions {
  /** 'early' (default): stop once the model's q_halt > 0 (model, vote); 'never': run every step. */
  halt?: 'early' | 'never';
  /** Steps at most (default: the model's halt_max_steps; 'steps': 8 x halt_max_steps in all). */
  maxSteps?: number;
  /** Also return each step's logits [seq_len * vocab_size] (of the first copy). */
  logits?: boolean;
  strategy?: Strategy;
  /** 'vote', 'commit': augmented copies run as one batch (default 8). */
  copies?: number;
  /** 'commit': cells committed per round (default 8). */
  commit?: number;
  /** 'commit': supervision steps per round at most (default halt_max_steps / 4). */
  roundSteps?: number;
  /** Model calls (steps x copies) at most (default 16 x halt_max_steps). */
  maxCalls?: number;
  /** 'commit': backtracks by the rules at most (default 256; no model call); past them a dead end undoes the implicated
   *  commitment the copies were least sure of and runs the model again. */
  backtracks?: number;
  /** 'commit': past `commit` cells, also every choice the copies give at least this mean probability
   *  (default 0.99; above 1: none). */
  threshold?: number;
  /** 'commit': each round goes on from the previous round's carry (default false: afresh). */
  carry?: boolean;
  /** Draws the sudoku symmetries (default 1). */
  seed?: number;
}

/** Raw model input: seq_len tokens and a puzzle-embedding row. */
export interface RawPuzzle {
  tokens: Int32Array | number[];
  puzzleId?: number;
}

export interface Step<P = string | Int32Array> {
  /** 1-based supervision step. */
  step: number;
  maxSteps: number;
  /** The answer shown (81 or 900 characters), or the predicted tokens for a raw puzzle. */
  prediction: P;
  tokens: Int32Array;
  /** sigmoid(qHalt): the model's estimate that its answer is entirely right. */
  confidence: number;
  qHalt: number;
  qContinue: number;
  /** Cells that changed since the previous step (all cells on step 1). */
  changed: number[];
  /** The C++ validator's verdict on the prediction, by the puzzle's rules. */
  verified: boolean;
  message: string;
  badCells: number[];
  /** Milliseconds the step took in the engine. */
  ms: number;
  /** Model calls so far: supervision steps x batch copies. */
  modelCalls: number;
  /** Givens the network's own answer changed this step; the prediction shows them as given (sudoku, maze). */
  givensChanged: number;
  /** What the strategy did this step (e.g. 'round 3: 4 cells committed'); empty for 'model'. */
  note: string;
  /** The strategy that runs ('best' resolved). */
  strategy: Exclude<Strategy, 'best'>;
  /** True on the last step. */
  done: boolean;
  logits?: Float32Array;
}

export interface Run<P = string | Int32Array> extends AsyncIterableIterator<Step<P>> {
  /**
   * Stops the solve: the iterator ends at once, no further steps. The engine stops within one network call: through
   * shared memory where there is some, else (or if a network call outlasts LoadOptions.cancelTimeout) by replacing
   * the worker with a fresh one holding the same model; `result` then resolves.
   */
  cancel(): void;
  /** The last step (null if cancelled before any); rejects with the error of a failed solve. */
  readonly result: Promise<Step<P> | null>;
  /** Steps the engine ran, counting one that finished after cancel(). */
  readonly stepsComputed: number;
}

/** An ARC task, as in the ARC-AGI JSON files: grids are 1-30 rows of 1-30 colours 0-9. */
export interface ArcTask {
  train: { input: number[][]; output: number[][] }[];
  test: { input: number[][]; output?: number[][] }[];
}

export interface ArcSolveOptions {
  /** The task's id, as the model's `task.puzzle_identifiers` name its rows (e.g. '00576224'). Required. */
  taskId: string;
  /** Which test input of the task (default 0). */
  test?: number;
  /** Augmented copies to run at most, the original first (default 0: every copy the model has a row for). */
  maxCopies?: number;
  /** 'early' (default): each copy stops once its q_halt > 0; 'never': every copy runs every step. */
  halt?: 'early' | 'never';
  /** Steps at most (default: the model's halt_max_steps). */
  maxSteps?: number;
  /** Names the task in error messages (default: taskId). */
  label?: string;
  /** Give each attempt its per-cell `certainty` (default false). */
  certainty?: boolean;
}

/** One distinct answer of the copies, in the task's own frame (augmentation undone). */
export interface ArcAttempt {
  grid: number[][];
  /** Copies whose prediction is this grid. */
  votes: number;
  /** Mean sigmoid(q_halt) of those copies. */
  confidence: number;
  /** Whether it equals the test output, when the task holds one. */
  correct?: boolean;
  /** With `certainty: true`: per cell of `grid`, the probability the model gives the cell's colour, averaged over the
   * copies that voted for it (each read in its own augmented frame). */
  certainty?: number[][];
}

export interface ArcStep {
  /** 1-based supervision step. */
  step: number;
  maxSteps: number;
  /** Augmented copies in the run; `active`: those that ran this step (not yet halted). */
  copies: number;
  active: number;
  /** Distinct answers among the copies. */
  distinct: number;
  /** The top two answers, ranked by votes, ties broken by confidence (the official pass@2 ranking). */
  attempts: ArcAttempt[];
  /** Milliseconds the step took in the engine (all copies). */
  ms: number;
  /** True on the last step. */
  done: boolean;
}

export interface ArcRun extends AsyncIterableIterator<ArcStep> {
  /** As Run.cancel. */
  cancel(): void;
  readonly result: Promise<ArcStep | null>;
  readonly stepsComputed: number;
}

export interface PredictStep {
  /** [B, seq_len, vocab_size], [B], [B], and with `zH` [B, positions, hidden_size]. */
  logits: Float32Array;
  qHalt: Float32Array;
  qContinue: Float32Array;
  zH?: Float32Array;
}

export declare class TRM {
  /**
   * Starts a worker and loads a weight file (URL string or URL, ArrayBuffer, Uint8Array, File or Blob) or an official
   * checkpoint set (CheckpointSet, read by offset through web/checkpoint.js). Rejects with the loader's message, which
   * names the file, the field and what was expected.
   */
  static load(source: ModelSource, options?: LoadOptions): Promise<TRM>;
  readonly info: TRMInfo;
  /** Replaces the model; on failure (rejected with the loader's message) the current model stays. */
  loadModel(source: ModelSource, options?: LoadOptions): Promise<TRMInfo>;
  /** A sudoku (81 characters, '.' or '0' blank) or maze (900 characters or 30 lines of '# SGo') for the model's task. */
  solve(puzzle: string, options?: SolveOptions): Run<string>;
  solve(puzzle: RawPuzzle, options?: SolveOptions): Run<Int32Array>;
  /**
   * An ARC task (object, or its JSON text with an ARC model): its test input run once per augmented copy the model has
   * a puzzle-embedding row for, as one batch; after each step the copies vote. Rejects with the engine's message when
   * the model has no row for `taskId` (its embedding must be learned first).
   */
  solve(task: ArcTask | string, options: ArcSolveOptions): ArcRun;
  /** Runs `steps` steps on a batch of raw inputs (tokens [B * seq_len], puzzleIds [B]); `trm predict`'s outputs. With
   *  `zH`, each step's latent state too (on WebGPU read back from the GPU with the step's outputs). */
  predict(tokens: Int32Array | number[], puzzleIds: Int32Array | number[], options?: { steps?: number; zH?: boolean }):
    Promise<{ steps: PredictStep[] }>;
  /** WASM linear memory size and bytes in use by malloc. */
  memory(): Promise<{ heapSize: number; heapUsed: number }>;
  /**
   * A new puzzle for this model's task (sudoku or maze) from the engine's generators, the ones that make the
   * evaluation files. sudoku: `grade` ('singles' by default) and `givens` ([28, 36]); maze: `path`, the shortest
   * path's cells with S and G ([20, 40]). The same seed gives the same puzzle everywhere.
   */
  generate(options?: { seed?: number; grade?: 'singles' | 'harder'; givens?: [number, number]; path?: [number, number] }):
    Promise<{ question: string; answer: string }>;
  /** Terminates the worker and frees its memory; pending calls reject. */
  dispose(): void;
}

/** Whether this JavaScript engine runs WebAssembly relaxed SIMD, i.e. what `relaxedSimd: 'auto'` picks. */
export declare function relaxedSimdSupported(): boolean;

export default TRM;
