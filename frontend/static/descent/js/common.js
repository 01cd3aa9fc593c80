// Page chrome shared by both pages: projector mode and the run-page header bits.
import { setProjector } from "./charts.js";

const KEY = "descent.projector";

/** Wire the projector toggle: bigger type everywhere, remembered per browser. */
export function initProjector(button) {
  const apply = (on) => {
    // on <html>: rem units follow the root font size, so one class scales the whole page
    document.documentElement.classList.toggle("projector", on);
    button?.setAttribute("aria-pressed", String(on));
    setProjector(on);
  };
  const param = new URLSearchParams(location.search).get("projector");
  let on = param !== null ? param !== "0" : localStorage.getItem(KEY) === "1";
  apply(on);
  button?.addEventListener("click", () => {
    on = !on;
    localStorage.setItem(KEY, on ? "1" : "0");
    apply(on);
  });
}

/** Resolve a path the API returned ("/r/abc") against this page's origin. */
export function absolute(url) {
  return new URL(url, location.origin).toString();
}
