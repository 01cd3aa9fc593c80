import { test } from "node:test";
import assert from "node:assert/strict";
import { flatten, specDiff } from "../../frontend/static/descent/js/specdiff.js";
import { controlShapes, describe } from "../../frontend/static/descent/js/panels/controls.js";

test("flatten gives every leaf a path, layers by index", () => {
  assert.deepEqual(flatten({ model: { layers: [{ units: 8 }, { units: 4 }] }, seed: 0 }),
    { "model.layers[0].units": 8, "model.layers[1].units": 4, seed: 0 });
});

test("the diff lists only fields that differ, names apart", () => {
  const a = { name: "a", optimizer: { name: "sgd", lr: 0.1 }, training: { epochs: 5 } };
  const b = { name: "b", optimizer: { name: "adam", lr: 0.1 }, training: { epochs: 5 } };
  assert.deepEqual(specDiff([a, b]), [{ path: "optimizer.name", values: ["sgd", "adam"] }]);
});

test("a field missing from one spec is a difference", () => {
  const rows = specDiff([{ model: { layers: [{ units: 8 }] } }, { model: { layers: [{ units: 8 }, { units: 2 }] } }]);
  assert.deepEqual(rows, [{ path: "model.layers[1].units", values: [undefined, 2] }]);
});

test("lr changes are solid lines on the step axis, pauses dotted, resumes unmarked", () => {
  const shapes = controlShapes([{ action: "pause", step: 10 }, { action: "set", lr: 0.003, step: 12 },
    { action: "resume", step: 12 }]);
  assert.deepEqual(shapes.map((s) => [s.x0, s.line.dash || "solid"]), [[10, "dot"], [12, "solid"]]);
  assert.equal(describe({ action: "step", steps: 5, step: 10 }), "Stepping 5 batches from step 10");
  assert.equal(describe({ action: "pause", reason: "steps done", step: 15 }), "Paused after stepping, at step 15");
});
