"""The CLI's parts that need no server: a thin client that never imports Django."""

import io
import subprocess
import sys
from pathlib import Path

import pytest

from webapp.cli import EXIT_REFUSED, CliError, Progress, error_text, load_json, main, run_id_of

ROOT = Path(__file__).resolve().parents[2]


def test_the_cli_imports_neither_django_nor_celery_nor_torch():
    code = "import sys, webapp.cli; print(sorted(m for m in ('django', 'celery', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_console_script_is_installed():
    script = Path(sys.executable).parent / "descent"
    assert script.exists(), "pip install -e . creates it from [project.scripts]"
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True).stdout
    assert "run" in out and "watch" in out and "export" in out


def test_a_run_is_named_by_its_id_or_its_link():
    assert run_id_of("abc123") == "abc123"
    assert run_id_of("http://host:8000/r/abc123/") == "abc123"


def test_server_errors_read_as_path_and_message():
    raw = b'{"errors": [{"path": "/training/epochs", "message": "at least 1"}, {"path": "", "message": "x"}]}'
    assert error_text(400, raw) == "/training/epochs: at least 1\n(request): x"
    assert error_text(502, b"<html>bad gateway</html>") == "HTTP 502"


def test_a_missing_or_broken_spec_file_is_refused_before_any_request(tmp_path):
    with pytest.raises(CliError) as missing:
        load_json(str(tmp_path / "nope.json"))
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(CliError) as broken:
        load_json(str(tmp_path / "bad.json"))
    assert missing.value.code == broken.value.code == EXIT_REFUSED
    assert "not valid JSON" in str(broken.value)


def test_progress_prints_status_changes_once_and_one_line_per_epoch():
    out = io.StringIO()
    p = Progress(epochs=2, out=out, use_tqdm=False)
    for ev in [{"type": "status", "status": "queued", "queue_position": 3}, {"type": "queue", "queue_position": 2},
               {"type": "status", "status": "running"}, {"type": "step", "loss": [0.9, 0.8]},
               {"type": "epoch", "epoch": 1, "train_loss": 0.75, "val_acc": 0.5},
               {"type": "epoch", "epoch": 2, "train_loss": 0.5, "val_loss": 0.6},
               {"type": "status", "status": "running"}]:
        p.event(ev)
    assert out.getvalue().splitlines() == ["status: queued (position 3 in the queue)", "queue position: 2",
                                           "status: running", "epoch 1/2  loss 0.75  val_acc 0.5",
                                           "epoch 2/2  loss 0.5  val_loss 0.6"]


def test_export_needs_exactly_one_kind(capsys):
    with pytest.raises(SystemExit):
        main(["export", "abc"])
    assert "one of the arguments" in capsys.readouterr().err
