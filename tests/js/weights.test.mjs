import { test } from "node:test";
import assert from "node:assert/strict";
import { binCentres, logShares } from "../../frontend/static/descent/js/panels/weights.js";

test("bin centres split the fixed range into equal bins, zero in the middle one", () => {
  const c = binCentres(-1, 1, 5);
  assert.deepEqual(c, [-0.8, -0.4, 0, 0.4, 0.8]);
});

test("log shares leave empty bins blank and sum to one in linear space", () => {
  const s = logShares([0, 1, 3], 4);
  assert.equal(s[0], null);
  const total = s.filter((v) => v !== null).reduce((a, v) => a + 10 ** v, 0);
  assert.ok(Math.abs(total - 1) < 1e-12);
});

test("recordLayer keeps each layer's frames; biggestLayer picks the one with the most weights", async () => {
  const { recordLayer, biggestLayer, histogramHeatmap } = await import("../../frontend/static/descent/js/panels/weights.js");
  const store = { layers: [], rows: {} };
  const row = (name, hist, out = [0, 0]) => ({ name, hist, hist_out: out, hist_range: [-1, 1], near_zero_frac: 0.5 });
  assert.equal(recordLayer(store, row("a", [1, 2, 1]), 1), true);
  assert.equal(recordLayer(store, row("b", [10, 20, 10], [1, 0]), 1), true);
  assert.equal(recordLayer(store, row("a", [0, 4, 0]), 2), false);
  assert.deepEqual(store.layers, ["a", "b"]);
  assert.equal(biggestLayer(store, "a"), "b");
  const hm = histogramHeatmap(store.rows.a);
  assert.deepEqual(hm.x, [1, 2]);
  assert.equal(hm.z.length, 3);          // one row per bin
  assert.equal(hm.z[1][1], 0);            // every weight of frame 2 in the middle bin: share 1
  assert.equal(hm.z[0][1], null);         // empty bin drawn blank
});
