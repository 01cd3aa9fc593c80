import { test } from "node:test";
import assert from "node:assert/strict";
import { describePath } from "../../frontend/static/descent/js/paths.js";

test("layer cards are numbered from 1, as on the page", () => {
  assert.equal(describePath("/model/layers/0/units"), "Layer 1 › units");
  assert.equal(describePath("/model/layers/2/layers/0/units"), "Layer 3 › Inner layer 1 › units");
});

test("fields read as words", () => {
  assert.equal(describePath("/optimizer/lr"), "Optimizer › learning rate");
  assert.equal(describePath("/augment/1/std"), "Augmentation 2 › std");
  assert.equal(describePath(""), "The setup");
});

import { readHash, encodeSpec } from "../../frontend/static/descent/js/urlstate.js";

test("a malformed #spec= is reported, a good one read, none is neither", () => {
  assert.ok(readHash("#spec=%%%garbage").problem);
  assert.ok(readHash("#spec=bm90IGpzb24").problem); // "not json"
  assert.ok(readHash(`#spec=${encodeSpec([1, 2])}`).problem);
  assert.deepEqual(readHash(`#spec=${encodeSpec({ seed: 3 })}`).spec, { seed: 3 });
  assert.deepEqual(readHash(""), {});
});
