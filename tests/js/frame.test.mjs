import { test } from "node:test";
import assert from "node:assert/strict";
import { createScheduler } from "../../frontend/static/descent/js/frame.js";

function fakeFrames() {
  let t = 0;
  const queue = [];
  return {
    now: () => t,
    advance: (ms) => { t += ms; },
    raf: (fn) => queue.push(fn),
    frame() { const fns = queue.splice(0); fns.forEach((f) => f(t)); return fns.length; },
  };
}

test("many requests for one chart before a frame run it once", () => {
  const f = fakeFrames();
  const s = createScheduler(f);
  let n = 0;
  for (let i = 0; i < 100; i++) s.request("loss", () => { n += 1; });
  f.frame();
  assert.equal(n, 1);
  assert.equal(s.size, 0);
});

test("a frame stops running redraws once its budget is spent, the rest follow", () => {
  const f = fakeFrames();
  const s = createScheduler({ ...f, budget: 10, duty: 1 });
  const ran = [];
  for (const k of ["a", "b", "c", "d"]) s.request(k, () => { ran.push(k); f.advance(6); });
  f.frame();
  assert.deepEqual(ran, ["a", "b"]);
  f.frame();
  assert.deepEqual(ran, ["a", "b", "c", "d"]);
});

test("a slow redraw still runs, alone, and the longest-waiting goes first", () => {
  const f = fakeFrames();
  const s = createScheduler({ ...f, budget: 10, duty: 1 });
  const ran = [];
  s.request("old", () => { ran.push("old"); f.advance(50); });
  f.advance(1);
  s.request("new", () => ran.push("new"));
  f.frame();
  assert.deepEqual(ran, ["old"]);
  f.frame();
  assert.deepEqual(ran, ["old", "new"]);
});

test("a minimum interval spaces the redraws of a big heatmap", () => {
  const f = fakeFrames();
  const s = createScheduler(f);
  let n = 0;
  s.request("grid", () => { n += 1; }, 400);
  f.frame();
  assert.equal(n, 1);
  s.request("grid", () => { n += 1; }, 400);
  for (let i = 0; i < 10; i++) { f.advance(16); f.frame(); }
  assert.equal(n, 1, "not before 400 ms");
  for (let i = 0; i < 20; i++) { f.advance(16); f.frame(); }
  assert.equal(n, 2);
});

test("whenIdle resolves once everything is drawn; cancel drops a redraw", async () => {
  const f = fakeFrames();
  const s = createScheduler(f);
  let n = 0;
  s.request("a", () => { n += 1; });
  s.request("b", () => { n += 10; });
  s.cancel("b");
  let idle = false;
  s.whenIdle().then(() => { idle = true; });
  f.frame();
  await Promise.resolve();
  assert.equal(n, 1);
  assert.ok(idle);
});

test("after a slow frame the scheduler rests so drawing keeps to its duty cycle", () => {
  const f = fakeFrames();
  const s = createScheduler({ ...f, budget: 10, duty: 0.1 });
  let n = 0;
  s.request("big", () => { n += 1; f.advance(100); });
  f.frame();
  s.request("big", () => { n += 1; f.advance(100); });
  for (let i = 0; i < 50; i++) { f.advance(16); f.frame(); } // 800 ms: still resting
  assert.equal(n, 1);
  for (let i = 0; i < 10; i++) { f.advance(16); f.frame(); } // past 900 ms
  assert.equal(n, 2);
  // drawn time over wall time stays near the duty cycle
  assert.ok(200 / f.now() < 0.25);
  assert.equal(s.stats.chart.n, 2);
});

test("duty 1 draws without resting (replay at top speed)", () => {
  const f = fakeFrames();
  const s = createScheduler({ ...f, budget: 10, duty: 0.1 });
  s.setDuty(1);
  let n = 0;
  for (let k = 0; k < 3; k++) {
    s.request("big", () => { n += 1; f.advance(100); });
    f.advance(16); f.frame();
  }
  assert.equal(n, 3);
});

test("hold keeps every redraw waiting; release draws them", () => {
  const f = fakeFrames();
  const s = createScheduler(f);
  let n = 0;
  s.hold();
  s.request("a", () => { n += 1; });
  f.frame();
  assert.equal(n, 0);
  s.release();
  f.frame();
  assert.equal(n, 1);
});

test("redraws of charts out of view wait until those in view are drawn", () => {
  const f = fakeFrames();
  const s = createScheduler({ ...f, budget: 10, duty: 1 });
  const ran = [];
  s.request("below-1", () => { ran.push("below-1"); f.advance(20); }, 0, "chart", true);
  f.advance(1);
  s.request("in-view", () => { ran.push("in-view"); f.advance(20); });
  s.request("below-2", () => { ran.push("below-2"); f.advance(20); }, 0, "chart", true);
  while (f.frame());
  assert.deepEqual(ran, ["in-view", "below-1", "below-2"]);
});

test("a burst draws without resting until nothing waits, then keeps to the duty cycle again", async () => {
  const f = fakeFrames();
  const s = createScheduler({ ...f, budget: 10, duty: 0.1 });
  for (const k of ["a", "b", "c"]) s.request(k, () => f.advance(30));
  s.burst();
  assert.equal(s.duty, 1);
  let frames = 0;
  while (s.size && frames < 10) { f.frame(); frames += 1; }
  assert.equal(frames, 3); // one a frame (each over budget), no rest between them
  await Promise.resolve();
  assert.equal(s.duty, 0.1);
  s.request("d", () => f.advance(30));
  f.frame();
  assert.ok(s.resting > 0);
});
