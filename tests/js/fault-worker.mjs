// web/trm-worker.js with faults a test can arm, for the tests of what the worker and web/trm.js do when the engine
// fails. The faults are made where the WASM engine calls out to JavaScript (its imports), so everything above them is
// the shipped code: the engine's frames, the bindings, the worker, web/trm.js. Started in place of web/trm-worker.js
// (workerData.worker names it; see faultWorkers in helpers.mjs). A message {fault} is taken here, not passed on:
//   {fault: 'trap'}      the engine's next look at the cancel flag (before each block of a step) executes a WASM
//                        `unreachable`: a trap in the middle of a step, as a bug in the engine would cause
//   {fault: 'noGrowth'}  WASM memory stops growing, as when the browser has none to give: from the next allocation
//                        that needs more memory, malloc fails and the engine's `new` throws std::bad_alloc
//   {fault: null}        disarms both
import { workerData } from 'node:worker_threads';

// (module (func (export "trap") unreachable))
const UNREACHABLE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 8, 1, 4, 116, 114, 97,
  112, 0, 0, 10, 5, 1, 3, 0, 0, 11]);
const trap = new WebAssembly.Instance(new WebAssembly.Module(UNREACHABLE)).exports.trap;

const armed = { trap: false, noGrowth: false };
// The imports, by their function names in the Emscripten glue, and what each does when its fault is armed.
const FAULTS = {
  interrupt_requested: (real) => (...args) => {
    if (armed.trap) { armed.trap = false; trap(); }
    return real(...args);
  },
  _emscripten_resize_heap: (real) => (...args) => (armed.noGrowth ? 0 : real(...args)),
};

const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = (source, imports) => {
  const found = new Set();
  for (const module of Object.values(imports ?? {})) {
    for (const [key, f] of Object.entries(module)) {
      if (typeof f === 'function' && Object.hasOwn(FAULTS, f.name)) {
        module[key] = FAULTS[f.name](f);
        found.add(f.name);
      }
    }
  }
  const missing = Object.keys(FAULTS).filter((name) => !found.has(name));
  if (missing.length) {
    return Promise.reject(new Error(`tests/js/fault-worker.mjs: the engine's imports have no function named ${missing.join(', ')}; `
      + 'expected the Emscripten glue to keep its function names'));
  }
  return instantiate.call(WebAssembly, source, imports);
};

await import(workerData.worker);
const serve = self.onmessage;
self.onmessage = (event) => {
  const { fault } = event.data ?? {};
  if (fault === undefined) return serve(event);
  if (fault === null) {
    armed.trap = armed.noGrowth = false;
  } else if (Object.hasOwn(armed, fault)) {
    armed[fault] = true;
  } else {
    throw new Error(`tests/js/fault-worker.mjs: message fault = ${JSON.stringify(fault)}; expected 'trap', 'noGrowth' or null`);
  }
};
