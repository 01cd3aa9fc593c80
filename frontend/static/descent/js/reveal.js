// After Train the results should be on screen. On a wide screen they already are (the
// builder is a rail beside them); on a phone they sit below the folded builder, so the
// page scrolls them into view, keeping the run's status line above the loss chart when
// both fit, and keeps them there while panels and stat tiles grow above the chart, until
// the person scrolls or types themselves (issue 7 §2, phone).

const reducedMotion = () => window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;

/** The band of the viewport not covered by sticky or fixed bars (top bar, Train bar). */
export function visibleBand(bars = document.querySelectorAll(".topbar, .train-bar")) {
  let top = 0;
  let bottom = window.innerHeight;
  for (const el of bars) {
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    if (!r.height) continue;
    if (cs.position === "fixed") {
      if (r.top > window.innerHeight / 2) bottom = Math.min(bottom, r.top);
      else top = Math.max(top, r.bottom);
    } else if (cs.position === "sticky" && cs.top !== "auto") {
      // where it sticks once scrolled, not where it sits in the flow now
      top = Math.max(top, parseFloat(cs.top) + r.height);
    }
  }
  return { top, bottom };
}

/** Whether `el` is wholly inside the visible band. */
export function inView(el, band = visibleBand()) {
  const r = el.getBoundingClientRect();
  return r.height > 0 && r.top >= band.top - 1 && r.bottom <= band.bottom + 1;
}

/**
 * Scroll so that `target` is wholly visible, with `anchor` (above it) at the top of the
 * band when both fit. Returns false when nothing had to move.
 */
export function reveal(target, anchor = target, { smooth = true } = {}) {
  const band = visibleBand();
  if (inView(target, band)) return false;
  const t = target.getBoundingClientRect();
  const a = anchor.getBoundingClientRect();
  let dy = a.top - band.top;                                     // 1. the anchor at the top
  if (t.bottom - dy > band.bottom) dy = t.bottom - band.bottom;  // 2. unless the target would be cut off
  if (t.top - dy < band.top) dy = t.top - band.top;              // 3. never past the target's own top
  window.scrollBy({ top: dy, behavior: smooth && !reducedMotion() ? "smooth" : "auto" });
  return true;
}

/**
 * Keep `target()` (it may not exist yet) in view while `root` grows, until the person
 * scrolls, touches or types, or `stop()` is called. `onFirst` runs once, at the first
 * scroll (the caller moves focus there).
 */
export function follow(root, target, anchor, { onFirst = () => {}, maxMs = 20_000 } = {}) {
  let done = false;
  let moved = false;
  const check = () => {
    const el = target();
    if (done || !el || el.hidden) return;
    if (reveal(el, anchor()) && !moved) { moved = true; onFirst(el); }
  };
  const ro = new ResizeObserver(() => requestAnimationFrame(check));
  ro.observe(root);
  const stop = () => {
    if (done) return;
    done = true;
    ro.disconnect();
    for (const [ev, fn] of handlers) window.removeEventListener(ev, fn, true);
    clearTimeout(timer);
  };
  // the person takes over: a wheel, a touch, a key (not the Enter that pressed Train)
  const handlers = [["wheel", stop], ["touchstart", stop], ["keydown", (e) => { if (e.key !== "Enter") stop(); }]];
  for (const [ev, fn] of handlers) window.addEventListener(ev, fn, { capture: true, passive: true });
  const timer = setTimeout(stop, maxMs);
  requestAnimationFrame(check);
  return stop;
}
