// Loss landscape after Li et al. 2018 ("Visualizing the Loss Landscape of Neural
// Nets", https://arxiv.org/abs/1712.09913): the loss on a plane (or line) through
// the trained weights along filter-normalized random or PCA directions.
// Surfaces can arrive row by row (`partial` events carrying `loss` rows from
// `row_start`), so the grid fills in while the worker computes it.
// The 3-D path is drawn at each checkpoint's own loss (`trajectory.loss`): the surface
// under a projected point is the loss of a different model (the plane through the final
// weights), so reading heights off the surface would put the path 5-33 % too low.
import { h, fmt } from "../dom.js";
import { PlotChart, PALETTE, axis } from "../charts.js";
import { makePanel, chartDiv } from "./panel.js";

const LABELS = {
  random: "Random directions", pca: "PCA of the trajectory",
  interpolation: "Init → trained (1-D)", random1d: "Random direction (1-D)",
};

/** Bilinear lookup of the loss at (x, y): only for replays of runs recorded before `trajectory.loss`. */
function sample(alphas, betas, grid, x, y) {
  const idx = (arr, v) => {
    let i = 0;
    while (i < arr.length - 2 && arr[i + 1] < v) i++;
    const t = (v - arr[i]) / ((arr[i + 1] - arr[i]) || 1);
    return [i, Math.min(1, Math.max(0, t))];
  };
  const [i, tx] = idx(alphas, x);
  const [j, ty] = idx(betas, y);
  const g = (r, c) => grid[r]?.[c];
  const v = [g(j, i), g(j, i + 1), g(j + 1, i), g(j + 1, i + 1)];
  if (v.some((q) => q === null || q === undefined)) return null;
  return (v[0] * (1 - tx) + v[1] * tx) * (1 - ty) + (v[2] * (1 - tx) + v[3] * tx) * ty;
}

export class LandscapePanel {
  constructor(grid) {
    this.panel = makePanel(grid, { id: "landscape", title: "Loss landscape", order: 15, wide: true,
      help: "Loss around the trained weights (Li et al. 2018). The line with dots is the path training took." });
    this.surfaces = {};
    this.current = null;
    this.log = false;
    this.logTouched = false; // the user's choice wins over the worker's log_scale_hint
    this.built = false;
  }

  build() {
    if (this.built) return;
    this.built = true;
    this.panel.show();
    this.tabs = h("div", { class: "tabs", role: "tablist" });
    const logBox = this.logBox = h("input", { type: "checkbox", class: "log-toggle",
      onchange: (e) => { this.log = e.target.checked; this.logTouched = true; this.draw(); } });
    this.info = h("p", { class: "caption" });
    this.panel.body.append(h("div", { class: "toolbar" }, this.tabs,
      h("label", { class: "check" }, logBox, " log scale")), this.info);
    const row = h("div", { class: "landscape-row" });
    this.panel.body.append(row);
    // Both cells exist before either chart is drawn, so each measures its half of the row.
    const left = chartDiv(row, "chart square");
    const right = chartDiv(row, "chart square surface3d");
    // Axis titles live in the layout function (not a react() patch) so that projector
    // mode, which redraws every chart, gives them its bigger type too.
    this.contour = new PlotChart(left, () => this.contourAxes());
    // The 3-D view is a WebGL scene (seconds to build on a machine without a GPU): drawn
    // only while it is in view, never behind the visitor's back.
    this.surface = new PlotChart(right, () => ({
      margin: { l: 0, r: 0, t: 10, b: 0 },
      scene: { xaxis: { title: { text: this.axisTitles()[0] } }, yaxis: { title: { text: this.axisTitles()[1] } },
        zaxis: { title: { text: this.log ? "log₁₀ loss" : "loss" } },
        camera: { eye: { x: 1.6, y: -1.6, z: 1.1 } } },
    }), { onlyVisible: true, gl3d: true });
  }

  add(ev) {
    const key = ev.surface || ev.mode || "surface";
    const is1d = ev.mode === "1d" || !Array.isArray(ev.loss?.[0]);
    let s = this.surfaces[key];
    const rows = is1d ? 1 : (ev.betas || []).length;
    const start = ev.row_start || 0;
    // A new computation (a fresh grid, or `when: every` recomputing later) starts at row 0.
    if (!s || (start === 0 && (s.done || !ev.partial)) || s.alphas.length !== (ev.alphas || []).length) {
      s = this.surfaces[key] = { key, mode: is1d ? "1d" : "2d", alphas: ev.alphas || [], betas: ev.betas || [],
        grid: Array.from({ length: rows }, () => null), done: false };
    }
    if (is1d) s.grid[0] = ev.loss;
    else (ev.loss || []).forEach((row, i) => { s.grid[start + i] = row; });
    for (const k of ["trajectory", "explained_variance", "center_loss", "epoch", "eval_samples", "buffers",
      "log_scale_hint"]) if (ev[k] !== undefined) s[k] = ev[k];
    s.done = ev.done ?? !ev.partial;
    // Show the first surface that arrives; later ones take over only when they are more
    // telling (a 2-D map over a 1-D line, a map with the training path over one without),
    // and never once the user picked a tab.
    const cur = this.surfaces[this.current];
    const better = s.mode === "2d" && (cur?.mode === "1d" || (s.trajectory?.x?.length && !cur?.trajectory?.x?.length));
    if (!cur || (!this.userPicked && better)) this.current = key;
    this.build();
    this.applyLogHint();
    this.renderTabs();
    this.draw();
  }

  // Losses spanning more than two decades read better on a log scale; the worker says so.
  applyLogHint() {
    const s = this.surfaces[this.current];
    if (this.logTouched || !s || s.log_scale_hint === undefined || !s.done) return;
    this.log = Boolean(s.log_scale_hint);
    this.logBox.checked = this.log;
  }

  // PCA axes carry the share of the path's variance they explain; random axes are in
  // filter-normalized units (1 = a step as long as each filter's own weights).
  axisTitles() {
    const s = this.surfaces[this.current];
    if (s?.key === "pca" && s.explained_variance) {
      return s.explained_variance.slice(0, 2).map((v, i) => `PC${i + 1} (${(100 * v).toFixed(1)} %)`);
    }
    return ["α (filter-normalized units)", "β (filter-normalized units)"];
  }

  renderTabs() {
    this.tabs.replaceChildren(...Object.keys(this.surfaces).map((k) => h("button", {
      type: "button", role: "tab", class: `tab${k === this.current ? " active" : ""}`,
      "aria-selected": String(k === this.current),
      onclick: () => { this.current = k; this.userPicked = true; this.applyLogHint(); this.renderTabs(); this.draw(); },
    }, LABELS[k] || k)));
  }

  contourAxes() {
    const s = this.surfaces[this.current];
    const [ax, bx] = this.axisTitles();
    if (s?.mode !== "1d") return { xaxis: axis(ax), yaxis: axis(bx) };
    return { xaxis: axis(s.key === "interpolation" ? "α (0 = initial weights, 1 = trained)" : ax),
      yaxis: axis(this.log ? "log₁₀ loss" : "loss") };
  }

  z(v) { return v === null || v === undefined ? null : (this.log ? Math.log10(Math.max(v, 1e-12)) : v); }

  draw() {
    const s = this.surfaces[this.current];
    if (!s) return;
    const filled = s.grid.filter(Boolean).length;
    const bits = [];
    if (!s.done) bits.push(`computing… ${filled} / ${s.grid.length} rows`);
    if (s.center_loss !== undefined) bits.push(`loss at the trained weights: ${fmt(s.center_loss)}`);
    if (s.eval_samples) bits.push(`evaluated on ${s.eval_samples} training samples`);
    if (s.key === "interpolation" && s.buffers === "interpolated") bits.push("batch-norm statistics interpolated with the weights");
    if (s.explained_variance) bits.push(`directions explain ${s.explained_variance.map((v) => `${(100 * v).toFixed(1)}%`).join(" + ")} of the path's variance`);
    this.info.textContent = bits.join(" · ");
    const surfaceEl = this.surface.el;
    if (s.mode === "1d") {
      surfaceEl.hidden = true;
      this.contour.react([{ type: "scatter", mode: "lines+markers", name: "loss", x: s.alphas,
        y: (s.grid[0] || []).map((v) => this.z(v)), line: { color: PALETTE[3], width: 4 } }]);
      return;
    }
    if (surfaceEl.hidden) {
      surfaceEl.hidden = false;
      requestAnimationFrame(() => this.surface.resize());
    }
    const z = s.grid.map((row) => (row ? row.map((v) => this.z(v)) : s.alphas.map(() => null)));
    const traces = [{ type: "contour", x: s.alphas, y: s.betas, z, colorscale: "Viridis", ncontours: 25,
      colorbar: { title: { text: this.log ? "log₁₀ loss" : "loss" } }, connectgaps: false }];
    const surf = [{ type: "surface", x: s.alphas, y: s.betas, z, colorscale: "Viridis", showscale: false }];
    const tr = s.trajectory;
    if (tr && tr.x && tr.x.length) {
      traces.push({ type: "scatter", mode: "lines+markers", name: "trajectory", x: tr.x, y: tr.y,
        line: { color: "#d62728", width: 3 }, marker: { size: 7, color: "#d62728" } });
      traces.push({ type: "scatter", mode: "markers", name: "end", x: [tr.x.at(-1)], y: [tr.y.at(-1)],
        marker: { size: 16, symbol: "star", color: "#fff", line: { color: "#d62728", width: 2 } } });
      const tz = tr.x.map((x, i) => this.z(Array.isArray(tr.loss) ? tr.loss[i] : sample(s.alphas, s.betas, s.grid, x, tr.y[i])));
      surf.push({ type: "scatter3d", mode: "lines+markers", name: "trajectory", x: tr.x, y: tr.y, z: tz,
        line: { color: "#d62728", width: 6 }, marker: { size: 3, color: "#d62728" } });
    }
    this.contour.react(traces);
    this.surface.react(surf);
  }
}
