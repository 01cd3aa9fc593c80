// The sweep page: polls GET /api/sweeps/<id> and redraws the table and charts from it.
// A sweep has at most DESCENT_MAX_SWEEP_RUNS rows, so a full redraw per poll is bounded.
const id = document.body.dataset.sweepId;
const POLL_MS = 1500;
const $ = (sel) => document.querySelector(sel);
const short = (p) => p.replace(/^\//, "");
const fmt = (v) => v === null || v === undefined ? "–" : typeof v === "number"
  ? (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4) ? v.toExponential(2) : +v.toPrecision(4)) : String(v);
const pm = (mean, std, n) => (mean === null ? "–" : n > 1 && std !== null ? `${fmt(mean)} ± ${fmt(std)}` : fmt(mean));
const csrf = () => (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function header(table, names) {
  const thead = table.querySelector("thead");
  const key = names.join("|");
  if (thead.dataset.key === key) return;
  thead.dataset.key = key;
  thead.replaceChildren();
  const tr = document.createElement("tr");
  for (const n of names) { const th = document.createElement("th"); th.scope = "col"; th.textContent = n; tr.appendChild(th); }
  thead.appendChild(tr);
}

function drawTables(s) {
  const paths = s.axes.map((a) => a.path);
  header($("#points-table"), [...paths.map(short), "runs", `${s.metric} (final)`, `${s.metric} (best epoch)`]);
  const pb = $("#points-table tbody");
  pb.replaceChildren();
  for (const p of s.points) {
    const tr = document.createElement("tr");
    if (s.best && p.runs.includes(s.best)) tr.className = "best";
    for (const path of paths) cell(tr, fmt(p.values[path]));
    cell(tr, String(p.n));
    cell(tr, pm(p.mean, p.std, p.n));
    cell(tr, pm(p.best_mean, p.best_std, p.n));
    pb.appendChild(tr);
  }
  header($("#runs-table"), ["run", ...paths.map(short), "seed", "status", `${s.metric} final`, `${s.metric} best`]);
  const rb = $("#runs-table tbody");
  rb.replaceChildren();
  for (const r of s.runs) {
    const tr = document.createElement("tr");
    tr.dataset.runId = r.id;
    if (r.id === s.best) tr.className = "best";
    const a = document.createElement("a");
    a.href = r.url; a.textContent = r.id.slice(0, 8);
    cell(tr, "").appendChild(a);
    for (const path of paths) cell(tr, fmt(r.values[path]));
    cell(tr, String(r.seed));
    cell(tr, r.waiting ? "waiting" : r.status, `status-${r.status}`);
    cell(tr, fmt(r.final));
    cell(tr, fmt(r.best));
    rb.appendChild(tr);
  }
}

function drawCharts(s) {
  if (!window.Plotly) return;
  const holder = $("#axis-charts");
  const done = s.runs.filter((r) => r.final !== null && r.status === "succeeded");
  // every chart's box first, so each is drawn at its final width in the grid
  while (holder.children.length < s.axes.length) {
    const div = document.createElement("div");
    div.className = "axis-chart";
    holder.appendChild(div);
  }
  s.axes.forEach((axis, i) => {
    const div = holder.children[i];
    const numeric = done.every((r) => typeof r.values[axis.path] === "number");
    const pts = s.points.filter((p) => p.mean !== null);
    const traces = [
      { x: done.map((r) => r.values[axis.path]), y: done.map((r) => r.final), mode: "markers", name: "runs",
        text: done.map((r) => r.id), marker: { color: done.map((r) => (r.id === s.best ? "#e0a800" : "#1a6fd1")), size: 8 } },
    ];
    if (s.axes.length === 1 && pts.length) {
      const order = pts.slice().sort((a, b) => (a.values[axis.path] > b.values[axis.path] ? 1 : -1));
      traces.push({ x: order.map((p) => p.values[axis.path]), y: order.map((p) => p.mean), mode: "lines", name: "mean ± std",
                    error_y: { type: "data", array: order.map((p) => p.std), visible: true }, line: { color: "#555" } });
    }
    Plotly.react(div, traces, {
      title: { text: `${s.metric} vs ${short(axis.path)}` }, margin: { t: 40, r: 10, l: 50, b: 45 }, showlegend: false,
      height: 300,
      xaxis: { title: { text: axis.path }, type: axis.log && numeric ? "log" : (numeric ? "linear" : "category"), autorange: true },
      yaxis: { title: { text: s.metric }, autorange: true },
    }, { displayModeBar: false });
  });
  // Parallel coordinates as plain SVG lines (Plotly's parcoords needs WebGL, which projectors'
  // laptops and headless browsers often lack): one line per finished run over axes scaled to
  // [0, 1] (log10 for log axes), coloured by the metric.
  const pc = $("#parcoords");
  const numericAxes = s.axes.filter((a) => done.every((r) => typeof r.values[a.path] === "number"));
  if (numericAxes.length >= 2 && done.length) {
    pc.hidden = false;
    const dims = [...numericAxes.map((a) => ({ label: short(a.path) + (a.log ? " (log)" : ""),
                                               get: (r) => (a.log ? Math.log10(r.values[a.path]) : r.values[a.path]) })),
                  { label: s.metric, get: (r) => r.final }];
    const scaled = dims.map((d) => {
      const v = done.map(d.get);
      const lo = Math.min(...v), hi = Math.max(...v);
      return v.map((x) => (hi > lo ? (x - lo) / (hi - lo) : 0.5));
    });
    const metric = done.map((r) => r.final);
    const mlo = Math.min(...metric), mhi = Math.max(...metric);
    const colour = (m) => {
      let t = mhi > mlo ? (m - mlo) / (mhi - mlo) : 1;
      if (s.goal === "min") t = 1 - t;
      return `hsl(${Math.round(240 - 200 * t)}, 70%, 45%)`;
    };
    const traces = done.map((r, i) => ({
      x: dims.map((_, j) => j), y: scaled.map((col) => col[i]), mode: "lines+markers", type: "scatter",
      line: { color: colour(r.final), width: r.id === s.best ? 4 : 1.5 }, marker: { size: 4 },
      hovertext: `${r.id}: ${fmt(r.final)}`, hoverinfo: "text", showlegend: false }));
    Plotly.react(pc, traces, {
      title: { text: "Parallel coordinates (finished runs; colour: " + s.metric + ")" }, margin: { t: 40, l: 30, r: 30, b: 40 },
      height: 340,
      xaxis: { tickvals: dims.map((_, j) => j), ticktext: dims.map((d) => d.label), range: [-0.2, dims.length - 0.8] },
      yaxis: { range: [-0.05, 1.05], showticklabels: false, zeroline: false },
    }, { displayModeBar: false });
  }
}

function drawHeader(s) {
  document.title = `Descent · sweep ${s.name}`;
  $("#sweep-title").textContent = `Sweep: ${s.name}`;
  const counts = Object.entries(s.counts).map(([k, v]) => `${v} ${k}`).join(", ");
  $("#sweep-facts").textContent = `${s.method} search · ${s.runs.length} runs (${counts}) · ` +
    `${s.repeats} seed${s.repeats > 1 ? "s" : ""} a point · ${s.goal === "max" ? "maximize" : "minimize"} ${s.metric}` +
    (s.done ? " · finished" : " · live");
  const compare = $("#compare-top");
  if (s.top.length >= 2) {
    compare.href = `/compare?runs=${s.top.join(",")}`;
    compare.setAttribute("aria-disabled", "false");
  }
  $("#cancel-all").hidden = !s.is_owner || s.done;
}

async function refresh() {
  const res = await fetch(`/api/sweeps/${id}`, { headers: { Accept: "application/json" } });
  if (!res.ok) { $("#sweep-facts").textContent = `Could not load the sweep (${res.status}).`; return null; }
  const s = await res.json();
  drawHeader(s);
  drawTables(s);
  drawCharts(s);
  return s;
}

$("#cancel-all").addEventListener("click", async () => {
  if (!confirm("Stop every queued and running run of this sweep?")) return;
  await fetch(`/api/sweeps/${id}/cancel`, { method: "POST", headers: { "X-CSRFToken": csrf(), "Content-Type": "application/json" }, body: "{}" });
  refresh();
});

async function loop() {
  let s = null;
  try { s = await refresh(); } catch (e) { /* a missed poll; the next one catches up */ }
  if (!s || !s.done) setTimeout(loop, POLL_MS);
}
loop();
