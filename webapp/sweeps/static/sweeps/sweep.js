// The sweep page: the table over the websocket /ws/sweeps/<id>/ (docs/protocol.md "Sweeps"):
// one "table" message on connect, then "rows" messages with the runs and points that changed
// (at most ~4 a second). The tables replace only those rows; the charts are redrawn from the
// whole table (at most DESCENT_MAX_SWEEP_RUNS points, Plotly.react diffs them). Without a
// socket the page polls GET /api/sweeps/<id> every 5 s and keeps trying to reconnect.
const id = document.body.dataset.sweepId;
const POLL_MS = 5000; // only while the socket is down
const RECONNECT_MS = [1000, 2000, 5000, 10000, 20000];
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

function pointRow(s, paths, p) {
  const tr = document.createElement("tr");
  tr.dataset.point = String(p.point);
  if (s.best && p.runs.includes(s.best)) tr.className = "best";
  for (const path of paths) cell(tr, fmt(p.values[path]));
  cell(tr, String(p.n));
  cell(tr, pm(p.mean, p.std, p.n));
  cell(tr, pm(p.best_mean, p.best_std, p.n));
  return tr;
}

function runRow(s, paths, r) {
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
  return tr;
}

function drawTables(s) {
  const paths = s.axes.map((a) => a.path);
  header($("#points-table"), [...paths.map(short), "runs", `${s.metric} (final)`, `${s.metric} (best epoch)`]);
  $("#points-table tbody").replaceChildren(...s.points.map((p) => pointRow(s, paths, p)));
  header($("#runs-table"), ["run", ...paths.map(short), "seed", "status", `${s.metric} final`, `${s.metric} best`]);
  $("#runs-table tbody").replaceChildren(...s.runs.map((r) => runRow(s, paths, r)));
}

// a "rows" message: replace just the rows it carries, then move the best-run highlight
function updateTables(s, runs, points) {
  const paths = s.axes.map((a) => a.path);
  for (const r of runs) {
    const old = $("#runs-table tbody").querySelector(`tr[data-run-id="${CSS.escape(r.id)}"]`);
    if (old) old.replaceWith(runRow(s, paths, r));
  }
  for (const p of points) {
    const old = $("#points-table tbody").querySelector(`tr[data-point="${p.point}"]`);
    if (old) old.replaceWith(pointRow(s, paths, p));
  }
  const bestPoint = s.runs.find((r) => r.id === s.best)?.point;
  for (const tr of $("#runs-table tbody").children) tr.classList.toggle("best", tr.dataset.runId === s.best);
  for (const tr of $("#points-table tbody").children) tr.classList.toggle("best", tr.dataset.point === String(bestPoint));
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

let state = null; // the table as last received (GET's shape)
let socket = null;
let pollTimer = null;
let failures = 0;

function showTable(s) {
  state = s;
  drawHeader(s);
  drawTables(s);
  drawCharts(s);
}

function applyRows(m) {
  if (!state) return;
  const runIndex = new Map(state.runs.map((r, i) => [r.id, i]));
  for (const r of m.runs) if (runIndex.has(r.id)) state.runs[runIndex.get(r.id)] = r;
  const pointIndex = new Map(state.points.map((p, i) => [p.point, i]));
  for (const p of m.points) if (pointIndex.has(p.point)) state.points[pointIndex.get(p.point)] = p;
  Object.assign(state, { counts: m.counts, done: m.done, best: m.best, top: m.top });
  drawHeader(state);
  updateTables(state, m.runs, m.points);
  drawCharts(state);
}

async function poll() {
  pollTimer = null;
  if (socket && socket.readyState === WebSocket.OPEN) return;
  try {
    const res = await fetch(`/api/sweeps/${id}`, { headers: { Accept: "application/json" } });
    if (res.ok) showTable(await res.json());
    else if (!state) $("#sweep-facts").textContent = `Could not load the sweep (${res.status}).`;
  } catch (e) { /* a missed poll; the next one catches up */ }
  if (!(state && state.done)) pollTimer = setTimeout(poll, POLL_MS);
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  let ws;
  try {
    ws = new WebSocket(`${proto}://${location.host}/ws/sweeps/${id}/`);
  } catch (e) { // refused before it opened (a policy, a proxy): poll instead
    document.body.dataset.live = "polling";
    if (!pollTimer) poll();
    return;
  }
  socket = ws;
  ws.onopen = () => {
    failures = 0;
    document.body.dataset.live = "socket";
    if (pollTimer) { clearTimeout(pollTimer); pollTimer = null; }
  };
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === "table") showTable(m);
    else if (m.type === "rows") applyRows(m);
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = null;
    document.body.dataset.live = "polling";
    if (state && state.done) return; // nothing will change any more
    if (!pollTimer) poll(); // the table stays live, more slowly, until the socket is back
    setTimeout(connect, RECONNECT_MS[Math.min(failures++, RECONNECT_MS.length - 1)]);
  };
}

$("#cancel-all").addEventListener("click", async () => {
  if (!confirm("Stop every queued and running run of this sweep?")) return;
  const res = await fetch(`/api/sweeps/${id}/cancel`, { method: "POST", headers: { "X-CSRFToken": csrf(), "Content-Type": "application/json" }, body: "{}" });
  if (res.ok) showTable({ ...(await res.json()), is_owner: state ? state.is_owner : true });
});

connect();
