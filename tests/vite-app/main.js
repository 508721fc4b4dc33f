// A tiny app that uses the library as an npm package would: import 'trm-web', load weights, solve, show the answer.
// ?weights=URL&puzzle=81 chars; writes JSON (or "error: ...") into #out for tests/js/vite.test.mjs.
import { relaxedSimdSupported, TRM } from 'trm-web';

const out = document.getElementById('out');
const params = new URLSearchParams(location.search);
try {
  const trm = await TRM.load(params.get('weights') ?? 'weights.safetensors', { threads: 'auto' });
  let last = null;
  for await (const step of trm.solve(params.get('puzzle'), { halt: 'never' })) last = step;
  out.textContent = JSON.stringify({ backend: trm.info.backend, relaxedSimd: relaxedSimdSupported(), threads: trm.info.threads, fallback: trm.info.fallback, fromCache: trm.info.fromCache,
    step: last.step, prediction: last.prediction });
  trm.dispose();
} catch (e) {
  out.textContent = `error: ${e.message}`;
}
