// The last solve, step by step: a slider scrubs back and forth through its steps (the board shows each one again),
// and a small chart plots the model's confidence, sigmoid(q_halt), over the steps. The dashed line is 50%: early
// halting stops the first time the confidence is above it.
const SVG = 'http://www.w3.org/2000/svg';

// range: an <input type=range>; chart: an <svg viewBox="0 0 100 30">; confidenceOf(step): 0..1 or null;
// onShow(step, k, n): draws step k of n.
export function createTimeline({ range, chart, confidenceOf, onShow }) {
  let steps = [];

  function draw(current) {
    const values = steps.map(s => confidenceOf(s) ?? 0);
    const x = k => (values.length > 1 ? (k / (values.length - 1)) * 100 : 50);
    const y = c => 29 - c * 28;
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', values.map((c, k) => `${x(k).toFixed(2)},${y(c).toFixed(2)}`).join(' '));
    line.setAttribute('class', 'halt-line');
    const half = document.createElementNS(SVG, 'line');
    Object.entries({ x1: 0, x2: 100, y1: y(0.5), y2: y(0.5), class: 'halt-half' }).forEach(([k, v]) => half.setAttribute(k, v));
    chart.replaceChildren(half, line);
    if (current) {
      const mark = document.createElementNS(SVG, 'line');
      Object.entries({ x1: x(current - 1), x2: x(current - 1), y1: 0, y2: 30, class: 'halt-now' }).forEach(([k, v]) => mark.setAttribute(k, v));
      chart.append(mark);
    }
    chart.setAttribute('aria-label', values.length
      ? `The model's confidence over ${values.length} steps: ${values.map(c => `${Math.round(c * 100)}%`).join(', ')}`
      : 'The model’s confidence over the steps of a solve');
    chart.dataset.values = values.map(c => c.toFixed(4)).join(',');
  }

  function show(k) {
    range.setAttribute('aria-valuetext', `step ${k} of ${steps.length}`);
    draw(k);
    onShow(steps[k - 1], k, steps.length);
  }
  range.addEventListener('input', () => show(Number(range.value)));

  return {
    reset() {
      steps = [];
      Object.assign(range, { min: 1, max: 1, value: 1, disabled: true });
      range.removeAttribute('aria-valuetext');
      draw(0);
    },
    push(step) {
      steps.push(step);
      range.max = steps.length;
      range.value = steps.length;
      draw(steps.length);
    },
    // After a solve: scrubbing is on when there is more than one step to look at.
    finish() { range.disabled = steps.length < 2; },
  };
}
