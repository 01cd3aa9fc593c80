// Thin fetch wrapper for the JSON API (DESIGN.md "HTTP API").
// Every state-changing request carries Django's CSRF token from the `csrftoken`
// cookie (the pages set it); failures throw an ApiError that keeps the server's
// `errors` list so callers can show each message next to its field.

export class ApiError extends Error {
  constructor(status, body) {
    const errors = (body && Array.isArray(body.errors)) ? body.errors : [];
    const msg = errors.length
      ? errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join("; ")
      : (body && (body.error || body.detail)) || `HTTP ${status}`;
    super(msg);
    this.status = status;
    this.errors = errors.length ? errors : [{ path: "", message: msg }];
    this.body = body;
  }
}

export function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

async function request(method, url, body, { raw = false } = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
  if (body instanceof FormData) {
    init.body = body; // the browser sets the multipart boundary itself
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, { errors: [{ path: "", message: `network error: ${err.message}` }] });
  }
  if (raw) return res;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: text.slice(0, 200) }; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const api = {
  get: (url) => request("GET", url),
  post: (url, body) => request("POST", url, body === undefined ? {} : body),
  schema: () => request("GET", "/api/spec/schema"),
  presets: () => request("GET", "/api/presets"),
  validate: (spec) => request("POST", "/api/spec/validate", { spec }),
  createRun: (spec) => request("POST", "/api/runs", { spec }),
  run: (id) => request("GET", `/api/runs/${encodeURIComponent(id)}`),
  events: (id, after = 0) => request("GET", `/api/runs/${encodeURIComponent(id)}/events?after=${after}`),
  cancel: (id) => request("POST", `/api/runs/${encodeURIComponent(id)}/cancel`),
  fork: (id) => request("POST", `/api/runs/${encodeURIComponent(id)}/fork`),
  upload: (file) => {
    const fd = new FormData();
    fd.append("file", file);
    return request("POST", "/api/uploads", fd);
  },
};
