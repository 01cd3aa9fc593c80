import { test } from "node:test";
import assert from "node:assert/strict";
import { connectRunSocket, setFinalStatuses, wsUrl, retryDelay } from "../../frontend/static/descent/js/socket.js";

setFinalStatuses(["succeeded", "failed", "cancelled", "diverged", "timed_out"]);
const loc = { protocol: "http:", host: "example.test:8000" };

function harness() {
  const sockets = [];
  class FakeWS {
    constructor(url) { this.url = url; sockets.push(this); }
    close() { this.onclose?.(); }
    send() {}
    deliver(obj) { this.onmessage?.({ data: JSON.stringify(obj) }); }
  }
  const timers = [];
  const events = [];
  const states = [];
  const sock = connectRunSocket("/ws/runs/abc/", {
    onEvent: (ev) => events.push(ev), onState: (s) => states.push(s), WebSocket: FakeWS, location: loc,
    setTimeout: (fn) => { timers.push(fn); return timers.length; }, clearTimeout: () => {},
  });
  return { sockets, timers, events, states, sock };
}

const after = (url) => new URL(url).searchParams.get("after");

test("the first connection asks for everything after 0", () => {
  const { sockets } = harness();
  assert.equal(sockets[0].url, "ws://example.test:8000/ws/runs/abc/?after=0");
});

test("a reconnect resumes after the last seq handled, with no duplicate", () => {
  const h = harness();
  h.sockets[0].onopen();
  h.sockets[0].deliver({ seq: 1, type: "status", status: "running" });
  h.sockets[0].deliver({ seq: 4, type: "step", step: [1, 2, 3], loss: [1, 1, 1] });
  h.sockets[0].onclose(); // the wifi drops
  assert.equal(h.timers.length, 1);
  h.timers[0]();
  assert.equal(after(h.sockets[1].url), "4");
  // the server replays from the database: an overlap is dropped, the rest goes through
  h.sockets[1].deliver({ seq: 4, type: "step", step: [3], loss: [1] });
  h.sockets[1].deliver({ seq: 5, type: "epoch", epoch: 1 });
  assert.deepEqual(h.events.map((e) => e.seq), [1, 4, 5]);
  assert.equal(h.sock.lastSeq(), 5);
});

test("messages without seq pass through and do not move the resume point", () => {
  const h = harness();
  h.sockets[0].deliver({ seq: 2, type: "status", status: "queued" });
  h.sockets[0].deliver({ type: "queue", queue_position: 1 });
  assert.equal(h.events.length, 2);
  assert.equal(h.sock.lastSeq(), 2);
});

test("a batch of events in one frame is handled in order", () => {
  const h = harness();
  h.sockets[0].deliver([{ seq: 1, type: "a" }, { seq: 2, type: "b" }]);
  h.sockets[0].deliver({ events: [{ seq: 3, type: "c" }, { seq: 2, type: "b" }] });
  assert.deepEqual(h.events.map((e) => e.seq), [1, 2, 3]);
});

test("after the final status the socket does not reconnect", () => {
  const h = harness();
  h.sockets[0].deliver({ seq: 9, type: "status", status: "succeeded" });
  h.sockets[0].onclose();
  assert.equal(h.timers.length, 0);
  assert.equal(h.states[h.states.length - 1], "closed");
});

test("close() stops reconnecting", () => {
  const h = harness();
  h.sock.close();
  assert.equal(h.timers.length, 0);
});

test("retry waits grow and are capped at about 10 s", () => {
  const mid = () => 0.5;
  assert.equal(retryDelay(0, mid), 500);
  assert.equal(retryDelay(1, mid), 1000);
  assert.equal(retryDelay(10, mid), 10000);
  assert.ok(retryDelay(0, () => 0) >= 375 && retryDelay(0, () => 0.999) <= 625);
});

test("https pages use wss, full ws URLs are kept", () => {
  assert.equal(wsUrl("/ws/x/", 3, { protocol: "https:", host: "h" }), "wss://h/ws/x/?after=3");
  assert.equal(wsUrl("ws://other/ws/x/", 0, loc), "ws://other/ws/x/?after=0");
});
