// Decision boundary: the model's prediction over a grid of the 2-D input plane,
// with the dataset drawn on top (train filled, validation hollow). For poly1d
// (1-D regression) the model's curve is drawn over the points instead.
import { PlotChart, PALETTE, axis, baseLayout } from "../charts.js";
import { makePanel, chartDiv } from "./panel.js";

/** Blend a hex colour with white: t = 0 gives the colour, t = 1 white. */
function tint(hex, t) {
  const n = parseInt(hex.slice(1), 16);
  const c = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => Math.round(v + (255 - v) * t));
  return `rgb(${c.join(",")})`;
}

// Multiclass grids come as argmax class + max probability. Encoding them as
// "class + confidence" in one number lets a single heatmap with a piecewise
// colour scale show both: the hue says which class, the depth how sure.
function multiclassScale(k) {
  const stops = [];
  for (let c = 0; c < k; c++) {
    const col = PALETTE[c % PALETTE.length];
    // Plotly rejects a scale that does not end exactly at 1
    stops.push([c / k, tint(col, 0.9)], [c === k - 1 ? 1 : (c + 0.999) / k, tint(col, 0.35)]);
  }
  return stops;
}

export class BoundaryPanel {
  constructor(grid) {
    this.panel = makePanel(grid, { id: "boundary", title: "Decision boundary", order: 11,
      help: "Background: the model's prediction. Filled dots: training points; rings: validation points." });
    this.dataset = null;
    this.chart = null;
    this.last = null;
  }

  setDataset(ds) {
    this.dataset = ds;
    if (this.last) this.add(this.last);
  }

  ensure() {
    if (this.chart) return;
    this.panel.show();
    this.caption = document.createElement("p");
    this.caption.className = "caption";
    this.panel.body.append(this.caption);
    // a grid of 40×40 cells, its contour and hundreds of points: the heaviest chart in
    // view; at most about two redraws a second
    this.chart = new PlotChart(chartDiv(this.panel.body, "chart square"), () => this.layout(), { minInterval: 500 });
  }

  layout() {
    const curve = this.last && this.last.curve;
    const ev = this.last;
    if (curve || !ev?.x?.length || !ev?.y?.length) {
      return { xaxis: axis(this.dataset?.feature_names?.[0] || "x1"), yaxis: axis(curve ? "target" : this.dataset?.feature_names?.[1] || "x2") };
    }
    // Equal scales on both axes, computed here rather than with Plotly's scaleanchor:
    // the plot area gets the data's aspect ratio inside the element, and the spare room
    // goes to the margins. (scaleanchor + constrain fits against the previous draw and
    // needs several redraws to settle, which a throttled chart does not get.)
    const half = (a) => (a.length > 1 ? (a[1] - a[0]) / 2 : 0.5);
    const xr = [ev.x[0] - half(ev.x), ev.x[ev.x.length - 1] + half(ev.x)];
    const yr = [ev.y[0] - half(ev.y), ev.y[ev.y.length - 1] + half(ev.y)];
    const m = baseLayout().margin;
    const W = this.chart?.el.clientWidth || 0;
    const H = this.chart?.el.clientHeight || 0;
    const margin = { ...m };
    const w = W - m.l - m.r;
    const hh = H - m.t - m.b;
    if (w > 0 && hh > 0) {
      const k = Math.min(w / (xr[1] - xr[0]), hh / (yr[1] - yr[0]));
      const dx = w - k * (xr[1] - xr[0]);
      const dy = hh - k * (yr[1] - yr[0]);
      margin.l += dx / 2; margin.r += dx / 2; margin.t += dy / 2; margin.b += dy / 2;
    }
    return {
      margin,
      xaxis: axis(this.dataset?.feature_names?.[0] || "x1", { range: xr, automargin: false }),
      yaxis: axis(this.dataset?.feature_names?.[1] || "x2", { range: yr, automargin: false }),
    };
  }

  pointTraces(regression, colorRange) {
    const pts = this.dataset?.points;
    if (!pts) return [];
    const out = [];
    for (const split of ["train", "val"]) {
      const p = pts[split];
      if (!p || !p.x) continue;
      const hollow = split === "val";
      if (!p.y) { // poly1d: x only, label is the target value
        out.push({ type: "scatter", mode: "markers", name: split, x: p.x, y: p.label,
          // an open symbol is stroked in marker.color, so hollow points need a real colour
          marker: { size: hollow ? 10 : 8, color: hollow ? PALETTE[1] : PALETTE[0],
            symbol: hollow ? "circle-open" : "circle", line: { color: hollow ? PALETTE[1] : "#fff", width: hollow ? 2.5 : 1 } } });
        continue;
      }
      if (regression) {
        out.push({ type: "scatter", mode: "markers", name: split, x: p.x, y: p.y,
          marker: { size: 9, color: p.label, colorscale: "Viridis", cmin: colorRange[0], cmax: colorRange[1],
            symbol: hollow ? "circle-open" : "circle", line: { color: "#fff", width: hollow ? 2 : 1 } } });
        continue;
      }
      // One trace per class so the legend explains the colours.
      const classes = [...new Set(p.label)].sort((a, b) => a - b);
      for (const c of classes) {
        const idx = p.label.map((l, i) => (l === c ? i : -1)).filter((i) => i >= 0);
        const col = PALETTE[c % PALETTE.length];
        out.push({ type: "scatter", mode: "markers", name: `${split} class ${c}`,
          legendgroup: `c${c}`, showlegend: split === "train",
          x: idx.map((i) => p.x[i]), y: idx.map((i) => p.y[i]),
          marker: { size: hollow ? 9 : 8, symbol: hollow ? "circle-open" : "circle", color: col,
            line: { color: hollow ? col : "#fff", width: hollow ? 2.5 : 1 } } });
      }
    }
    return out;
  }

  add(ev) {
    this.last = ev;
    this.ensure();
    this.caption.textContent = ev.epoch !== undefined ? `epoch ${ev.epoch}` : "";
    // built when drawn, from the latest grid: a backlog of epochs costs one build
    this.chart.reactLazy(() => this.drawn(this.last));
  }

  // The chart's first draw builds the whole figure; with hundreds of data points on top
  // it was the page's longest task (~170 ms on a busy 2-core machine). So the first draw
  // is the background alone and the points come with the next frame's draw.
  drawn(ev) {
    const traces = this.traces(ev);
    if (this.chart.plotted || !traces || ev.curve) return traces;
    Promise.resolve().then(() => this.chart.reactLazy(() => this.traces(this.last)));
    return traces.filter((t) => t.type !== "scatter");
  }

  /** The traces of one boundary event (null: nothing to draw). */
  traces(ev) {
    const regression = this.dataset?.task === "regression";
    if (ev.curve) {
      const traces = this.pointTraces(true, [0, 1]);
      traces.push({ type: "scatter", mode: "lines", name: "model", x: ev.curve.x, y: ev.curve.y,
        line: { color: PALETTE[3], width: 4 } });
      return traces;
    }
    if (!ev.z) return null;
    let bg;
    const nClasses = this.dataset?.n_classes || 2;
    if (regression) {
      const flat = ev.z.flat().filter(Number.isFinite);
      const range = [Math.min(...flat), Math.max(...flat)];
      bg = { type: "heatmap", x: ev.x, y: ev.y, z: ev.z, colorscale: "Viridis", zmin: range[0], zmax: range[1],
        colorbar: { title: { text: "prediction" } }, hovertemplate: "%{x:.2f}, %{y:.2f}: %{z:.3f}<extra></extra>" };
      return [bg, ...this.pointTraces(true, range)];
    }
    if (ev.zprob || nClasses > 2) {
      const k = nClasses;
      const conf = ev.zprob || ev.z.map((r) => r.map(() => 1));
      const z = ev.z.map((row, i) => row.map((c, j) => {
        const p = (conf[i][j] - 1 / k) / (1 - 1 / k);
        return c + Math.min(0.999, Math.max(0, p));
      }));
      bg = { type: "heatmap", x: ev.x, y: ev.y, z, zmin: 0, zmax: k, colorscale: multiclassScale(k),
        showscale: false, customdata: ev.z, hovertemplate: "class %{customdata}<extra></extra>" };
      return [bg, ...this.pointTraces(false)];
    }
    // Binary: probability of class 1, white at 0.5, plus the 0.5 contour itself.
    bg = { type: "heatmap", x: ev.x, y: ev.y, z: ev.z, zmin: 0, zmax: 1, showscale: false,
      colorscale: [[0, tint(PALETTE[0], 0.35)], [0.5, "#ffffff"], [1, tint(PALETTE[1], 0.35)]],
      hovertemplate: "P(class 1) = %{z:.2f}<extra></extra>" };
    const line = { type: "contour", x: ev.x, y: ev.y, z: ev.z, showscale: false, hoverinfo: "skip",
      contours: { start: 0.5, end: 0.5, size: 1, coloring: "none" }, line: { color: "#333", width: 3 },
      showlegend: false };
    return [bg, line, ...this.pointTraces(false)];
  }
}
