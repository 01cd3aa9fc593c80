"""The sweep page in a browser: live table over its websocket (no polling; polling when the
socket fails), charts (log axis), best run, compare link, CSV, cancel-all."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]  # live app start + training on a shared machine

SPEC = {"data": {"dataset": "xor", "n_samples": 200}, "training": {"epochs": 4, "batch_size": 32},
        "monitor": {"diagnostics": False, "boundary": False}}


def _post_sweep(page, base, body):
    """Create the sweep from the page, so this browser session owns it."""
    page.goto(f"{base}/")
    return page.evaluate(
        """async (body) => {
            const token = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1];
            const r = await fetch('/api/sweeps', {method: 'POST', body: JSON.stringify(body),
                headers: {'Content-Type': 'application/json', 'X-CSRFToken': token}});
            return await r.json();
        }""", body)


def _count_table_gets(page, sweep_id):
    seen = []
    page.on("request", lambda r: seen.append(r.url) if r.url.split("?")[0].endswith(f"/api/sweeps/{sweep_id}") else None)
    return seen


def test_sweep_page_fills_table_and_charts_until_done(page, live_server_url, screenshot):
    sweep = _post_sweep(page, live_server_url, {
        "spec": SPEC, "method": "grid", "metric": "val_acc",
        "axes": [{"path": "/optimizer/lr", "log_uniform": [0.001, 0.1], "count": 2},
                 {"path": "/model/layers/0/units", "values": [4, 8]}]})
    assert len(sweep["runs"]) == 4
    polls = _count_table_gets(page, sweep["id"])
    statuses_seen = set()
    page.goto(f"{live_server_url}{sweep['url']}")
    page.wait_for_function("() => document.body.dataset.live === 'socket'", timeout=30_000)
    while not page.evaluate("() => document.querySelector('#sweep-facts').textContent.includes('finished')"):
        statuses_seen.update(page.locator("#runs-table tbody td[class^='status-']").all_text_contents())
        page.wait_for_timeout(100)
        assert len(statuses_seen) < 100 and page.evaluate("() => document.body.dataset.live") == "socket"
    # the table moved through the runs' states over the socket alone: not one GET of the table
    assert "succeeded" in statuses_seen and statuses_seen & {"running", "queued", "waiting"}
    assert polls == []
    assert page.locator("#runs-table tbody tr").count() == 4
    assert page.locator("#points-table tbody tr").count() == 4
    assert page.locator("#runs-table tbody tr.best").count() == 1
    # metric against each axis: the lr axis is drawn on a log scale, the units axis is not
    types = page.evaluate("""() => [...document.querySelectorAll('#axis-charts .js-plotly-plot')]
                                   .map(d => d.layout.xaxis.type)""")
    assert types == ["log", "linear"]
    # every run is drawn, and the log axis spans both decades of learning rates
    lr_chart = page.evaluate("""() => { const d = document.querySelector('#axis-charts .js-plotly-plot');
                                        return {x: d.data[0].x, range: d._fullLayout.xaxis.range}; }""")
    assert sorted(lr_chart["x"]) == [0.001, 0.001, 0.1, 0.1]
    assert lr_chart["range"][0] <= -3 and lr_chart["range"][1] >= -1  # log10 units
    assert page.locator("#parcoords").is_visible()  # two numeric axes: parallel coordinates
    href = page.get_attribute("#compare-top", "href")
    assert href.startswith("/compare?runs=") and len(href.split("=")[1].split(",")) == 4
    best = page.get_attribute("#runs-table tbody tr.best", "data-run-id")
    assert href.split("=")[1].split(",")[0] == best
    csv_text = page.evaluate(f"fetch('/api/sweeps/{sweep['id']}/export/csv').then(r => r.text())")
    assert csv_text.count("\n") == 5 and "/optimizer/lr" in csv_text.splitlines()[0]
    screenshot("sweep-page")
    assert not page.js_errors


def test_cancel_all_from_the_page(page, live_server_url):
    slow = {**SPEC, "training": {"epochs": 400, "batch_size": 8}}
    sweep = _post_sweep(page, live_server_url, {
        "spec": slow, "axes": [{"path": "/optimizer/lr", "values": [0.01, 0.02, 0.03, 0.04, 0.05, 0.06]}]})
    page.goto(f"{live_server_url}{sweep['url']}")
    page.on("dialog", lambda d: d.accept())
    page.wait_for_selector("#cancel-all:not([hidden])", timeout=30_000)
    page.click("#cancel-all")
    page.wait_for_function("() => document.querySelector('#sweep-facts').textContent.includes('finished')", timeout=60_000)
    statuses = page.locator("#runs-table tbody td[class^='status-']").all_text_contents()
    assert statuses and all(s in ("cancelled", "succeeded") for s in statuses) and "cancelled" in statuses
    assert not page.js_errors


def test_without_its_socket_the_page_polls_until_done(page, live_server_url):
    sweep = _post_sweep(page, live_server_url, {"spec": SPEC, "axes": [{"path": "/optimizer/lr", "values": [0.01, 0.1]}]})
    page.route_web_socket("**/ws/sweeps/**", lambda ws: ws.close())  # the socket never stays open
    polls = _count_table_gets(page, sweep["id"])
    page.goto(f"{live_server_url}{sweep['url']}")
    page.wait_for_function("() => document.querySelector('#sweep-facts').textContent.includes('finished')", timeout=180_000)
    assert page.evaluate("() => document.body.dataset.live") == "polling"
    assert len(polls) >= 1
    assert page.locator("#runs-table tbody td.status-succeeded").count() == 2
    assert not page.js_errors
