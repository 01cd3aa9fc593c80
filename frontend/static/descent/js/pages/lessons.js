// /lessons: a card per lesson with what to watch, and one click to load it into the
// playground, to run it, or (for lessons that contrast runs) to run them all and compare.
import { api } from "../api.js";
import { h } from "../dom.js";
import { runVariants } from "../lesson.js";
import { playgroundUrl } from "../urlstate.js";

const $ = (id) => document.getElementById(id);

function toast(text) {
  const el = $("toast");
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
  setTimeout(() => { el.hidden = true; }, 6000);
}

async function run(spec, button) {
  button.disabled = true;
  try {
    const res = await api.createRun(spec);
    location.href = res.url || `/r/${res.id}`;
  } catch (err) {
    button.disabled = false;
    toast(err.message);
  }
}

/** Number of runs a sweep body asks for (grid: product of the axes; random: samples), times repeats. */
export function sweepSize(sw) {
  if (!sw) return null;
  const per = sw.method === "random" ? (sw.samples || 0)
    : (sw.axes || []).reduce((a, ax) => a * (ax.values ? ax.values.length : (ax.count || 1)), 1);
  return per * (sw.repeats || 1);
}

/** A sweep lesson: many runs over the workers, opened on its live table (/s/<id>). */
async function runSweep(p, button) {
  button.disabled = true;
  try {
    const res = await api.post("/api/sweeps", { lesson: p.slug });
    location.href = res.url || `/s/${res.id}`;
  } catch (err) {
    button.disabled = false;
    toast(err.message);
  }
}

function card(p) {
  const actions = [];
  if (p.kind === "sweep") {
    const n = sweepSize(p.sweep);
    const btn = h("button", { type: "button", class: "btn primary", "data-run-sweep": p.slug,
      "aria-label": `Run the sweep of “${p.title}”`, onclick: () => runSweep(p, btn) }, "Run the sweep");
    actions.push(btn);
    if (p.spec) {
      actions.push(h("a", { class: "btn", href: playgroundUrl(p.spec),
        "aria-label": `Load one run of “${p.title}” in the playground` }, "Load one run"));
    }
    return h("li", { class: "lesson-card", id: p.slug, "data-slug": p.slug, "data-kind": "sweep" },
      h("h2", {}, p.title),
      h("p", { class: "lesson-watch" }, h("strong", {}, "Sweep: "),
        n ? `${n} runs spread over the workers, one table.` : "many runs spread over the workers, one table."),
      h("details", {}, h("summary", {}, "More"), h("p", {}, p.lesson)),
      h("div", { class: "lesson-actions" }, actions));
  }
  if (p.spec) {
    actions.push(h("a", { class: "btn", href: playgroundUrl(p.spec), "aria-label": `Load “${p.title}” in the playground` }, "Load"));
    const runBtn = h("button", { type: "button", class: "btn primary", "aria-label": `Run “${p.title}”`,
      onclick: () => run(p.spec, runBtn) }, "Run");
    actions.push(runBtn);
  }
  if ((p.variants || []).length > 1) {
    const both = h("button", { type: "button", class: "btn", "data-run-both": p.slug,
      "aria-label": `Run all ${p.variants.length} variants of “${p.title}” and compare them`,
      onclick: async () => {
        both.disabled = true;
        try { await runVariants(p); } catch (err) { both.disabled = false; toast(err.message); }
      } }, p.variants.length === 2 ? "Run both" : `Run all ${p.variants.length}`);
    actions.push(both);
  }
  return h("li", { class: "lesson-card", id: p.slug, "data-slug": p.slug },
    h("h2", {}, p.title),
    p.watch ? h("p", { class: "lesson-watch" }, h("strong", {}, "Watch: "), p.watch) : null,
    (p.variants || []).length > 1
      ? h("p", { class: "muted" }, "Compares: ", p.variants.map((v) => v.label).join(" · ")) : null,
    h("details", {}, h("summary", {}, "More"), h("p", {}, p.lesson)),
    h("div", { class: "lesson-actions" }, actions));
}

async function main() {
  const list = $("lessons");
  let presets;
  try {
    presets = await api.presets();
    // lessons that need many runs (issue 10) come from the sweeps app; a page without it still works
    const sweeps = await api.get("/api/sweeps/lessons").catch(() => []);
    presets = presets.concat((sweeps || []).map((s) => ({ ...s, kind: "sweep" })));
  } catch (err) {
    list.replaceChildren(h("li", { class: "alert alert-failed" }, `Could not load the lessons: ${err.message}`));
    return;
  }
  const filter = $("lesson-filter");
  const render = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = presets.filter((p) => !q || `${p.title} ${p.lesson} ${p.watch || ""}`.toLowerCase().includes(q));
    list.replaceChildren(...shown.map(card));
    $("lesson-count").textContent = `${shown.length} of ${presets.length} lessons`;
  };
  filter.addEventListener("input", render);
  render();
  if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
  document.body.dataset.ready = "1";
}

main();
