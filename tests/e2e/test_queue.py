"""Queued runs: the transient `queue` message (no seq) moves the position shown, and the
socket neither drops it as a duplicate nor lets it move the point a reconnect resumes from."""

import pytest

from tests.e2e.helpers import (
    api_call,
    browser_errors,
    open_playground,
    open_run,
    wait_run,
    wait_status,
    watch_console,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

# A stand-in WebSocket: the test plays the server, frame by frame.
FAKE_SOCKET = """
async ({ frames }) => {
  const real = window.WebSocket;
  const sockets = [];
  window.WebSocket = class {
    constructor(url) { this.url = url; sockets.push(this); setTimeout(() => this.onopen?.(), 0); }
    close() { this.onclose?.(); }
  };
  try {
    const { connectRunSocket } = await import('/static/descent/js/socket.js');
    const seen = [];
    const conn = connectRunSocket('/ws/runs/x/', { onEvent: (ev) => seen.push(ev) });
    await new Promise((r) => setTimeout(r, 10));
    for (const f of frames) sockets[0].onmessage({ data: JSON.stringify(f) });
    const lastSeq = conn.lastSeq();
    sockets[0].onclose();  // the network drops: the socket reconnects after lastSeq
    await new Promise((r) => setTimeout(r, 1500));
    conn.close();
    return { seen, lastSeq, urls: sockets.map((s) => s.url) };
  } finally {
    window.WebSocket = real;
  }
}
"""


def test_the_socket_passes_seqless_queue_messages_through_without_moving_its_seq(live_server_url, page):
    open_playground(page, live_server_url)
    frames = [
        {"seq": 1, "type": "status", "status": "queued", "queue_position": 3},
        {"type": "queue", "queue_position": 2},
        {"seq": 1, "type": "status", "status": "queued", "queue_position": 3},  # a duplicate
        {"type": "queue", "queue_position": 1},                                # not a duplicate
        {"seq": 2, "type": "status", "status": "running"},
        {"type": "live", "last_seq": 2},
        [{"seq": 2, "type": "status", "status": "running"}, {"seq": 3, "type": "step", "step": 1, "loss": 0.5}],
    ]
    out = page.evaluate(FAKE_SOCKET, {"frames": frames})
    assert [(e.get("seq"), e["type"]) for e in out["seen"]] == [
        (1, "status"), (None, "queue"), (None, "queue"), (2, "status"), (None, "live"), (3, "step")]
    assert [e["queue_position"] for e in out["seen"] if e["type"] == "queue"] == [2, 1]
    assert out["lastSeq"] == 3
    assert len(out["urls"]) == 2 and out["urls"][1].endswith("?after=3")


def test_the_status_area_shows_the_queue_position_as_it_moves(live_server_url, page, screenshot):
    """Unit level: the run view's status pill follows status and queue events."""
    open_playground(page, live_server_url)
    texts = page.evaluate("""async () => {
        const { RunView } = await import('/static/descent/js/runview.js');
        const root = document.createElement('div');
        document.body.append(root);
        const view = new RunView(root, { spec: {} });
        const pill = () => root.querySelector('.run-head .badge').textContent;
        const out = [];
        view.handle({ seq: 1, type: 'status', status: 'queued', queue_position: 3 }); out.push(pill());
        view.handle({ type: 'queue', queue_position: 2 }); out.push(pill());
        view.handle({ seq: 1, type: 'status', status: 'queued', queue_position: 3 }); out.push(pill()); // stale replay
        view.handle({ type: 'queue', queue_position: 1 }); out.push(pill());
        view.handle({ seq: 2, type: 'status', status: 'running' }); out.push(pill());
        view.handle({ type: 'queue', queue_position: 1 }); out.push(pill());  // late: it already left the queue
        root.remove();
        return out;
    }""")
    assert texts == ["Queued — position 3", "Queued — position 2", "Queued — position 2",
                     "Queued — position 1", "Running", "Running"]


def test_a_queued_run_page_shows_its_position_move_up(live_server_url, page, browser, screenshot):
    """Three runs on the one worker: the third waits at position 2, then 1 when the first is stopped."""
    problems = watch_console(page)
    open_playground(page, live_server_url)
    small = {"data": {"n_samples": 200}, "monitor": {"diagnostics": False, "boundary": False}}
    first = api_call(page, "createRun", {**small, "name": "blocker", "training": {"epochs": 400}})
    second = api_call(page, "createRun", {**small, "name": "second", "training": {"epochs": 400}})
    third = api_call(page, "createRun", {**small, "name": "third", "training": {"epochs": 3}})
    try:
        wait_run(page, first["id"], ("running",), timeout=120)
        viewer = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        viewer_problems = watch_console(viewer)
        open_run(viewer, f"{live_server_url}{third['url']}")
        viewer.wait_for_selector(".run-head .badge[data-status='queued'][data-queue-position='2']", timeout=30_000)
        assert viewer.inner_text(".run-head .badge") == "Queued — position 2"
        screenshot("queued_position_2", viewer)

        api_call(page, "cancel", first["id"])  # the worker takes the second run: the third moves up
        viewer.wait_for_selector(".run-head .badge[data-queue-position='1']", timeout=120_000)
        assert viewer.inner_text(".run-head .badge") == "Queued — position 1"
        screenshot("queued_position_1", viewer)

        api_call(page, "cancel", second["id"])
        assert wait_status(viewer) == "succeeded"
        assert viewer.locator(".run-head .badge[data-queue-position]").count() == 0
        assert viewer_problems == [] and browser_errors(viewer) == []
        viewer.context.close()
    finally:
        for run in (first, second):
            try:
                api_call(page, "cancel", run["id"])
            except Exception:  # already finished
                pass
    assert problems == [] and browser_errors(page) == []
