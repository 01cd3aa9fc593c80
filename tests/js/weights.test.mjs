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
