"""DEBUG is off unless asked for; the embedded run needs no SECRET_KEY; no traceback reaches a browser."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from webapp.security import secret_key_from_file

ROOT = Path(__file__).resolve().parents[2]


def settings_in_subprocess(tmp_path, **env) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    clean.update({"DESCENT_VAR_DIR": str(tmp_path), "DESCENT_CHANNEL_LAYER": "memory", **env})
    code = "from django.conf import settings; print(settings.DEBUG); print(settings.SECRET_KEY)"
    out = subprocess.run([sys.executable, "-c", f"import os; os.environ['DJANGO_SETTINGS_MODULE']='webapp.settings'; {code}"],
                         cwd=ROOT, env=clean, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_debug_is_off_by_default_and_a_key_is_made_once_private(tmp_path):
    debug, key = settings_in_subprocess(tmp_path)
    assert debug == "False"
    path = tmp_path / "secret_key"
    assert path.read_text().strip() == key and len(key) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert settings_in_subprocess(tmp_path)[1] == key  # the next process reads the same key


def test_debug_and_secret_key_come_from_the_environment(tmp_path):
    debug, key = settings_in_subprocess(tmp_path, DEBUG="1", SECRET_KEY="k" * 60)
    assert (debug, key) == ("True", "k" * 60)
    assert not (tmp_path / "secret_key").exists()


def test_a_truncated_key_file_is_refused_not_used(tmp_path):
    (tmp_path / "secret_key").write_text("short")
    with pytest.raises(RuntimeError, match="delete it"):
        secret_key_from_file(tmp_path / "secret_key")


def test_serve_debug_flag_turns_debug_on_for_every_child(monkeypatch):
    from webapp import serve

    seen = {}

    class Stop(Exception):
        pass

    def fake_run(cmd, env=None, **kwargs):
        seen["env"] = env
        raise Stop

    monkeypatch.setattr(serve.subprocess, "run", fake_run)
    monkeypatch.delenv("DEBUG", raising=False)
    with pytest.raises(Stop):
        serve.main(["--debug"])
    assert seen["env"]["DEBUG"] == "1"
    with pytest.raises(Stop):
        serve.main([])
    assert "DEBUG" not in seen["env"]


@pytest.mark.parametrize("path", ["/no-such-page", "/static/../webapp/settings.py", "/static/%2e%2e/webapp/settings.py"])
def test_unknown_paths_are_plain_404s_without_settings_or_tracebacks(client_a, path):
    r = client_a.get(path)
    assert r.status_code == 404
    assert b"SECRET_KEY" not in r.content and b"Traceback" not in r.content and b"urlpatterns" not in r.content.lower()
