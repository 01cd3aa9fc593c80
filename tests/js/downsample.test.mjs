import { test } from "node:test";
import assert from "node:assert/strict";
import { Series, minMaxDownsample } from "../../frontend/static/descent/js/downsample.js";

const noisy = (n) => Array.from({ length: n }, (_, i) => Math.exp(-i / 3000) + 0.1 * Math.sin(i * 12.9898) ** 2);

test("a short series is drawn as it is, appended point by point", () => {
  const s = new Series(100);
  s.push(1, 0.5); s.push(2, 0.4);
  assert.deepEqual(s.sync(), { append: { x: [1, 2], y: [0.5, 0.4] } });
  assert.equal(s.sync(), null);
  s.push(3, 0.3);
  assert.deepEqual(s.sync(), { append: { x: [3], y: [0.3] } });
  assert.deepEqual(s.dx, [1, 2, 3]);
});

test("a long series never draws more than its limit, however it arrives", () => {
  for (const chunk of [1, 7, 500]) {
    const s = new Series(2000);
    const ys = noisy(30000);
    for (let i = 0; i < ys.length; i += chunk) {
      for (let k = i; k < Math.min(ys.length, i + chunk); k++) s.push(k, ys[k]);
      s.sync();
      assert.ok(s.dx.length <= 2000, `${s.dx.length} drawn after ${s.length}`);
    }
    assert.equal(s.length, 30000, "every point is kept");
    assert.ok(s.dx.length > 500, "the drawn copy still has detail");
  }
});

test("the best point and the worst spike stay in the drawn copy", () => {
  const s = new Series(500);
  const ys = noisy(20000);
  ys[12345] = -1; // the best loss, once
  ys[777] = 50; // one spike
  ys.forEach((y, i) => s.push(i, y));
  s.sync();
  const k = s.dx.indexOf(12345);
  assert.ok(k >= 0 && s.dy[k] === -1);
  assert.equal(Math.min(...s.dy), -1);
  assert.equal(Math.max(...s.dy), 50);
  assert.equal(s.argmin(), 12345);
});

test("drawn x values stay in order and the last point is drawn", () => {
  const s = new Series(300);
  for (let i = 0; i < 5001; i++) { s.push(i, Math.sin(i)); if (i % 97 === 0) s.sync(); }
  s.sync();
  for (let k = 1; k < s.dx.length; k++) assert.ok(s.dx[k] > s.dx[k - 1]);
  assert.equal(s.dx[s.dx.length - 1], 5000);
});

test("gaps (null) survive downsampling as gaps", () => {
  const s = new Series(10);
  for (let i = 0; i < 40; i++) s.push(i, i >= 20 && i < 30 ? null : i);
  s.sync();
  assert.ok(s.dy.includes(null));
  assert.ok(s.dx.length <= 10);
});

test("minMaxDownsample keeps the extremes within its limit", () => {
  const ys = noisy(10000); ys[4321] = -5;
  const xs = ys.map((_, i) => i);
  const d = minMaxDownsample(xs, ys, 1000);
  assert.ok(d.x.length <= 1000);
  assert.equal(Math.min(...d.y), -5);
});
