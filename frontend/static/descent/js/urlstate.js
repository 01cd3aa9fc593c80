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

/** {spec} from a hash, {problem} when it has a #spec= that cannot be read, {} without one. */
export function readHash(hash) {
  const m = hash.match(/[#&]spec=([^&]*)/);
  if (!m) return {};
  let spec;
  try {
    spec = decodeSpec(decodeURIComponent(m[1]));
  } catch {
    return { problem: "The text after #spec= is not an encoded setup (it may have been cut short when copied)." };
  }
  if (!spec || typeof spec !== "object" || Array.isArray(spec)) return { problem: "The link holds something other than a setup." };
  return { spec };
}

/** The spec in location.hash, or null (see specHashProblem for a broken one). */
export function specFromHash(hash = location.hash) {
  return readHash(hash).spec || null;
}

/** What is wrong with the #spec= of the URL, or null. */
export function specHashProblem(hash = location.hash) {
  return readHash(hash).problem || null;
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
