import { test } from "node:test";
import assert from "node:assert/strict";
import { isFree } from "../../frontend/static/descent/js/roomlink.js";

// the server's rule (webapp/rooms/services.py locked_changes): a pointer is free when it is an
// unlocked pointer or lies under one; /name is always free
test("a field is free under an unlocked pointer, and only there", () => {
  assert.equal(isFree("/optimizer/lr", ["/optimizer/lr"]), true);
  assert.equal(isFree("/optimizer/lr", ["/optimizer"]), true);
  assert.equal(isFree("/optimizer/lr_decay", ["/optimizer/lr"]), false);  // a prefix of the name is not a parent
  assert.equal(isFree("/optimizer", ["/optimizer/lr"]), false);  // the section's own controls stay locked
  assert.equal(isFree("/model/layers/0/units", ["/model/layers"]), true);
  assert.equal(isFree("/model/layers", ["/model/layers/0/units"]), false);  // adding a layer changes the rest
});

test("the run's name is always free; a control of no field never is", () => {
  assert.equal(isFree("/name", []), true);
  assert.equal(isFree(undefined, ["/optimizer"]), false);
});
