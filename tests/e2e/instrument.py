"""Helpers of the issue-7 browser tests (controls, compare, lessons, /runs)."""

from __future__ import annotations

CREATE = """async (spec) => {
  const m = document.cookie.match(/(?:^|;\\s*)csrftoken=([^;]+)/);
  const r = await fetch('/api/runs', {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-CSRFToken': m ? decodeURIComponent(m[1]) : ''},
    body: JSON.stringify({spec})});
  return {status: r.status, body: await r.json()};
}"""

EVENTS = """async (id) => {
  const r = await fetch(`/api/runs/${id}/events?after=0&limit=5000`);
  return (await r.json()).events;
}"""

QUIET = {"diagnostics": False, "boundary": False, "neurons": False}


def create_run(page, base: str, spec: dict) -> str:
    """A run owned by this browser context (the page's session); returns its id."""
    if not page.url.startswith(base):
        page.goto(f"{base}/runs")
    res = page.evaluate(CREATE, spec)
    assert res["status"] == 201, res
    return res["body"]["id"]


def events(page, run_id: str, kind: str | None = None) -> list[dict]:
    evs = page.evaluate(EVENTS, run_id)
    out = []
    for e in evs:  # coalesced step rows carry lists
        if e["type"] == "step" and isinstance(e.get("step"), list):
            out += [{"type": "step", "step": s} for s in e["step"]]
        else:
            out.append(e)
    return [e for e in out if kind is None or e["type"] == kind]


def wait_run_status(page, run_id: str, statuses=("succeeded", "failed", "cancelled", "diverged", "timed_out"),
                    timeout: float = 180_000) -> None:
    page.wait_for_function(
        """async ([id, wanted]) => {
            const r = await fetch(`/api/runs/${id}`);
            return wanted.includes((await r.json()).status);
        }""", arg=[run_id, list(statuses)], timeout=timeout, polling=500)
