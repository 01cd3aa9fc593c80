// A lesson that stays with its run: the banner (title, what to watch, the lesson text)
// and the highlighted panel. The run's spec carries the lesson's slug (`spec.lesson`);
// the texts come from GET /api/presets, so a shared link, a replay, a fork and
// "Edit in playground" all show the same banner.
import { api } from "./api.js";
import { h } from "./dom.js";

let presets = null;

/** The lesson (preset) with this slug, or null. */
export async function findLesson(slug) {
  if (!slug) return null;
  if (!presets) presets = api.presets().catch(() => []);
  return (await presets).find((p) => p.slug === slug) || null;
}

/** Mark the lesson's panel (it may appear later, with its first event). */
export function highlightPanel(panelId, root = document) {
  if (!panelId) return () => {};
  const mark = () => {
    const el = root.querySelector?.(`#panel-${CSS.escape(panelId)}`) || document.getElementById(`panel-${panelId}`);
    if (!el || el.classList.contains("lesson-focus")) return;
    el.classList.add("lesson-focus");
    el.setAttribute("aria-description", "the panel this lesson asks you to watch");
    const head = el.querySelector("header");
    if (head && !head.querySelector(".lesson-tag")) head.append(h("span", { class: "lesson-tag" }, "Watch this"));
  };
  mark();
  const obs = new MutationObserver(mark);
  obs.observe(root === document ? document.body : root, { childList: true, subtree: true, attributes: true,
    attributeFilter: ["hidden"] });
  return () => obs.disconnect();
}

/** The banner element for a lesson; `extra` are nodes added after the text (buttons). */
export function lessonBanner(lesson, extra = []) {
  return h("aside", { class: "lesson-banner", id: "lesson-banner", "aria-label": "Lesson" },
    h("p", { class: "lesson-kicker" }, "Lesson"),
    h("h2", {}, h("a", { href: `/lessons#${lesson.slug}` }, lesson.title)),
    lesson.watch ? h("p", { class: "lesson-watch" }, h("strong", {}, "Watch: "), lesson.watch) : null,
    h("details", {}, h("summary", {}, "What this lesson shows"), h("p", {}, lesson.lesson)),
    extra.length ? h("div", { class: "lesson-actions" }, extra) : null);
}

/** Banner above `anchor` and the panel highlight, for the spec's lesson (if any). */
export async function mountLesson(spec, anchor, { extra = () => [], root = document } = {}) {
  const lesson = await findLesson(spec?.lesson);
  if (!lesson || !anchor) return null;
  document.getElementById("lesson-banner")?.remove();
  anchor.before(lessonBanner(lesson, extra(lesson)));
  highlightPanel(lesson.panel, root);
  return lesson;
}

/** Start every variant of a lesson as the caller's runs, then open them on /compare. */
export async function runVariants(lesson) {
  const ids = [];
  for (const v of lesson.variants || []) {
    const res = await api.createRun(v.spec);
    ids.push(res.id);
  }
  location.href = `/compare?runs=${ids.map(encodeURIComponent).join(",")}`;
  return ids;
}
