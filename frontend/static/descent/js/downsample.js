// Long series, drawn short: a Series keeps every point (hover, CSV, the best value)
// and a drawn copy of at most `limit` points. Points are grouped into buckets of `w`
// consecutive points and each full bucket is drawn as its minimum and maximum, in x
// order (the min/max envelope that TensorBoard and W&B draw for long runs), so spikes
// and the best point always stay visible. The bucket width doubles whenever the drawn
// copy would exceed the limit, so keeping it up to date costs O(1) amortized per point.
// Pure module: no DOM, importable by node (tests/js/downsample.test.mjs).

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

/**
 * One bucket of points [i, j) of xs/ys pushed onto dx/dy as its min and max in x order
 * (one point when they coincide); a bucket without any finite value becomes one gap,
 * and one with some (a diverging stretch) ends with a gap so the line still breaks.
 */
function pushBucket(xs, ys, i, j, dx, dy) {
  let lo = -1;
  let hi = -1;
  let gap = -1;
  for (let k = i; k < j; k++) {
    const v = ys[k];
    if (!isNum(v)) { gap = k; continue; }
    if (lo < 0 || v < ys[lo]) lo = k;
    if (hi < 0 || v > ys[hi]) hi = k;
  }
  if (lo < 0) { dx.push(xs[i]); dy.push(null); return; }
  const a = Math.min(lo, hi);
  const b = Math.max(lo, hi);
  dx.push(xs[a]); dy.push(ys[a]);
  if (b !== a) { dx.push(xs[b]); dy.push(ys[b]); }
  if (gap >= 0) { dx.push(xs[Math.max(gap, b)]); dy.push(null); }
}

/** Min/max downsampling of a whole series to at most `limit` points (limit >= 4). */
export function minMaxDownsample(xs, ys, limit) {
  const n = xs.length;
  if (n <= limit) return { x: xs.slice(), y: ys.slice() };
  const w = Math.ceil((2 * n) / limit);
  const dx = [];
  const dy = [];
  for (let i = 0; i < n; i += w) pushBucket(xs, ys, i, Math.min(n, i + w), dx, dy);
  return { x: dx, y: dy };
}

export class Series {
  constructor(limit = 2000) {
    this.limit = Math.max(8, limit);
    this.x = [];       // every point
    this.y = [];
    this.w = 1;        // points per bucket; 1 = drawn as is
    this.dx = [];      // the drawn copy
    this.dy = [];
    this.done = 0;     // points already folded into full buckets
    this.tail = 0;     // drawn points that stand for the unfinished bucket
    this.drawn = 0;    // points of x that the drawn copy covers
  }

  get length() { return this.x.length; }

  push(x, y) { this.x.push(x); this.y.push(y); }

  /** True when points arrived since the last sync(). */
  get dirty() { return this.drawn !== this.x.length; }

  /**
   * Bring the drawn copy up to date.
   * @returns {null | {append: {x, y}} | {reset: true}} null: nothing new; append: the
   *   drawn copy only grew by these points; reset: redraw the whole drawn copy.
   */
  sync() {
    const n = this.x.length;
    if (n === this.drawn) return null;
    if (this.w === 1 && n <= this.limit) {
      const x = this.x.slice(this.drawn, n);
      const y = this.y.slice(this.drawn, n);
      for (let k = 0; k < x.length; k++) { this.dx.push(x[k]); this.dy.push(y[k]); }
      this.done = this.drawn = n;
      return { append: { x, y } };
    }
    // drop the unfinished bucket's raw points, fold full buckets, put the new tail back
    this.dx.length -= this.tail;
    this.dy.length -= this.tail;
    for (;;) {
      while (this.done + this.w <= n) {
        pushBucket(this.x, this.y, this.done, this.done + this.w, this.dx, this.dy);
        this.done += this.w;
      }
      if (this.dx.length + 4 <= this.limit) break; // + the unfinished bucket, at most 4 points
      this.w *= 2; // too many: rebuild with buckets twice as wide
      this.dx = []; this.dy = []; this.done = 0;
    }
    // the unfinished bucket: its min and max too, and its last point (the newest value)
    const before = this.dx.length;
    if (this.done < n) {
      pushBucket(this.x, this.y, this.done, n, this.dx, this.dy);
      if (this.dx[this.dx.length - 1] !== this.x[n - 1]) { this.dx.push(this.x[n - 1]); this.dy.push(this.y[n - 1]); }
    }
    this.tail = this.dx.length - before;
    this.drawn = n;
    return { reset: true };
  }

  /** Index of the smallest finite y (the best loss), or -1. */
  argmin() {
    let best = -1;
    for (let k = 0; k < this.y.length; k++) if (isNum(this.y[k]) && (best < 0 || this.y[k] < this.y[best])) best = k;
    return best;
  }

  clear() {
    this.x = []; this.y = []; this.w = 1; this.dx = []; this.dy = [];
    this.done = this.tail = this.drawn = 0;
  }
}
