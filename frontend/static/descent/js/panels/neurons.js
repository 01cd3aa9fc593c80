// Inside the network (TensorFlow Playground's view), from `neurons` events:
// dense nets on 2-D data: a node per neuron (≤ 8 a layer, "+N" beyond) with its output
// over the input plane as a heatmap, edges coloured by the weight's sign and as wide as
// its magnitude, input nodes showing the features (x1, x2, x1², …);
// image nets: the first conv layer's filters and its feature maps for one image.
// Every epoch is kept, and the scrubber moves through them (live and in replay).
import { h } from "../dom.js";
import { makePanel } from "./panel.js";
import { scheduler } from "../frame.js";

const NODE = 44;     // px of a neuron's heatmap
const GAP = 10;      // px between nodes of a column
const NEG = [31, 119, 180];  // blue, as the boundary's class 0
const POS = [255, 127, 14];  // orange, class 1

/** [r,g,b] for v in [-1, 1]: blue through white to orange. */
export function diverging(v) {
  const t = Math.max(-1, Math.min(1, v || 0));
  const end = t < 0 ? NEG : POS;
  const a = Math.abs(t);
  return end.map((c) => Math.round(255 + (c - 255) * a));
}

/** Draw a flat row-major grid of values in [-1, 1] into a w×w box; rows follow y upwards. */
function drawGrid(ctx, values, n, x, y, size, flipY = true) {
  const img = ctx.createImageData(n, n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const [R, G, B] = diverging(values[r * n + c]);
      const row = flipY ? n - 1 - r : r;  // grid row 0 is the lowest y: draw it at the bottom
      const k = (row * n + c) * 4;
      img.data[k] = R; img.data[k + 1] = G; img.data[k + 2] = B; img.data[k + 3] = 255;
    }
  }
  const tmp = document.createElement("canvas");
  tmp.width = n; tmp.height = n;
  tmp.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, x, y, size, size);
  ctx.strokeStyle = "#8a94a6";
  ctx.lineWidth = 1;
  ctx.strokeRect(x + 0.5, y + 0.5, size - 1, size - 1);
}

const unit = (q) => q.map((v) => v / 100);  // the event's integers back to [-1, 1]

function normalized(rows) {
  const flat = rows.flat();
  const m = Math.max(1e-12, ...flat.map(Math.abs));
  return flat.map((v) => v / m);
}

export class NeuronsPanel {
  /** @param boundary the run view's BoundaryPanel: the scrubber shows its epoch there too */
  constructor(grid, boundary = null) {
    this.grid = grid;
    this.frames = new Map();  // epoch -> boundary event, for the scrubber
    if (boundary && typeof boundary.add === "function") {
      const show = boundary.add.bind(boundary);
      this.showBoundary = show;
      boundary.add = (ev) => { this.keepFrame(ev); if (this.follow) show(ev); };
    }
    this.panel = null;
    this.history = [];
    this.inputs = null;
    this.image = null;
    this.follow = true;  // the scrubber sticks to the newest epoch until moved
  }

  ensure() {
    if (this.panel) return;
    this.panel = makePanel(this.grid, { id: "neurons", title: "Inside the network", order: 14, wide: true,
      help: "Each square is one neuron's output over the input plane (orange positive, blue negative). " +
        "Lines are weights: orange positive, blue negative, thicker = larger." });
    this.canvas = h("canvas", { class: "neurons-canvas", role: "img", "aria-label": "network diagram" });
    this.scrub = h("input", { type: "range", min: "0", max: "0", value: "0", id: "neurons-epoch",
      "aria-label": "epoch shown", oninput: () => { this.follow = Number(this.scrub.value) === this.history.length - 1; this.draw(); } });
    this.label = h("span", { class: "muted", id: "neurons-epoch-label" });
    this.note = h("p", { class: "muted" });
    this.panel.body.append(h("div", { class: "neurons-scrub" }, h("span", {}, "epoch"), this.scrub, this.label),
      this.canvas, this.note);
    this.panel.show();
    // Drawn through the page's frame scheduler (frame.js) like every chart; in a run view
    // that draws only what shows, not while the panel is out of view.
    this.wait = !!this.grid.closest?.("[data-offscreen='wait']");
    this.visible = true;
    this.io = typeof IntersectionObserver === "function" ? new IntersectionObserver((entries) => {
      this.visible = entries[entries.length - 1].isIntersecting;
      if (this.visible && this.dirty) this.request();
    }, { rootMargin: "150px" }) : null;
    this.io?.observe(this.panel.el);
  }

  /**
   * Redraw on a coming frame (at most ten times a second), once the panel is in view;
   * `force`: in view or not (the run ended: every panel shows its final state).
   */
  request(force = false) {
    this.dirty = true;
    this.forced ||= force;
    if (this.wait && !this.visible && !this.forced) return;
    scheduler().request(this, () => {
      if (this.wait && !this.visible && !this.forced) return;
      this.dirty = this.forced = false;
      this.draw();
    }, 100, "panel-neurons");
  }

  /** The run ended: draw the newest epoch even out of view. */
  drawFinal() { if (this.panel && this.dirty) this.request(true); }

  add(ev) {
    if (ev.available === false) {  // the engine said why there is no view for this run
      this.ensure();
      this.note.textContent = `No neuron view: ${ev.reason}.`;
      this.canvas.hidden = true;
      this.scrub.parentElement.hidden = true;
      return;
    }
    this.ensure();
    if (ev.kind === "conv" && !this.convHelp) {
      this.convHelp = true;
      const help = this.panel.el.querySelector(".help");
      if (help) {
        help.textContent = "The first conv layer's filters (what each one looks for) and its feature maps for " +
          "one validation image (where it found it). Orange positive, blue negative.";
      }
    }
    if (ev.inputs) this.inputs = ev.inputs;
    if (ev.image) this.image = ev.image;
    this.history.push(ev);
    this.scrub.max = String(this.history.length - 1);
    if (this.follow) this.scrub.value = String(this.history.length - 1);
    this.request();
  }

  keepFrame(ev) {
    this.frames.set(ev.epoch, ev);
    if (this.frames.size > 150) {  // keep the epochs the scrubber can reach, and the newest
      const wanted = new Set(this.history.map((e) => e.epoch));
      const newest = Math.max(...this.frames.keys());
      for (const k of this.frames.keys()) if (!wanted.has(k) && k !== newest) this.frames.delete(k);
    }
  }

  /** The boundary of the scrubbed epoch (or the newest one before it). */
  syncBoundary(epoch) {
    if (!this.showBoundary || !this.frames.size) return;
    let best = null;
    for (const [k, ev] of this.frames) if (k <= epoch && (!best || k > best.epoch)) best = ev;
    if (best && best !== this.shownFrame) { this.shownFrame = best; this.showBoundary(best); }
  }

  /** The event shown now (the scrubber's epoch). */
  current() { return this.history[Number(this.scrub.value)] || this.history[this.history.length - 1]; }

  draw() {
    const ev = this.current();
    if (!ev) return;
    this.label.textContent = String(ev.epoch);
    this.syncBoundary(this.follow ? Infinity : ev.epoch);
    if (ev.kind === "conv") this.drawConv(ev);
    else this.drawDense(ev);
  }

  drawDense(ev) {
    const cols = [{ name: "input", nodes: (this.inputs || []).map((i) => ({ grid: unit(i.grid), label: i.name })),
      total: ev.n_inputs ?? (this.inputs || []).length }];
    for (const layer of ev.layers) {
      cols.push({ name: layer.name, total: layer.units, weights: layer.weights, activation: layer.activation,
        nodes: layer.grids.map((g) => ({ grid: unit(g) })) });
    }
    const rows = Math.max(...cols.map((c) => c.nodes.length + (c.total > c.nodes.length ? 1 : 0)));
    const colW = Math.max(NODE + 60, Math.floor((this.panel.body.clientWidth || 640) / cols.length));
    const W = colW * cols.length;
    const H = rows * (NODE + GAP) + 40;
    const dpr = window.devicePixelRatio || 1;
    const c = this.canvas;
    c.width = W * dpr; c.height = H * dpr;
    c.style.width = `${W}px`; c.style.height = `${H}px`;
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const pos = (ci, ni, n) => {
      const top = (H - 24 - n * (NODE + GAP)) / 2 + 20;
      return [ci * colW + (colW - NODE) / 2, top + ni * (NODE + GAP)];
    };
    // 1. edges (behind the nodes)
    for (let ci = 1; ci < cols.length; ci++) {
      const w = cols[ci].weights || [];
      const m = Math.max(1e-12, ...w.flat().map(Math.abs));
      w.forEach((row, o) => row.forEach((v, i) => {
        if (i >= cols[ci - 1].nodes.length) return;
        const [x0, y0] = pos(ci - 1, i, cols[ci - 1].nodes.length);
        const [x1, y1] = pos(ci, o, cols[ci].nodes.length);
        const [r, g, b] = v < 0 ? NEG : POS;
        ctx.strokeStyle = `rgba(${r},${g},${b},${0.25 + 0.6 * Math.abs(v) / m})`;
        ctx.lineWidth = 0.5 + 4 * Math.abs(v) / m;
        ctx.beginPath();
        ctx.moveTo(x0 + NODE, y0 + NODE / 2);
        ctx.lineTo(x1, y1 + NODE / 2);
        ctx.stroke();
      }));
    }
    // 2. nodes, labels, "+N"
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillStyle = "#1d2433";
    cols.forEach((col, ci) => {
      ctx.textAlign = "center";
      ctx.fillText(ci === 0 ? "features" : col.name, ci * colW + colW / 2, 12);
      col.nodes.forEach((node, ni) => {
        const [x, y] = pos(ci, ni, col.nodes.length);
        drawGrid(ctx, node.grid, ev.resolution, x, y, NODE);
        if (node.label) { ctx.textAlign = "right"; ctx.fillText(node.label, x - 4, y + NODE / 2 + 4); }
      });
      if (col.total > col.nodes.length) {
        const [x, y] = pos(ci, col.nodes.length, col.nodes.length);
        ctx.textAlign = "center";
        ctx.fillText(`+${col.total - col.nodes.length}`, x + NODE / 2, y + 14);
      }
    });
    const names = cols.slice(1).map((col) => `${col.name} (${col.total})`).join(", ");
    c.setAttribute("aria-label", `Network at epoch ${ev.epoch}: inputs ${cols[0].nodes.map((n) => n.label).join(", ")}; layers ${names}`);
    this.note.textContent = "";
  }

  drawConv(ev) {
    const k = ev.filters[0]?.length || 3;
    const S = 40;
    const filters = ev.filters.length;
    const W = Math.max(filters, ev.maps.length + 1) * (S + 8) + 8;
    const H = 2 * (S + 28) + 10;
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    c.width = W * dpr; c.height = H * dpr; c.style.width = `${W}px`; c.style.height = `${H}px`;
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillStyle = "#1d2433";
    ctx.textAlign = "left";
    ctx.fillText(`${ev.layer}: ${filters} of ${ev.filters_total} filters (${k}×${k})`, 8, 14);
    ev.filters.forEach((f, i) => drawGrid(ctx, normalized(f), k, 8 + i * (S + 8), 20, S, false));
    ctx.fillText(`feature maps of one validation image (${ev.maps.length} of ${ev.maps_total})`, 8, S + 44);
    if (this.image) drawGrid(ctx, normalized(this.image), this.image.length, 8, S + 50, S, false);
    ev.maps.forEach((m, i) => drawGrid(ctx, normalized(m), m.length, 8 + (i + 1) * (S + 8), S + 50, S, false));
    c.setAttribute("aria-label", `First conv layer at epoch ${ev.epoch}: ${filters} filters and ${ev.maps.length} feature maps`);
  }

  destroy() {
    scheduler().cancel(this);
    this.io?.disconnect();
    this.panel?.el.remove();
  }
}
