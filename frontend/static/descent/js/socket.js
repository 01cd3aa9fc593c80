// One websocket per run (DESIGN.md "Data flow").
// The server first replays persisted events after `?after=<seq>`, then streams live
// ones. We remember the last seq we handled so a reconnect resumes exactly there:
// no gap (the server replays from the database) and no duplicate (seq <= last is
// dropped here). A coalesced `step` message carries lists and the seq of its last
// step, so "seq <= last" stays a correct duplicate test for it too.
// Transient notices have no seq (`queue` when the queue moves, `live`, `pong`): they
// are not persisted, so they are never duplicates and never move the resume point.

// The final statuses come from the server's event schema (GET /api/events/schema,
// x-descent.final) via vocab.js; a page calls setFinalStatuses() once it has them.
let FINAL = new Set();

/** The statuses after which a run sends nothing more (from the event schema). */
export function setFinalStatuses(list) { FINAL = new Set(list); }

export function wsUrl(path, after, loc = globalThis.location) {
  if (/^wss?:\/\//.test(path)) return withAfter(path, after);
  const proto = loc.protocol === "https:" ? "wss:" : "ws:";
  return withAfter(`${proto}//${loc.host}${path}`, after);
}

/** Wait before reconnect attempt n (0, 1, …): exponential, capped at 10 s, with jitter. */
export function retryDelay(attempt, random = Math.random) {
  // thirty phones reconnecting after a wifi blip should not all hit the server at once
  return Math.min(10000, 500 * 2 ** attempt) * (0.75 + random() * 0.5);
}

function withAfter(url, after) {
  const u = new URL(url);
  u.searchParams.set("after", String(after));
  return u.toString();
}

/**
 * Connect to a run's event stream.
 * @param {string} path   the `ws` path from the API, e.g. "/ws/runs/abc/"
 * @param {object} opts   {onEvent(ev), onState(state), after,
 *   WebSocket (a constructor; tests pass a fake), setTimeout, location}
 *   state is one of "connecting" | "open" | "reconnecting" | "closed".
 * @returns {{close(): void, lastSeq(): number}}
 */
export function connectRunSocket(path, {
  onEvent, onState = () => {}, after = 0,
  WebSocket: WS = globalThis.WebSocket, setTimeout: later = (fn, ms) => setTimeout(fn, ms),
  clearTimeout: unlater = (t) => clearTimeout(t), location: loc = globalThis.location,
} = {}) {
  let last = after;
  let ws = null;
  let attempt = 0;
  let timer = null;
  let stopped = false;   // closed by the page
  let finished = false;  // the run reached a terminal status: nothing more will come

  function handle(ev) {
    if (!ev || typeof ev !== "object") return;
    if (typeof ev.seq === "number" && Number.isFinite(ev.seq)) {
      if (ev.seq <= last) return; // already handled (a replay overlapping the live stream)
      last = ev.seq;
    } // else: a transient notice; handled, but `last` stays where the persisted stream is
    if (ev.type === "status" && FINAL.has(ev.status)) finished = true;
    try {
      onEvent(ev);
    } catch (err) {
      // A rendering bug must not kill the stream; report it once per event.
      console.warn("descent: event handler failed", ev.type, err);
    }
  }

  function open() {
    if (stopped) return;
    onState(attempt ? "reconnecting" : "connecting");
    ws = new WS(wsUrl(path, last, loc));
    ws.onopen = () => { attempt = 0; onState("open"); };
    ws.onmessage = (msg) => {
      let data;
      try { data = JSON.parse(msg.data); } catch { return; }
      // Tolerate a server that batches several events into one frame.
      if (Array.isArray(data)) data.forEach(handle);
      else if (data && Array.isArray(data.events)) data.events.forEach(handle);
      else handle(data);
    };
    ws.onclose = () => {
      ws = null;
      if (stopped || finished) { onState("closed"); return; }
      const delay = retryDelay(attempt);
      attempt += 1;
      onState("reconnecting");
      timer = later(open, delay);
    };
    ws.onerror = () => { /* onclose follows and schedules the retry */ };
  }

  open();
  return {
    close() {
      stopped = true;
      unlater(timer);
      if (ws) ws.close();
    },
    lastSeq: () => last,
  };
}
