// The playground page ("/"): build a spec, validate it live, train it, watch it.
// 1. load the schemas (the form and the vocabulary) and the presets; 2. restore the spec
// from #spec= (a link that cannot be read says so) or start small; 3. every edit
// re-validates (debounced), redraws the data preview and the network picture, and
// rewrites the URL hash; 4. Train (or Ctrl+Enter anywhere) posts the spec and streams
// the new run into the panels, which take the place of the preview.
import { api } from "./api.js";
import { h, fmt, debounce, shareBox } from "./dom.js";
import { Schema } from "./schema.js";
import { Builder } from "./builder.js";
import { RunView } from "./runview.js";
import { connectRunSocket } from "./socket.js";
import { attachControls } from "./runextras.js";
import { specFromHash, specHashProblem, writeHash, encodeSpec } from "./urlstate.js";
import { absolute } from "./common.js";
import { renderUpload } from "./upload.js";
import { loadVocab, isFinal } from "./vocab.js";
import { DataPreview, networkPicture } from "./preview.js";
import { describePath } from "./paths.js";
import { follow } from "./reveal.js";
import { RoomLink } from "./roomlink.js";

const $ = (id) => document.getElementById(id);

const state = { builder: null, view: null, socket: null, runId: null, status: null, validateSeq: 0, presets: [],
  preview: null, summary: null };

function toast(text) {
  const el = $("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.t);
  toast.t = setTimeout(() => { el.hidden = true; }, 5000);
}

// ---- validation: every problem on its field, a count in the train bar, the list below
const validateSoon = debounce(validate, 350);

async function validate() {
  const seq = ++state.validateSeq;
  $("validation").dataset.state = "checking";
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
  state.summary = summary;
  const box = $("validation");
  box.dataset.state = "valid";
  $("validation-line").replaceChildren(h("span", { class: "ok" }, "✓ valid"), " · ",
    h("strong", { id: "param-count" }, fmt(summary.params ?? 0)), " parameters");
  const rows = (summary.layers || []).map((l) => h("tr", {}, h("td", {}, l.name),
    h("td", {}, Array.isArray(l.output_shape) ? `(${l.output_shape.join(", ")})` : String(l.output_shape ?? "")),
    h("td", { class: "num" }, fmt(l.params))));
  box.replaceChildren(rows.length ? h("table", { class: "shape-table" }, h("caption", {}, "Shapes"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "layer"), h("th", { scope: "col" }, "output"),
      h("th", { scope: "col", class: "num" }, "params"))), h("tbody", {}, rows)) : null);
  $("network-picture").replaceChildren(networkPicture(summary));
}

function showErrors(errors) {
  const box = $("validation");
  box.dataset.state = "invalid";
  state.builder.markErrors(errors);
  const n = errors.length;
  const jump = h("button", { type: "button", class: "linkish invalid-line", id: "first-problem",
    onclick: () => state.builder.focusPath(errors[0]?.path || "") }, `✗ ${n} problem${n === 1 ? "" : "s"}: show`);
  $("validation-line").replaceChildren(jump);
  box.replaceChildren(h("ul", { class: "error-list" }, errors.map((e) => h("li", {},
    h("button", { type: "button", class: "linkish", onclick: () => state.builder.focusPath(e.path || "") },
      describePath(e.path || "")), ": ", h("span", { class: "error-message" }, e.message)))));
  $("run-details").open = true;
  $("network-picture").replaceChildren(h("p", { class: "muted" }, "The network appears here once the setup is valid."));
}

// ---- spec changes
const writeHashSoon = debounce((spec) => writeHash(spec), 250);
const previewSoon = debounce((spec) => state.preview?.update(spec), 300);

function onSpecChange(spec) {
  validateSoon();
  writeHashSoon(spec);
  previewSoon(spec);
  $("train").textContent = spec.mode === "lr_finder" ? "Run LR range test" : "Train";
}

// ---- runs
async function train() {
  const btn = $("train");
  if (btn.disabled) return;
  btn.disabled = true;
  try {
    const spec = state.builder.output();
    const run = await api.createRun(spec);
    startRun(run, spec);
  } catch (err) {
    showErrors(err.errors);
    toast(err.status === 400 ? "The setup has problems: each is shown on its field." : err.message);
  } finally {
    btn.disabled = false;
  }
}

function startRun(run, spec) {
  state.socket?.close();
  state.runId = run.id;
  state.status = run.status || "queued";
  $("run-area").hidden = false;
  $("preview-area").hidden = true;
  state.view.reset(spec);
  attachControls(state.view, run.id); // pause / step / lr while it trains (issue 7 §3)
  state.view.on_status({ status: state.status, queue_position: run.queue_position });
  const url = run.url || `/r/${run.id}`;
  $("run-share").replaceChildren(shareBox(absolute(url), "Share this run"),
    h("a", { href: url, target: "_blank", rel: "noopener", class: "btn" }, "Open run page ↗"));
  showStop(true);
  state.socket = connectRunSocket(run.ws || `/ws/runs/${run.id}/`, {
    onEvent: (ev) => state.view.handle(ev),
    onState: (s) => { $("conn").textContent = s === "open" ? "● live" : s === "closed" ? "" : `${s}…`; },
  });
  revealResults();
}

// The results are what matters now: where they are out of view (a phone, where they sit
// below the builder), scroll the loss chart in, the status line above it, and move focus
// to the results so a screen reader follows; Train/Stop stay in their sticky bar.
function revealResults() {
  state.stopFollow?.();
  state.stopFollow = follow($("run"), () => document.getElementById("panel-loss") || $("run-area"),
    () => $("run-area"), { onFirst: () => {
      const active = document.activeElement;
      if (!active || active === document.body || active.closest(".train-bar")) $("run-area").focus({ preventScroll: true });
    } });
}

function showStop(on, label = "Stop") {
  const b = $("stop");
  b.hidden = !on;
  b.disabled = false;
  b.textContent = label;
}

async function stop() {
  if (!state.runId || isFinal(state.status)) return;
  // Acknowledge at once: the page says "Stopping…" before the server answers; the
  // run's final status event (over the socket) says "Stopped".
  const b = $("stop");
  b.disabled = true;
  b.textContent = "Stopping…";
  state.view.setStopping(true);
  try {
    const run = await api.cancel(state.runId);
    if (run?.status && isFinal(run.status)) state.view.on_status({ status: run.status, message: run.error || "" });
  } catch (err) {
    state.view.setStopping(false);
    if (err.status !== 409) { toast(err.message); showStop(true); }
  }
}

function onStatus(status) {
  state.status = status;
  if (!state.runId || isFinal(status)) showStop(false);
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

// ---- keyboard and layout
function wireKeys() {
  // Ctrl+Enter (⌘+Enter) trains from anywhere on the page, inside a field too.
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.altKey) {
      e.preventDefault();
      train();
    }
  });
}

function wireRail() {
  const btn = $("rail-toggle");
  const main = document.querySelector("main.playground");
  btn.addEventListener("click", () => {
    const open = btn.getAttribute("aria-expanded") !== "true";
    btn.setAttribute("aria-expanded", String(open));
    btn.textContent = open ? "Hide builder" : "Show builder";
    $("builder").hidden = !open;
    main.classList.toggle("rail-collapsed", !open);
  });
}

function loadFromLink() {
  const problem = specHashProblem();
  const box = $("spec-link-problem");
  box.hidden = !problem;
  if (problem) {
    box.replaceChildren(h("strong", {}, "This link's setup could not be read. "),
      `${problem} The default setup is shown instead; nothing from the link was used.`);
  }
  return specFromHash();
}

async function main() {
  let schemaDoc;
  try {
    ({ schema: schemaDoc } = await loadVocab());
  } catch (err) {
    $("builder").replaceChildren(h("p", { class: "alert alert-failed" }, `Could not load the schemas: ${err.message}`));
    return;
  }
  state.view = new RunView($("run"), { onStatus, onApplyLr: applyLr });
  state.preview = new DataPreview({ chart: $("data-preview"), caption: $("data-preview-caption"),
    toggle: $("augment-toggle"), toggleWrap: $("augment-toggle-wrap") });
  state.builder = new Builder($("builder"), new Schema(schemaDoc), { onChange: onSpecChange, renderUpload });
  state.builder.load(loadFromLink() || {});
  $("train").addEventListener("click", train);
  $("stop").addEventListener("click", stop);
  wireKeys();
  wireRail();
  $("share-setup").addEventListener("click", async () => {
    writeHash(state.builder.output());
    const box = shareBox(location.href, "Link to this setup");
    $("setup-share").replaceChildren(box);
    $("setup-share").hidden = false;
    box.querySelector("button").click();
  });
  // A pasted link with another #spec= replaces the form (the page does not reload).
  window.addEventListener("hashchange", () => {
    const spec = loadFromLink();
    if (spec && encodeSpec(spec) !== encodeSpec(state.builder.output())) state.builder.load(spec);
  });
  api.presets().then((list) => {
    state.presets = list || [];
    renderPresets(state.presets);
    // a link from a lesson's run ("Edit in playground", a fork's setup) keeps its lesson
    const slug = specFromHash()?.lesson;
    if (slug) showLesson(state.presets.find((p) => p.slug === slug));
  })
    .catch((err) => console.warn("descent: presets unavailable", err.message));
  // a student in a classroom room: the teacher's pushes arrive here, locked fields show disabled
  state.room = new RoomLink(state.builder, { showLesson, onLoaded: (spec) => writeHash(spec), announce: toast,
    els: { bar: $("room-bar"), notice: $("room-notice"), load: $("room-load"), locks: $("room-locks"),
      presets: $("presets") } }).start();
  document.body.dataset.ready = "1"; // browser tests wait for this
}

main();
