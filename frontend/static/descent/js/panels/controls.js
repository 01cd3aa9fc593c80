// Live controls of a running run (owner only): Pause/Resume, Step N batches, set the lr.
// Commands go to POST /api/runs/<id>/control; the worker applies them between batches
// and reports each as a `control` event, which is what this panel shows as the state
// (the page never guesses: "Paused at step 120" appears when the trainer says so).
// Keys: Space pauses/resumes and "." steps, unless focus is in a field.
import { api } from "../api.js";
import { h, fmt } from "../dom.js";

const send = (runId, body) => api.post(`/api/runs/${encodeURIComponent(runId)}/control`, body);

/** Is the key event aimed at something that takes typing or its own Space? */
function inField(target) {
  if (!target || !(target instanceof Element)) return false;
  return Boolean(target.closest("input, textarea, select, button, [contenteditable], a[href], summary"));
}

export class ControlsPanel {
  /**
   * @param {HTMLElement} host  where the bar goes (above the charts)
   * @param {string} runId
   * @param {object} opts {onError(message), stepDefault}
   */
  constructor(host, runId, opts = {}) {
    this.runId = runId;
    this.opts = opts;
    this.paused = false;
    this.pending = false;
    this.lastStep = null;
    this.toggle = h("button", { type: "button", class: "btn", id: "ctl-pause", onclick: () => this.pauseResume(),
      "aria-keyshortcuts": "Space", title: "Pause or resume between two batches (Space)" }, "Pause");
    this.steps = h("input", { type: "number", id: "ctl-steps", min: "1", max: "100000", step: "1",
      value: String(opts.stepDefault || 5), class: "num", "aria-label": "batches per step" });
    this.stepBtn = h("button", { type: "button", class: "btn", id: "ctl-step", onclick: () => this.step(),
      "aria-keyshortcuts": ".", title: "Run this many batches, then pause (.)" }, "Step");
    this.lr = h("input", { type: "text", id: "ctl-lr", inputmode: "decimal", class: "num", placeholder: "e.g. 0.003",
      "aria-label": "new learning rate", onkeydown: (e) => { if (e.key === "Enter") this.setLr(); } });
    this.lrBtn = h("button", { type: "button", class: "btn", id: "ctl-set-lr", onclick: () => this.setLr(),
      title: "From the next batch on the lr is this constant; the schedule no longer applies" }, "Set lr");
    this.state = h("span", { class: "ctl-state muted", id: "ctl-state", "aria-live": "polite" }, "");
    this.error = h("span", { class: "field-error", id: "ctl-error", role: "alert", hidden: true });
    this.el = h("section", { class: "controls-bar", id: "controls", "aria-label": "Live controls" },
      h("strong", {}, "Live controls"), this.toggle,
      h("span", { class: "ctl-group" }, this.stepBtn, this.steps, h("span", { class: "muted" }, "batches")),
      h("span", { class: "ctl-group" }, h("label", { for: "ctl-lr" }, "lr"), this.lr, this.lrBtn),
      this.state, this.error);
    host.prepend(this.el);
    this.onKey = (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || inField(e.target)) return;
      if (e.key === " " || e.code === "Space") { e.preventDefault(); this.pauseResume(); }
      else if (e.key === ".") { e.preventDefault(); this.step(); }
    };
    document.addEventListener("keydown", this.onKey);
  }

  destroy() {
    document.removeEventListener("keydown", this.onKey);
    this.el.remove();
  }

  /** The run ended: nothing left to steer. */
  finish() { this.destroy(); }

  async command(body) {
    this.error.hidden = true;
    this.lr.removeAttribute("aria-invalid");
    try {
      await send(this.runId, body);
      this.state.textContent = `${body.action === "set" ? "lr change" : body.action} sent…`;
    } catch (err) {
      const e = err.errors?.[0];
      this.error.textContent = e ? e.message : err.message;
      this.error.hidden = false;
      if (e?.path === "/lr") this.lr.setAttribute("aria-invalid", "true");
      this.opts.onError?.(this.error.textContent);
    }
  }

  pauseResume() { return this.command({ action: this.paused ? "resume" : "pause" }); }

  step() {
    const n = Number(this.steps.value);
    if (!Number.isInteger(n) || n < 1) {
      this.error.textContent = "Steps: a whole number of batches, at least 1.";
      this.error.hidden = false;
      return undefined;
    }
    return this.command({ action: "step", steps: n });
  }

  setLr() {
    const text = this.lr.value.trim();
    const lr = Number(text);
    // "1e" or "abc" is flagged, never silently dropped or replaced
    if (!text || !Number.isFinite(lr) || lr <= 0) {
      this.error.textContent = `Learning rate: "${text}" is not a positive number.`;
      this.error.hidden = false;
      this.lr.setAttribute("aria-invalid", "true");
      return undefined;
    }
    return this.command({ action: "set", lr });
  }

  /** A `control` event as the trainer applied it. */
  apply(ev) {
    this.lastStep = ev.step;
    if (ev.action === "pause") this.paused = true;
    else if (ev.action === "resume" || ev.action === "step") this.paused = false;
    this.toggle.textContent = this.paused ? "Resume" : "Pause";
    this.toggle.setAttribute("aria-pressed", String(this.paused));
    this.el.classList.toggle("paused", this.paused);
    this.state.textContent = describe(ev);
  }
}

/** One line for a control event, for the state read-out and chart hover. */
export function describe(ev) {
  const at = `at step ${ev.step}`;
  switch (ev.action) {
    case "pause": return ev.reason === "steps done" ? `Paused after stepping, ${at}` : `Paused ${at}`;
    case "resume": return `Resumed ${at}`;
    case "step": return `Stepping ${ev.steps} batch${ev.steps === 1 ? "" : "es"} from step ${ev.step}`;
    case "set": {
      const parts = [];
      if (ev.lr !== undefined) parts.push(`lr → ${fmt(ev.lr)}`);
      if (ev.weight_decay !== undefined) parts.push(`weight decay → ${fmt(ev.weight_decay)}`);
      return `${parts.join(", ")} ${at}`;
    }
    default: return `${ev.action} ${at}`;
  }
}

/** Plotly shapes marking control events on a step axis: lr changes solid, pauses dotted. */
export function controlShapes(events) {
  return events.filter((ev) => ev.action === "set" || ev.action === "pause").map((ev) => ({
    type: "line", xref: "x", yref: "paper", x0: ev.step, x1: ev.step, y0: 0, y1: 1,
    line: ev.action === "set" ? { color: "#d62728", width: 2 } : { color: "#7f7f7f", width: 1, dash: "dot" },
    name: describe(ev),
  }));
}
