// Small Plotly wrappers (cf. tensorflow/playground linechart.ts): a chart owns its div,
// knows how to reset() and append(), and redraws through the page's frame scheduler
// (frame.js): at most once a frame, within a per-frame time budget shared by all charts.
// Incoming events can arrive hundreds per second during a backlog replay; batching
// them, and drawing at most ~2,000 points a trace (downsample.js), keeps the page
// responsive however long the run.
/* global Plotly */
import { Series } from "./downsample.js";
import { scheduler } from "./frame.js";

const charts = new Set();
let projector = false;

export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

function fontSize() { return projector ? 20 : 15; }

export function baseLayout(extra = {}) {
  const f = fontSize();
  return {
    font: { size: f, family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", color: "#1d2433" },
    margin: { l: 64 + f, r: 24, t: 12 + 2 * f, b: 44 + f },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#fff",
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: f } },
    hoverlabel: { font: { size: f } },
    ...extra,
  };
}

export function axis(title, extra = {}) {
  // A log axis labels the ticks between powers of ten ("2", "5") at 3/4 of the font
  // size unless a tickformat is given: with one they are full size and say what they
  // are; fewer ticks keep full-size labels apart (1, 2, 5 per decade at most).
  const log = extra.type === "log" ? { tickformat: "~g", nticks: 3 } : {};
  return { title: { text: title, font: { size: fontSize() } }, tickfont: { size: fontSize() - 1 },
    automargin: true, gridcolor: "#e3e7ee", zeroline: false, ...log, ...extra };
}

// Not `responsive`: each chart follows its own element's size (ResizeObserver below).
// The camera button ("Download plot as a png") stays: a student keeps the picture.
export const CONFIG = { displaylogo: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "sendDataToCloud"],
  toImageButtonOptions: { format: "png", filename: "descent-chart", scale: 2 } };

/**
 * Resolves once Plotly is there. The run page loads it async (script#plotly-js), so that
 * the page's requests and its socket start while Plotly's script compiles; pages that
 * load it the classic way find it at once.
 *
 * Pages load Plotly's cartesian bundle (lines, heatmaps, contours: 1.5 MB, compiled in
 * less than half the time of the full 4.8 MB bundle, which is what put the first chart of
 * a shared page late). A 3-D chart asks for plotly3dReady(): the full bundle, loaded on
 * first need from <meta name="plotly-full">, kept as a second instance (window.Plotly
 * stays the page's own). Each chart draws and purges with the instance it was made with.
 */
let basePlotly = null;
let fullPlotly = null;
let fullLoading = null;

function plotlyNow() {
  if (!basePlotly && typeof Plotly !== "undefined") basePlotly = Plotly;
  return basePlotly;
}

export function plotlyReady() {
  if (plotlyNow()) return Promise.resolve(basePlotly);
  return new Promise((resolve, reject) => {
    const el = document.getElementById("plotly-js");
    if (!el) { // no tag to listen to: look again until it shows up
      const t = setInterval(() => { if (plotlyNow()) { clearInterval(t); resolve(basePlotly); } }, 50);
      return;
    }
    el.addEventListener("load", () => (plotlyNow() ? resolve(basePlotly) : reject(new Error("Plotly did not load"))), { once: true });
    el.addEventListener("error", () => reject(new Error("Could not load the charting library (Plotly)")), { once: true });
  });
}

/** The Plotly that draws 3-D scenes: the full bundle (see plotlyReady). */
export function plotly3dReady() {
  if (fullPlotly) return Promise.resolve(fullPlotly);
  fullLoading ??= plotlyReady().then((base) => new Promise((resolve, reject) => {
    const url = document.querySelector("meta[name='plotly-full']")?.content;
    if (!url) { fullPlotly = base; resolve(base); return; } // the page's own bundle is the full one
    const script = document.createElement("script");
    script.src = url;
    script.async = true;
    script.addEventListener("load", () => {
      fullPlotly = window.Plotly;
      window.Plotly = base; // the page's charts keep theirs
      resolve(fullPlotly);
    }, { once: true });
    script.addEventListener("error", () => { fullLoading = null; reject(new Error("Could not load Plotly's 3-D charts")); }, { once: true });
    document.head.append(script);
  }));
  return fullLoading;
}

/** Toggle projector sizes on every chart alive on the page. */
export function setProjector(on) {
  projector = on;
  // a person pressed a button: redraw every chart now, then back to the usual duty cycle
  for (const c of charts) { c.forced = true; c.restyleFonts(); }
  scheduler().burst();
}

/** Destroy every chart drawn inside `root` (a run view being reset): purge Plotly, stop observing. */
export function destroyWithin(root) {
  for (const c of [...charts]) if (root.contains(c.el)) c.destroy();
}

/**
 * Draw every chart inside `root` once more, in view or not (a run ended: the page shows
 * its final state everywhere, and a test or a screenshot finds every chart complete).
 */
export function drawAllWithin(root) {
  for (const c of charts) if (root.contains(c.el) && c.waiting) { c.forced = true; c.schedule(); }
  scheduler().burst(); // nothing streams any more: catch up at once
}

/** Number of charts alive on the page (tests check that a reset leaves none behind). */
export function liveCharts() { return charts.size; }

let revision = 0;
const OFFSCREEN_MS = 2000;

/**
 * A chart redrawn with Plotly.react through the page's frame scheduler (frame.js):
 * at most once a frame, and at most every `minInterval` ms (big heatmaps ask for more).
 */
export class PlotChart {
  /**
   * @param opts {minInterval (ms between redraws), onlyVisible: drawn only while in view,
   *   even when drawAllWithin() or projector mode ask (a WebGL 3-D scene: seconds to build
   *   without a GPU)}
   */
  constructor(el, layout = {}, { minInterval = 0, onlyVisible = false, gl3d = false } = {}) {
    this.el = el;
    this.gl3d = gl3d; // drawn by the full bundle (plotly3dReady)
    this.layoutFn = typeof layout === "function" ? layout : () => layout;
    this.minInterval = minInterval;
    this.traces = [];
    this.layoutPatch = {};
    this.alive = true;
    // Plotly comes in at the first draw (react() on an empty element plots it): a panel
    // made while a backlog streams in costs nothing until it is drawn, a chart out of view
    // nothing until it is scrolled to, and the run page makes its panels before Plotly
    // has even finished loading.
    this.plotted = false;
    charts.add(this);
    // Redraw at the new size whenever the element changes size: the window, and also
    // the panel grid reflowing (a panel appearing beside this one, two columns becoming one).
    this.size = [el.clientWidth, el.clientHeight];
    this.observer = typeof ResizeObserver === "function" ? new ResizeObserver(() => {
      const size = [el.clientWidth, el.clientHeight];
      if (size[0] === this.size[0] && size[1] === this.size[1]) return;
      this.size = size;
      this.resize();
    }) : null;
    this.observer?.observe(el);
    // A chart out of view (below the fold, a folded panel) redraws at most every
    // OFFSCREEN_MS; scrolled into view, it catches up at once. Inside an element marked
    // data-offscreen="wait" (a run view) it does not redraw at all until it comes into
    // view (or drawAllWithin() asks, when the run ends): a dozen panels below the fold
    // cost nothing while the run streams. (Issue 7 §1.)
    this.onlyVisible = onlyVisible;
    this.wait = onlyVisible || !!el.closest?.("[data-offscreen='wait']");
    this.visible = true;
    this.io = typeof IntersectionObserver === "function" ? new IntersectionObserver((entries) => {
      const v = entries[entries.length - 1].isIntersecting;
      const was = this.visible;
      this.visible = v;
      if (v && !was && this.waiting) this.schedule();
    }, { rootMargin: "150px" }) : null;
    this.io?.observe(el);
    this.schedule(); // its axes on a coming frame, data or not
  }

  fullLayout() {
    // The element's own size, given explicitly: Plotly's autosize only looks again on a
    // window resize, and a react() after its own resize can bring back the old size.
    const w = this.el.clientWidth;
    const ht = this.el.clientHeight;
    const size = w > 0 && ht > 0 ? { width: w, height: ht } : {};
    return { ...baseLayout(), ...this.layoutFn(this), ...this.layoutPatch, ...size, datarevision: ++revision };
  }

  /** Replace all traces (and optionally patch the layout) on a coming frame. */
  react(traces, layoutPatch) {
    this.traces = traces;
    this.tracesFn = null;
    if (layoutPatch) this.layoutPatch = layoutPatch;
    this.schedule();
  }

  /**
   * Like react(), but the traces are built by fn() when the chart is drawn: a panel fed
   * an event per epoch (a backlog of thousands) builds its traces once per redraw, not
   * once per event.
   */
  reactLazy(fn) {
    this.tracesFn = fn;
    this.schedule();
  }

  schedule() {
    if (!this.alive) return;
    this.waiting = true;
    if (this.held()) return; // the observer schedules it when it shows
    // (a replay at top speed, duty 1, draws everything at once: "done" means all drawn)
    const soon = this.visible || this.forced || scheduler().duty >= 1;
    const every = soon || !this.plotted ? this.minInterval : Math.max(this.minInterval, OFFSCREEN_MS);
    scheduler().request(this, () => {
      if (this.held()) return; // it went out of view while it waited
      this.waiting = false;
      this.forced = false;
      this.draw();
    }, every, this.label(), !this.visible);
  }

  /** Out of view in a view that draws only what shows, and not asked to draw anyway. */
  held() { return this.wait && !this.visible && (!this.forced || this.onlyVisible); }

  label() { return this.el.closest?.(".panel")?.id || this.el.id || "chart"; }

  draw() {
    if (!this.alive) return;
    if (this.tracesFn) { this.traces = this.tracesFn() || this.traces; this.tracesFn = null; }
    const lib = this.plotly();
    if (!lib) { // before its bundle is there: draw once it is
      (this.gl3d ? plotly3dReady() : plotlyReady()).then(() => this.schedule(), (err) => console.error(err));
      return;
    }
    const layout = this.fullLayout();
    const done = lib.react(this.el, this.traces, layout, CONFIG);
    this.lib = lib;
    this.plotted = true;
    if (layout.xaxis?.scaleanchor || layout.yaxis?.scaleanchor) Promise.resolve(done).then(() => this.settle());
  }

  // An axis held to an aspect ratio (scaleanchor + constrain: "domain", the decision
  // boundary) is fitted by Plotly against the ranges of the draw before: after new data
  // or a new size it comes out shrunk on both axes, and each redraw gets closer. Redraw
  // until the domains stop moving.
  settle() {
    const fl = this.el._fullLayout;
    if (!fl?.xaxis?.domain || !fl?.yaxis?.domain) return;
    const d = [...fl.xaxis.domain, ...fl.yaxis.domain];
    const moved = !this.domains || d.some((v, i) => Math.abs(v - this.domains[i]) > 1e-3);
    this.domains = d;
    this.settlePasses = moved ? (this.settlePasses || 0) + 1 : 0;
    if (moved && this.settlePasses < 10) scheduler().request(this, () => this.draw(), 0);
  }

  /** The instance that draws this chart (null: a 3-D chart whose bundle is still loading). */
  plotly() { return this.lib || (this.gl3d ? fullPlotly : plotlyNow()); }

  restyleFonts() { this.schedule(); }
  resize() { if (this.el.offsetParent) this.schedule(); }
  destroy() {
    if (!this.alive) return;
    this.alive = false;
    charts.delete(this);
    this.observer?.disconnect();
    this.io?.disconnect();
    scheduler().cancel(this);
    if (this.plotted) this.lib.purge(this.el);
  }
}

// Markers on a line of more points than this are noise (and thousands of SVG nodes).
const MAX_MARKERS = 150;

/**
 * Line chart with a fixed set of traces fed incrementally.
 * traces: [{name, color, dash, mode, width, yaxis, opacity}]
 * append(i, xs, ys) stores the points in the trace's Series (downsample.js): every point
 * is kept, at most `limit` are drawn (min/max envelope). While a trace is short the new
 * points go out with Plotly.extendTraces; once it is downsampled, the drawn copy is redrawn.
 */
export class LineChart extends PlotChart {
  /**
   * @param opts {traces, xTitle, yTitle, logX, logY, shapes, layout, limit (drawn points per trace),
   *   minInterval (ms between redraws),
   *   autoLog: switch y to log once values span more than 3 decades (a diverging loss),
   *   padConstant: a flat series (a constant lr) gets [0, 2y] instead of Plotly's [y-1, y+1]}
   */
  constructor(el, opts) {
    // The layout is a function of the chart (called with it) so that projector mode,
    // setShapes() and the y statistics take effect on the next redraw.
    super(el, (self) => self.lineLayout(), { minInterval: opts.minInterval ?? 100 });
    this.opts = opts;
    this.limit = opts.limit || 2000;
    this.spec = opts.traces;
    this.shapes = opts.shapes || [];
    this.reset();
  }

  lineLayout() {
    const o = this.opts || {};
    const y = {};
    if (this.yRange) y.range = this.yRange; // set by the owner (the LR range test caps its axis)
    else if (o.logY || (o.autoLog && this.yMinPos > 0 && this.yMax / this.yMinPos > 1e3)) y.type = "log";
    else if (o.padConstant && this.yMax > 0 && this.yMax - this.yMin <= 1e-9 * this.yMax) y.range = [0, 2 * this.yMax];
    return {
      xaxis: axis(o.xTitle || "", o.logX ? { type: "log", dtick: 1 } : {}), // a label every decade
      yaxis: axis(o.yTitle || "", y),
      shapes: this.shapes,
      ...(o.layout || {}),
    };
  }

  blankTrace(t) {
    return {
      type: "scatter", mode: t.mode || "lines", name: t.name, x: [], y: [],
      yaxis: t.yaxis || "y", opacity: t.opacity ?? 1, showlegend: t.showlegend ?? true,
      line: { color: t.color, dash: t.dash || "solid", width: t.width ?? 3 },
      marker: { color: t.color, size: t.markerSize ?? 8 },
      hovertemplate: t.hover,
    };
  }

  blankTraces() { return this.spec.map((t) => this.blankTrace(t)); }

  /** Index of the trace named `name`, adding it (from `spec`) the first time it is asked for. */
  traceIndex(name, spec) {
    const i = this.spec.findIndex((t) => t.name === name);
    if (i >= 0) return i;
    this.spec = [...this.spec, { ...spec, name }];
    this.series.push(new Series(this.limit));
    this.traces.push(this.blankTrace(this.spec[this.spec.length - 1]));
    this.fullRedraw = true;
    this.schedule();
    return this.spec.length - 1;
  }

  reset() {
    this.series = this.spec.map(() => new Series(this.limit));
    this.yMin = Infinity; this.yMax = -Infinity; this.yMinPos = Infinity;
    this.fullRedraw = true;
    this.react(this.blankTraces());
  }

  append(i, xs, ys) {
    if (!Array.isArray(xs)) { xs = [xs]; ys = [ys]; }
    const s = this.series[i];
    for (let k = 0; k < xs.length; k++) {
      const y = ys[k];
      // Plotly draws null as a gap; NaN/Infinity (a diverging run) would break autorange.
      const ok = typeof y === "number" && Number.isFinite(y);
      s.push(xs[k], ok ? y : null);
      if (ok) {
        if (y < this.yMin) this.yMin = y;
        if (y > this.yMax) this.yMax = y;
        if (y > 0 && y < this.yMinPos) this.yMinPos = y;
      }
    }
    this.schedule();
  }

  setShapes(shapes) { this.shapes = shapes; this.fullRedraw = true; this.schedule(); }

  restyleFonts() { this.fullRedraw = true; this.schedule(); }
  resize() { if (this.el.offsetParent) { this.fullRedraw = true; this.schedule(); } }

  // What the y axis looks like apart from autorange: a change needs the layout redrawn.
  yKey() { return JSON.stringify(this.lineLayout().yaxis?.type ?? "") + JSON.stringify(this.lineLayout().yaxis?.range ?? ""); }

  draw() {
    if (!this.alive) return;
    if (!plotlyNow()) { plotlyReady().then(() => this.schedule(), (err) => console.error(err)); return; }
    // 1. bring every trace's drawn copy up to date; note which traces only grew
    const grown = [];
    const key = this.yKey();
    let whole = this.fullRedraw || key !== this.lastYKey || !this.el.data || this.el.data.length !== this.traces.length;
    this.lastYKey = key;
    this.series.forEach((s, i) => {
      const change = s.sync();
      if (!change) return;
      const mode = this.spec[i].mode || "lines";
      const want = mode.includes("markers") && s.dx.length > MAX_MARKERS ? "lines" : mode;
      if (this.traces[i].mode !== want) { this.traces[i].mode = want; whole = true; }
      if (change.reset) whole = true;
      else grown.push([i, change.append]);
    });
    this.fullRedraw = false;
    if (whole) {
      // 2. redraw the drawn copies: bounded, at most `limit` points a trace
      this.traces.forEach((t, i) => { t.x = this.series[i].dx.slice(); t.y = this.series[i].dy.slice(); });
      this.lib = plotlyNow();
      this.lib.react(this.el, this.traces, this.fullLayout(), CONFIG);
      this.plotted = true;
    } else if (grown.length) {
      // 3. only new points at the end of short traces: append them where they are
      this.lib.extendTraces(this.el, { x: grown.map(([, a]) => a.x), y: grown.map(([, a]) => a.y) },
        grown.map(([i]) => i));
    }
  }

  /** Number of points received on trace i (all of them, not only those drawn). */
  count(i) { return this.series[i].length; }

  /** Every point of trace i (hover and CSV use the full data, not the drawn copy). */
  data(i) { return { x: this.series[i].x, y: this.series[i].y }; }
}
