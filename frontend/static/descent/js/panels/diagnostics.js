// Per-layer training diagnostics: where the gradient flows (and where it vanishes),
// how big each update is relative to its weights, and what the activations do.
// One `diagnostics` event per epoch carries a row per layer; we keep the history
// as series keyed by layer name and redraw the charts from it.
import { PlotChart, PALETTE, axis } from "../charts.js";
import { minMaxDownsample } from "../downsample.js";
import { makePanel, chartDiv } from "./panel.js";

const log10 = (v) => (v > 0 && Number.isFinite(v) ? Math.log10(v) : null);
const finite = (v) => (v === null || v === undefined || !Number.isFinite(v) ? null : v);

export class DiagnosticsPanels {
  constructor(grid) {
    this.grid = grid;
    this.xs = [];
    this.layers = [];    // names in network order
    this.series = {};    // name -> {field: [values aligned with xs]}
    this.charts = null;
  }

  ensure() {
    if (this.charts) return;
    const mk = (id, title, help, order, layout, wide = false) => {
      const p = makePanel(this.grid, { id, title, help, order, wide });
      p.show();
      // one event an epoch, five charts of every layer: redraw at most twice a second
      return new PlotChart(chartDiv(p.body), layout, { minInterval: 500 });
    };
    const xTitle = () => axis("epoch");
    this.charts = {
      heat: mk("gradflow", "Gradient flow", "log₁₀ of each layer's gradient norm per epoch. " +
        "Dark rows near the input = vanishing gradients.", 20,
      () => ({ xaxis: xTitle(), yaxis: axis("", { autorange: "reversed", type: "category" }) }), true),
      grad: mk("gradnorm", "Gradient norm per layer", "", 21,
        () => ({ xaxis: xTitle(), yaxis: axis("‖∇W‖", { type: "log" }) })),
      ratio: mk("updateratio", "Update / weight ratio (log₁₀)",
        "How much one step changes the weights. Around −3 is healthy; far below, learning stalls; above −1, it thrashes.", 22,
        () => ({ xaxis: xTitle(), yaxis: axis("log₁₀ ‖ΔW‖/‖W‖"),
          shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: -3, y1: -3,
            line: { color: "#2ca02c", width: 3, dash: "dash" } }],
          annotations: [{ xref: "paper", x: 1, y: -3, xanchor: "right", yanchor: "bottom",
            text: "healthy ≈ −3", showarrow: false, font: { color: "#2ca02c" } }] })),
      act: mk("activations", "Activations: mean (solid) and std (dashed)", "", 23,
        () => ({ xaxis: xTitle(), yaxis: axis("activation") })),
      dead: mk("dead", "Dead (solid) and saturated (dotted) units",
        "Fraction of units that never fire (ReLU) or sit on a flat part of their activation (sigmoid/tanh).", 24,
        () => ({ xaxis: xTitle(), yaxis: axis("fraction", { range: [-0.02, 1.02] }) })),
    };
  }

  add(ev) {
    if (!Array.isArray(ev.layers)) return;
    this.ensure();
    const x = ev.epoch ?? ev.step ?? this.xs.length;
    const t = this.xs.length;
    this.xs.push(x);
    for (const row of ev.layers) {
      if (!this.series[row.name]) {
        this.layers.push(row.name);
        this.series[row.name] = {};
      }
      const s = this.series[row.name];
      for (const [k, v] of Object.entries(row)) {
        if (k === "name") continue;
        if (!s[k]) s[k] = [];
        while (s[k].length < t) s[k].push(null); // a layer that appears late
        s[k].push(typeof v === "number" ? v : null);
      }
    }
    this.draw();
  }

  lines(field, { transform = finite, dash = "solid", suffix = "", legend = true } = {}) {
    // a long run is drawn as its min/max envelope (at most 600 points a line), without markers
    return this.layers.map((name, i) => {
      const d = minMaxDownsample(this.xs, (this.series[name][field] || []).map(transform), 600);
      return {
        type: "scatter", mode: d.x.length > 150 ? "lines" : "lines+markers", name: name + suffix, legendgroup: name,
        showlegend: legend, x: d.x, y: d.y,
        line: { color: PALETTE[i % PALETTE.length], dash, width: 3 },
        marker: { size: 5, color: PALETTE[i % PALETTE.length] },
      };
    });
  }

  draw() {
    // built when drawn (reactLazy): a backlog of epochs costs one build per redraw
    const c = this.charts;
    c.heat.reactLazy(() => this.heatTraces());
    c.grad.reactLazy(() => this.lines("grad_norm", { transform: (v) => (v > 0 ? v : null) }));
    c.ratio.reactLazy(() => this.lines("update_ratio"));
    c.act.reactLazy(() => [...this.lines("act_mean"), ...this.lines("act_std", { dash: "dash", legend: false })]);
    c.dead.reactLazy(() => [...this.lines("dead_frac"), ...this.lines("saturated_frac", { dash: "dot", legend: false })]);
  }

  heatTraces() {
    // at most ~600 columns: every k-th epoch of a long run (the last one always)
    const k = Math.ceil(this.xs.length / 600);
    const cols = this.xs.map((_, j) => j).filter((j) => j % k === 0 || j === this.xs.length - 1);
    return [{
      type: "heatmap", x: cols.map((j) => this.xs[j]), y: this.layers, colorscale: "Viridis",
      z: this.layers.map((n) => cols.map((j) => log10((this.series[n].grad_norm || [])[j]))),
      colorbar: { title: { text: "log₁₀‖∇‖" } },
      hovertemplate: "%{y}, epoch %{x}: 10^%{z:.2f}<extra></extra>",
    }];
  }
}
