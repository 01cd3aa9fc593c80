"""Small helpers for the browser tests: wait for the pages' own readiness signals and
read what Plotly drew (a Plotly graph div keeps its traces in ``div.data``)."""

from __future__ import annotations

import base64
import json

TERMINAL = ("succeeded", "failed", "cancelled", "diverged", "timed_out")


def open_playground(page, base: str, hash_: str = "") -> None:
    page.goto(f"{base}/{hash_}")
    page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
    page.wait_for_selector("#section-data select", timeout=30_000)


def open_run(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)


def set_field(page, path: str, value: str) -> None:
    """Type into the builder control of a JSON-pointer path (e.g. /training/epochs)."""
    page.fill(f"[data-path='{path}'] input", value)


def trace_points(page, panel: str, trace: int = 0) -> int:
    """Number of x values drawn in trace `trace` of the chart in #panel-<panel>."""
    return page.evaluate(
        """([panel, i]) => {
            const el = document.querySelector(`#panel-${panel} .js-plotly-plot`);
            if (!el || !el.data || !el.data[i] || !el.data[i].x) return 0;
            return el.data[i].x.length;
        }""",
        [panel, trace],
    )


def trace_types(page, panel: str) -> list[str]:
    return page.evaluate(
        """(panel) => {
            const el = document.querySelector(`#panel-${panel} .js-plotly-plot`);
            return el && el.data ? el.data.map((t) => t.type) : [];
        }""",
        panel,
    )


def wait_points(page, panel: str, trace: int = 0, at_least: int = 1, timeout: float = 120_000) -> None:
    page.wait_for_function(
        """([panel, i, n]) => {
            const el = document.querySelector(`#panel-${panel} .js-plotly-plot`);
            return !!(el && el.data && el.data[i] && el.data[i].x && el.data[i].x.length >= n);
        }""",
        arg=[panel, trace, at_least],
        timeout=timeout,
    )


def wait_status(page, statuses=TERMINAL, scope: str = ".run-head", timeout: float = 180_000) -> str:
    selector = ", ".join(f"{scope} [data-status='{s}']" for s in statuses)
    page.wait_for_selector(selector, timeout=timeout)
    return page.get_attribute(f"{scope} .badge", "data-status")


def spec_in_hash(page) -> dict:
    frag = page.evaluate("location.hash")
    assert frag.startswith("#spec="), frag
    b64 = frag[len("#spec="):]
    return json.loads(base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)))


def browser_errors(page) -> list[str]:
    """Uncaught exceptions collected by the `page` fixture."""
    return list(getattr(page, "js_errors", []))


def watch_console(page) -> list[str]:
    """Console errors and our own 'descent:' warnings (a render function that threw).

    A 400 answer from /api/spec/validate is the expected way to report an invalid spec,
    and Chromium logs every 4xx as "Failed to load resource": those are not problems.
    """
    problems: list[str] = []

    def on_console(msg):
        text = msg.text
        js_error = msg.type == "error" and "Failed to load resource" not in text
        render_failure = msg.type == "warning" and text.startswith("descent:")
        if js_error or render_failure:
            problems.append(text)

    page.on("console", on_console)
    return problems


def api_call(page, method: str, *args):
    """Call the page's own API client (static/descent/js/api.js): same session, same CSRF."""
    return page.evaluate(
        """async ([method, args]) => (await import('/static/descent/js/api.js')).api[method](...args)""",
        [method, list(args)],
    )


def panel_boxes(page) -> dict:
    """{panel id: {x, y, width, height}} of every visible run panel."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.panel-grid > .panel:not([hidden])')]
            .map((el) => { const r = el.getBoundingClientRect();
                           return [el.id.replace('panel-', ''), {x: r.x, y: r.y + scrollY, width: r.width, height: r.height}]; }))"""
    )


def chart_font_sizes(page) -> list[float]:
    """Font sizes (px) of every non-empty text Plotly drew in SVG on the page."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot svg text')]
            .filter((t) => t.textContent.trim() && t.getBoundingClientRect().width > 0)
            .map((t) => parseFloat(getComputedStyle(t).fontSize))"""
    )


def wait_run(page, run_id: str, statuses=TERMINAL, timeout: float = 240) -> dict:
    """Poll GET /api/runs/<id> until the run's status is one of `statuses`; return the run."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        run = api_call(page, "run", run_id)
        if run["status"] in statuses:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} is still {run['status']}")
        page.wait_for_timeout(300)


def boundary_domains(page) -> list[list[float]]:
    """[x domain, y domain] of the decision-boundary plot (one spans [0, 1] when it fills its cell)."""
    return page.evaluate(
        """() => { const L = document.querySelector('#panel-boundary .js-plotly-plot')._fullLayout;
                   return [L.xaxis.domain, L.yaxis.domain]; }"""
    )


def push_lesson(teacher, preset: str, unlocked: str = "/optimizer/lr") -> None:
    """On the teacher's room page: push a preset to every student with only `unlocked` open."""
    teacher.wait_for_selector(f"#push-preset option[value='{preset}']", state="attached", timeout=60_000)
    teacher.select_option("#push-preset", preset)
    teacher.fill("#push-unlocked", unlocked)
    teacher.click("#push-form button[type=submit]")
