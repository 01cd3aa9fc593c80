import { test } from "node:test";
import assert from "node:assert/strict";
import { replay, framesOf, frameDelay, fetchAllEvents } from "../../frontend/static/descent/js/replay.js";

function run(epochs, stepsPerEpoch) {
  const evs = [{ seq: 1, type: "status", status: "running" }];
  let seq = 1;
  for (let e = 0; e < epochs; e++) {
    for (let k = 0; k < stepsPerEpoch; k++) evs.push({ seq: ++seq, type: "step", step: e * stepsPerEpoch + k });
    evs.push({ seq: ++seq, type: "diagnostics", epoch: e });
    evs.push({ seq: ++seq, type: "epoch", epoch: e });
  }
  evs.push({ seq: ++seq, type: "summary" }, { seq: ++seq, type: "status", status: "succeeded" });
  return evs;
}

function fakeTimers() {
  let t = 0;
  const q = [];
  return {
    now: () => t, advance: (ms) => { t += ms; },
    raf: (fn) => q.push(["raf", fn]), setTimeout: (fn, ms) => { q.push(["timeout", fn, ms]); return q.length; },
    clearTimeout: () => {}, q,
    next() { const item = q.shift(); if (item) item[1](); return item; },
  };
}

test("frames end at each epoch-level event, so one frame is one epoch", () => {
  const frames = framesOf(run(3, 4));
  assert.equal(frames.length, 6); // status, 3 epochs, summary, final status
  assert.deepEqual(frames[1].map((e) => e.type), ["step", "step", "step", "step", "diagnostics", "epoch"]);
});

test("replay hands over every event once, in order", async () => {
  const evs = run(20, 5);
  const seen = [];
  const timers = fakeTimers();
  const r = replay(evs, (ev) => seen.push(ev.seq), { speed: 5, timers });
  while (timers.next());
  await r.done;
  assert.deepEqual(seen, evs.map((e) => e.seq));
});

test("at max speed a 10,000-event run takes a handful of frames, each within budget", async () => {
  const evs = run(720, 12);
  assert.ok(evs.length >= 10000);
  const timers = fakeTimers();
  let handled = 0;
  let frames = 0;
  const progress = [];
  const r = replay(evs, () => { handled += 1; timers.advance(0.002); }, { speed: "max", timers, budget: 10,
    onProgress: (p) => progress.push(p) });
  while (timers.next()) frames += 1;
  await r.done;
  assert.equal(handled, evs.length);
  assert.ok(frames <= 5, `${frames} frames`);
  assert.equal(progress[progress.length - 1], 1);
  assert.ok(timers.q.length === 0);
});

test("at 1× a run takes about 15 s, but never more than 400 ms a frame", () => {
  assert.equal(frameDelay(100, 1), 150);
  assert.equal(frameDelay(10, 1), 400);
  assert.equal(frameDelay(100, 2), 75);
});

test("stop ends a replay early", async () => {
  const timers = fakeTimers();
  let handled = 0;
  const r = replay(run(50, 3), () => { handled += 1; }, { speed: 1, timers });
  timers.next();
  r.stop();
  await r.done;
  assert.ok(handled < 20);
});

test("fetchAllEvents follows `after` page by page until the server says no more", async () => {
  const evs = run(10, 3);
  const asked = [];
  const get = async (after) => {
    asked.push(after);
    const rest = evs.filter((e) => e.seq > after);
    return { events: rest.slice(0, 7), more: rest.length > 7 };
  };
  const all = await fetchAllEvents("x", get);
  assert.deepEqual(all.map((e) => e.seq), evs.map((e) => e.seq));
  assert.equal(asked[0], 0);
  assert.equal(asked[1], 7);
});
