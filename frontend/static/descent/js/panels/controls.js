// Live controls of a running run (owner only): Pause/Resume, Step N batches, set the lr
// and, where the run's optimizer has one, its weight decay.
// Commands go to POST /api/runs/<id>/control; the worker applies them between batches
// and reports each as a `control` event, which is what this panel shows as the state
// (the page never guesses: "Paused at step 120" appears when the trainer says so).
// Keys: Space pauses/resumes and "." steps, unless focus is in a field.
import { api } from "../api.js";
import { h, fmt } from "../dom.js";
import { parseNum } from "../fields.js";
import { vocab, specVocab } from "../vocab.js";

const send = (runId, body) => api.post(`/api/runs/${encodeURIComponent(runId)}/control`, body);

/**
 * Whether `optimizer` has a weight_decay (x-descent.optimizer_fields of the spec schema).
 * A page that did not load the spec schema (the run page) fetches it here, once.
 */
let fieldsPromise = null;
export async function optimizerHasWeightDecay(optimizer, getSchema = () => api.schema()) {
  let fields = vocab.optimizerFields;
  if (!fields || !Object.keys(fields).length) {
    fieldsPromise ||= getSchema().then((s) => specVocab(s).optimizerFields).catch((err) => { fieldsPromise = null; throw err; });
    fields = await fieldsPromise;
  }
  return (fields[optimizer || "adam"] || []).includes("weight_decay");
}

/** Is the key event aimed at something that takes typing or its own Space? */
function inField(target) {
  if (!target || !(target instanceof Element)) return false;
  return Boolean(target.closest("input, textarea, select, button, [contenteditable], a[href], summary"));
}

export class ControlsPanel {
  /**
   * @param {HTMLElement} host  where the bar goes (above the charts)
   * @param {string} runId
   * @param {object} opts {onError(message), stepDefault, optimizer (the run's optimizer name:
   *   the weight-decay field shows only where it has one), weightDecay (its value at the start)}
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
    this.mountWeightDecay();
    this.onKey = (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || inField(e.target)) return;
      if (e.key === " " || e.code === "Space") { e.preventDefault(); this.pauseResume(); }
      else if (e.key === ".") { e.preventDefault(); this.step(); }
    };
    document.addEventListener("keydown", this.onKey);
  }

  /** The weight-decay field, added once the optimizer is known to have one. */
  async mountWeightDecay() {
    let has = false;
    try { has = await optimizerHasWeightDecay(this.opts.optimizer); } catch { return; }
    if (!has || this.wd || !this.el.isConnected) return;
    const now = this.opts.weightDecay;
    this.wd = h("input", { type: "text", id: "ctl-wd", inputmode: "decimal", class: "num",
      placeholder: typeof now === "number" ? `now ${fmt(now)}` : "e.g. 0.0005", "aria-describedby": "ctl-wd-error",
      onkeydown: (e) => { if (e.key === "Enter") this.setWeightDecay(); } });
    this.wdBtn = h("button", { type: "button", class: "btn", id: "ctl-set-wd", onclick: () => this.setWeightDecay(),
      title: "The optimizer's weight decay from the next batch on (0 turns it off)" }, "Set wd");
    this.wdError = h("span", { class: "field-error", id: "ctl-wd-error", role: "alert", hidden: true });
    this.lrBtn.parentElement.after(h("span", { class: "ctl-group", id: "ctl-wd-group" },
      h("label", { for: "ctl-wd" }, "weight decay"), this.wd, this.wdBtn, this.wdError));
  }

  wdInvalid(message) {
    this.wdError.textContent = message;
    this.wdError.hidden = false;
    this.wd.setAttribute("aria-invalid", "true");
  }

  setWeightDecay() {
    if (!this.wd) return undefined;
    const text = this.wd.value.trim();
    const wd = parseNum(text); // the builder's parsing: "1e" or "abc" stays text
    // "1e", "-1" or "abc" is flagged on the field, never sent or replaced
    if (typeof wd !== "number" || wd < 0) {
      this.wdInvalid(`Weight decay: "${text}" is not a number of 0 or more.`);
      return undefined;
    }
    return this.command({ action: "set", weight_decay: wd });
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
    if (this.wd) { this.wdError.hidden = true; this.wd.removeAttribute("aria-invalid"); }
    try {
      await send(this.runId, body);
      const what = "weight_decay" in body ? "weight decay change" : body.action === "set" ? "lr change" : body.action;
      this.state.textContent = `${what} sent…`;
    } catch (err) {
      const e = err.errors?.[0];
      const message = e ? e.message : err.message;
      if (e?.path === "/weight_decay" && this.wd) {
        const said = message.replace(/weight_decay/g, "weight decay");
        this.wdInvalid(said.charAt(0).toUpperCase() + said.slice(1));  // on its own field
      } else {
        this.error.textContent = message;
        this.error.hidden = false;
        if (e?.path === "/lr") this.lr.setAttribute("aria-invalid", "true");
      }
      this.opts.onError?.(message);
    }
  }

  pauseResume() { return this.command({ action: this.paused ? "resume" : "pause" }); }

  step() {
    const n = parseNum(this.steps.value, true);
    if (!Number.isInteger(n) || n < 1) {
      this.error.textContent = "Steps: a whole number of batches, at least 1.";
      this.error.hidden = false;
      return undefined;
    }
    return this.command({ action: "step", steps: n });
  }

  setLr() {
    const text = this.lr.value.trim();
    const lr = parseNum(text);
    // "1e" or "abc" is flagged, never silently dropped or replaced
    if (typeof lr !== "number" || lr <= 0) {
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
