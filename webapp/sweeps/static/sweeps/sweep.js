// The sweep page: polls GET /api/sweeps/<id> and redraws the table and charts from it.
// A sweep has at most DESCENT_MAX_SWEEP_RUNS rows, so a full redraw per poll is bounded.
const id = document.body.dataset.sweepId;
const POLL_MS = 1500;
const $ = (sel) => document.querySelector(sel);
const short = (p) => p.split("/").filter(Boolean).slice(-2).join(".");
const fmt = (v) => v === null || v === undefined ? "–" : typeof v === "number" ? (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4 ? v.toExponential(2) : +v.toPrecision(4)) : String(v);
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
    cell(tr, p.mean === null ? "–" : `${fmt(p.mean)} ± ${fmt(p.std)}`);
    cell(tr, p.best_mean === null ? "–" : `${fmt(p.best_mean)} ± ${fmt(p.best_std)}`);
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
  s.axes.forEach((axis, i) => {
    let div = holder.children[i];
    if (!div) { div = document.createElement("div"); div.className = "axis-chart"; holder.appendChild(div); }
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
      title: { text: `${s.metric} vs ${short(axis.path)}` }, margin: { t: 40, r: 10, l: 50, b: 40 }, showlegend: false,
      xaxis: { title: { text: axis.path }, type: axis.log && numeric ? "log" : (numeric ? "linear" : "category") },
      yaxis: { title: { text: s.metric } },
    }, { displayModeBar: false, responsive: true });
  });
  const pc = $("#parcoords");
  const numericAxes = s.axes.filter((a) => done.every((r) => typeof r.values[a.path] === "number"));
  if (numericAxes.length >= 2 && done.length) {
    pc.hidden = false;
    const dims = numericAxes.map((a) => ({
      label: short(a.path) + (a.log ? " (log10)" : ""),
      values: done.map((r) => (a.log ? Math.log10(r.values[a.path]) : r.values[a.path])),
    }));
    const metric = done.map((r) => r.final);
    dims.push({ label: s.metric, values: metric });
    Plotly.react(pc, [{ type: "parcoords", dimensions: dims,
                        line: { color: metric, colorscale: "Viridis", showscale: true, reversescale: s.goal === "min" } }],
                 { margin: { t: 50, l: 60, r: 60, b: 20 }, title: { text: "Parallel coordinates (finished runs)" } },
                 { displayModeBar: false, responsive: true });
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
