// Editor for a list of tagged items — the model's layers (residual blocks nest their
// own list) and the augmentation list. Item types and their fields come from the
// schema's discriminated union, so a new layer type on the server shows up here.
import { h } from "./dom.js";
import { objectFields } from "./fields.js";
import { pointer } from "./schema.js";

const WEIGHTED = new Set(["dense", "conv2d"]);

/**
 * @param ctx      builder context (get/set/schema/…)
 * @param path     path of the array in the spec, e.g. ["model", "layers"]
 * @param types    {typeName: objectSchema}
 * @param opts     {noun, fresh(type) -> new item, initSchema (layers only), depth}
 */
export function listEditor(ctx, path, types, opts) {
  const items = ctx.get(path) || [];
  const names = Object.keys(types);
  const move = (i, j) => {
    const a = [...items];
    [a[i], a[j]] = [a[j], a[i]];
    ctx.set(path, a, true);
  };
  const cards = items.map((item, i) => {
    const p = [...path, i];
    const typeSel = h("select", { class: "type-select", "aria-label": `${opts.noun} ${i + 1} type`,
      onchange: (e) => ctx.set(p, opts.fresh(e.target.value), true) },
    names.map((t) => h("option", { value: t }, t)));
    typeSel.value = item.type;
    const schema = types[item.type];
    const fields = schema ? objectFields(ctx, schema, p, { skip: ["type", "init", "layers"] }) : [];
    const card = h("li", { class: `item-card type-${item.type}`, "data-path": pointer(p) },
      h("div", { class: "item-head" },
        h("span", { class: "item-index" }, `${i + 1}`), typeSel,
        h("span", { class: "item-tools" },
          h("button", { type: "button", class: "icon", title: "move up", "aria-label": "move up", disabled: i === 0,
            onclick: () => move(i, i - 1) }, "↑"),
          h("button", { type: "button", class: "icon", title: "move down", "aria-label": "move down",
            disabled: i === items.length - 1, onclick: () => move(i, i + 1) }, "↓"),
          h("button", { type: "button", class: "icon danger", title: "remove", "aria-label": `remove ${opts.noun}`,
            onclick: () => { const a = [...items]; a.splice(i, 1); ctx.set(path, a, true); } }, "✕"))),
      fields.length ? h("div", { class: "fields" }, fields) : null);
    // Only layers with weights of their own can be initialized differently.
    if (opts.initSchema && WEIGHTED.has(item.type)) card.append(initOverride(ctx, p, opts.initSchema));
    if (item.type === "residual") {
      card.append(h("div", { class: "nested" }, h("div", { class: "nested-title" }, "inside the block (output + input)"),
        listEditor(ctx, [...p, "layers"], types, { ...opts, depth: (opts.depth || 0) + 1 })));
    }
    return card;
  });
  const addSel = h("select", { "aria-label": `new ${opts.noun} type`, class: "add-type" },
    names.map((t) => h("option", { value: t }, t)));
  addSel.value = opts.defaultType || names[0];
  const add = h("button", { type: "button", class: "btn add-item", onclick: () => {
    ctx.set(path, [...items, opts.fresh(addSel.value)], true);
  } }, `+ Add ${opts.noun}`);
  return h("div", { class: "list-editor", "data-path": pointer(path) },
    items.length ? h("ol", { class: "items" }, cards) : h("p", { class: "muted" }, `No ${opts.noun}s.`),
    h("div", { class: "add-row" }, addSel, add));
}

// Per-layer init override, folded away unless the layer has one.
function initOverride(ctx, p, initSchema) {
  const ip = [...p, "init"];
  const has = !!ctx.get(ip);
  const box = h("input", { type: "checkbox", checked: has,
    onchange: (e) => ctx.set(ip, e.target.checked ? { weights: "xavier_uniform" } : undefined, true) });
  return h("div", { class: "init-override", "data-path": pointer(ip) },
    h("label", { class: "check" }, box, " override init"),
    has ? h("div", { class: "fields" }, objectFields(ctx, initSchema, ip)) : null);
}
