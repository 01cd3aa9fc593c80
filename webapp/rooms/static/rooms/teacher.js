// The teacher's room page. The room's shape (students, their current runs) is polled;
// each current run streams over its own websocket (the run page's protocol), so cards
// update as events arrive without reloading anything.
import { api } from "../descent/js/api.js";
import { connectRunSocket, setFinalStatuses } from "../descent/js/socket.js";
import { Series, draw } from "./minichart.js";

setFinalStatuses(["succeeded", "failed", "cancelled", "diverged", "timed_out"]);
const code = document.body.dataset.roomCode;
const POLL_MS = 2000;
const $ = (s) => document.querySelector(s);
const GOAL = { val_acc: "max", test_acc: "max", val_loss: "min", train_loss: "min" };
const fmt = (v) => (typeof v === "number" ? (Math.abs(v) < 1e-3 ? v.toExponential(2) : +v.toPrecision(3)) : "–");
const runs = new Map(); // run id -> live state
const cards = new Map(); // student name -> {el, runId}
let room = null;
const dirty = new Set();
// what the page drew and when (bench/bench_room.py reads it); bounded
window.descentRoomStats = { drawn: [] };

function runState(row) {
  let st = runs.get(row.id);
  if (st) { st.row = row; return st; }
  st = { id: row.id, row, status: row.status, queue: row.queue_position, loss: new Series(), val: new Series(),
         epoch: null, last: {}, best: {}, sock: null, lastSeq: 0 };
  runs.set(row.id, st);
  return st;
}

function onEvent(st, ev) {
  if (ev.type === "step") {
    const steps = Array.isArray(ev.step) ? ev.step : [ev.step];
    const losses = Array.isArray(ev.loss) ? ev.loss : [ev.loss];
    steps.forEach((s, i) => st.loss.push(s, losses[i]));
  } else if (ev.type === "epoch") {
    st.epoch = ev.epoch;
    st.last = ev;
    if (typeof ev.val_loss === "number") st.val.push(st.loss.x.length ? st.loss.x[st.loss.x.length - 1] : ev.epoch, ev.val_loss);
    for (const m of ["val_acc", "val_loss", "train_loss"]) {
      const v = ev[m];
      if (typeof v !== "number") continue;
      const b = st.best[m];
      st.best[m] = b === undefined ? v : GOAL[m] === "max" ? Math.max(b, v) : Math.min(b, v);
    }
    st.drawEpoch = { seq: ev.seq, epoch: ev.epoch };
  } else if (ev.type === "status") {
    st.status = ev.status;
    if (ev.status !== "queued") st.queue = null;
  } else if (ev.type === "queue") {
    st.queue = ev.queue_position;
  } else if (ev.type === "summary") {
    if (typeof ev.test_acc === "number") st.best.test_acc = ev.test_acc;
  }
  dirty.add(st.id);
}

function follow(st) {
  if (st.sock) return;
  st.sock = connectRunSocket(st.row.ws, { onEvent: (ev) => onEvent(st, ev) });
}

function cardFor(student) {
  let c = cards.get(student.name);
  if (c) return c;
  const el = document.createElement("article");
  el.className = "student-card";
  el.innerHTML = `<h3><span class="who"></span><span class="status"></span></h3>
    <canvas width="240" height="70" aria-hidden="true"></canvas>
    <p class="metric"></p><p class="knobs muted"></p>
    <p><button type="button" class="btn spot-btn">Spotlight</button> <a class="open" href="#" target="_blank">open</a></p>`;
  el.querySelector(".who").textContent = student.name;
  el.querySelector(".spot-btn").addEventListener("click", () => {
    if (c.runId) post("spotlight", { run: c.runId });
  });
  $("#grid-empty")?.remove();
  $("#student-grid").appendChild(el);
  c = { el, runId: null };
  cards.set(student.name, c);
  return c;
}

function paintCard(c) {
  const st = runs.get(c.runId);
  const el = c.el;
  el.classList.toggle("spot", !!room && room.spotlight === c.runId && !!c.runId);
  if (!st) { el.querySelector(".status").textContent = "no run yet"; return; }
  const status = el.querySelector(".status");
  status.textContent = st.status === "queued" && st.queue ? `queued #${st.queue}` : st.status;
  status.className = `status status-${st.status}`;
  draw(el.querySelector("canvas"), [{ series: st.loss, color: "#1a6fd1" }, { series: st.val, color: "#e07b00" }]);
  const best = st.best.val_acc !== undefined ? `best val acc ${fmt(st.best.val_acc)}` : st.best.val_loss !== undefined
    ? `best val loss ${fmt(st.best.val_loss)}` : "";
  el.querySelector(".metric").textContent = [st.epoch ? `epoch ${st.epoch}` : "", best].filter(Boolean).join(" · ");
  el.querySelector(".metric").dataset.epoch = st.epoch ?? "";
  const k = st.row.knobs || {};
  el.querySelector(".knobs").textContent = `${k.dataset} · ${k.layers} ${k.activation || ""} · ${k.optimizer} lr ${fmt(k.lr)}` +
    (k.weight_decay ? ` wd ${fmt(k.weight_decay)}` : "") + (k.l2 ? ` l2 ${fmt(k.l2)}` : "") + ` · ${k.epochs} ep`;
  el.querySelector(".open").href = st.row.url;
  if (st.drawEpoch) {
    const d = window.descentRoomStats.drawn;
    d.push({ run: st.id, epoch: st.drawEpoch.epoch, t: Date.now() });
    if (d.length > 20000) d.splice(0, d.length - 20000);
    st.drawEpoch = null;
  }
}

function paintSpotlight() {
  const sec = $("#spotlight");
  const st = room && room.spotlight ? runs.get(room.spotlight) : null;
  sec.hidden = !st;
  if (!st) return;
  const owner = room.students.find((s) => s.runs.some((r) => r.id === st.id));
  $("#spot-name").textContent = `${owner ? owner.name : ""} · ${st.row.name || st.id}`;
  $("#spot-link").href = st.row.url;
  $("#spot-facts").textContent = `${st.status}${st.epoch ? ` · epoch ${st.epoch}` : ""}` +
    (st.last.val_acc !== undefined ? ` · val acc ${fmt(st.last.val_acc)}` : "") +
    (st.last.val_loss !== undefined ? ` · val loss ${fmt(st.last.val_loss)}` : "");
  draw($("#spot-canvas"), [{ series: st.loss, color: "#1a6fd1" }, { series: st.val, color: "#e07b00" }]);
}

function paintLeaderboard() {
  if (!room) return;
  const metric = $("#board-metric").value;
  const goal = GOAL[metric];
  const rows = [];
  for (const s of room.students) {
    let best;
    for (const r of s.runs) {
      const st = runs.get(r.id);
      const v = st && st.best[metric] !== undefined ? st.best[metric] : r.summary ? r.summary[metric] : undefined;
      if (typeof v !== "number") continue;
      if (best === undefined || (goal === "max" ? v > best.v : v < best.v)) best = { v, run: r.id };
    }
    if (best) rows.push({ name: s.name, ...best });
  }
  rows.sort((a, b) => (goal === "max" ? b.v - a.v : a.v - b.v));
  $("#leaderboard").replaceChildren(...rows.map((r) => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = `/r/${r.run}`; a.textContent = `${r.name}: ${fmt(r.v)}`;
    li.appendChild(a);
    return li;
  }));
}

function frame() {
  if (dirty.size) {
    for (const c of cards.values()) if (dirty.has(c.runId)) paintCard(c);
    if (room && dirty.has(room.spotlight)) paintSpotlight();
    dirty.clear();
    paintLeaderboard();
  }
  requestAnimationFrame(frame);
}

function applyRoom(r) {
  room = r;
  const active = r.students.reduce((n, s) => n + s.runs.filter((x) => x.status === "queued" || x.status === "running").length, 0);
  $("#room-facts").textContent = `${r.students.length} student${r.students.length === 1 ? "" : "s"} · ${active} runs active` +
    (r.closed ? " · closed" : "");
  $("#lesson-now").textContent = r.lesson
    ? `Pushed: ${r.lesson.title} · ${r.locked ? `locked except ${r.unlocked.join(", ") || "nothing"}` : "all fields open"}`
    : "No lesson pushed yet.";
  $("#lock-toggle").textContent = r.locked ? "Unlock fields" : "Lock fields";
  $("#lock-toggle").disabled = !r.lesson || r.closed;
  $("#close-room").disabled = r.closed;
  for (const s of r.students) {
    const c = cardFor(s);
    const current = s.runs[0];
    for (const row of s.runs) runState(row);
    if (current && c.runId !== current.id) {
      const old = runs.get(c.runId);
      if (old && old.sock && old.id !== r.spotlight) { old.sock.close(); old.sock = null; }
      c.runId = current.id;
    }
    if (current) follow(runs.get(current.id));
    paintCard(c);
  }
  if (r.spotlight && runs.get(r.spotlight)) follow(runs.get(r.spotlight));
  paintSpotlight();
  paintLeaderboard();
}

async function post(action, body) {
  $("#room-error").textContent = "";
  try {
    applyRoom(await api.post(`/api/rooms/${code}/${action}`, body));
  } catch (err) {
    $("#room-error").textContent = err.message;
  }
}

async function poll() {
  try { applyRoom(await api.get(`/api/rooms/${code}`)); } catch (err) { $("#room-error").textContent = err.message; }
  setTimeout(poll, POLL_MS);
}

async function loadPresets() {
  const sel = $("#push-preset");
  try {
    const [plain, lessons] = await Promise.all([api.presets(), api.get("/api/sweeps/lessons").catch(() => [])]);
    const presets = [...plain, ...lessons];
    sel.replaceChildren(...presets.map((p) => {
      const o = document.createElement("option");
      o.value = p.slug; o.textContent = p.title + (p.sweep ? " (sweep lesson)" : "");
      o.dataset.unlocked = (p.unlocked || []).join(", ");
      return o;
    }));
    const fill = () => { $("#push-unlocked").value = sel.selectedOptions[0]?.dataset.unlocked || ""; };
    sel.addEventListener("change", fill);
    fill();
  } catch (err) { $("#room-error").textContent = err.message; }
}

$("#join-origin").textContent = location.origin;
$("#push-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const unlocked = $("#push-unlocked").value.split(",").map((s) => s.trim()).filter(Boolean);
  post("push", { preset: $("#push-preset").value, unlocked, lock: $("#push-lock").checked });
});
$("#lock-toggle").addEventListener("click", () => room && post("lock", { locked: !room.locked }));
$("#spot-clear").addEventListener("click", () => post("spotlight", { run: null }));
$("#close-room").addEventListener("click", () => { if (confirm("Close the room? Students can no longer join.")) post("close", {}); });
$("#board-metric").addEventListener("change", paintLeaderboard);
loadPresets();
poll();
requestAnimationFrame(frame);
