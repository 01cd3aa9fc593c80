// The run page ("/r/<id>"): anyone with the link watches the run live (the socket
// replays the backlog first), replays it when finished, forks it, or takes its spec
// back to the playground.
import { api } from "./api.js";
import { h, shareBox } from "./dom.js";
import { RunView, TERMINAL, statusBadge } from "./runview.js";
import { connectRunSocket } from "./socket.js";
import { playgroundUrl } from "./urlstate.js";
import { absolute } from "./common.js";
import { fetchAllEvents, replay } from "./replay.js";
import { mountRunExtras } from "./runextras.js";
import { loadVocab } from "./vocab.js";
import { scheduler, DUTY } from "./frame.js";
import { plotlyReady } from "./charts.js";

const $ = (id) => document.getElementById(id);
const runId = document.body.dataset.runId;
const state = { run: null, view: null, socket: null, replay: null, status: null };

function btn(label, attrs = {}) { return h("button", { type: "button", class: "btn", ...attrs }, label); }

function when(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function renderHeader() {
  const run = state.run;
  const spec = run.spec || {};
  document.title = `${spec.name || `Run ${run.id}`} · Descent`;
  $("run-title").textContent = spec.name || `Run ${run.id}`;
  const facts = [
    ["created", when(run.created)], ["started", when(run.started)], ["finished", when(run.finished)],
  ].filter(([, v]) => v).map(([k, v]) => h("span", {}, `${k} ${v}`));
  if (run.parent) facts.push(h("span", {}, "forked from ", h("a", { href: `/r/${run.parent}` }, run.parent)));
  $("run-facts").replaceChildren(...facts);
  renderActions();
  $("run-share").replaceChildren(shareBox(absolute(run.url || `/r/${run.id}`), "Share this run"));
  $("spec-json").textContent = JSON.stringify(spec, null, 2);
}

function renderActions() {
  const run = state.run;
  const status = state.status || run.status;
  const live = !TERMINAL.includes(status);
  // (a replay re-plays old pauses: the run's own pill does not follow them)
  const acts = [statusBadge(status, null, state.stopping, !state.replaying && !!state.view?.paused)];
  if (run.is_owner && live) {
    acts.push(btn(state.stopping ? "Stopping…" : "Stop", { id: "stop", class: "btn danger", onclick: stop,
      disabled: !!state.stopping }));
  }
  acts.push(btn("Fork", { id: "fork", onclick: fork, title: "Run the same spec again as your own run" }));
  acts.push(h("a", { class: "btn", id: "edit", href: playgroundUrl(run.spec || {}) }, "Edit in playground"));
  const base = `/api/runs/${encodeURIComponent(run.id)}`;
  acts.push(h("a", { class: "btn", id: "export", href: `${base}/export/script`,
    download: `descent_${run.id}.py` }, "Export script"));
  acts.push(h("a", { class: "btn", id: "export-csv", href: `${base}/export/csv`, download: `descent_${run.id}_metrics.csv`,
    title: "Every metric of every epoch, one row an epoch" }, "Metrics CSV"));
  acts.push(btn("Spec JSON", { id: "export-spec", onclick: downloadSpec, title: "The experiment's setup as a JSON file" }));
  if (!live) {
    const speed = h("select", { id: "replay-speed", "aria-label": "Replay speed" },
      [["0.5", "0.5×"], ["1", "1×"], ["2", "2×"], ["5", "5×"], ["20", "20×"], ["max", "fastest"]]
        .map(([v, t]) => h("option", { value: v, selected: v === "1" }, t)));
    acts.push(h("span", { class: "replay" }, btn(state.replay ? "Stop replay" : "Replay", {
      id: "replay", onclick: () => toggleReplay(speed.value === "max" ? "max" : Number(speed.value)) }), speed));
  }
  $("run-actions").replaceChildren(...acts);
}

async function stop() {
  // Acknowledged at once ("Stopping…"); the run's final status event says "Stopped".
  state.stopping = true;
  state.view.setStopping(true);
  renderActions();
  try {
    const run = await api.cancel(runId);
    if (run?.status && TERMINAL.includes(run.status)) state.view.on_status({ status: run.status, message: run.error || "" });
  } catch (err) {
    state.stopping = false;
    state.view.setStopping(false);
    renderActions();
    if (err.status !== 409) flash(err.message);
  }
}

function downloadSpec() {
  const blob = new Blob([JSON.stringify(state.run.spec || {}, null, 2)], { type: "application/json" });
  const a = h("a", { href: URL.createObjectURL(blob), download: `descent_${state.run.id}_spec.json`, hidden: true });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

async function fork() {
  try {
    const res = await api.fork(runId);
    location.href = res.url || `/r/${res.id}`;
  } catch (err) { flash(err.message); }
}

function flash(text) {
  const el = $("toast");
  el.textContent = text;
  el.hidden = false;
  setTimeout(() => { el.hidden = true; }, 5000);
}

function onStatus(status) {
  // A replay re-plays old status events; the run's real status does not change.
  if (state.replaying || status === state.status) return;
  // the socket's backlog of a finished run plays its old "queued", "running" first: the
  // run is still finished (no Stop button, no lost Replay button meanwhile)
  if (TERMINAL.includes(state.status) && !TERMINAL.includes(status)) return;
  state.status = status;
  if (TERMINAL.includes(status)) state.stopping = false;
  if (state.run) renderActions();
}

async function toggleReplay(speed) {
  if (state.replay) { state.replay.stop(); return; }
  const events = await fetchAllEvents(runId);
  state.view.reset(state.run.spec);
  state.view.drawAllAtEnd = false; // charts out of view draw when the visitor scrolls to them
  state.view.setDevice(state.run.device);
  state.replaying = true; // set before the first frame plays its old status events
  // top speed: hold the drawing while the events go in, then draw everything once, flat out
  if (speed === "max") { scheduler().setDuty(1); scheduler().hold(); }
  state.replay = replay(events, (ev) => state.view.handle(ev), {
    speed, onProgress: (p) => { $("replay-progress").value = p; },
  });
  $("replay-progress").hidden = false;
  renderActions();
  await state.replay.done;
  scheduler().release();
  await scheduler().whenIdle(); // the last frame is drawn, not only handed over
  scheduler().setDuty(DUTY);
  state.replay = null;
  state.replaying = false;
  $("replay-progress").hidden = true;
  renderActions();
}

function applyLr(lr) {
  // The run is immutable: take its spec to the playground with the new lr.
  const spec = structuredClone(state.run.spec || {});
  spec.optimizer = { ...(spec.optimizer || {}), lr: Number(lr.toPrecision(3)) };
  delete spec.mode;
  location.href = playgroundUrl(spec);
}

// The first events come over plain HTTP while the socket is still being set up: a shared
// link to a long run then shows its first chart at once, not after the server has read
// and sent the start of a backlog of thousands of events. (Issue 7 §1: ≤ 1.5 s.)
const FIRST_EVENTS = 60;

async function main() {
  // 1. everything at once: the run, the statuses, the first events, and Plotly (loaded
  //    async by run.html, so that it compiles while these requests are out)
  const first = api.get(`/api/runs/${encodeURIComponent(runId)}/events?after=0&limit=${FIRST_EVENTS}`)
    .catch(() => ({ events: [] }));
  const plotly = plotlyReady();
  try {
    // the statuses come from the event schema; both requests go out together
    [state.run] = await Promise.all([api.run(runId), loadVocab({ needSpec: false })]);
  } catch (err) {
    $("run").replaceChildren(h("p", { class: "alert alert-failed" },
      err.status === 404 ? "No run with this link." : `Could not load the run: ${err.message}`));
    return;
  }
  state.status = state.run.status;
  state.view = new RunView($("run"), { spec: state.run.spec, onStatus, onApplyLr: applyLr,
    onPaused: () => { if (!state.replaying) renderActions(); } });
  state.view.setDevice(state.run.device);
  state.view.setSweep(state.run.sweep);  // null, or absent on a server without sweeps
  // fresher than the position in the first status event, which the socket replays
  if (state.run.status === "queued") state.view.setQueuePosition(state.run.queue_position);
  renderHeader();
  mountRunExtras(state); // lesson banner, live controls, add to compare (issue 7)
  if (state.run.error) state.view.on_status({ status: state.run.status, message: state.run.error });
  // 2. the first events go in at once (panels plot nothing until drawn: no Plotly needed
  //    yet), then the socket resumes after them; the drawing waits for Plotly
  if (!window.Plotly) {
    scheduler().hold();
    plotly.then(() => scheduler().release(), (err) => flash(err.message));
  }
  const head = (await first).events || [];
  for (const ev of head) state.view.handle(ev);
  state.socket = connectRunSocket(state.run.ws || `/ws/runs/${runId}/`, {
    after: head.length ? head[head.length - 1].seq : 0,
    onEvent: (ev) => { if (!state.replaying) state.view.handle(ev); },
    onState: (s) => { $("conn").textContent = s === "open" ? "● live" : s === "closed" ? "" : `${s}…`; },
  });
  document.body.dataset.ready = "1";
}

main();
