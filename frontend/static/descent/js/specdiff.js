// The fields in which specs differ (pure: the compare page and node tests use it).

/** {"model.layers[0].units": 8, …}: every leaf of a JSON value by path. */
export function flatten(value, prefix = "", out = {}) {
  if (Array.isArray(value)) {
    if (!value.length) out[prefix] = "[]";
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else if (value && typeof value === "object") {
    const keys = Object.keys(value);
    if (!keys.length && prefix) out[prefix] = "{}";
    for (const k of keys) flatten(value[k], prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = value;
  }
  return out;
}

/** Rows [{path, values: [v per spec]}] for paths whose values are not all equal
 *  (a path missing from a spec counts as a difference: "—"). `ignore` skips paths. */
export function specDiff(specs, ignore = ["name"]) {
  const flat = specs.map((s) => flatten(s || {}));
  const paths = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort(natural);
  const rows = [];
  for (const path of paths) {
    if (ignore.includes(path)) continue;
    const values = flat.map((f) => (path in f ? f[path] : undefined));
    const keys = values.map((v) => JSON.stringify(v ?? null));
    if (new Set(keys).size > 1) rows.push({ path, values });
  }
  return rows;
}

function natural(a, b) { return a.localeCompare(b, "en", { numeric: true }); }
