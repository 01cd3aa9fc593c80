// A loss curve on a canvas: cheap enough for thirty cards on one page. Points are kept
// bounded (every other one is dropped when the buffer doubles), so a long run costs the
// same to draw as a short one.
const MAX_POINTS = 400;

export class Series {
  constructor() { this.x = []; this.y = []; this.stride = 1; this.count = 0; }
  push(x, y) {
    if (!Number.isFinite(y)) return;
    if (this.count++ % this.stride !== 0) return;
    this.x.push(x); this.y.push(y);
    if (this.x.length > MAX_POINTS) {
      this.x = this.x.filter((_, i) => i % 2 === 0); this.y = this.y.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
    }
  }
}

/** Draw series [{series, color}] on a canvas, sharing one x and y range (log y when it spans decades). */
export function draw(canvas, lines) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = 4;
  ctx.clearRect(0, 0, w, h);
  const all = lines.flatMap((l) => l.series.y).filter((v) => v > 0);
  const xs = lines.flatMap((l) => l.series.x);
  if (!all.length || !xs.length) return;
  const logY = Math.max(...all) / Math.min(...all) > 100;
  const f = (v) => (logY ? Math.log10(Math.max(v, 1e-12)) : v);
  const ys = all.map(f);
  const y0 = Math.min(...ys), y1 = Math.max(...ys) || y0 + 1;
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  const sx = (x) => pad + ((x - x0) / (x1 - x0 || 1)) * (w - 2 * pad);
  const sy = (y) => h - pad - ((f(y) - y0) / (y1 - y0 || 1)) * (h - 2 * pad);
  for (const { series, color } of lines) {
    ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.beginPath();
    series.x.forEach((x, i) => (i ? ctx.lineTo(sx(x), sy(series.y[i])) : ctx.moveTo(sx(x), sy(series.y[i]))));
    ctx.stroke();
  }
}
