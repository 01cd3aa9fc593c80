"""LOG_JSON=1: one JSON object per log line, with the call's extras and the traceback."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from webapp.logging import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]


def record(msg="ran %s", args=("abc",), exc_info=None, **extra) -> logging.LogRecord:
    rec = logging.getLogger("webapp.test").makeRecord("webapp.test", logging.WARNING, __file__, 1, msg, args, exc_info,
                                                      extra=extra)
    return rec


def test_a_line_is_one_json_object_with_level_logger_message_and_extras():
    line = JsonFormatter().format(record(run="r1", seconds=2.5))
    out = json.loads(line)
    assert out["level"] == "WARNING" and out["logger"] == "webapp.test" and out["message"] == "ran abc"
    assert out["run"] == "r1" and out["seconds"] == 2.5
    assert out["ts"].endswith("+00:00") and "\n" not in line


def test_tracebacks_are_kept_inside_the_object():
    try:
        raise ValueError("boom")
    except ValueError:
        out = json.loads(JsonFormatter().format(record(exc_info=sys.exc_info())))
    assert "ValueError: boom" in out["exc"] and "Traceback" in out["exc"]


def test_values_json_cannot_hold_become_strings():
    out = json.loads(JsonFormatter().format(record(where=Path("/tmp/x"), pair={1, 2})))
    assert out["where"] == "/tmp/x" and isinstance(out["pair"], str)


def test_log_json_switches_every_process_to_json_lines(tmp_path):
    env = {**os.environ, "LOG_JSON": "1", "DESCENT_VAR_DIR": str(tmp_path), "DESCENT_CHANNEL_LAYER": "memory",
           "DJANGO_SETTINGS_MODULE": "webapp.settings"}
    code = ("import django, logging; django.setup(); "
            "logging.getLogger('webapp.runs').warning('worker lost', extra={'run': 'r9'})")
    err = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stderr
    out = json.loads(err.strip().splitlines()[-1])
    assert out["message"] == "worker lost" and out["run"] == "r9" and out["logger"] == "webapp.runs"
