// A student's room page: join, the pushed lesson with only its open fields editable,
// my own runs, and the run the teacher puts on the projector. Polls the room.
import { api } from "../descent/js/api.js";

const code = document.body.dataset.roomCode;
const POLL_MS = 2000;
const $ = (s) => document.querySelector(s);
let seenPush = null;
let lesson = null;
let unlocked = [];
let locked = false;

function getPointer(doc, path) {
  return path.split("/").slice(1).reduce((node, key) => (node == null ? undefined : node[key.replace(/~1/g, "/").replace(/~0/g, "~")]), doc);
}
function setPointer(doc, path, value) {
  const keys = path.split("/").slice(1).map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"));
  let node = doc;
  keys.slice(0, -1).forEach((k) => { if (node[k] == null) node[k] = {}; node = node[k]; });
  node[keys[keys.length - 1]] = value;
}

function renderLesson(me) {
  lesson = me.lesson;
  unlocked = me.unlocked || [];
  locked = me.locked;
  $("#lesson-empty").hidden = !!lesson;
  $("#lesson-body").hidden = !lesson;
  if (!lesson) return;
  $("#lesson-title").textContent = lesson.title;
  $("#lesson-text").textContent = lesson.lesson || "";
  const holder = $("#lesson-fields");
  holder.replaceChildren(...unlocked.map((path) => {
    const label = document.createElement("label");
    const value = getPointer(lesson.spec, path);
    const input = document.createElement("input");
    input.dataset.path = path;
    input.dataset.kind = typeof value;
    if (typeof value === "number") { input.type = "number"; input.step = "any"; input.value = value; }
    else input.value = typeof value === "string" ? value : JSON.stringify(value ?? null);
    label.append(`${path} `, input);
    return label;
  }));
  $("#lesson-locked").textContent = locked
    ? (unlocked.length ? "Your teacher locked every other setting." : "Your teacher locked every setting: just press Train.")
    : "Every setting is open: change more in the playground.";
  // the playground loads the room's lesson (and shows its locks) by itself: roomlink.js
  $("#lesson-playground").href = "/";
}

function specFromForm() {
  const spec = JSON.parse(JSON.stringify(lesson.spec));
  for (const input of document.querySelectorAll("#lesson-fields input")) {
    let v = input.value;
    if (input.dataset.kind === "number") v = Number(v);
    else if (input.dataset.kind !== "string") { try { v = JSON.parse(v); } catch { /* keep the text */ } }
    setPointer(spec, input.dataset.path, v);
  }
  return spec;
}

function renderRuns(rows) {
  $("#my-runs").replaceChildren(...rows.map((r) => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = r.url; a.textContent = r.name || r.id;
    const s = r.summary || {};
    const extra = r.status === "queued" && r.queue_position ? `queued, position ${r.queue_position}` : r.status;
    li.append(a, ` · ${extra}` + (typeof s.val_acc === "number" ? ` · val acc ${s.val_acc.toFixed(3)}` : ""));
    li.dataset.runId = r.id;
    return li;
  }));
}

function render(me) {
  $("#me-name").textContent = me.student;
  if (seenPush !== null && me.push_seq > seenPush) {
    const note = $("#new-lesson");
    note.textContent = `New from your teacher: ${me.lesson ? me.lesson.title : "a lesson"}`;
    note.hidden = false;
  }
  if (me.push_seq !== seenPush || me.locked !== locked || JSON.stringify(me.unlocked) !== JSON.stringify(unlocked)) renderLesson(me);
  seenPush = me.push_seq;
  const spot = me.spotlight;
  $("#spotlight").hidden = !spot;
  if (spot) { $("#spot-name").textContent = `${spot.student}: ${spot.name || spot.id}`; $("#spot-link").href = spot.url; }
  renderRuns(me.runs);
}

async function poll() {
  try { render(await api.get(`/api/rooms/${code}/me`)); } catch (err) { /* next poll */ }
  setTimeout(poll, POLL_MS);
}

$("#join-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const me = await api.post(`/api/rooms/${code}/join`, { name: $("#join-name").value });
    $("#join-form").hidden = true;
    $("#student-room").hidden = false;
    render(me);
    setTimeout(poll, POLL_MS);
  } catch (err) { $("#join-error").textContent = err.message; }
});

$("#lesson-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("#train-error").textContent = "";
  try {
    await api.createRun(specFromForm());
    render(await api.get(`/api/rooms/${code}/me`));
  } catch (err) { $("#train-error").textContent = err.message; }
});

if (document.body.dataset.member) poll();
