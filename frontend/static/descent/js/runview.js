// Renders a run's event stream (DESIGN.md "Events") into panels. Both pages use it:
// the playground for the run it just started, the run page for a shared link.
// Panels appear when their first event arrives, so a digits run shows no boundary
// and an LR range test shows no gradient flow. Unknown event types are ignored.
import { h, fmt } from "./dom.js";
import { LineChart, PALETTE, destroyWithin, drawAllWithin } from "./charts.js";
import { scheduler } from "./frame.js";
import { vocab } from "./vocab.js";
import { BoundaryPanel } from "./panels/boundary.js";
import { DiagnosticsPanels } from "./panels/diagnostics.js";
import { WeightsPanel } from "./panels/weights.js";
import { LandscapePanel } from "./panels/landscape.js";
import { LrFinderPanel } from "./panels/lrfinder.js";
import { SummaryPanel } from "./panels/summary.js";
import { NeuronsPanel } from "./panels/neurons.js";
import { controlShapes } from "./panels/controls.js";
import { makePanel, chartDiv } from "./panels/panel.js";

// The final statuses, from GET /api/events/schema (vocab.js fills this array in place).
export const TERMINAL = vocab.final;

// Words for the statuses the schema lists; an unknown one shows as its name.
const STATUS_TEXT = {
  queued: "Queued", running: "Running", succeeded: "Finished", failed: "Failed",
  cancelled: "Stopped", diverged: "Diverged", timed_out: "Timed out",
};

/**
 * The status pill; a queued run's says where it stands ("Queued — position 2").
 * A paused run is still `running` on the server (it holds its worker); the trainer's
 * `control` events say it is paused, and the pill says so (data-status stays "running").
 */
export function statusBadge(status, queuePosition, stopping = false, paused = false) {
  const queued = status === "queued" && queuePosition > 0;
  // A stop asked for but not yet confirmed by the run's final status event.
  const stop = stopping && !TERMINAL.includes(status);
  const pause = paused && status === "running" && !stop;
  const look = stop ? "stopping" : pause ? "paused" : status || "unknown";
  return h("span", { class: `badge status-${look}`, "data-status": status || "",
    "data-stopping": stop ? "1" : null, "data-paused": pause ? "1" : null,
    "data-queue-position": queued ? String(queuePosition) : null },
  stop ? "Stopping…" : pause ? "Paused" : STATUS_TEXT[status] || status || "…", queued ? ` — position ${queuePosition}` : null);
}

/** Whether the run is paused after this `control` event (a step runs, then pauses again). */
export function pausedAfter(paused, ev) {
  if (ev?.action === "pause") return true;
  if (ev?.action === "resume" || ev?.action === "step") return false;
  return paused;
}

/**
 * "lr = 0.01, batch_size = 32" for a sweep's axes ({"/optimizer/lr": 0.01, …}): each
 * axis by its last path segment. Anything but a plain object gives "".
 */
export function sweepAxesText(axes) {
  if (!axes || typeof axes !== "object" || Array.isArray(axes)) return "";
  return Object.entries(axes).map(([path, v]) => {
    const name = String(path).split("/").filter(Boolean).pop() || String(path);
    const value = typeof v === "number" ? fmt(v) : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
    return `${name} = ${value}`;
  }).join(", ");
}

/** [["l1", v], ["l2", v]] of an epoch's `penalty`, finite numbers only. */
function penaltyParts(p) {
  if (!p || typeof p !== "object") return [];
  return ["l1", "l2"].filter((k) => typeof p[k] === "number" && Number.isFinite(p[k])).map((k) => [k, p[k]]);
}

const HANDLE_STATS = {};
if (typeof window !== "undefined") window.__descentHandleStats = HANDLE_STATS;

export class RunView {
  /**
   * @param {HTMLElement} root  container; the view owns its content
   * @param {object} opts {spec, onStatus(status, ev), onApplyLr(lr)}
   */
  constructor(root, opts = {}) {
    this.root = root;
    this.opts = opts;
    this.reset(opts.spec || {});
  }

  reset(spec = this.spec) {
    // The charts of the previous run go for good: Plotly purged, observers disconnected.
    this.neurons?.destroy();
    destroyWithin(this.root);
    if (this.readout) scheduler().cancel(this.readout);
    this.readoutItems = null;
    this.spec = spec || {};
    this.status = null;
    this.stopping = false;
    this.paused = false;  // from the trainer's control events
    this.queuePosition = null;
    this.device = null;
    this.dataset = null;
    this.lastStep = null;
    this.epochs = 0;
    this.firstEpoch = undefined;
    this.loss = this.acc = this.lr = null; // charts of a previous run live in the old grid
    this.root.replaceChildren();
    // charts below the fold wait until they are scrolled to (charts.js); the run's end draws them all
    this.root.dataset.offscreen = "wait";
    this.drawAllAtEnd = true;  // a replay turns it off: its charts follow the visitor's scrolling
    this.head = h("div", { class: "run-head" });
    this.sweepLine = h("p", { class: "run-sweep muted", id: "run-sweep", hidden: true });
    this.alert = h("div", { class: "alert", hidden: true, role: "alert" });
    this.readout = h("div", { class: "readout" });
    this.grid = h("div", { class: "panel-grid" });
    this.root.append(this.head, this.sweepLine, this.alert, this.readout, this.grid);
    this.renderHead(null, "");
    this.setSweep(this.sweep);
    this.panels = {};
    this.boundary = new BoundaryPanel(this.grid);
    this.diagnostics = new DiagnosticsPanels(this.grid);
    this.weights = new WeightsPanel(this.grid);
    this.landscape = new LandscapePanel(this.grid);
    this.lrfinder = new LrFinderPanel(this.grid, this.opts.onApplyLr);
    this.summary = new SummaryPanel(this.grid);
    this.neurons = new NeuronsPanel(this.grid, this.boundary);  // its epoch scrubber moves the boundary too
    this.controlEvents = [];
  }

  renderHead(status = this.status, message = this.statusMessage) {
    const total = this.spec?.training?.epochs;
    const parts = [statusBadge(status, this.queuePosition, this.stopping, this.paused)];
    if (this.device) {
      parts.push(h("span", { class: "device", "data-device": this.device, title: "where the run trains" },
        "device ", h("strong", {}, this.device === "cuda" ? "cuda (GPU)" : this.device)));
    }
    if (this.epochs) parts.push(h("span", { class: "progress-text" }, `epoch ${this.epochs}${total ? ` / ${total}` : ""}`));
    if (message && !TERMINAL.includes(status)) parts.push(h("span", { class: "muted" }, message));
    this.head.replaceChildren(...parts);
  }

  /** Dispatch one event; a coalesced step message carries lists. */
  handle(ev) {
    const fn = this[`on_${ev.type}`];
    if (typeof fn !== "function") return;
    const t0 = performance.now();
    fn.call(this, ev);
    // what each event type costs to take in (the console and bench/bench_ui.py read it)
    const st = HANDLE_STATS[ev.type] || (HANDLE_STATS[ev.type] = { n: 0, ms: 0 });
    st.n += 1; st.ms += performance.now() - t0;
  }

  /** Show at once that a stop was asked for; the final status event confirms it. */
  setStopping(on = true) {
    this.stopping = on;
    this.renderHead();
  }

  /**
   * The sweep this run belongs to (GET /api/runs/<id> `sweep`: null or {id, url, axes}):
   * "Part of sweep <id> (lr = 0.01)" under the head. Absent or malformed: nothing.
   */
  setSweep(sweep) {
    this.sweep = sweep;
    const ok = sweep && typeof sweep === "object" && (sweep.id !== undefined && sweep.id !== null);
    this.sweepLine.hidden = !ok;
    if (!ok) { this.sweepLine.replaceChildren(); return; }
    const url = typeof sweep.url === "string" && sweep.url.startsWith("/") ? sweep.url : `/s/${encodeURIComponent(sweep.id)}`;
    const axes = sweepAxesText(sweep.axes);
    this.sweepLine.replaceChildren("Part of sweep ", h("a", { href: url, id: "run-sweep-link" }, String(sweep.id)),
      axes ? ` (${axes})` : "");
  }

  setPaused(on) {
    if (on === this.paused) return;
    this.paused = on;
    this.renderHead();
    this.opts.onPaused?.(on);
  }

  /** Where the run trains ("cpu", "cuda"), from GET /api/runs/<id> or the dataset event. */
  setDevice(device) {
    if (!device || device === this.device) return;
    this.device = String(device);
    this.renderHead();
  }

  /** A queued run's place in the queue (1 = next to start). */
  setQueuePosition(pos) {
    if (!(pos > 0)) return;
    this.queuePosition = pos;
    this.renderHead();
  }

  on_status(ev) {
    this.status = ev.status;
    this.statusMessage = ev.message || "";
    if (ev.status !== "running") this.setPaused(false);
    if (ev.status !== "queued") this.queuePosition = null;
    // A position only ever falls while a run waits; the persisted first status event
    // (replayed to a late viewer) carries the position at creation, which may be stale.
    else if (ev.queue_position > 0) this.queuePosition = Math.min(this.queuePosition || Infinity, ev.queue_position);
    this.renderHead(ev.status, ev.message);
    if (TERMINAL.includes(ev.status) && this.drawAllAtEnd) { drawAllWithin(this.root); this.neurons.drawFinal(); }
    const bad = TERMINAL.includes(ev.status) && ev.status !== "succeeded";
    this.alert.hidden = !bad;
    this.alert.className = `alert alert-${ev.status}`;
    if (bad) {
      this.alert.replaceChildren(h("strong", {}, `${STATUS_TEXT[ev.status]}: `),
        ev.message || (ev.status === "cancelled" ? "the run was stopped." : "no message."));
    }
    this.opts.onStatus?.(ev.status, ev);
  }

  // Transient (no seq, not persisted): the queue moved while this run waits in it.
  on_queue(ev) {
    if (this.status !== null && this.status !== "queued") return; // it already left the queue
    this.setQueuePosition(ev.queue_position);
  }

  on_dataset(ev) {
    this.dataset = ev;
    this.boundary.setDataset(ev);
    if (ev.device) this.setDevice(ev.device);
  }

  // Charts appear with their first data: an LR range test has no epochs, and a run
  // that diverges at step 4 has no accuracy to show.
  lossChart() {
    if (this.loss) return this.loss;
    const p = makePanel(this.grid, { id: "loss", title: "Loss", order: 10,
      help: "Thin line: every mini-batch. Dots: the epoch's mean on the training and validation sets." });
    p.show();
    this.loss = new LineChart(chartDiv(p.body), {
      xTitle: "step", yTitle: "loss", autoLog: true,
      traces: [
        { name: "batch loss", color: "#9db7d5", width: 1.5 },
        { name: "train", color: PALETTE[0], mode: "lines+markers" },
        { name: "val", color: PALETTE[1], mode: "lines+markers" },
      ],
    });
    return this.loss;
  }

  accChart(regression) {
    if (this.acc) return this.acc;
    const p = makePanel(this.grid, { id: "accuracy", title: regression ? "R²" : "Accuracy", order: 12 });
    p.show();
    this.acc = new LineChart(chartDiv(p.body), {
      xTitle: "epoch", yTitle: regression ? "R²" : "accuracy", minInterval: 250,
      traces: [{ name: "train", color: PALETTE[0], mode: "lines+markers" },
        { name: "val", color: PALETTE[1], mode: "lines+markers" }],
    });
    return this.acc;
  }

  lrChart() {
    if (this.lr) return this.lr;
    const p = makePanel(this.grid, { id: "lr", title: "Learning rate", order: 13,
      help: "The schedule as applied, warm-up included." });
    p.show();
    // the schedule changes slowly: a redraw every half second is plenty
    this.lr = new LineChart(chartDiv(p.body, "chart short"), {
      xTitle: "step", yTitle: "lr", padConstant: true, minInterval: 500, traces: [{ name: "lr", color: PALETTE[2], showlegend: false }],
    });
    return this.lr;
  }

  on_step(ev) {
    const steps = [].concat(ev.step);
    const losses = [].concat(ev.loss);
    const lrs = ev.lr === undefined || ev.lr === null ? [] : [].concat(ev.lr);
    this.lossChart().append(0, steps, losses);
    if (lrs.length === steps.length) this.lrChart().append(0, steps, lrs);
    this.lastStep = steps[steps.length - 1];
  }

  on_epoch(ev) {
    const regression = this.dataset?.task === "regression" || (ev.train_acc == null && ev.train_r2 != null);
    // Epoch means sit at the last step of their epoch so they overlay the batch curve.
    const x = this.lastStep ?? ev.epoch;
    this.lossChart().append(1, x, ev.train_loss);
    this.loss.append(2, x, ev.val_loss);
    // L1/L2 penalties are added to the training objective but not to these losses
    // (the data loss): a dashed line of their own shows how much they weigh.
    const penalty = penaltyParts(ev.penalty);
    if (penalty.length) {
      const i = this.loss.traceIndex("L1/L2 penalty", { name: "L1/L2 penalty", color: PALETTE[4], dash: "dash",
        mode: "lines+markers", markerSize: 6 });
      this.loss.append(i, x, penalty.reduce((a, [, v]) => a + v, 0));
    }
    // SWA: the averaged weights' validation loss beside the raw weights' (epochs with a snapshot)
    if (typeof ev.swa_val_loss === "number") {
      const i = this.loss.traceIndex("val (SWA average)", { name: "val (SWA average)", color: PALETTE[2], dash: "dot",
        mode: "lines+markers", markerSize: 6 });
      this.loss.append(i, x, ev.swa_val_loss);
    }
    this.accChart(regression).append(0, ev.epoch, regression ? ev.train_r2 : ev.train_acc);
    this.acc.append(1, ev.epoch, regression ? ev.val_r2 : ev.val_acc);
    this.epochs = Math.max(this.epochs, (ev.epoch ?? 0) + (this.zeroBased(ev) ? 1 : 0));
    const items = [["epoch", this.epochs], ["train loss", ev.train_loss], ["val loss", ev.val_loss]];
    if (regression) items.push(["val R²", ev.val_r2]);
    else items.push(["train acc", ev.train_acc], ["val acc", ev.val_acc]);
    items.push(["lr", ev.lr]);
    for (const [k, v] of penalty) items.push([`${k.toUpperCase()} penalty`, v]);
    this.readoutItems = items;
    // the epoch counter and the read-out follow on the next frame: a backlog of thousands
    // of epochs rebuilds them once, not once per epoch (the status pill stays immediate)
    scheduler().request(this.readout, () => {
      if (!this.readoutItems) return;
      this.renderHead();
      this.readout.replaceChildren(...this.readoutItems.filter(([, v]) => v !== undefined).map(([k, v]) =>
        h("div", { class: "stat" }, h("span", { class: "stat-label" }, k), h("span", { class: "stat-value" }, fmt(v, 3)))));
    }, 0, "readout");
  }

  // The first epoch event tells whether the trainer counts from 0 or 1.
  zeroBased(ev) {
    if (this.firstEpoch === undefined) this.firstEpoch = ev.epoch;
    return this.firstEpoch === 0;
  }

  on_diagnostics(ev) { this.diagnostics.add(ev); this.weights.add(ev); }
  on_boundary(ev) { this.boundary.add(ev); }
  on_landscape(ev) { this.landscape.add(ev); }
  on_lr_finder(ev) { this.lrfinder.add(ev); }
  on_summary(ev) { this.summary.add(ev, this.dataset); }
  on_neurons(ev) { this.neurons.add(ev); }

  // A pause, step, resume or lr change as the trainer applied it: a line on the step charts.
  on_control(ev) {
    this.setPaused(pausedAfter(this.paused, ev));
    this.controlEvents.push(ev);
    const shapes = controlShapes(this.controlEvents);
    this.lossChart().setShapes(shapes);
    if (ev.action === "set" || this.lr) this.lrChart().setShapes(shapes);
    this.opts.onControl?.(ev);
  }
}
