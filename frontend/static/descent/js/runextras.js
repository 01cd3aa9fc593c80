// What issue 7 adds to the run page: the lesson banner (and its highlighted panel), the
// live controls for the owner of a running run, and "Add to compare". run.js calls
// mountRunExtras(state) once the run and its view exist.
import { h } from "./dom.js";
import { ControlsPanel } from "./panels/controls.js";
import { mountLesson, runVariants } from "./lesson.js";
import { addToCompare, compareUrl } from "./comparelist.js";
import { TERMINAL } from "./runview.js";

export function ensureCss(href = "/static/descent/css/instrument.css") {
  if (document.querySelector(`link[href="${href}"]`)) return;
  document.head.append(h("link", { rel: "stylesheet", href }));
}

/** What the controls need to know of the run's optimizer (the weight-decay field). */
function optimizerOpts(spec) {
  const o = spec?.optimizer || {};
  return { optimizer: o.name || "adam", weightDecay: o.weight_decay };
}

/** @param state {run, view} of run.js; the view's root is where the run draws. */
export function mountRunExtras(state) {
  ensureCss();
  const { run, view } = state;
  const root = view.root;
  const bar = h("div", { class: "run-extras", id: "run-extras" });
  root.before(bar);

  // 1. add to compare: the list lives in this browser; the link is shareable
  const link = h("a", { id: "compare-link", class: "muted", hidden: true }, "");
  const add = h("button", { type: "button", class: "btn", id: "add-compare",
    title: "Keep this run in your compare list (up to 8)", onclick: () => {
      const ids = addToCompare(run.id);
      add.textContent = "Added to compare ✓";
      link.hidden = ids.length < 2;
      link.href = compareUrl(ids);
      link.textContent = `Compare ${ids.length} runs →`;
    } }, "Add to compare");
  bar.append(h("div", { class: "actions-bar" }, add, link));

  // 2. live controls: owner, running (or about to)
  let controls = null;
  const status = () => view.status || run.status;
  const mountControls = () => {
    if (controls || !run.is_owner || TERMINAL.includes(status()) || run.spec?.mode === "lr_finder") return;
    controls = new ControlsPanel(bar, run.id, optimizerOpts(run.spec));
  };
  mountControls();
  const onStatus = view.opts.onStatus;
  view.opts.onStatus = (s, ev) => {
    if (TERMINAL.includes(s) && controls) { controls.finish(); controls = null; } else mountControls();
    onStatus?.(s, ev);
  };
  view.opts.onControl = (ev) => controls?.apply(ev);

  // 3. the lesson this run came from
  mountLesson(run.spec, bar, {
    extra: (lesson) => ((lesson.variants || []).length > 1 ? [h("button", { type: "button", class: "btn",
      id: "lesson-run-both", onclick: () => runVariants(lesson) },
    lesson.variants.length === 2 ? "Run both and compare" : `Run all ${lesson.variants.length} and compare`)] : []),
  });
  return { get controls() { return controls; } };
}

/** Live controls for a run the page itself started (the playground): replaces any earlier. */
export function attachControls(view, runId) {
  ensureCss();
  view.liveControls?.destroy();
  view.liveControls = null;
  if (view.spec?.mode === "lr_finder") return null;  // an LR range test sets its own lr
  view.liveControls = new ControlsPanel(document.createElement("div"), runId, optimizerOpts(view.spec));
  view.root.before(view.liveControls.el);
  if (!view.baseOnStatus) {
    view.baseOnStatus = view.opts.onStatus || (() => {});
    view.opts.onStatus = (s, ev) => {
      if (TERMINAL.includes(s)) { view.liveControls?.destroy(); view.liveControls = null; }
      view.baseOnStatus(s, ev);
    };
  }
  view.opts.onControl = (ev) => view.liveControls?.apply(ev);
  return view.liveControls;
}
