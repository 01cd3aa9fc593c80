// The weights' distribution over time, per layer (TensorBoard's histogram view as a
// heatmap): x is the epoch, y the weight value on the layer's fixed bins, colour the
// share of the layer's weights in that bin (log scale, so the tails show). Beside it the
// share of weights with |w| < 1e-3 per layer: L1 drives it up, L2 only shrinks weights.
import { PlotChart, PALETTE, axis } from "../charts.js";
import { h } from "../dom.js";
import { makePanel, chartDiv } from "./panel.js";

/** Bin centres of `bins` equal bins over [lo, hi]. */
export function binCentres(lo, hi, bins) {
  const w = (hi - lo) / bins;
  return Array.from({ length: bins }, (_, i) => Number((lo + (i + 0.5) * w).toPrecision(6)));
}

/** log10 of each count's share of `total` (null for an empty bin: drawn blank). */
export function logShares(counts, total) {
  return counts.map((c) => (c > 0 && total > 0 ? Math.log10(c / total) : null));
}

/**
 * Add one diagnostics row to `store` ({layers: [names in order], rows: {name: history}}).
 * A history keeps the layer's fixed range, and per frame its epoch, counts and near-zero
 * share. Returns true when the layer is new. Shared by this panel and the compare page.
 */
export function recordLayer(store, row, x) {
  const fresh = !(row.name in store.rows);
  if (fresh) {
    store.layers.push(row.name);
    store.rows[row.name] = { range: row.hist_range, xs: [], hist: [], zero: [] };
  }
  const r = store.rows[row.name];
  r.xs.push(x);
  r.hist.push(row.hist);
  r.zero.push(typeof row.near_zero_frac === "number" ? row.near_zero_frac : null);
  r.out = row.hist_out;
  r.size = row.hist.reduce((a, c) => a + c, 0) + (row.hist_out || [0, 0]).reduce((a, c) => a + c, 0);
  return fresh;
}

/** The layer with the most weights (where a penalty shows first), or `fallback`. */
export function biggestLayer(store, fallback) {
  return store.layers.reduce((a, n) => (store.rows[n].size > (store.rows[a]?.size ?? -1) ? n : a), fallback);
}

/**
 * A layer's history as heatmap data: one column per frame, log₁₀ share of the weights per
 * bin; a long history keeps every k-th frame (and the last), at most `maxColumns`.
 */
export function histogramHeatmap(r, maxColumns = Infinity) {
  const ys = binCentres(r.range[0], r.range[1], r.hist[0].length);
  const n = r.hist.length;
  const k = Math.max(1, Math.ceil(n / maxColumns));
  const keep = k === 1 ? null : [...Array(n).keys()].filter((j) => j % k === 0 || j === n - 1);
  const xs = keep ? keep.map((j) => r.xs[j]) : r.xs;
  const hist = keep ? keep.map((j) => r.hist[j]) : r.hist;
  const columns = hist.map((counts) => logShares(counts, counts.reduce((a, c) => a + c, 0)));
  return { x: xs, y: ys, z: ys.map((_, b) => columns.map((col) => col[b])) };
}

export class WeightsPanel {
  /** `opts.zRange` fixes the colour scale (the compare page shares one between runs). */
  constructor(grid, opts = {}) {
    this.grid = grid;
    this.opts = opts;
    this.xs = [];
    this.store = { layers: [], rows: {} };  // recordLayer(): histories by layer name
    this.current = null;
    this.charts = null;
  }

  ensure() {
    if (this.charts) return;
    const p = makePanel(this.grid, { id: "weights", title: "Weights", order: 25, wide: true,
      help: "Each column is the distribution of one layer's weights at that epoch (colour: share of the " +
        "weights in that bin, log scale). L1 piles weights up at zero; L2 shrinks them all towards it." });
    p.show();
    this.select = h("select", { "aria-label": "Layer shown in the weight histogram",
      onchange: () => { this.picked = true; this.current = this.select.value; this.draw(); } });
    this.zeroText = h("span", { class: "weights-zero", "aria-live": "polite" });
    p.body.append(h("div", { class: "weights-controls" }, h("label", {}, "Layer ", this.select), " ", this.zeroText));
    const row = h("div", { class: "weights-charts" });
    p.body.append(row);
    this.charts = {
      heat: new PlotChart(chartDiv(row), () => ({ xaxis: axis("epoch"), yaxis: axis("weight value") }), { minInterval: 250 }),
      zero: new PlotChart(chartDiv(row), () => ({ xaxis: axis("epoch"),
        yaxis: axis("share of |w| < 10⁻³", { range: [-0.02, 1.02] }) }), { minInterval: 250 }),
    };
  }

  add(ev) {
    if (!Array.isArray(ev.layers) || !ev.layers.some((r) => Array.isArray(r.hist))) return;
    this.ensure();
    const t = this.xs.length;
    this.xs.push(ev.epoch ?? ev.step ?? t);
    for (const row of ev.layers) {
      if (Array.isArray(row.hist) && recordLayer(this.store, row, this.xs[t])) {
        this.select.append(h("option", { value: row.name }, row.name));
      }
    }
    if (!this.picked) {  // the layer with the most weights, until the visitor picks one
      this.current = biggestLayer(this.store, this.current);
      this.select.value = this.current;
    }
    this.draw();
  }

  draw() {
    const { layers, rows } = this.store;
    const r = rows[this.current];
    if (!r) return;
    const zr = this.opts.zRange || [-4, 0];
    // built when drawn (reactLazy): the histogram of every epoch so far is rebuilt once per
    // redraw, not once per event (a backlog of thousands of epochs)
    this.charts.heat.reactLazy(() => {
      const cur = this.store.rows[this.current];
      return cur && [{ type: "heatmap", ...histogramHeatmap(cur, 600), colorscale: "Viridis", zmin: zr[0], zmax: zr[1],
        colorbar: { title: { text: "log₁₀ share" } },
        hovertemplate: "epoch %{x}, w ≈ %{y}: 10^%{z:.2f} of the weights<extra></extra>" }];
    });
    this.charts.zero.reactLazy(() => layers.map((name, i) => ({
      type: "scatter", mode: "lines", name, x: rows[name].xs.slice(), y: rows[name].zero.slice(),
      line: { color: PALETTE[i % PALETTE.length], width: name === this.current ? 4 : 2 } })));
    const last = r.zero[r.zero.length - 1];
    const out = r.out && r.out[0] + r.out[1] > 0 ? `; ${r.out[0] + r.out[1]} outside the axis` : "";
    this.zeroText.textContent = last === null || last === undefined ? "" :
      `${this.current}: ${(100 * last).toFixed(1)} % of weights near zero${out}`;
  }

  destroy() {
    if (!this.charts) return;
    this.charts.heat.destroy();
    this.charts.zero.destroy();
    this.charts = null;
  }
}
