import { test } from "node:test";
import assert from "node:assert/strict";
import { vocabFrom, VocabError } from "../../frontend/static/descent/js/vocab.js";

const spec = { "x-descent": { optimizer_fields: { adam: ["betas"] }, schedule_fields: { step: ["gamma"] },
  dataset_defaults: { xor: { n_samples: 500 } }, dataset_families: { "2d_classification": ["xor"] } } };
const events = { "x-descent": { statuses: ["queued", "succeeded"], final: ["succeeded"], active: ["queued"] } };

test("the vocabulary is read from the two schemas", () => {
  const v = vocabFrom(spec, events);
  assert.deepEqual(v.final, ["succeeded"]);
  assert.deepEqual(v.optimizerFields.adam, ["betas"]);
  assert.equal(v.datasetDefaults.xor.n_samples, 500);
});

test("a missing key is an error naming it, not a silent fallback", () => {
  const broken = { "x-descent": { ...events["x-descent"], final: undefined } };
  assert.throws(() => vocabFrom(spec, broken), (e) => e instanceof VocabError && /x-descent\.final/.test(e.message));
  assert.throws(() => vocabFrom({}, events), /optimizer_fields/);
});
