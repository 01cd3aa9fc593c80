// /runs: the visitor's runs, newest first; filter by text, select several to compare,
// delete finished ones.
import { api } from "../api.js";
import { h, fmt } from "../dom.js";
import { statusBadge } from "../runview.js";
import { compareUrl, MAX_COMPARE } from "../comparelist.js";

const $ = (id) => document.getElementById(id);
const state = { runs: [], selected: new Set() };

function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function text(r) {
  return [r.name, r.dataset, r.model, r.status, r.id, r.lesson].filter(Boolean).join(" ").toLowerCase();
}

function row(r) {
  const box = h("input", { type: "checkbox", checked: state.selected.has(r.id), "aria-label": `select ${r.name || r.id}`,
    onchange: (e) => { if (e.target.checked) state.selected.add(r.id); else state.selected.delete(r.id); updateBar(); } });
  const best = r.best_val ? `${r.best_val.name} ${fmt(r.best_val.value, 3)}` : "–";
  return h("tr", { "data-run": r.id },
    h("td", {}, box),
    h("td", {}, h("a", { href: r.url || `/r/${r.id}` }, r.name || `Run ${r.id}`)),
    h("td", {}, r.dataset || "–"),
    h("td", { class: "model" }, r.model || "–"),
    h("td", {}, statusBadge(r.status)),
    h("td", { class: "num" }, best),
    h("td", {}, h("time", { datetime: r.created }, when(r.created))));
}

function render() {
  const q = $("runs-filter").value.trim().toLowerCase();
  const shown = state.runs.filter((r) => !q || text(r).includes(q));
  $("runs-body").replaceChildren(...shown.map(row));
  $("runs-empty").hidden = state.runs.length > 0;
  $("runs-count").textContent = state.runs.length ? `${shown.length} of ${state.runs.length} runs` : "";
  updateBar();
}

function updateBar() {
  const n = state.selected.size;
  const cmp = $("compare-selected");
  cmp.disabled = n < 2 || n > MAX_COMPARE;
  cmp.textContent = n > MAX_COMPARE ? `Compare (at most ${MAX_COMPARE})` : `Compare${n ? ` (${n})` : ""}`;
  $("delete-selected").disabled = n === 0;
}

async function load() {
  const res = await api.get("/api/runs");
  state.runs = res.runs || [];
  const ids = new Set(state.runs.map((r) => r.id));
  for (const id of [...state.selected]) if (!ids.has(id)) state.selected.delete(id);
  render();
}

async function deleteSelected() {
  const ids = [...state.selected];
  if (!ids.length || !window.confirm(`Delete ${ids.length} run${ids.length > 1 ? "s" : ""}? This cannot be undone.`)) return;
  const problems = [];
  for (const id of ids) {
    try {
      await fetchDelete(id);
      state.selected.delete(id);
    } catch (err) { problems.push(`${id}: ${err.message}`); }
  }
  await load();
  $("runs-message").textContent = problems.length ? `Not deleted: ${problems.join("; ")}` : `Deleted ${ids.length}.`;
}

async function fetchDelete(id) {
  const { csrfToken, ApiError } = await import("../api.js");
  const res = await fetch(`/api/runs/${encodeURIComponent(id)}`, { method: "DELETE", credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" } });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
}

async function main() {
  $("runs-filter").addEventListener("input", render);
  $("compare-selected").addEventListener("click", () => { location.href = compareUrl([...state.selected]); });
  $("delete-selected").addEventListener("click", deleteSelected);
  try { await load(); } catch (err) { $("runs-message").textContent = `Could not load your runs: ${err.message}`; }
  document.body.dataset.ready = "1";
}

main();
