// The run's final numbers and, for classification, the test-set confusion matrix.
import { h, fmt } from "../dom.js";
import { PlotChart, axis } from "../charts.js";
import { makePanel, chartDiv } from "./panel.js";

const SPLITS = ["train", "val", "test"];
const METRICS = ["loss", "acc", "r2", "rmse"];
const METRIC_LABEL = { loss: "loss", acc: "accuracy", r2: "R²", rmse: "RMSE" };
const SKIP = new Set(["seq", "type", "confusion_matrix", "per_class_acc", "sharpness", "train", "val", "test"]);

/** metrics[split][metric] from either {"train": {"loss": ..}} or flat "train_loss" keys. */
function splitMetrics(ev) {
  const out = {};
  for (const s of SPLITS) {
    out[s] = {};
    if (ev[s] && typeof ev[s] === "object") Object.assign(out[s], ev[s]);
    for (const m of METRICS) if (ev[`${s}_${m}`] !== undefined) out[s][m] = ev[`${s}_${m}`];
  }
  return out;
}

export class SummaryPanel {
  constructor(grid) {
    this.panel = makePanel(grid, { id: "summary", title: "Summary", order: 30, wide: true });
    this.cmPanel = makePanel(grid, { id: "confusion", title: "Confusion matrix", order: 31,
      help: "Rows: true class; columns: predicted class (test set)." });
  }

  add(ev) {
    this.panel.show();
    const m = splitMetrics(ev);
    const used = METRICS.filter((k) => SPLITS.some((s) => m[s][k] !== undefined && m[s][k] !== null));
    const table = used.length === 0 ? null : h("table", { class: "metrics" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "metric"), SPLITS.map((s) => h("th", { scope: "col" }, s)))),
      h("tbody", {}, used.map((k) => h("tr", {}, h("th", { scope: "row" }, METRIC_LABEL[k] || k),
        SPLITS.map((s) => h("td", {}, fmt(m[s][k], 4)))))));
    const flatUsed = new Set(SPLITS.flatMap((s) => METRICS.map((k) => `${s}_${k}`)));
    const facts = Object.entries(ev).filter(([k, v]) => !SKIP.has(k) && !flatUsed.has(k) &&
      (v === null || typeof v !== "object"));
    // Sharpness of the minimum found (PyHessian): top eigenvalue and trace of the Hessian.
    const sharp = ev.sharpness && typeof ev.sharpness === "object" ? ev.sharpness : {};
    const sharpFacts = [["top_eigenvalue", "sharpness: top Hessian eigenvalue"], ["trace", "sharpness: Hessian trace"]]
      .filter(([k]) => typeof sharp[k] === "number").map(([k, label]) => [label, sharp[k], `sharpness-${k}`]);
    facts.push(...sharpFacts);
    const dl = h("dl", { class: "facts" }, facts.map(([k, v, id]) => [h("dt", {}, k.replaceAll("_", " ")),
      h("dd", { "data-fact": id || k }, fmt(v))]));
    this.panel.body.replaceChildren(h("div", { class: "summary-row" }, table, dl));
    if (Array.isArray(ev.confusion_matrix) && ev.confusion_matrix.length) this.confusion(ev);
  }

  confusion(ev) {
    this.cmPanel.show();
    const cm = ev.confusion_matrix;
    const labels = cm.map((_, i) => String(i));
    const yLabels = labels.map((l, i) => (ev.per_class_acc ? `${l} (${(100 * ev.per_class_acc[i]).toFixed(0)}%)` : l));
    if (!this.cm) this.cm = new PlotChart(chartDiv(this.cmPanel.body, "chart square"), () => ({
      xaxis: axis("predicted", { type: "category", side: "bottom" }),
      yaxis: axis("true (per-class accuracy)", { type: "category", autorange: "reversed" }),
    }));
    const max = Math.max(1, ...cm.flat());
    this.cm.react([{ type: "heatmap", x: labels, y: yLabels, z: cm, colorscale: [[0, "#f4f8fd"], [1, "#0b4f9c"]], showscale: false,
      zmin: 0, zmax: max, hovertemplate: "true %{y}, predicted %{x}: %{z}<extra></extra>" }], {
      annotations: cm.flatMap((row, i) => row.map((v, j) => ({ x: labels[j], y: yLabels[i], text: String(v),
        showarrow: false, font: { color: v > max / 2 ? "#fff" : "#1d2433" } }))),
    });
  }
}
