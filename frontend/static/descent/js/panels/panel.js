// Panel cards shared by the run view and its sub-panels.
import { h } from "../dom.js";

/** A titled card in the panel grid; the body is filled by whoever owns it. */
export function makePanel(grid, { id, title, help = "", wide = false, order = 50 }) {
  const body = h("div", { class: "panel-body" });
  const el = h("section", { class: `panel${wide ? " wide" : ""}`, id: `panel-${id}`, hidden: true,
    style: { order } },
  h("header", {}, h("h2", {}, title), help ? h("p", { class: "help" }, help) : null), body);
  grid.append(el);
  return { el, body, show() { el.hidden = false; } };
}

/** A chart container already in the page, so Plotly measures its real size. */
export function chartDiv(parent, cls = "chart") {
  const el = h("div", { class: cls });
  parent.append(el);
  return el;
}

