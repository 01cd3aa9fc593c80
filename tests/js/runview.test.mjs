import { test } from "node:test";
import assert from "node:assert/strict";
import { pausedAfter, sweepAxesText } from "../../frontend/static/descent/js/runview.js";
import { optimizerHasWeightDecay } from "../../frontend/static/descent/js/panels/controls.js";

test("the run is paused after a pause, running again after a resume or a step", () => {
  const actions = ["pause", "set", "step", "pause", "set", "resume"];
  const seen = [];
  let paused = false;
  for (const action of actions) { paused = pausedAfter(paused, { action }); seen.push(paused); }
  assert.deepEqual(seen, [true, true, false, true, true, false]);
});

test("a sweep's axes read as name = value by their last path segment", () => {
  assert.equal(sweepAxesText({ "/optimizer/lr": 0.01 }), "lr = 0.01");
  assert.equal(sweepAxesText({ "/optimizer/lr": 0.01, "/training/batch_size": 32, "/optimizer/name": "sgd" }),
    "lr = 0.01, batch_size = 32, name = sgd");
});

test("missing or malformed sweep axes give no text", () => {
  for (const axes of [undefined, null, 3, "lr", [1, 2], {}]) assert.equal(sweepAxesText(axes), "");
});

test("the weight-decay field follows the optimizer fields of the spec schema, fetched once", async () => {
  let fetched = 0;
  const schema = { "x-descent": { optimizer_fields: { adam: ["betas", "eps", "weight_decay"], plain: ["momentum"] },
    schedule_fields: {}, dataset_defaults: {}, dataset_families: {} } };
  const get = async () => { fetched += 1; return schema; };
  assert.equal(await optimizerHasWeightDecay("adam", get), true);
  assert.equal(await optimizerHasWeightDecay("plain", get), false);
  assert.equal(await optimizerHasWeightDecay(undefined, get), true); // the spec's default, adam
  assert.equal(fetched, 1);
});
