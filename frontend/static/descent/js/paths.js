// A JSON pointer of the spec as the person sees the field: "/model/layers/0/units" is
// "Layer 1 › units" (cards are numbered from 1), "/optimizer/lr" is "Optimizer ›
// learning rate". Pure: tests/js/paths.test.mjs.

const WORDS = {
  lr: "learning rate", n_samples: "samples", batch_size: "batch size", warmup_epochs: "warm-up epochs",
  weight_decay: "weight decay", label_noise: "label noise", grad_clip_norm: "clip grad norm",
  grad_clip_value: "clip grad value", label_smoothing: "label smoothing", max_norm: "max norm",
  early_stopping: "early stopping", step_size: "step size", min_lr: "min lr", max_lr: "max lr",
  upload_id: "upload", random_labels: "random labels", n_classes: "classes", augment: "Augmentation",
};

const word = (k) => WORDS[k] || String(k).replace(/_/g, " ");
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);

export function describePath(path) {
  if (!path || path === "/") return "The setup";
  const parts = path.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  const out = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const next = parts[i + 1];
    if (/^\d+$/.test(next ?? "") && (p === "layers" || p === "augment")) {
      const noun = p === "layers" ? (out.length && parts[i - 2] === "layers" ? "inner layer" : "Layer") : "Augmentation";
      out.push(`${cap(noun)} ${Number(next) + 1}`);
      i += 1;
      continue;
    }
    if (p === "model" && parts[i + 1] === "layers") continue; // "Layer 2", not "Model › Layer 2"
    out.push(out.length ? word(p) : cap(word(p)));
  }
  return out.join(" › ");
}
