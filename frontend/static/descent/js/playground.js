// The playground page ("/"): build a spec, validate it live, train it, watch it.
// 1. load the schema and presets; 2. restore the spec from #spec= or start small;
// 3. every edit re-validates (debounced) and rewrites the URL hash;
// 4. Train posts the spec and streams the new run into the panels below.
import { api } from "./api.js";
import { h, fmt, debounce, shareBox } from "./dom.js";
import { Schema } from "./schema.js";
import { Builder } from "./builder.js";
import { RunView, TERMINAL } from "./runview.js";
import { connectRunSocket } from "./socket.js";
import { specFromHash, writeHash, encodeSpec } from "./urlstate.js";
import { absolute } from "./common.js";
import { renderUpload } from "./upload.js";

const $ = (id) => document.getElementById(id);

const state = { builder: null, view: null, socket: null, runId: null, validateSeq: 0, presets: [] };

function toast(text) {
  const el = $("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.t);
  toast.t = setTimeout(() => { el.hidden = true; }, 5000);
}

// ---- validation
const validateSoon = debounce(validate, 350);

async function validate() {
  const seq = ++state.validateSeq;
  const box = $("validation");
  box.dataset.state = "checking";
  try {
    const res = await api.validate(state.builder.output());
    if (seq !== state.validateSeq) return; // an older answer arriving late
    state.builder.markErrors([]);
    showSummary(res.summary || {});
  } catch (err) {
    if (seq !== state.validateSeq) return;
    showErrors(err.errors);
  }
}

function showSummary(summary) {
  const box = $("validation");
  box.dataset.state = "valid";
  const rows = (summary.layers || []).map((l) => h("tr", {}, h("td", {}, l.name),
    h("td", {}, Array.isArray(l.output_shape) ? `(${l.output_shape.join(", ")})` : String(l.output_shape ?? "")),
    h("td", { class: "num" }, fmt(l.params))));
  box.replaceChildren(
    h("p", { class: "valid-line" }, h("span", { class: "ok" }, "✓ valid"), " · ",
      h("strong", { id: "param-count" }, fmt(summary.params ?? 0)), " parameters"),
    rows.length ? h("details", { class: "shape-table", open: true }, h("summary", {}, "Shapes"),
      h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "layer"), h("th", {}, "output"), h("th", { class: "num" }, "params"))),
        h("tbody", {}, rows))) : null);
}

function showErrors(errors) {
  const box = $("validation");
  box.dataset.state = "invalid";
  state.builder.markErrors(errors);
  box.replaceChildren(h("p", { class: "invalid-line" }, `✗ ${errors.length} problem${errors.length === 1 ? "" : "s"}`),
    h("ul", { class: "error-list" }, errors.map((e) => h("li", {},
      h("button", { type: "button", class: "linkish", onclick: () => state.builder.focusPath(e.path || "") },
        h("code", { class: "error-path" }, e.path || "(spec)")), " ", h("span", { class: "error-message" }, e.message)))));
}

// ---- spec changes
const writeHashSoon = debounce((spec) => writeHash(spec), 250);

function onSpecChange(spec) {
  validateSoon();
  writeHashSoon(spec);
  $("train").textContent = spec.mode === "lr_finder" ? "Run LR range test" : "Train";
}

// ---- runs
async function train() {
  const btn = $("train");
  btn.disabled = true;
  try {
    const spec = state.builder.output();
    const run = await api.createRun(spec);
    startRun(run, spec);
  } catch (err) {
    showErrors(err.errors);
    toast(err.status === 400 ? "The spec has problems: see the list." : err.message);
  } finally {
    btn.disabled = false;
  }
}

function startRun(run, spec) {
  state.socket?.close();
  state.runId = run.id;
  $("run-area").hidden = false;
  $("preview-area").hidden = true;
  state.view.reset(spec);
  state.view.on_status({ status: run.status || "queued", queue_position: run.queue_position });
  $("run-share").replaceChildren(shareBox(absolute(run.url || `/r/${run.id}`), "Share this run"),
    h("a", { href: run.url || `/r/${run.id}`, target: "_blank", rel: "noopener", class: "btn" }, "Open run page ↗"));
  $("stop").hidden = false;
  state.socket = connectRunSocket(run.ws || `/ws/runs/${run.id}/`, {
    onEvent: (ev) => state.view.handle(ev),
    onState: (s) => { $("conn").textContent = s === "open" ? "● live" : s === "closed" ? "" : `${s}…`; },
  });
  $("run-area").scrollIntoView({ behavior: "smooth", block: "start" });
}

async function stop() {
  if (!state.runId) return;
  $("stop").disabled = true;
  try { await api.cancel(state.runId); } catch (err) { toast(err.message); } finally { $("stop").disabled = false; }
}

function onStatus(status) {
  $("stop").hidden = !state.runId || TERMINAL.includes(status);
}

function applyLr(lr) {
  const b = state.builder;
  b.set(["optimizer", "lr"], Number(lr.toPrecision(3)));
  b.set(["mode"], undefined, true);
  toast(`Learning rate set to ${fmt(lr, 3)}, mode back to Train. Press Train.`);
  document.getElementById("section-optimizer")?.scrollIntoView({ behavior: "smooth", block: "center" });
}

// ---- presets
function renderPresets(presets) {
  const sel = $("presets");
  sel.replaceChildren(h("option", { value: "" }, "Load a preset…"),
    ...presets.map((p) => h("option", { value: p.slug }, p.title)));
  sel.addEventListener("change", () => {
    const p = presets.find((x) => x.slug === sel.value);
    if (!p) return;
    state.builder.load(p.spec);
    showLesson(p);
    writeHash(state.builder.output());
  });
}

function showLesson(p) {
  const el = $("lesson");
  el.hidden = !p;
  if (p) el.replaceChildren(h("strong", {}, p.title), " — ", p.lesson);
}

async function main() {
  let schemaDoc;
  try {
    schemaDoc = await api.schema();
  } catch (err) {
    $("builder").replaceChildren(h("p", { class: "alert alert-failed" }, `Could not load the spec schema: ${err.message}`));
    return;
  }
  state.view = new RunView($("run"), { onStatus, onApplyLr: applyLr });
  state.builder = new Builder($("builder"), new Schema(schemaDoc), { onChange: onSpecChange, renderUpload });
  state.builder.load(specFromHash() || {});
  $("train").addEventListener("click", train);
  $("stop").addEventListener("click", stop);
  $("share-setup").addEventListener("click", async () => {
    writeHash(state.builder.output());
    const box = shareBox(location.href, "Link to this setup");
    $("setup-share").replaceChildren(box);
    $("setup-share").hidden = false;
    box.querySelector("button").click();
  });
  // A pasted link with another #spec= replaces the form (the page does not reload).
  window.addEventListener("hashchange", () => {
    const spec = specFromHash();
    if (spec && encodeSpec(spec) !== encodeSpec(state.builder.output())) state.builder.load(spec);
  });
  api.presets().then((list) => { state.presets = list || []; renderPresets(state.presets); })
    .catch((err) => console.warn("descent: presets unavailable", err.message));
  document.body.dataset.ready = "1"; // browser tests wait for this
}

main();
