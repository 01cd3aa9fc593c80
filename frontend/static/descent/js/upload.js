// The "upload" dataset: a CSV/NPZ posted to /api/uploads; its id goes into data.upload_id.
import { api } from "./api.js";
import { h, fmt } from "./dom.js";

export function renderUpload(ctx) {
  const id = ctx.get(["data", "upload_id"]);
  const info = h("div", { class: "upload-info" }, id ? `Using upload ${id}` : "No file uploaded yet.");
  const input = h("input", { type: "file", accept: ".csv,.npz,text/csv", "aria-label": "data file",
    onchange: async () => {
      const file = input.files[0];
      if (!file) return;
      info.textContent = `Uploading ${file.name}…`;
      info.className = "upload-info";
      try {
        const res = await api.upload(file);
        info.textContent = `${file.name}: ${fmt(res.n_samples)} samples, input shape (${[].concat(res.input_shape).join(", ")}), ` +
          `${res.n_classes ? `${res.n_classes} classes` : "regression"}`;
        ctx.set(["data", "upload_id"], res.id);
      } catch (err) {
        info.className = "upload-info field-error";
        info.textContent = err.errors.map((e) => e.message).join("; ");
      }
    } });
  return h("div", { class: "field upload", "data-path": "/data/upload_id" },
    h("label", { class: "field-label" }, "Data file (CSV: last column is the label; or NPZ with x, y)"), input, info);
}
