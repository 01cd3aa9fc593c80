// The spec builder: the whole vocabulary of DESIGN.md as a form generated from the
// JSON Schema. The spec object is the single source of truth; controls write into
// it, and a change that alters which fields apply re-renders the form. What leaves
// the builder is output(): the spec without the fields that do not apply.
// Only what the user or a preset set is stored, so shared URLs stay short and the
// server fills in the rest with the same defaults the form displays.
import { h } from "./dom.js";
import { getIn, setIn, pointer } from "./schema.js";
import { leaf, objectFields, label } from "./fields.js";
import { listEditor } from "./listeditor.js";
import { vocab, familyOf } from "./vocab.js";

// Dataset families, each dataset's defaults and each optimizer's and schedule's fields
// come from the schema (x-descent, read by vocab.js): the server rejects any other, so
// the form shows exactly what it accepts. Fields every optimizer / schedule has:
const OPTIMIZER_COMMON = ["name", "lr"];
const SCHEDULE_COMMON = ["name", "warmup_epochs"];
// Hidden from the form but set by a control of its own: kept in the spec.
const HIDDEN_BUT_SET = new Set(["data.upload_id"]);

// Defaults the schema cannot state (pydantic default_factory fields).
export const DEFAULT_LAYERS = [{ type: "dense", units: 8, activation: "relu" }, { type: "dense", units: 8, activation: "relu" }];
const FALLBACK = { "data.features": ["x1", "x2"], "schedule.milestones": [] };
const AUGMENT_FRESH = { scale: { scale: [0.9, 1.1] }, erase: { scale: [0.02, 0.2] } };

const LABELS = {
  n_samples: "samples", label_noise: "label noise (fraction flipped)", random_labels: "random labels",
  lr: "learning rate", warmup_epochs: "warm-up epochs", l1: "L1", l2: "L2", weight_decay: "weight decay (decoupled)",
  grad_clip_norm: "clip grad norm", grad_clip_value: "clip grad value", batch_size: "batch size",
  max_seconds: "time limit (s)", n_classes: "classes", upload_id: "upload",
};

// Model first, then data and training; the details fold away (issue 7 §2).
const SECTIONS = [
  ["model", "Model"], ["data", "Data"], ["optimizer", "Optimizer"], ["training", "Training"],
  ["schedule", "Schedule"], ["loss", "Loss"], ["regularization", "Regularization"],
  ["augment", "Augmentation"], ["experiment", "Experiment"], ["mode", "Mode"], ["monitor", "Monitor"],
];
const OPEN_AT_FIRST = ["model", "data", "optimizer", "training"];

const keyOf = (path) => path.map((k) => (typeof k === "number" ? "*" : k)).join(".");

export class Builder {
  /**
   * @param root    element the form renders into
   * @param schema  Schema (schema.js)
   * @param opts    {onChange(spec), renderUpload(ctx) -> Node}
   */
  constructor(root, schema, opts = {}) {
    this.root = root;
    this.schema = schema;
    this.opts = opts;
    this.spec = {};
    this.errors = [];
    this.open = new Set(OPEN_AT_FIRST);
    this.optimizerFields = vocab.optimizerFields;
    this.scheduleFields = vocab.scheduleFields;
    const nameDefault = (section, fallback) => {
      const prop = schema.props(schema.section(section)).name;
      return (prop && schema.describe(prop).default) || fallback;
    };
    this.defaultOptimizer = nameDefault("optimizer", "adam");
    this.defaultSchedule = nameDefault("schedule", "constant");
  }

  /**
   * The spec to send (validate, Train, the URL hash): what the user set, minus every
   * field that does not apply to the current choices. The form keeps the rest in
   * `this.spec`, so switching momentum → adam → momentum brings the momentum back,
   * but adam never receives a momentum the server would reject.
   */
  output() {
    const out = structuredClone(this.spec);
    const prune = (node, path) => {
      if (Array.isArray(node)) { node.forEach((v, i) => prune(v, [...path, i])); return; }
      if (node === null || typeof node !== "object") return;
      for (const k of Object.keys(node)) {
        const p = [...path, k];
        if (this.applies(p)) prune(node[k], p);
        else delete node[k];
      }
    };
    prune(out, []);
    return out;
  }

  /** Whether a field of the spec means something with the current choices. */
  applies(path) {
    return HIDDEN_BUT_SET.has(keyOf(path)) || this.visible(path);
  }

  /** Replace the whole spec (a preset, a URL hash, "Edit in playground"). */
  load(spec) {
    this.spec = JSON.parse(JSON.stringify(spec || {}));
    // Materialize the structural defaults so the layer list can be edited in place.
    if (!getIn(this.spec, ["model", "layers"])) setIn(this.spec, ["model", "layers"], structuredClone(DEFAULT_LAYERS));
    if (!getIn(this.spec, ["model", "init"])) setIn(this.spec, ["model", "init"], { weights: "kaiming_normal", bias: "zeros" });
    this.errors = [];
    this.render();
    this.opts.onChange?.(this.output());
  }

  // ---- context used by fields.js / listeditor.js
  get(path) { return getIn(this.spec, path); }

  set(path, value, rerender = false) {
    setIn(this.spec, path, value);
    if (rerender) this.render();
    this.opts.onChange?.(this.output());
  }

  defaultFor(path, desc) {
    const k = keyOf(path);
    if (k in FALLBACK) return FALLBACK[k];
    // data fields a dataset sets itself (digits: all 1,797 images, no noise)
    if (path[0] === "data" && path.length === 2) {
      const own = vocab.datasetDefaults[this.get(["data", "dataset"]) || this.defaultDataset()];
      if (own && path[1] in own) return own[path[1]];
    }
    if (path[0] === "data" && path[1] === "split" && path.length === 3) {
      const own = vocab.datasetDefaults[this.get(["data", "dataset"]) || this.defaultDataset()];
      if (own?.split && path[2] in own.split) return own.split[path[2]];
    }
    return desc.hasDefault ? desc.default : undefined;
  }

  defaultDataset() {
    return this.schema.describe(this.schema.props(this.schema.section("data")).dataset || {}).default;
  }

  label(path, name) { return LABELS[name] || label(name); }

  unsetLabel(path) {
    const k = keyOf(path);
    if (k === "loss") return "auto (from the task)";
    if (k.endsWith("init.weights") || k.endsWith("init.bias")) return "inherit";
    return "default";
  }

  visible(path) {
    const k = keyOf(path);
    const ds = this.get(["data", "dataset"]) || this.defaultDataset();
    const family = familyOf(ds);
    const regression = family === "regression";
    const own = vocab.datasetDefaults[ds] || {};
    switch (k) {
      case "data.features": return family === "2d_classification";
      case "data.degree": return ds === "poly1d";
      case "data.n_classes": return ["gauss", "spiral"].includes(ds);
      case "data.noise": return family !== "upload" && "noise" in own; // a dataset without noise has no default for it
      case "data.n_samples": return family !== "upload";
      case "data.label_noise": case "data.random_labels": case "data.imbalance": return !regression;
      case "data.upload_id": return false; // the upload control sets it
      default: break;
    }
    if (k === "lr_finder") return this.get(["mode"]) === "lr_finder";
    if (path[0] === "optimizer" && path.length === 2 && !OPTIMIZER_COMMON.includes(path[1])) {
      const name = this.get(["optimizer", "name"]) || this.defaultOptimizer;
      return (this.optimizerFields[name] || []).includes(path[1]);
    }
    if (path[0] === "schedule" && path.length === 2 && !SCHEDULE_COMMON.includes(path[1])) {
      const name = this.get(["schedule", "name"]) || this.defaultSchedule;
      return (this.scheduleFields[name] || []).includes(path[1]);
    }
    if (k === "monitor.landscape.every_epochs") return this.get(["monitor", "landscape", "when"]) === "every";
    if (k === "monitor.landscape.resolution_y") return (this.get(["monitor", "landscape", "mode"]) || "2d") === "2d";
    if (k === "monitor.diagnostics_every") return this.get(["monitor", "diagnostics"]) !== false;
    if (k.startsWith("monitor.boundary_")) return this.get(["monitor", "boundary"]) !== false;
    if (/(^|\.)init\.(value|std|gain)$/.test(k)) return this.initFieldApplies(path);
    return true;
  }

  // gain scales xavier/orthogonal, std sets normal/uniform, value is the constant of "constant"
  initFieldApplies(path) {
    const base = path.slice(0, -1);
    const names = [this.get([...base, "weights"]), this.get([...base, "bias"])];
    const field = path[path.length - 1];
    if (field === "value") return names.includes("constant");
    if (field === "std") return names.includes("normal") || names.includes("uniform");
    return ["xavier_uniform", "xavier_normal", "orthogonal"].includes(names[0]);
  }

  // ---- rendering
  section(id, title, body) {
    const specKey = ["experiment"].includes(id) ? null : `/${id}`;
    const d = h("details", { class: "section", id: `section-${id}`, open: this.open.has(id), "data-path": specKey,
      ontoggle: () => { if (d.open) this.open.add(id); else this.open.delete(id); } },
    h("summary", {}, h("h2", {}, title)), h("div", { class: "section-body" }, body));
    return d;
  }

  render() {
    const s = this.schema;
    const root = s.doc;
    const top = (name) => leaf(this, s.describe(root.properties[name]), [name], this.label([name], name));
    const layerTypes = s.union(s.props(s.section("model")).layers);
    const augTypes = s.union(root.properties.augment);
    const body = {
      experiment: [top("name"), top("seed")],
      mode: [top("mode"), this.get(["mode"]) === "lr_finder"
        ? h("div", { class: "fields" }, objectFields(this, s.section("lr_finder"), ["lr_finder"])) : null],
      data: [objectFields(this, s.section("data"), ["data"]),
        this.get(["data", "dataset"]) === "upload" && this.opts.renderUpload ? this.opts.renderUpload(this) : null],
      model: [
        listEditor(this, ["model", "layers"], layerTypes, { noun: "layer", defaultType: "dense",
          initSchema: s.props(s.section("model")).init,
          fresh: (t) => (t === "residual" ? { type: t, layers: [{ type: "dense", units: 8, activation: "relu" }] } : { type: t }) }),
        h("small", { class: "field-help" }, "The output layer is added automatically from the task."),
        h("fieldset", { class: "subgroup", "data-path": "/model/init" }, h("legend", {}, "Initialization (all layers)"),
          h("div", { class: "fields" }, objectFields(this, s.props(s.section("model")).init, ["model", "init"]))),
      ],
      loss: [top("loss")],
      optimizer: objectFields(this, s.section("optimizer"), ["optimizer"]),
      schedule: objectFields(this, s.section("schedule"), ["schedule"]),
      regularization: objectFields(this, s.section("regularization"), ["regularization"]),
      augment: [listEditor(this, ["augment"], augTypes, { noun: "augmentation", defaultType: "gaussian_noise",
        fresh: (t) => ({ type: t, ...structuredClone(AUGMENT_FRESH[t] || {}) }) })],
      training: objectFields(this, s.section("training"), ["training"]),
      monitor: objectFields(this, s.section("monitor"), ["monitor"]),
    };
    const wrap = (b) => h("div", { class: "fields" }, b);
    this.root.replaceChildren(...SECTIONS.map(([id, title]) => this.section(id, title, wrap(body[id]))));
    this.markErrors(this.errors);
  }

  /** Put each server error next to the control of its path (or its nearest ancestor). */
  markErrors(errors) {
    this.errors = errors || [];
    for (const el of this.root.querySelectorAll(".field-error")) el.remove();
    for (const el of this.root.querySelectorAll(".has-error")) el.classList.remove("has-error");
    for (const el of this.root.querySelectorAll("[data-error-for]")) {
      el.removeAttribute("data-error-for");
      el.removeAttribute("aria-invalid");
      const rest = (el.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && !x.startsWith("field-error-"));
      if (rest.length) el.setAttribute("aria-describedby", rest.join(" "));
      else el.removeAttribute("aria-describedby");
    }
    this.errors.forEach((err, n) => {
      const target = this.fieldFor(err.path || "");
      if (!target) return;
      target.classList.add("has-error");
      const id = `field-error-${n}`;
      target.append(h("div", { class: "field-error", id, "data-error-path": err.path }, err.message));
      // the control itself says it is wrong and which message explains why
      const control = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
      if (control) {
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("data-error-for", err.path || "");
        const had = (control.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && !x.startsWith("field-error-"));
        control.setAttribute("aria-describedby", [...had, id].join(" "));
      }
      // Open a collapsed section so the message is visible.
      const sec = target.closest("details.section");
      if (sec && !sec.open) sec.open = true;
    });
  }

  fieldFor(path) {
    let p = path;
    while (p) {
      const el = this.root.querySelector(`[data-path="${CSS.escape(p)}"]`);
      if (el) return el;
      p = p.slice(0, p.lastIndexOf("/"));
    }
    return null;
  }

  focusPath(path) {
    const el = this.fieldFor(path);
    if (!el) return;
    el.scrollIntoView({ block: "center", behavior: "smooth" });
    el.querySelector("input, select, textarea")?.focus({ preventScroll: true });
  }
}

export { pointer };
