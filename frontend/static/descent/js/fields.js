// Form controls generated from field descriptions (see schema.js describe()).
// Controls write straight into the spec through ctx.set(path, value, rerender):
// typing in a number only updates the spec (focus stays put), while selects and
// checkboxes may change which fields apply, so they ask for a re-render.
import { h } from "./dom.js";
import { pointer } from "./schema.js";

const UNSET = "";

export function label(name) {
  return name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/**
 * A typed number, or the text itself when it is not one ("1e"): kept in the spec so the
 * server names the field in the same round as every other problem, never dropped.
 * (Number inputs are text inputs with inputmode="decimal": an <input type="number">
 * reports "" for "1e", which is how a half-typed value used to vanish.)
 */
export function parseNum(raw, integer) {
  const s = String(raw).trim();
  if (s === "") return undefined;
  const v = Number(s);
  if (!Number.isFinite(v) || /^0x/i.test(s)) return s;
  return integer && Number.isInteger(v) ? v : v;
}

/** Mark a text field whose content is not a number at once (the server's message follows). */
function flagNumber(input, value) {
  const bad = typeof value === "string";
  if (bad) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function wrap(path, title, control, desc, inline = false) {
  // the label names its control (for=), and the help text describes it
  const target = control.id ? control : control.querySelector?.("input, select, textarea");
  const helpId = target?.id && desc?.description ? `${target.id}-help` : null;
  if (helpId) target.setAttribute("aria-describedby", helpId);
  return h("div", { class: `field${inline ? " inline" : ""}`, "data-path": pointer(path) },
    h("label", { class: "field-label", title: desc?.description || "", for: target?.id || null }, title),
    control,
    desc?.description ? h("small", { class: "field-help", id: helpId }, desc.description) : null);
}

/** One leaf control for a described property at `path`. */
export function leaf(ctx, desc, path, title) {
  const cur = ctx.get(path);
  const dflt = ctx.defaultFor(path, desc);
  const value = cur !== undefined ? cur : dflt;
  const id = `f-${pointer(path).slice(1).replace(/[^a-z0-9]+/gi, "-")}`;
  const set = (v, rerender = false) => ctx.set(path, v, rerender);

  switch (desc.kind) {
    case "boolean": {
      if (desc.nullable) {
        const sel = h("select", { id, onchange: (e) => set(e.target.value === UNSET ? undefined : e.target.value === "true", true) },
          h("option", { value: UNSET }, "default"), h("option", { value: "true" }, "yes"), h("option", { value: "false" }, "no"));
        sel.value = cur === undefined || cur === null ? UNSET : String(cur);
        return wrap(path, title, sel, desc);
      }
      const box = h("input", { type: "checkbox", id, checked: !!value, onchange: (e) => set(e.target.checked, true) });
      return h("div", { class: "field check-field", "data-path": pointer(path) },
        h("label", { class: "check", title: desc.description || "" }, box, " ", title));
    }
    case "enum": {
      const opts = desc.enum.map((v) => h("option", { value: String(v) }, String(v)));
      if (desc.nullable) opts.unshift(h("option", { value: UNSET }, ctx.unsetLabel?.(path) || "default"));
      const sel = h("select", { id, onchange: (e) => {
        const raw = e.target.value;
        set(raw === UNSET ? undefined : desc.enum.find((v) => String(v) === raw), true);
      } }, opts);
      sel.value = value === undefined || value === null ? (desc.nullable ? UNSET : String(desc.enum[0])) : String(value);
      return wrap(path, title, sel, desc);
    }
    case "number": {
      const inp = h("input", { type: "text", id, inputmode: desc.integer ? "numeric" : "decimal", class: "num-input",
        spellcheck: false, autocomplete: "off",
        value: value === undefined || value === null ? "" : String(value),
        placeholder: desc.nullable ? "default" : "",
        oninput: (e) => { const v = parseNum(e.target.value, desc.integer); flagNumber(e.target, v); set(v); } });
      flagNumber(inp, cur);
      return wrap(path, title, inp, desc);
    }
    case "pair": {
      const v = Array.isArray(value) ? value : ["", ""];
      const ins = [0, 1].map((i) => h("input", { type: "text", inputmode: "decimal", class: "num-input", value: v[i] ?? "",
        placeholder: desc.nullable ? "default" : "", "aria-label": `${title} ${i + 1}`,
        oninput: () => {
          const a = ins.map((x) => parseNum(x.value, desc.integer));
          ins.forEach((x, k) => flagNumber(x, a[k]));
          set(a.every((x) => x === undefined) ? undefined : a.map((x) => (x === undefined ? null : x)));
        } }));
      return wrap(path, title, h("div", { class: "pair" }, ins[0], ins[1]), desc);
    }
    case "int-list": {
      const inp = h("input", { type: "text", id, value: Array.isArray(value) ? value.join(", ") : "",
        placeholder: "e.g. 30, 60", oninput: (e) => {
          const parts = e.target.value.split(/[,\s]+/).filter(Boolean);
          set(parts.map((p) => parseNum(p, desc.integer)));
        } });
      return wrap(path, title, inp, desc);
    }
    case "int-or-enum": {
      const listId = `${id}-opts`;
      const inp = h("input", { type: "text", id, list: listId, value: value ?? "",
        oninput: (e) => {
          const raw = e.target.value.trim();
          set(raw === "" ? undefined : (/^-?\d+$/.test(raw) ? Number(raw) : raw));
        } });
      return wrap(path, title, h("span", {}, inp, h("datalist", { id: listId }, desc.enum.map((v) => h("option", { value: v })))), desc);
    }
    case "multi-enum": {
      const chosen = new Set(Array.isArray(value) ? value : []);
      const boxes = desc.enum.map((v) => h("label", { class: "check chip" },
        h("input", { type: "checkbox", value: v, checked: chosen.has(v), onchange: (e) => {
          if (e.target.checked) chosen.add(v); else chosen.delete(v);
          set(desc.enum.filter((x) => chosen.has(x)));
        } }), " ", v));
      return wrap(path, title, h("div", { class: "chips", role: "group", "aria-label": title }, boxes), desc);
    }
    case "string": {
      const inp = h("input", { type: "text", id, value: value ?? "", maxlength: desc.maxLength,
        oninput: (e) => set(e.target.value === "" && desc.nullable ? undefined : e.target.value) });
      return wrap(path, title, inp, desc);
    }
    default: {
      // Anything the builder has no control for yet is still editable as JSON.
      const ta = h("textarea", { id, rows: 2, value: value === undefined ? "" : JSON.stringify(value),
        oninput: (e) => { try { set(e.target.value.trim() ? JSON.parse(e.target.value) : undefined); } catch { /* typing */ } } });
      return wrap(path, title, ta, desc);
    }
  }
}

/**
 * All properties of an object schema at `path`, in schema order, minus `skip` and
 * minus those ctx.visible() hides. Nested objects become fieldsets; an optional
 * (nullable) object gets an "enable" checkbox.
 */
export function objectFields(ctx, objSchema, path, { skip = [] } = {}) {
  const out = [];
  for (const [name, prop] of Object.entries(ctx.schema.props(objSchema))) {
    const p = [...path, name];
    if (skip.includes(name) || !ctx.visible(p)) continue;
    const desc = ctx.schema.describe(prop);
    const title = ctx.label(p, name);
    if (desc.kind !== "object") { out.push(leaf(ctx, desc, p, title)); continue; }
    const present = ctx.get(p) !== undefined && ctx.get(p) !== null;
    const body = desc.nullable && !present ? [] : objectFields(ctx, desc.obj, p);
    const toggle = desc.nullable ? h("label", { class: "check" }, h("input", { type: "checkbox", checked: present,
      onchange: (e) => ctx.set(p, e.target.checked ? {} : undefined, true) }), " ", title) : title;
    out.push(h("fieldset", { class: "subgroup", "data-path": pointer(p) }, h("legend", {}, toggle),
      desc.description ? h("small", { class: "field-help" }, desc.description) : null,
      h("div", { class: "fields" }, body)));
  }
  return out;
}
