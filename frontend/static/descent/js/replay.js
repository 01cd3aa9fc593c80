// Replay a finished run: fetch its persisted events and feed them to a fresh view
// epoch by epoch, so a class can watch the boundary form again at any speed.
import { api } from "./api.js";

/** Every persisted event of a run, following `after` until the server has no more. */
export async function fetchAllEvents(id) {
  const all = [];
  let after = 0;
  for (let page = 0; page < 10000; page++) {
    const res = await api.events(id, after);
    const evs = res.events || [];
    if (!evs.length) break;
    all.push(...evs);
    after = evs[evs.length - 1].seq;
    if (res.more === false) break; // the server says this was the last page
  }
  return all;
}

/**
 * Feed events to `handle` progressively. A frame ends after each epoch-level event
 * (epoch, lr_finder, landscape, summary) so one tick shows one epoch of progress.
 * @returns {{stop(): void, done: Promise<void>}}
 */
export function replay(events, handle, { speed = 1, onProgress = () => {} } = {}) {
  const frames = [];
  let cur = [];
  for (const ev of events) {
    cur.push(ev);
    if (ev.type !== "step" && ev.type !== "diagnostics" && ev.type !== "boundary") { frames.push(cur); cur = []; }
  }
  if (cur.length) frames.push(cur);
  // About 15 s for the whole run at 1×, but never slower than 400 ms a frame.
  const delay = Math.max(10, Math.min(400, 15000 / Math.max(1, frames.length))) / speed;
  let stopped = false;
  let timer = 0;
  let resolve;
  const done = new Promise((r) => { resolve = r; });
  let i = 0;
  const tick = () => {
    if (stopped) return resolve();
    if (i >= frames.length) { onProgress(1); return resolve(); }
    for (const ev of frames[i++]) handle(ev);
    onProgress(i / frames.length);
    timer = setTimeout(tick, delay);
  };
  tick();
  return { stop() { stopped = true; clearTimeout(timer); resolve(); }, done };
}
