// Before training, the right side of the playground shows what will be trained: the
// data (POST /api/data/preview: the engine builds it exactly as a run would) and a
// picture of the network (from the validation summary). 2-D sets are a scatter by
// class, 1-D regression a curve, digits a grid of images with an "augmented" toggle
// that shows the spec's augmentations applied, mnist1d a few signals.
import { api } from "./api.js";
import { h, fmt } from "./dom.js";
import { PlotChart, PALETTE, axis } from "./charts.js";

/** Grey-scale canvas of one C×H×W image (first channel), values scaled to its own range. */
function imageCanvas(img, label, size = 56) {
  const plane = img[0];
  const H = plane.length;
  const W = plane[0].length;
  const flat = plane.flat();
  const lo = Math.min(...flat);
  const hi = Math.max(...flat);
  const c = h("canvas", { width: W, height: H, class: "digit", style: { width: `${size}px`, height: `${size}px` },
    role: "img", "aria-label": `an image of class ${label}` });
  const ctx = c.getContext("2d");
  const data = ctx.createImageData(W, H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = hi > lo ? (plane[y][x] - lo) / (hi - lo) : 0;
      const g = Math.round(255 * (1 - v)); // ink is dark
      const k = 4 * (y * W + x);
      data.data[k] = data.data[k + 1] = data.data[k + 2] = g;
      data.data[k + 3] = 255;
    }
  }
  ctx.putImageData(data, 0, 0);
  return h("figure", { class: "digit-cell" }, c, h("figcaption", {}, String(label)));
}

export class DataPreview {
  /** @param els {chart, caption, toggle, toggleWrap} */
  constructor(els) {
    this.els = els;
    this.chart = null;
    this.seq = 0;
    this.last = null;
    els.toggle.addEventListener("change", () => this.draw());
  }

  /** Ask the server for the preview of this spec's data (callers debounce). */
  async update(spec) {
    const key = JSON.stringify({ seed: spec.seed, data: spec.data, augment: spec.augment });
    if (key === this.key) return;
    this.key = key;
    const seq = ++this.seq;
    try {
      const res = await api.post("/api/data/preview", { spec: { seed: spec.seed, data: spec.data || {}, augment: spec.augment || [] } });
      if (seq !== this.seq) return;
      this.last = res;
      this.draw();
    } catch (err) {
      if (seq !== this.seq) return;
      this.last = null;
      this.clear();
      this.els.caption.textContent = `No preview: ${err.errors?.[0]?.message || err.message}`;
    }
  }

  clear() {
    this.chart?.destroy();
    this.chart = null;
    this.els.chart.replaceChildren();
  }

  draw() {
    const p = this.last;
    if (!p) return;
    const { chart: el, caption, toggle, toggleWrap } = this.els;
    toggleWrap.hidden = !(p.kind === "image" && p.augmented);
    const shown = `${fmt(p.shown)} of ${fmt(p.n_train)} training samples`;
    if (p.kind === "image") {
      this.clear();
      const imgs = toggle.checked && p.augmented ? p.augmented : p.images;
      el.classList.add("as-grid");
      el.replaceChildren(h("div", { class: "digit-grid" }, imgs.map((img, i) => imageCanvas(img, p.labels[i]))));
      caption.textContent = `${shown}${toggle.checked && p.augmented ? `, augmented (${p.augment_note})` : ""}.`;
      return;
    }
    el.classList.remove("as-grid");
    if (!this.chart) { el.replaceChildren(); this.chart = new PlotChart(el, () => this.layout()); }
    const traces = [];
    if (p.kind === "2d" && p.task === "classification") {
      const classes = [...new Set(p.points.label)].sort((a, b) => a - b);
      for (const c of classes) {
        const idx = p.points.label.map((l, i) => (l === c ? i : -1)).filter((i) => i >= 0);
        traces.push({ type: "scatter", mode: "markers", name: `class ${c}`, x: idx.map((i) => p.points.x[i]),
          y: idx.map((i) => p.points.y[i]), marker: { size: 7, color: PALETTE[c % PALETTE.length], line: { color: "#fff", width: 1 } } });
      }
    } else if (p.kind === "2d") {
      traces.push({ type: "scatter", mode: "markers", name: "target", x: p.points.x, y: p.points.y,
        marker: { size: 7, color: p.points.label, colorscale: "Viridis", showscale: true, colorbar: { title: { text: "target" } } } });
    } else if (p.kind === "1d") {
      traces.push({ type: "scatter", mode: "markers", name: "target", x: p.points.x, y: p.points.label,
        marker: { size: 6, color: PALETTE[0] } });
    } else if (p.series) {
      p.series.slice(0, 6).forEach((s, i) => traces.push({ type: "scatter", mode: "lines", name: `class ${p.labels[i]}`,
        y: s, line: { color: PALETTE[i % PALETTE.length], width: 2 } }));
    }
    this.chart.react(traces);
    caption.textContent = `${shown}${p.kind === "vector" ? " (the first six signals)" : ""}.`;
  }

  layout() {
    const p = this.last || {};
    if (p.kind === "2d") {
      return { xaxis: axis("x1"), yaxis: axis("x2") };
    }
    if (p.kind === "1d") return { xaxis: axis("x"), yaxis: axis("target"), showlegend: false };
    return { xaxis: axis("position"), yaxis: axis("value") };
  }
}

const NODE_CAP = 8;

/**
 * An SVG picture of the network from the validation summary: one column per layer with
 * weights (dense: a node per unit, up to 8 drawn and "+N"; others: a box with the shape),
 * the input on the left and the output on the right.
 */
export function networkPicture(summary) {
  const layers = summary?.layers || [];
  if (!layers.length) return h("p", { class: "muted" }, "The network appears here once the setup is valid.");
  const input = summary.input_shape || [];
  const cols = [{ name: "input", shape: input, units: input.length === 1 ? input[0] : null }];
  for (const l of layers) {
    const shape = Array.isArray(l.output_shape) ? l.output_shape : [];
    cols.push({ name: l.name, shape, params: l.params, units: shape.length === 1 ? shape[0] : null });
  }
  const W = Math.max(320, cols.length * 90);
  const H = 230;
  const NS = "http://www.w3.org/2000/svg";
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "net-svg", role: "img",
    "aria-label": `Network: ${cols.map((c) => `${c.name} ${c.shape.join("×")}`).join(", ")}` });
  const xOf = (i) => 45 + (i * (W - 90)) / Math.max(1, cols.length - 1);
  const nodesOf = (c) => (c.units ? Math.min(c.units, NODE_CAP) : 0);
  const yOf = (k, n) => 30 + ((k + 0.5) * (H - 80)) / n;
  // edges between consecutive columns of nodes, faint
  for (let i = 0; i + 1 < cols.length; i++) {
    const a = nodesOf(cols[i]) || 1;
    const b = nodesOf(cols[i + 1]) || 1;
    for (let p = 0; p < a; p++) {
      for (let q = 0; q < b; q++) {
        svg.append(el("line", { x1: xOf(i), y1: yOf(p, a), x2: xOf(i + 1), y2: yOf(q, b), class: "net-edge" }));
      }
    }
  }
  cols.forEach((c, i) => {
    const n = nodesOf(c);
    if (n) {
      for (let k = 0; k < n; k++) svg.append(el("circle", { cx: xOf(i), cy: yOf(k, n), r: 8, class: `net-node${i === 0 ? " input" : i === cols.length - 1 ? " output" : ""}` }));
      if (c.units > NODE_CAP) svg.append(el("text", { x: xOf(i), y: H - 38, class: "net-more", "text-anchor": "middle" }, `+${c.units - NODE_CAP}`));
    } else {
      svg.append(el("rect", { x: xOf(i) - 26, y: H / 2 - 40, width: 52, height: 60, rx: 6, class: "net-box" }));
      svg.append(el("text", { x: xOf(i), y: H / 2 - 5, class: "net-shape", "text-anchor": "middle" }, c.shape.join("×")));
    }
    svg.append(el("text", { x: xOf(i), y: H - 20, class: "net-label", "text-anchor": "middle" }, c.name));
    if (c.params) svg.append(el("text", { x: xOf(i), y: H - 5, class: "net-params", "text-anchor": "middle" }, `${fmt(c.params)} w`));
  });
  return h("div", {}, svg, h("p", { class: "caption" }, `${fmt(summary.params ?? 0)} parameters in all.`));
}
