"""How well the pages keep up, measured in headless Chromium against a live stack.

    .venv/bin/python bench/bench_ui.py                       # this tree only
    .venv/bin/python bench/bench_ui.py --compare /tmp/ui-before  # side by side with another checkout
    (make one with: git worktree add --detach /tmp/ui-before <commit>)

Each tree gets its own live stack (tests/live.py of that tree: embedded Redis, a Celery
worker, daphne) and the same browser flags as tests/e2e/conftest.py. Figures (issue 7 §1):

1. a 2000-epoch XOR run with every panel on, trained from the playground at 1440×900:
   the share of wall time the main thread spent in long tasks (PerformanceObserver
   "longtask"), the longest task, and how long after the server finished the run
   (Run.finished) the page showed the final status;
2. Stop: from the click to the page acknowledging it, and to the run ending cancelled
   on the server;
3. replay of a finished run of about 10,000 events at top speed: time to draw it all;
4. a shared run page: time from navigation to the first chart with points.

With --compare, the two trees are measured one after the other in this one run and the
ratios (other / this) are printed. Nothing here is a test: the machine is shared, so read
the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-quic", "--disable-sync"]
TERMINAL = ("succeeded", "failed", "cancelled", "diverged", "timed_out")

EVERY_PANEL = {"diagnostics": True, "boundary": True,
               "landscape": {"mode": "2d", "resolution": 21, "when": "end", "trajectory": True}}


def spec_of(name: str, epochs: int) -> dict:
    return {"name": name, "seed": 0, "data": {"dataset": "xor", "n_samples": 500},
            "model": {"layers": [{"type": "dense", "units": 8, "activation": "relu"},
                                 {"type": "dense", "units": 8, "activation": "relu"}]},
            "optimizer": {"name": "adam", "lr": 0.01}, "training": {"epochs": epochs, "batch_size": 32},
            "monitor": EVERY_PANEL}


def spec_hash(spec: dict) -> str:
    return "#spec=" + base64.urlsafe_b64encode(json.dumps(spec).encode()).decode().rstrip("=")


# Instruments every page: long tasks, when the status badge turns final or says the stop
# was taken, and when the socket delivered the final status.
INIT = """
(() => {
  const B = window.__bench = { longtasks: [], marks: {} };
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) B.longtasks.push([e.startTime, e.duration]); })
      .observe({ type: "longtask", buffered: true });
  } catch (e) { B.noLongtask = String(e); }
  const TERM = ["succeeded", "failed", "cancelled", "diverged", "timed_out"];
  const look = () => {
    const b = document.querySelector(".run-head .badge");
    if (!b) return;
    const s = b.dataset.status;
    if (TERM.includes(s) && !B.marks.final) B.marks.final = { t: Date.now(), p: performance.now(), s };
    if ((s === "cancelled" || b.dataset.stopping === "1") && !B.marks.stopAck) B.marks.stopAck = Date.now();
  };
  new MutationObserver(look).observe(document, { subtree: true, childList: true, attributes: true });
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...a) {
      super(...a);
      this.addEventListener("message", (m) => {
        if (!B.marks.wsFinal && typeof m.data === "string" && m.data.includes('"status"')
            && /"status":\\s*"(succeeded|failed|cancelled|diverged|timed_out)"/.test(m.data)) B.marks.wsFinal = Date.now();
      });
    }
  };
})();
"""


def ms(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp() * 1000


def measure(root: Path, epochs: int, replay_epochs: int, only: str = "all") -> dict:
    """Run every measurement against the tree at ``root``; return the figures."""
    sys.path.insert(0, str(root))
    os.chdir(root)
    from playwright.sync_api import sync_playwright

    from tests.live import Client, LiveApp

    app = LiveApp().start()
    out: dict = {"root": str(root)}
    try:
        api = Client(app.url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                        headless=True, args=ARGS)
            ctx = browser.new_context(viewport={"width": 1440, "height": 900})
            ctx.add_init_script(INIT)
            if only in ("all", "live"):
                out.update(long_run(ctx, app, api, epochs))
                print("# long run", out, file=sys.stderr, flush=True)
                out.update(stop_run(ctx, app, api))
                print("# stop", out, file=sys.stderr, flush=True)
            if only in ("all", "replay"):
                out.update(replay_and_share(ctx, app, api, replay_epochs))
            browser.close()
    finally:
        app.stop()
    return out


def open_playground(page, url: str, spec: dict) -> None:
    page.goto(url + "/" + spec_hash(spec))
    page.wait_for_selector("body[data-ready='1']", state="attached", timeout=60_000)
    page.wait_for_timeout(1500)  # the first validation round trip settles


def train(page) -> str:
    with page.expect_response(lambda r: r.url.endswith("/api/runs") and r.request.method == "POST") as resp:
        page.click("#train")
    return resp.value.json()["id"]


def wait_server(api, run_id: str, statuses=TERMINAL, timeout: float = 3600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, run = api.request("GET", f"/api/runs/{run_id}")
        if isinstance(run, dict) and run.get("status") in statuses:
            return run
        time.sleep(0.05)
    raise TimeoutError(f"run {run_id} did not reach {statuses}")


def wait_mark(page, name: str, timeout_ms: int) -> bool:
    try:
        page.wait_for_function(f"() => !!window.__bench.marks.{name}", timeout=timeout_ms, polling=100)
        return True
    except Exception:  # playwright's TimeoutError
        return False


def long_run(ctx, app, api, epochs: int) -> dict:
    page = ctx.new_page()
    open_playground(page, app.url, spec_of(f"bench {epochs} epochs", epochs))
    t0 = page.evaluate("performance.now()")
    run_id = train(page)
    run = wait_server(api, run_id)
    if not wait_mark(page, "final", 1_200_000):
        page.close()  # the page never showed the end: say so rather than guess
        return {"long_run_status": run["status"], "long_run_note": "page did not show the final status in 20 min"}
    b = page.evaluate("window.__bench")
    t1 = b["marks"]["final"]["p"]
    tasks = [(s, d) for s, d in b["longtasks"] if s >= t0 and s <= t1]
    wall = t1 - t0
    res = {
        "long_run_status": run["status"],
        "long_run_wall_s": wall / 1000,
        "longtask_share": sum(d for _, d in tasks) / wall if wall > 0 else None,
        "longtask_max_ms": max((d for _, d in tasks), default=0.0),
        "final_status_after_server_ms": b["marks"]["final"]["t"] - ms(run["finished"]),
        "final_status_after_socket_ms": (b["marks"]["final"]["t"] - b["marks"]["wsFinal"])
        if b["marks"].get("wsFinal") else None,
    }
    page.close()
    return res


def stop_run(ctx, app, api) -> dict:
    page = ctx.new_page()
    open_playground(page, app.url, spec_of("bench stop", 2000))
    run_id = train(page)
    # stop once the run is well under way and the charts are busy
    page.wait_for_function("""() => { const el = document.querySelector('#panel-loss .js-plotly-plot');
        return !!(el && el.data && el.data[1] && el.data[1].x && el.data[1].x.length >= 30); }""",
                           timeout=600_000, polling=200)
    clicked = page.evaluate("() => { const t = Date.now(); document.getElementById('stop').click(); return t; }")
    run = wait_server(api, run_id, ("cancelled", "succeeded", "failed"))
    wait_mark(page, "final", 1_200_000)
    b = page.evaluate("window.__bench")
    res = {
        "stop_status": run["status"],
        "stop_ack_ms": b["marks"]["stopAck"] - clicked if b["marks"].get("stopAck") else None,
        "stop_server_cancelled_ms": ms(run["finished"]) - clicked,
        "stop_page_stopped_ms": b["marks"]["final"]["t"] - clicked if b["marks"].get("final") else None,
    }
    page.close()
    return res


def replay_and_share(ctx, app, api, replay_epochs: int) -> dict:
    status, created = api.request("POST", "/api/runs", {"spec": spec_of("bench replay", replay_epochs)})
    assert status == 201, created
    run = wait_server(api, created["id"])
    res = {"replay_events": run["last_seq"]}
    page = ctx.new_page()
    page.goto(app.url + f"/r/{created['id']}")
    page.wait_for_selector("body[data-ready='1']", state="attached", timeout=60_000)
    page.wait_for_selector("#replay", timeout=60_000)
    page.wait_for_timeout(1500)  # the live socket's backlog is drawn
    page.wait_for_selector("#replay-speed option", state="attached", timeout=60_000)
    speeds = page.eval_on_selector_all("#replay-speed option", "os => os.map(o => o.value)")
    top = "max" if "max" in speeds else max(speeds, key=float)
    page.select_option("#replay-speed", top)
    t0 = page.evaluate("() => { const t = performance.now(); document.getElementById('replay').click(); return t; }")
    page.wait_for_selector("#replay-progress", state="visible", timeout=180_000)
    page.wait_for_selector("#replay-progress", state="hidden", timeout=600_000)
    # the last frame is drawn: wait for two animation frames after the replay said done
    t1 = page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))")
    res["replay_speed"] = top
    print("# replay", res, file=sys.stderr, flush=True)
    res["replay_draw_s"] = (t1 - t0) / 1000
    page.close()
    # a shared run page, first visit: navigation start to the first chart with points
    fresh = ctx.browser.new_context(viewport={"width": 1440, "height": 900})
    page = fresh.new_page()
    page.goto(app.url + f"/r/{created['id']}")
    first = page.wait_for_function("""() => { const el = document.querySelector('#panel-loss .js-plotly-plot');
        const ok = !!(el && el.data && el.data[0] && el.data[0].x && el.data[0].x.length > 0);
        if (ok && !window.__fc) window.__fc = performance.now(); return ok && window.__fc; }""",
                                   timeout=60_000, polling="raf")
    res["share_first_chart_ms"] = first.json_value()
    fresh.close()
    return res


FIGURES = [
    ("long_run_wall_s", "2000-epoch run: Train → final status on the page (s)", "{:.1f}", None),
    ("longtask_share", "  long tasks, share of wall time (target ≤ 0.10)", "{:.3f}", 0.10),
    ("longtask_max_ms", "  longest task (ms, target ≤ 200)", "{:.0f}", 200),
    ("final_status_after_server_ms", "  final status shown after the server finished (ms, ≤ 1000)", "{:.0f}", 1000),
    ("final_status_after_socket_ms", "  final status shown after its socket message (ms)", "{:.0f}", None),
    ("stop_ack_ms", "Stop acknowledged on the page (ms, target ≤ 500)", "{:.0f}", 500),
    ("stop_server_cancelled_ms", "Stop → run cancelled on the server (ms, target ≤ 1500)", "{:.0f}", 1500),
    ("stop_page_stopped_ms", "Stop → page says Stopped (ms)", "{:.0f}", None),
    ("replay_events", "replay: events in the run", "{:.0f}", None),
    ("replay_draw_s", "replay at top speed, fully drawn (s, target ≤ 3)", "{:.2f}", 3),
    ("share_first_chart_ms", "shared run page: first chart (ms, target ≤ 1500)", "{:.0f}", 1500),
]


def fmt(v, f):
    return "–" if v is None else f.format(v)


def report(results: list[dict]) -> None:
    names = ["this tree"] + [f"other ({Path(r['root']).name})" for r in results[1:]]
    print(f"{'':64} " + " ".join(f"{n:>18}" for n in names) + ("   ratio other/this" if len(results) > 1 else ""))
    for key, label, f, _target in FIGURES:
        vals = [r.get(key) for r in results]
        line = f"{label:64} " + " ".join(f"{fmt(v, f):>18}" for v in vals)
        if len(vals) > 1 and isinstance(vals[0], (int, float)) and isinstance(vals[1], (int, float)) and vals[0]:
            line += f"   {vals[1] / vals[0]:.2f}×"
        print(line)
    for r in results:
        print(f"# {r['root']}: long run {r.get('long_run_status')}, stop run {r.get('stop_status')}, "
              f"replay speed {r.get('replay_speed')}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--compare", type=Path, help="another checkout to measure in the same run")
    ap.add_argument("--epochs", type=int, default=2000)
    ap.add_argument("--replay-epochs", type=int, default=700, help="≈ 14 events an epoch: 700 → ≈ 10,000 events")
    ap.add_argument("--only", choices=["all", "live", "replay"], default="all",
                    help="live: the long run and Stop; replay: replay and the shared page")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # child: measure one tree, print JSON
    a = ap.parse_args()
    if a.measure:
        print("BENCH " + json.dumps(measure(a.measure.resolve(), a.epochs, a.replay_epochs, a.only)), flush=True)
        return
    results = []
    for root in [HERE] + ([a.compare.resolve()] if a.compare else []):
        env = {**os.environ, "PYTHONPATH": str(root)}
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--measure", str(root),
                               "--epochs", str(a.epochs), "--replay-epochs", str(a.replay_epochs), "--only", a.only],
                              env=env, cwd=root, stdout=subprocess.PIPE, text=True)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH ")), None)
        if proc.returncode or not line:
            sys.exit(f"measuring {root} failed (exit {proc.returncode})")
        results.append(json.loads(line[6:]))
    report(results)


if __name__ == "__main__":
    main()
