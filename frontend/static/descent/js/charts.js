// Small Plotly wrappers (cf. tensorflow/playground linechart.ts): a chart owns its div,
// knows how to reset() and append(), and redraws at most once per animation frame.
// Incoming events can arrive hundreds per second during a backlog replay; batching
// them into one Plotly call per frame keeps the page responsive.
/* global Plotly */

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
const CONFIG = { displaylogo: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "toImage", "sendDataToCloud"] };

/** Toggle projector sizes on every chart alive on the page. */
export function setProjector(on) {
  projector = on;
  for (const c of charts) c.restyleFonts();
}

/** A chart redrawn wholesale with Plotly.react, throttled to one frame. */
export class PlotChart {
  constructor(el, layout = {}) {
    this.el = el;
    this.layoutFn = typeof layout === "function" ? layout : () => layout;
    this.pending = null;
    this.frame = 0;
    this.traces = [];
    this.layoutPatch = {};
    Plotly.newPlot(el, [], this.fullLayout(), CONFIG);
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
  }

  fullLayout() {
    // The element's own size, given explicitly: Plotly's autosize only looks again on a
    // window resize, and a react() after its own resize can bring back the old size.
    const w = this.el.clientWidth;
    const ht = this.el.clientHeight;
    const size = w > 0 && ht > 0 ? { width: w, height: ht } : {};
    return { ...baseLayout(), ...this.layoutFn(this), ...this.layoutPatch, ...size, datarevision: Date.now() };
  }

  /** Replace all traces (and optionally patch the layout) on the next frame. */
  react(traces, layoutPatch) {
    this.traces = traces;
    if (layoutPatch) this.layoutPatch = layoutPatch;
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const layout = this.fullLayout();
      const done = Plotly.react(this.el, this.traces, layout, CONFIG);
      if (layout.xaxis?.scaleanchor || layout.yaxis?.scaleanchor) Promise.resolve(done).then(() => this.settle());
    });
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
    if (moved && this.settlePasses < 10) this.schedule();
  }

  restyleFonts() { this.schedule(); }
  resize() { if (this.el.offsetParent) this.schedule(); }
  destroy() {
    charts.delete(this);
    this.observer?.disconnect();
    cancelAnimationFrame(this.frame);
    Plotly.purge(this.el);
  }
}

/**
 * Line chart with a fixed set of traces fed incrementally.
 * traces: [{name, color, dash, mode, width, yaxis, opacity}]
 * append(i, xs, ys) buffers points; the buffer goes out with one extendTraces per frame.
 */
export class LineChart extends PlotChart {
  /**
   * @param opts {traces, xTitle, yTitle, logX, logY, shapes, layout,
   *   autoLog: switch y to log once values span more than 3 decades (a diverging loss),
   *   padConstant: a flat series (a constant lr) gets [0, 2y] instead of Plotly's [y-1, y+1]}
   */
  constructor(el, opts) {
    // The layout is a function of the chart (called with it) so that projector mode,
    // setShapes() and the y statistics take effect on the next redraw.
    super(el, (self) => self.lineLayout());
    this.opts = opts;
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
    this.buffer.push({ x: [], y: [] });
    this.traces.push(this.blankTrace(this.spec[this.spec.length - 1]));
    this.schedule();
    return this.spec.length - 1;
  }

  reset() {
    this.buffer = this.spec.map(() => ({ x: [], y: [] }));
    this.yMin = Infinity; this.yMax = -Infinity; this.yMinPos = Infinity;
    this.react(this.blankTraces());
  }

  append(i, xs, ys) {
    if (!Array.isArray(xs)) { xs = [xs]; ys = [ys]; }
    const b = this.buffer[i];
    for (let k = 0; k < xs.length; k++) {
      const y = ys[k];
      // Plotly draws null as a gap; NaN/Infinity (a diverging run) would break autorange.
      b.x.push(xs[k]);
      const ok = typeof y === "number" && Number.isFinite(y);
      b.y.push(ok ? y : null);
      if (ok) {
        if (y < this.yMin) this.yMin = y;
        if (y > this.yMax) this.yMax = y;
        if (y > 0 && y < this.yMinPos) this.yMinPos = y;
      }
    }
    this.schedule();
  }

  setShapes(shapes) { this.shapes = shapes; this.schedule(); }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.frame = 0;
    // Points not yet drawn go into the trace arrays we keep, then one react() call:
    // react diffs by datarevision, and keeping our own copy makes reset() and
    // font changes (projector mode) trivial.
    this.buffer.forEach((b, i) => {
      if (!b.x.length) return;
      const t = this.traces[i];
      for (let k = 0; k < b.x.length; k++) { t.x.push(b.x[k]); t.y.push(b.y[k]); }
      b.x = []; b.y = [];
    });
    Plotly.react(this.el, this.traces, this.fullLayout(), CONFIG);
  }

  /** Number of points drawn on trace i (tests and callers use it). */
  count(i) { return this.traces[i].x.length + this.buffer[i].x.length; }
}
