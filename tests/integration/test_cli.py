"""`descent`, the command-line client, against the live application (real worker, daphne)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from webapp.serve import ROOT, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SMALL = {"name": "cli xor", "data": {"dataset": "xor", "n_samples": 200}, "training": {"epochs": 3, "batch_size": 32},
         "monitor": {"landscape": {"mode": "none"}}}
DIVERGES = {"data": {"dataset": "plane", "n_samples": 200}, "loss": "mse", "optimizer": {"name": "sgd", "lr": 100.0},
            "model": {"layers": [{"type": "dense", "units": 16, "activation": "linear"}]}, "training": {"epochs": 30},
            "monitor": {"landscape": {"mode": "none"}}}


def descent(server: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "webapp.cli", "--server", server, *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=300)


def write(tmp_path: Path, doc: dict, name: str = "spec.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def run_link(out: str) -> tuple[str, str]:
    m = re.search(r"link (http://\S+/r/(\S+))", out)
    assert m, out
    return m.group(1), m.group(2)


def test_run_watch_shows_queue_epochs_summary_and_link_then_exits_0(live_app, tmp_path):
    r = descent(live_app.url, "run", write(tmp_path, SMALL), "--watch", "--plain")
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "status: queued" in out and "status: running" in out
    for epoch in (1, 2, 3):
        assert re.search(rf"epoch {epoch}/3  loss [0-9.e-]+  val_acc [0-9.]+", out), out
    assert "succeeded" in out and re.search(r"epochs_run\s+3", out)
    link, run_id = run_link(out)
    assert link == f"{live_app.url}/r/{run_id}"


def test_a_diverging_run_exits_non_zero_and_says_why(live_app, tmp_path):
    r = descent(live_app.url, "run", write(tmp_path, DIVERGES), "--watch", "--plain")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "diverged" in r.stdout


def test_run_without_watch_returns_at_once_and_watch_follows_it_later(live_app, tmp_path):
    r = descent(live_app.url, "run", write(tmp_path, SMALL))
    assert r.returncode == 0, r.stderr
    link, run_id = run_link(r.stdout)
    assert "epoch" not in r.stdout
    by_link = descent(live_app.url, "watch", link, "--plain")
    assert by_link.returncode == 0 and "epoch 3/3" in by_link.stdout
    # polling the events endpoint shows the same epochs (clients without `websockets`)
    polled = descent(live_app.url, "watch", run_id, "--poll", "--plain")
    assert polled.returncode == 0
    assert [line for line in polled.stdout.splitlines() if line.startswith("epoch")] == \
           [line for line in by_link.stdout.splitlines() if line.startswith("epoch")]


def test_a_spec_from_stdin_wrapped_in_spec_is_accepted(live_app):
    r = descent(live_app.url, "run", "-", stdin=json.dumps({"spec": SMALL}))
    assert r.returncode == 0 and "queued" in r.stdout


def test_an_invalid_spec_prints_the_servers_errors_and_exits_2(live_app, tmp_path):
    r = descent(live_app.url, "run", write(tmp_path, {"training": {"epochs": 0}}))
    assert r.returncode == 2
    assert "/training/epochs" in r.stderr and "Traceback" not in r.stderr


def test_export_script_csv_and_weights_of_a_finished_run(live_app, tmp_path):
    r = descent(live_app.url, "run", write(tmp_path, SMALL), "--watch", "--plain")
    _, run_id = run_link(r.stdout)
    script = descent(live_app.url, "export", run_id, "--script")
    assert script.returncode == 0 and "import torch" in script.stdout
    compile(script.stdout, "exported.py", "exec")
    csv = descent(live_app.url, "export", run_id, "--csv")
    if csv.returncode == 0:
        assert len(csv.stdout.strip().splitlines()) == 1 + 3  # header + one row per epoch
    else:  # the endpoint may be absent on an older server: a clean message, no traceback
        assert csv.returncode == 2 and "Traceback" not in csv.stderr
    target = tmp_path / "w.safetensors"
    weights = descent(live_app.url, "export", run_id, "--weights", "-o", str(target))
    if weights.returncode == 0:
        assert target.stat().st_size > 100
    else:
        assert weights.returncode == 2 and "Traceback" not in weights.stderr


def test_an_unknown_run_is_a_clean_error(live_app):
    r = descent(live_app.url, "export", "nosuchrun", "--script")
    assert r.returncode == 2 and "nosuchrun" in r.stderr and "Traceback" not in r.stderr
    w = descent(live_app.url, "watch", "nosuchrun")
    assert w.returncode == 2 and "Traceback" not in w.stderr


def test_an_unreachable_server_exits_3(tmp_path):
    r = descent(f"http://127.0.0.1:{free_port()}", "run", write(tmp_path, SMALL))
    assert r.returncode == 3 and "cannot reach" in r.stderr
