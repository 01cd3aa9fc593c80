// One drawing loop for the whole page. Every chart asks for its redraw here instead of
// calling requestAnimationFrame itself; each animation frame then runs the due redraws,
// the longest-waiting first, until the frame's time budget is spent, and leaves the rest
// for the next frame. A redraw may also ask for a minimum interval since its last run
// (big heatmaps: the decision boundary, the landscape), so a fast stream of events costs
// a bounded amount of main-thread time however many panels are on. (Issue 7 §1.)
// Pure module: the clock and the frame source are injectable (tests/js/frame.test.mjs).

export function createScheduler({
  raf = (fn) => requestAnimationFrame(fn),
  now = () => performance.now(),
  budget = 12,
} = {}) {
  const tasks = new Map(); // key -> {fn, since, minInterval}
  const last = new Map(); // key -> time of its last run
  const idle = [];
  let pending = false;

  function wake() {
    if (pending) return;
    pending = true;
    raf(frame);
  }

  function frame() {
    pending = false;
    const start = now();
    const due = [...tasks.entries()]
      .filter(([key, t]) => start - (last.get(key) ?? -Infinity) >= t.minInterval)
      .sort((a, b) => a[1].since - b[1].since);
    let ran = 0;
    for (const [key, t] of due) {
      if (ran > 0 && now() - start >= budget) break; // always at least one per frame
      tasks.delete(key);
      last.set(key, now());
      ran += 1;
      try { t.fn(); } catch (err) { console.warn("descent: a redraw failed", err); }
    }
    if (tasks.size) wake();
    else while (idle.length) idle.shift()();
  }

  return {
    /** Ask for fn() on a coming frame; a second request for the same key before it runs replaces the first. */
    request(key, fn, minInterval = 0) {
      const prev = tasks.get(key);
      tasks.set(key, { fn, since: prev ? prev.since : now(), minInterval });
      wake();
    },
    cancel(key) { tasks.delete(key); last.delete(key); },
    /** Run a key's pending redraw now (a chart about to be read or destroyed). */
    flush(key) {
      const t = tasks.get(key);
      if (!t) return;
      tasks.delete(key);
      last.set(key, now());
      t.fn();
    },
    get size() { return tasks.size; },
    /** Resolves once nothing is waiting to be drawn. */
    whenIdle() { return tasks.size ? new Promise((r) => idle.push(r)) : Promise.resolve(); },
  };
}

// The page's scheduler; node tests make their own with createScheduler().
let shared = null;
export function scheduler() {
  if (!shared) shared = createScheduler();
  return shared;
}
