// Replay a finished run: fetch its persisted events and feed them to a fresh view
// epoch by epoch, so a class can watch the boundary form again at any speed.
// "max" speed feeds as many epochs per animation frame as fit in a time budget, so a
// long run replays as fast as the page can draw it without ever freezing it.
// Pure apart from fetchAllEvents (api.js): the timers are injectable for node tests.
import { api } from "./api.js";

/** Every persisted event of a run, following `after` until the server has no more. */
export async function fetchAllEvents(id, get = (after) => api.events(id, after)) {
  const all = [];
  let after = 0;
  for (let page = 0; page < 10000; page++) {
    const res = await get(after);
    const evs = res.events || [];
    if (!evs.length) break;
    all.push(...evs);
    after = evs[evs.length - 1].seq;
    if (res.more === false) break; // the server says this was the last page
  }
  return all;
}

// Events that belong to the epoch in progress; any other type closes a frame.
const WITHIN_EPOCH = new Set(["step", "diagnostics", "boundary", "neurons", "weights", "control"]);

/** Group events into frames: one epoch of progress each (steps, then the epoch's events). */
export function framesOf(events) {
  const frames = [];
  let cur = [];
  for (const ev of events) {
    cur.push(ev);
    if (!WITHIN_EPOCH.has(ev.type)) { frames.push(cur); cur = []; }
  }
  if (cur.length) frames.push(cur);
  return frames;
}

/** Milliseconds between frames at `speed` (1 = about 15 s for the whole run, never slower than 400 ms a frame). */
export function frameDelay(nFrames, speed) {
  return Math.max(10, Math.min(400, 15000 / Math.max(1, nFrames))) / speed;
}

const defaultTimers = () => ({
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t),
  now: () => performance.now(),
});

/**
 * Feed events to `handle` progressively.
 * @param speed  a number (× real time, see frameDelay) or "max": then the events go in
 *   slices of `budget` ms with a macrotask between them (input and the socket stay
 *   served), and the caller holds the drawing until the end (run.js), so the charts are
 *   drawn once, complete, instead of once per slice
 * @param budget ms of handling per slice at "max"
 * @returns {{stop(): void, done: Promise<void>}}
 */
export function replay(events, handle, { speed = 1, onProgress = () => {}, timers = defaultTimers(), budget = 50 } = {}) {
  const frames = framesOf(events);
  const max = speed === "max" || speed === Infinity;
  const delay = max ? 0 : frameDelay(frames.length, Number(speed) || 1);
  let stopped = false;
  let timer = 0;
  let resolve;
  const done = new Promise((r) => { resolve = r; });
  let i = 0;
  const tick = () => {
    if (stopped) return resolve();
    const start = timers.now();
    do {
      if (i >= frames.length) { onProgress(1); return resolve(); }
      for (const ev of frames[i++]) handle(ev);
    } while (max && timers.now() - start < budget);
    onProgress(i / frames.length);
    timer = timers.setTimeout(tick, max ? 0 : delay);
  };
  tick();
  return { stop() { stopped = true; timers.clearTimeout(timer); resolve(); }, done };
}
