// One drawing loop for the whole page. Every chart asks for its redraw here instead of
// calling requestAnimationFrame itself; each animation frame then runs the due redraws,
// the longest-waiting first, until the frame's time budget is spent, and leaves the rest
// for the next frame. A redraw may also ask for a minimum interval since its last run
// (big heatmaps: the decision boundary, the landscape), so a fast stream of events costs
// a bounded amount of main-thread time however many panels are on. (Issue 7 §1.)
// Drawing also keeps to a duty cycle: after a frame that drew for d ms (more than its
// budget: a slow machine, a big chart), the scheduler rests d·(1/duty − 1) ms before
// drawing again, so redraws take about `duty` of the main thread's time at most and the
// page stays free for input, the socket and the status line. Replay sets duty to 1.
// Pure module: the clock and the frame source are injectable (tests/js/frame.test.mjs).

// The usual share of the main thread that drawing may take. A frame's rendering (style,
// layout, paint of the SVG it changed) comes on top of the time measured here, so the
// long-task share of a streaming run comes out near twice this (bench/bench_ui.py).
export const DUTY = 0.08;

export function createScheduler({
  raf = (fn) => requestAnimationFrame(fn),
  now = () => performance.now(),
  budget = 12,
  duty = DUTY,
  maxRest = 1500,
} = {}) {
  const tasks = new Map(); // key -> {fn, since, minInterval, label, low}
  const last = new Map(); // key -> time of its last run
  const stats = {}; // label -> {n, ms, max}: what the drawing costs, per panel
  const idle = [];
  let pending = false;
  let restUntil = -Infinity;
  let held = false;
  let bursting = false;

  function wake() {
    if (pending) return;
    pending = true;
    raf(frame);
  }

  function frame() {
    pending = false;
    if (held) return; // release() wakes it
    const start = now();
    if (start < restUntil) { wake(); return; }
    const due = [...tasks.entries()]
      .filter(([key, t]) => start - (last.get(key) ?? -Infinity) >= t.minInterval)
      .sort((a, b) => (a[1].low - b[1].low) || (a[1].since - b[1].since));
    let ran = 0;
    for (const [key, t] of due) {
      if (ran > 0 && now() - start >= budget) break; // always at least one per frame
      tasks.delete(key);
      const t0 = now();
      last.set(key, t0);
      ran += 1;
      try { t.fn(); } catch (err) { console.warn("descent: a redraw failed", err); }
      const d = now() - t0;
      const st = stats[t.label] || (stats[t.label] = { n: 0, ms: 0, max: 0 });
      st.n += 1; st.ms += d; st.max = Math.max(st.max, d);
    }
    const spent = now() - start;
    if (spent > budget && duty < 1) restUntil = now() + Math.min(maxRest, spent * (1 / duty - 1));
    if (tasks.size) wake();
    else while (idle.length) idle.shift()();
  }

  return {
    /**
     * Ask for fn() on a coming frame; a second request for the same key before it runs
     * replaces the first. `low`: after every other due redraw (a chart out of view).
     */
    request(key, fn, minInterval = 0, label = "chart", low = false) {
      const prev = tasks.get(key);
      tasks.set(key, { fn, since: prev ? prev.since : now(), minInterval, label, low: low ? 1 : 0 });
      wake();
    },
    /**
     * Draw flat out (duty 1) until nothing waits, then back to the duty cycle: a person
     * pressed a button (projector mode), or the run ended and nothing streams any more.
     */
    burst() {
      if (bursting || duty >= 1) return;
      bursting = true;
      const before = duty;
      duty = 1;
      restUntil = -Infinity;
      this.whenIdle().then(() => { bursting = false; if (duty === 1) duty = before; });
    },
    /** Share of time drawing may take (1: no rest, as fast as frames come). */
    setDuty(d) { duty = d; if (d >= 1) restUntil = -Infinity; },
    get duty() { return duty; },
    /** Hold every redraw (a replay feeding thousands of events); release() draws what waits. */
    hold() { held = true; },
    release() { held = false; if (tasks.size) wake(); },
    stats,
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
    /** What waits, for debugging: [[label, ms waiting, minInterval]]. */
    pending() { return [...tasks.values()].map((t) => [t.label, Math.round(now() - t.since), t.minInterval]); },
    get resting() { return Math.max(0, restUntil - now()); },
    /** Resolves once nothing is waiting to be drawn. */
    whenIdle() { return tasks.size ? new Promise((r) => idle.push(r)) : Promise.resolve(); },
  };
}

// The page's scheduler; node tests make their own with createScheduler().
let shared = null;
export function scheduler() {
  if (!shared) {
    shared = createScheduler();
    // what each panel's redraws cost, for the console and bench/bench_ui.py
    if (typeof window !== "undefined") { window.__descentDrawStats = shared.stats; window.__descentScheduler = shared; }
  }
  return shared;
}
