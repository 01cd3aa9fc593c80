// /compare?runs=a,b,… (up to 8): loss, accuracy and lr overlaid with a stable colour per
// run (its place in the list), a table of final and best metrics, the spec fields that
// differ, and gradient flow and decision boundaries side by side on ONE colour scale, so
// that "darker" means the same thing in every run. Live runs keep updating: one websocket
// per run.
/* global Plotly */
import { api } from "../api.js";
import { h, fmt } from "../dom.js";
import { LineChart, PlotChart, PALETTE, axis } from "../charts.js";
import { connectRunSocket } from "../socket.js";
import { statusBadge } from "../runview.js";
import { specDiff } from "../specdiff.js";
import { MAX_COMPARE } from "../comparelist.js";
import { loadVocab } from "../vocab.js";
import { biggestLayer, histogramHeatmap, recordLayer } from "../panels/weights.js";
import { BoundaryPanel } from "../panels/boundary.js";

const $ = (id) => document.getElementById(id);
const colour = (i) => PALETTE[i % PALETTE.length];
const runs = [];  // {id, i, run, status, epochs: [], steps, summary, grad: {epochs, layers, z}}

function label(r) { return r.run?.spec?.name || r.run?.name || `Run ${r.id}`; }

function chart(id, title, opts) {
  const el = h("div", { class: "chart", id: `cmp-${id}-chart` });
  $("compare-charts").append(h("section", { class: "panel", id: `panel-cmp-${id}` },
    h("header", {}, h("h2", {}, title)), h("div", { class: "panel-body" }, el)));
  return new LineChart(el, opts);
}

function setupCharts() {
  const traces = (suffix, dash) => runs.map((r) => ({ name: `${label(r)}${suffix}`, color: colour(r.i), dash,
    mode: "lines", width: 2 }));
  // per run: trace i = train (solid), trace n+i = val (dashed)
  state.loss = chart("loss", "Loss per epoch (solid train, dashed val)", { xTitle: "epoch", yTitle: "loss",
    autoLog: true, traces: [...traces(" · train"), ...traces(" · val", "dash")] });
  state.acc = chart("acc", "Accuracy per epoch (solid train, dashed val)", { xTitle: "epoch", yTitle: "accuracy",
    traces: [...traces(" · train"), ...traces(" · val", "dash")] });
  state.lr = chart("lr", "Learning rate", { xTitle: "step", yTitle: "lr", padConstant: true, traces: traces("") });
}

const state = {};

function onEvent(r, ev) {
  const n = runs.length;
  switch (ev.type) {
    case "status":
      r.status = ev.status;
      renderTable();
      break;
    case "step": {
      const steps = [].concat(ev.step);
      const lrs = ev.lr == null ? [] : [].concat(ev.lr);
      if (lrs.length === steps.length) state.lr.append(r.i, steps, lrs);
      break;
    }
    case "epoch":
      r.epochs.push(ev);
      state.loss.append(r.i, ev.epoch, ev.train_loss);
      state.loss.append(n + r.i, ev.epoch, ev.val_loss);
      if (ev.train_acc != null || ev.val_acc != null) {
        state.acc.append(r.i, ev.epoch, ev.train_acc);
        state.acc.append(n + r.i, ev.epoch, ev.val_acc);
      }
      scheduleTable();
      break;
    case "diagnostics":
      addGrad(r, ev);
      addWeights(r, ev);
      break;
    case "summary":
      r.summary = ev;
      scheduleTable();
      break;
    case "dataset":
      r.dataset = ev;
      scheduleBoundary();
      break;
    case "boundary":
      if (ev.z) { r.boundary = ev; scheduleBoundary(); } // a 1-D regression's curve has no plane to compare
      break;
    default:
  }
}

// -- gradient flow on one colour scale -------------------------------------------------

function addGrad(r, ev) {
  const g = r.grad || (r.grad = { epochs: [], layers: [], rows: {} });
  g.epochs.push(ev.epoch);
  for (const layer of ev.layers || []) {
    if (!(layer.name in g.rows)) { g.layers.push(layer.name); g.rows[layer.name] = []; }
    const v = layer.grad_norm;
    g.rows[layer.name][g.epochs.length - 1] = v > 0 ? Math.log10(v) : null;
  }
  scheduleGrad();
}

let gradTimer = 0;
function scheduleGrad() {
  if (gradTimer) return;
  gradTimer = setTimeout(() => { gradTimer = 0; drawGrad(); }, 400);  // heatmaps: a few redraws a second at most
}

function drawGrad() {
  const withGrad = runs.filter((r) => r.grad);
  if (!withGrad.length) return;
  // 1. one scale for all: the min and max over every run's cells
  let lo = Infinity; let hi = -Infinity;
  for (const r of withGrad) {
    for (const name of r.grad.layers) {
      for (const v of r.grad.rows[name]) if (v != null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
  }
  if (!Number.isFinite(lo)) return;
  $("panel-cmp-grad").hidden = false;
  $("grad-scale").textContent = `One colour scale for all runs: log₁₀ ‖∇W‖ from ${fmt(lo, 3)} to ${fmt(hi, 3)}.`;
  for (const r of withGrad) {
    if (!r.gradChart) {
      const el = h("div", { class: "chart", id: `cmp-grad-${r.i}` });
      $("grad-grid").append(h("figure", { class: "grad-cell" },
        h("figcaption", { style: { borderColor: colour(r.i) } }, label(r)), el));
      r.gradChart = new PlotChart(el, () => ({ xaxis: axis("epoch"),
        yaxis: axis("", { autorange: "reversed", type: "category" }), margin: { l: 80, r: 10, t: 10, b: 50 } }),
      { minInterval: 400 });
    }
    const z = r.grad.layers.map((name) => r.grad.epochs.map((_, k) => r.grad.rows[name][k] ?? null));
    r.gradChart.react([{ type: "heatmap", x: r.grad.epochs, y: r.grad.layers, z, zmin: lo, zmax: hi,
      colorscale: "Viridis", showscale: r === withGrad[withGrad.length - 1],
      hovertemplate: "%{y} epoch %{x}: %{z:.2f}<extra></extra>" }]);
  }
}

// -- decision boundaries: the same axes and one colour scale ---------------------------

let boundaryTimer = 0;
function scheduleBoundary() {
  if (boundaryTimer) return;
  boundaryTimer = setTimeout(() => { boundaryTimer = 0; drawBoundaries(); }, 500);
}

const span = (vals) => [Math.min(...vals), Math.max(...vals)];
const cellSpan = (a) => { const half = a.length > 1 ? (a[1] - a[0]) / 2 : 0.5; return [a[0] - half, a[a.length - 1] + half]; };

/** Each run's latest boundary as the run page draws it (panels/boundary.js), then put on shared scales. */
function boundaryTraces(withB) {
  const traces = withB.map((r) => {
    // the run page's panel builds the traces from the event and the dataset; a detached
    // instance lends its drawing code here without a second copy of it
    r.bp = r.bp || new BoundaryPanel(document.createElement("div"));
    r.bp.dataset = r.dataset || null;
    return r.bp.traces(r.boundary) || [];
  });
  const heat = traces.map((t) => t.find((x) => x.type === "heatmap")).filter(Boolean);
  heat.forEach((t) => { t.showscale = false; });
  for (const t of traces.flat()) t.showlegend = false;
  // 1. one scale per kind of grid: a probability is 0..1 for every run already; a
  //    regression's prediction spans the lowest to the highest of any run; classes the most classes
  const reg = withB.map((r, k) => (r.dataset?.task === "regression" ? k : -1)).filter((k) => k >= 0);
  if (reg.length) {
    const regHeat = reg.map((k) => traces[k].find((x) => x.type === "heatmap")).filter(Boolean);
    const [lo, hi] = span(regHeat.flatMap((t) => [t.zmin, t.zmax]));
    for (const k of reg) {
      for (const t of traces[k]) {
        if (t.type === "heatmap") { t.zmin = lo; t.zmax = hi; }
        if (t.marker?.cmin !== undefined) { t.marker.cmin = lo; t.marker.cmax = hi; }
      }
    }
    regHeat[regHeat.length - 1].showscale = true;
    return { traces, kind: "regression" };
  }
  const multi = heat.filter((t) => t.customdata);
  const widest = multi.reduce((a, t) => (!a || t.zmax > a.zmax ? t : a), null);
  for (const t of multi) { t.zmax = widest.zmax; t.colorscale = widest.colorscale; }
  return { traces, kind: multi.length ? "multiclass" : "binary" };
}

function drawBoundaries() {
  const withB = runs.filter((r) => r.boundary);
  if (!withB.length) return;
  const { traces, kind } = boundaryTraces(withB);
  // 2. the same axes for all: the union of the grids' extents
  const xr = span(withB.flatMap((r) => cellSpan(r.boundary.x)));
  const yr = span(withB.flatMap((r) => cellSpan(r.boundary.y)));
  state.boundaryX = xr;
  state.boundaryY = yr;
  $("panel-cmp-boundary").hidden = false;
  $("boundary-scale").textContent = {
    binary: "One colour scale for all runs: the probability of class 1, white at 0.5 (the black line); "
      + "filled dots are training points, rings validation points.",
    multiclass: "One colour scale for all runs: the hue is the predicted class, the depth how sure the model is.",
    regression: "One colour scale for all runs: the prediction, from the lowest to the highest of any run.",
  }[kind];
  withB.forEach((r, k) => {
    if (!r.boundaryChart) {
      const el = h("div", { class: "chart boundary-chart", id: `cmp-boundary-${r.i}` });
      r.boundaryCaption = h("span", { class: "muted" });
      $("boundary-grid").append(h("figure", { class: "grad-cell boundary-cell", "data-run": r.id },
        h("figcaption", { style: { borderColor: colour(r.i) } }, label(r), " ", r.boundaryCaption), el));
      r.boundaryChart = new PlotChart(el, () => ({ showlegend: false, margin: { l: 50, r: 10, t: 10, b: 45 },
        xaxis: axis(r.dataset?.feature_names?.[0] || "x1", { range: state.boundaryX, automargin: false }),
        yaxis: axis(r.dataset?.feature_names?.[1] || "x2", { range: state.boundaryY, automargin: false }) }),
      { minInterval: 500 });
    }
    r.boundaryCaption.textContent = `epoch ${r.boundary.epoch}`;
    r.boundaryChart.react(traces[k]);
  });
}

// -- weight histograms of one layer, every run on one scale (issue 11) ------------------

function addWeights(r, ev) {
  const w = r.weights || (r.weights = { layers: [], rows: {} });
  const sel = $("weights-layer");
  for (const layer of ev.layers || []) {
    if (Array.isArray(layer.hist) && recordLayer(w, layer, ev.epoch)
        && ![...sel.options].some((o) => o.value === layer.name)) {
      sel.append(h("option", { value: layer.name }, layer.name));
    }
  }
  // until the visitor picks one, show the layer with the most weights (where penalties show first)
  if (!sel.dataset.picked) {
    const biggest = biggestLayer(w, sel.value);
    if (biggest) sel.value = biggest;
  }
  scheduleWeights();
}

let weightsTimer = 0;
function scheduleWeights() {
  if (weightsTimer) return;
  weightsTimer = setTimeout(() => { weightsTimer = 0; drawWeights(); }, 500);
}

function drawWeights() {
  const name = $("weights-layer").value;
  const withW = runs.filter((r) => r.weights?.rows[name]);
  if (!withW.length) return;
  $("panel-cmp-weights").hidden = false;
  // one y range for all (the widest of the runs' fixed ranges) and one colour scale (log share)
  const half = Math.max(...withW.map((r) => Math.abs(r.weights.rows[name].range[1])));
  for (const r of withW) {
    const row = r.weights.rows[name];
    if (!r.weightsChart) {
      const el = h("div", { class: "chart", id: `cmp-weights-${r.i}` });
      $("weights-grid").append(h("figure", { class: "grad-cell" },
        h("figcaption", { style: { borderColor: colour(r.i) } }, label(r)), el));
      r.weightsChart = new PlotChart(el, () => ({ xaxis: axis("epoch"), yaxis: axis("weight value", { range: r.yRange }),
        margin: { l: 70, r: 10, t: 10, b: 50 } }), { minInterval: 500 });
    }
    r.yRange = [-half, half];
    r.weightsChart.react([{ type: "heatmap", ...histogramHeatmap(row),
      zmin: -4, zmax: 0, colorscale: "Viridis", showscale: r === withW[withW.length - 1],
      hovertemplate: "epoch %{x}, w ≈ %{y}: 10^%{z:.2f}<extra></extra>" }]);
  }
  if (!state.zero) {
    state.zero = new PlotChart($("cmp-weights-zero"), () => ({ xaxis: axis("epoch"),
      yaxis: axis("share of |w| < 10⁻³", { range: [-0.02, 1.02] }) }), { minInterval: 500 });
  }
  state.zero.react(withW.map((r) => ({ type: "scatter", mode: "lines", name: label(r), x: r.weights.rows[name].xs,
    y: r.weights.rows[name].zero, line: { color: colour(r.i), width: 3 } })));
}

// -- the table of final and best metrics ------------------------------------------------

let tableTimer = 0;
function scheduleTable() {
  if (tableTimer) return;
  tableTimer = setTimeout(() => { tableTimer = 0; renderTable(); }, 300);
}

function best(epochs, key, goal) {
  let b = null;
  for (const e of epochs) {
    const v = e[key];
    if (typeof v !== "number" || !Number.isFinite(v)) continue;
    if (!b || (goal === "max" ? v > b.v : v < b.v)) b = { v, epoch: e.epoch };
  }
  return b;
}

function renderTable() {
  const cols = [["status"], ["epochs"], ["final train loss"], ["final val loss"], ["best val loss"],
    ["final val acc"], ["best val acc"], ["test acc"], ["params"]];
  const cell = (r, name) => {
    const last = r.epochs[r.epochs.length - 1] || {};
    const s = r.summary || {};
    const b = (key, goal) => { const x = best(r.epochs, key, goal); return x ? `${fmt(x.v, 4)} (epoch ${x.epoch})` : "–"; };
    switch (name) {
      case "status": return statusBadge(r.status);
      case "epochs": return fmt(last.epoch ?? null);
      case "final train loss": return fmt(last.train_loss ?? null, 4);
      case "final val loss": return fmt(last.val_loss ?? null, 4);
      case "best val loss": return b("val_loss", "min");
      case "final val acc": return fmt(last.val_acc ?? null, 4);
      case "best val acc": return b("val_acc", "max");
      case "test acc": return fmt(s.test_acc ?? null, 4);
      case "params": return fmt(s.params ?? null);
      default: return "";
    }
  };
  $("metrics-head").replaceChildren(h("tr", {}, h("th", { scope: "col" }, "run"),
    ...cols.map(([c]) => h("th", { scope: "col" }, c))));
  $("metrics-body").replaceChildren(...runs.map((r) => h("tr", { "data-run": r.id },
    h("th", { scope: "row" }, h("span", { class: "swatch", style: { background: colour(r.i) }, "aria-hidden": "true" }),
      h("a", { href: `/r/${r.id}` }, label(r))),
    ...cols.map(([c]) => h("td", {}, cell(r, c))))));
}

function renderDiff() {
  const loaded = runs.filter((r) => r.run);
  const rows = specDiff(loaded.map((r) => r.run.spec));
  $("diff-head").replaceChildren(h("tr", {}, h("th", { scope: "col" }, "field"),
    ...loaded.map((r) => h("th", { scope: "col" }, h("span", { class: "swatch", style: { background: colour(r.i) },
      "aria-hidden": "true" }), label(r)))));
  $("diff-body").replaceChildren(...(rows.length ? rows.map((row) => h("tr", {},
    h("th", { scope: "row" }, h("code", {}, row.path)),
    ...row.values.map((v) => h("td", {}, v === undefined ? "—" : JSON.stringify(v)))))
    : [h("tr", {}, h("td", { colspan: String(loaded.length + 1) }, "The specs are identical (apart from their names)."))]));
}

async function main() {
  $("weights-layer").addEventListener("change", (e) => { e.target.dataset.picked = "1"; drawWeights(); });
  const ids = (new URLSearchParams(location.search).get("runs") || "").split(",").map((s) => s.trim()).filter(Boolean);
  const unique = [...new Set(ids)];
  if (unique.length < 1) {
    $("compare-message").textContent = "Pick runs to compare on the My runs page, or open /compare?runs=a,b.";
    document.body.dataset.ready = "1";
    return;
  }
  if (unique.length > MAX_COMPARE) {
    $("compare-message").textContent = `At most ${MAX_COMPARE} runs side by side: showing the first ${MAX_COMPARE}.`;
  }
  unique.slice(0, MAX_COMPARE).forEach((id, i) => runs.push({ id, i, epochs: [], status: null }));
  const missing = [];
  await loadVocab({ needSpec: false }); // the final statuses: a socket stops once its run has ended
  await Promise.all(runs.map(async (r) => {
    try { r.run = await api.run(r.id); r.status = r.run.status; } catch { missing.push(r.id); }
  }));
  if (missing.length) {
    $("compare-message").textContent = `${$("compare-message").textContent} No run with the id ${missing.join(", ")}.`.trim();
  }
  setupCharts();
  renderTable();
  renderDiff();
  for (const r of runs.filter((x) => x.run)) {
    r.socket = connectRunSocket(r.run.ws || `/ws/runs/${r.id}/`, { onEvent: (ev) => onEvent(r, ev) });
  }
  document.body.dataset.ready = "1";
}

main();
