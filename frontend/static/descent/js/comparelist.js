// The runs a visitor has put aside to compare ("Add to compare" on a run page), kept in
// this browser. /compare?runs=… is the shareable form; this list only builds it.
const KEY = "descent.compare";
export const MAX_COMPARE = 8;

export function compareList() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(v) ? v.filter((x) => typeof x === "string").slice(-MAX_COMPARE) : [];
  } catch { return []; }
}

/** Add a run (the oldest drops out past 8); returns the list. */
export function addToCompare(id) {
  const list = compareList().filter((x) => x !== id);
  list.push(id);
  const kept = list.slice(-MAX_COMPARE);
  localStorage.setItem(KEY, JSON.stringify(kept));
  return kept;
}

export function compareUrl(ids) {
  return `/compare?runs=${ids.slice(0, MAX_COMPARE).map(encodeURIComponent).join(",")}`;
}
