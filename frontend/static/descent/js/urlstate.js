// The spec round-trips through the URL fragment, `#spec=<base64url of the JSON>`,
// so a configured playground can be shared as a link (cf. tensorflow/playground
// state.ts). The fragment never reaches the server, so its size is not limited by
// request lines, and the builder stores only what was set, which keeps it short.

export function encodeSpec(spec) {
  const bytes = new TextEncoder().encode(JSON.stringify(spec));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeSpec(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** The spec in location.hash, or null (a broken hash is reported, not thrown). */
export function specFromHash(hash = location.hash) {
  const m = hash.match(/[#&]spec=([^&]+)/);
  if (!m) return null;
  try {
    const spec = decodeSpec(decodeURIComponent(m[1]));
    return spec && typeof spec === "object" && !Array.isArray(spec) ? spec : null;
  } catch (err) {
    console.warn("descent: ignoring an unreadable #spec in the URL", err);
    return null;
  }
}

export function playgroundUrl(spec) {
  return `${location.origin}/#spec=${encodeSpec(spec)}`;
}

/** Write the spec into the current URL without adding a history entry per keystroke. */
export function writeHash(spec) {
  const hash = `#spec=${encodeSpec(spec)}`;
  if (location.hash !== hash) history.replaceState(null, "", `${location.pathname}${location.search}${hash}`);
  return hash;
}
