// LR range test (Smith 2017, "Cyclical Learning Rates", https://arxiv.org/abs/1506.01186):
// the learning rate grows exponentially every step; the loss falls, flattens, then
// explodes. The suggestion is fastai's "valley": the middle of the longest stretch where
// the smoothed loss keeps falling. The steepest slope and the minimum / 10 are drawn as
// secondary marks: on noisy mini-batch curves the steepest slope often sits at the very
// start, where one lucky batch made the curve dip.
import { h, fmt } from "../dom.js";
import { LineChart, PALETTE } from "../charts.js";
import { makePanel, chartDiv } from "./panel.js";

// The loss explodes at the end of the test; an autoscaled axis would flatten the
// interesting part to a line, so cap the axis a little above the starting loss.
function yRange(ev) {
  const ys = (ev.smoothed || ev.losses || []).filter(Number.isFinite);
  if (ys.length < 5) return undefined;
  const start = ys.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
  // the floor follows the raw losses too, or their dips would leave the chart
  const lo = Math.min(...ys, ...(ev.losses || []).filter(Number.isFinite));
  const hi = Math.max(...ys);
  if (hi <= 1.6 * start) return undefined;
  const top = 1.6 * start;
  return [lo - 0.05 * (top - lo), top];
}

export class LrFinderPanel {
  constructor(grid, onApply) {
    this.panel = makePanel(grid, { id: "lrfinder", title: "LR range test", order: 5, wide: true,
      help: "Loss while the learning rate grows every step. A good lr lies where the loss is still falling steadily, well before it blows up: the suggested one sits in the middle of that stretch." });
    this.onApply = onApply;
  }

  add(ev) {
    if (!Array.isArray(ev.lrs)) return;
    this.panel.show();
    if (!this.chart) {
      this.actions = h("div", { class: "toolbar" });
      this.panel.body.append(this.actions);
      this.chart = new LineChart(chartDiv(this.panel.body), {
        xTitle: "learning rate (log scale)", yTitle: "loss", logX: true,
        traces: [{ name: "loss", color: "#9db7d5", width: 2 }, { name: "smoothed", color: PALETTE[0], width: 4 }],
      });
    }
    this.chart.reset();
    this.chart.append(0, ev.lrs, ev.losses || []);
    if (ev.smoothed) this.chart.append(1, ev.lrs, ev.smoothed);
    // [label, lr, colour, dash, primary]: only the suggestion is drawn bold
    const marks = [["suggestion (valley)", ev.suggestion, "#2ca02c", "solid", true],
      ["steepest slope", ev.suggestion_steep, "#ff7f0e", "dash", false],
      ["min / 10", ev.suggestion_min10, "#9467bd", "dot", false]]
      .filter(([, v]) => typeof v === "number" && v > 0);
    const yr = yRange(ev);
    this.chart.yRange = yr; // applied at each redraw (fonts change in projector mode)
    this.chart.setShapes(marks.map(([, v, color, dash, primary]) => ({ type: "line", x0: v, x1: v, yref: "paper",
      y0: 0, y1: 1, line: { color, width: primary ? 4 : 2, dash } })));
    this.actions.replaceChildren(...marks.map(([label, v, color, , primary]) => h("span",
      { class: `lr-suggestion${primary ? "" : " secondary"}`, "data-mark": label.split(" ")[0] },
      h("span", { class: "swatch", style: { background: color } }), `${label}: `, h("strong", {}, fmt(v, 3)), " ",
      this.onApply ? h("button", { type: "button", class: `btn ${primary ? "primary" : ""} apply-lr`, "data-lr": String(v),
        onclick: () => this.onApply(v) }, "Apply this lr") : null)));
    if (ev.steps) this.actions.append(h("span", { class: "muted" }, ` ${ev.lrs.length} of ${ev.steps} steps`));
    if (!marks.length) this.actions.replaceChildren(h("span", { class: "muted" }, "No suggestion: the loss never fell."));
  }
}
