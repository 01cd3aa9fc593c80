"""Scale-out, exercised: more workers on one broker and database, and many viewers on one run.

1. Throughput: 16 short runs queued at once, finished by 1 worker process, then by 2
   worker processes on the same Redis and database (README, "Add a worker machine": the
   second worker is started exactly as there). Prints both wall times and their ratio,
   and which workers took the runs.
2. Fan-out: 100 websocket viewers on one run while 4 other runs train beside it.
   Delivery lag of each event to each viewer, measured behind the first viewer to get it
   (p50/p95), and events lost after catch-up from the database (must be 0).

    .venv/bin/python bench/bench_scale.py                # PostgreSQL if scripts/pg-throwaway can start one
    .venv/bin/python bench/bench_scale.py --sqlite --viewers 50 --runs 8

Timings are side by side in one process on one machine; on a 2-core machine two workers
compete with daphne and the viewers for the cores, so expect less than 2x there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from webapp.cli import ENDED, Server  # noqa: E402
from webapp.serve import collectstatic, free_port, start_redis, start_web, stop_all, wait_port  # noqa: E402

SHORT = {"data": {"dataset": "xor", "n_samples": 400}, "training": {"epochs": 25, "batch_size": 32},
         "monitor": {"diagnostics": False, "boundary": False, "landscape": {"mode": "none"}}}
# one step event per batch: 1,400 training samples / 16 × 60 epochs ≈ 5,300 steps
WATCHED = {"data": {"dataset": "xor", "n_samples": 2000}, "training": {"epochs": 60, "batch_size": 16},
           "monitor": {"diagnostics": True, "boundary": False, "landscape": {"mode": "none"}}}


def worker(env: dict, name: str, concurrency: int = 1) -> subprocess.Popen:
    """A worker as README's "Add a worker machine" starts it: same code, same REDIS_URL and DATABASE_URL."""
    pool = ["-P", "solo"] if concurrency == 1 else ["-c", str(concurrency)]
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "webapp", "worker", "-l", "warning", *pool, "-Q", "celery",
                             "--without-gossip", "--without-mingle", "-n", f"{name}@%h"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_workers(env: dict, n: int, timeout: float = 120) -> None:
    code = (f"from webapp.celery import app; import sys; r = app.control.ping(timeout=2.0) or []; "
            f"sys.exit(0 if len(r) >= {n} else 1)")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True).returncode == 0:
            return
        time.sleep(1)
    raise TimeoutError(f"{n} worker(s) did not answer")


class Stack:
    def __init__(self, use_pg: bool):
        self.tmp = tempfile.TemporaryDirectory(prefix="descent-scale-")
        self.var = Path(self.tmp.name)
        self.procs: list[subprocess.Popen] = []
        self.pg_dir = None
        env = dict(os.environ)
        db = f"sqlite:///{self.var / 'scale.sqlite3'}"
        if use_pg:
            try:
                out = subprocess.run(["bash", str(ROOT / "scripts/pg-throwaway"), "start"], capture_output=True, text=True,
                                     check=True).stdout
                exports = dict(line.split(" ", 1)[1].split("=", 1) for line in out.splitlines() if line.startswith("export "))
                self.pg_dir, db = exports["PG_THROWAWAY"], exports["DESCENT_LIVE_DATABASE_URL"]
            except (subprocess.CalledProcessError, KeyError) as exc:
                print(f"(no PostgreSQL: {exc}; using SQLite)")
        self.db = db
        env.update({"DJANGO_SETTINGS_MODULE": "webapp.settings", "DESCENT_VAR_DIR": str(self.var), "DATABASE_URL": db,
                    "DESCENT_CHANNEL_LAYER": "redis", "PYTHONPATH": str(ROOT), "DESCENT_MAX_ACTIVE_RUNS": "1000",
                    "DESCENT_MAX_ACTIVE_RUNS_PER_IP": "1000", "DESCENT_MAX_QUEUED_RUNS": "1000",
                    **{f"DESCENT_RATE_{n}{ip}": "off" for n in ("RUNS", "UPLOADS", "JOINS", "LOGINS") for ip in ("", "_IP")}})
        env.pop("REDIS_URL", None)
        self.env = env

    def start(self) -> "Stack":
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env, check=True)
        collectstatic(self.env)
        redis, self.env["REDIS_URL"] = start_redis(self.var)
        self.procs.append(redis)
        self.port = free_port()
        web = start_web(self.env, "127.0.0.1", self.port)
        self.procs.append(web)
        wait_port("127.0.0.1", self.port, 60, web)
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def stop(self) -> None:
        stop_all(self.procs)
        if self.pg_dir:
            subprocess.run(["bash", str(ROOT / "scripts/pg-throwaway"), "stop", self.pg_dir], capture_output=True)
        self.tmp.cleanup()


def submit(server: Server, spec: dict, n: int) -> list[str]:
    return [server.post("/api/runs", {"spec": spec})["id"] for _ in range(n)]


def wait_all(server: Server, ids: list[str], timeout: float = 1800) -> list[dict]:
    """Every run once ended. Asks only about the runs still going, every 0.1 s: a coarse
    poll would add up to its interval to a wall time of a few seconds."""
    deadline = time.monotonic() + timeout
    ended: dict[str, dict] = {}
    while time.monotonic() < deadline:
        for i in ids:
            if i not in ended:
                run = server.get(f"/api/runs/{i}")
                if run["status"] in ENDED:
                    ended[i] = run
                else:
                    break  # queued runs start in order: the later ones are not done either
        if len(ended) == len(ids):
            return [ended[i] for i in ids]
        time.sleep(0.1)
    raise TimeoutError("runs did not finish")


def workers_of(stack: Stack, ids: list[str]) -> dict[str, int]:
    code = ("import django, json, sys; django.setup(); from webapp.runs.models import Run; from collections import Counter; "
            "print(json.dumps(Counter(Run.objects.filter(public_id__in=sys.argv[1:]).values_list('worker', flat=True))))")
    out = subprocess.run([sys.executable, "-c", code, *ids], cwd=ROOT, env=stack.env, capture_output=True, text=True, check=True)
    return {k.split("@")[0]: v for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}


def throughput(stack: Stack, n_runs: int) -> None:
    server = Server(stack.url)
    times = {}
    first = worker(stack.env, "w1")
    stack.procs.insert(1, first)
    wait_workers(stack.env, 1)
    for n_workers in (1, 2):
        if n_workers == 2:
            stack.procs.insert(1, worker(stack.env, "w2"))
            wait_workers(stack.env, 2)
        t0 = time.perf_counter()
        ids = submit(server, SHORT, n_runs)
        runs = wait_all(server, ids)
        times[n_workers] = time.perf_counter() - t0
        ok = sum(r["status"] == "succeeded" for r in runs)
        print(f"{n_runs} runs, {n_workers} worker process(es): {times[n_workers]:6.1f} s wall, {ok}/{n_runs} succeeded, "
              f"taken by {workers_of(stack, ids)}")
    print(f"speed-up of 2 workers over 1: {times[1] / times[2]:.2f}x  (ideal 2.00x; cores on this machine: {os.cpu_count()})")


# The viewers share one process with each other: a frame that several viewers receive
# byte for byte is parsed once, so what is measured is the server's fan-out, not this
# process's JSON decoding.
_parsed: dict[str, tuple[list[int], bool]] = {}


def parse(raw: str) -> tuple[list[int], bool]:
    hit = _parsed.get(raw)
    if hit is None:
        message = json.loads(raw)
        seqs = message.get("seqs") or ([message["seq"]] if "seq" in message else [])
        hit = _parsed[raw] = (seqs, message.get("type") == "status" and message.get("status") in ENDED)
        if len(_parsed) > 4096:
            _parsed.pop(next(iter(_parsed)))
    return hit


async def viewer(url: str, got: dict[int, float], done: asyncio.Event, ready: asyncio.Event, origin: str) -> None:
    """Records when each seq arrived; ends at the run's final status, as a page would. A
    viewer that is still waiting 12 s after the server finished (longer than the
    consumer's 5 s watch interval, after which it heals from the database) gives up."""
    from websockets.asyncio.client import connect

    async with connect(url, origin=origin, max_size=None, open_timeout=60) as ws:
        ready.set()
        waited = 0.0
        while True:
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=1.0)
            except TimeoutError:
                if done.is_set():
                    waited += 1.0
                    if waited >= 12:
                        return
                continue
            now = time.perf_counter()
            seqs, final = parse(raw)
            for seq in seqs:
                got.setdefault(seq, now)
            if final:
                return


async def fanout(stack: Stack, n_viewers: int, n_other: int) -> None:
    server = Server(stack.url)
    w = worker(stack.env, "fanout", concurrency=n_other + 1)
    stack.procs.insert(1, w)
    wait_workers(stack.env, 1)
    # the watched run waits behind nothing; viewers attach while it is queued
    run_id = server.post("/api/runs", {"spec": WATCHED})["id"]
    url = server.ws_url(f"/ws/runs/{run_id}/?after=0")
    got: list[dict[int, float]] = [{} for _ in range(n_viewers)]
    done = asyncio.Event()
    readies = [asyncio.Event() for _ in range(n_viewers)]
    tasks = [asyncio.create_task(viewer(url, got[i], done, readies[i], stack.url)) for i in range(n_viewers)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=120)
    others = await asyncio.to_thread(submit, server, SHORT | {"training": {"epochs": 120, "batch_size": 16}}, n_other)
    final = await asyncio.to_thread(wait_all, server, [run_id, *others])
    done.set()
    await asyncio.wait(tasks, timeout=60)
    broken = [t.exception() for t in tasks if t.done() and not t.cancelled() and t.exception() is not None]
    if broken:
        print(f"{len(broken)} viewer connection(s) broke: {broken[0]!r}")
    last_seq = final[0]["last_seq"]
    # lag: when each viewer got a seq, behind the first viewer that got it
    first = {}
    for g in got:
        for seq, t in g.items():
            first[seq] = min(t, first.get(seq, t))
    lags = sorted((t - first[seq]) * 1000 for g in got for seq, t in g.items())
    # catch-up: what a viewer missed live it asks the database for (as the page does)
    lost = 0
    live_missing = 0
    for g in got:
        missing = set(range(1, last_seq + 1)) - set(g)
        live_missing += len(missing)
        if missing and os.environ.get("BENCH_DEBUG"):
            print("missing", len(missing), min(missing), max(missing))
        if missing:
            after = min(missing) - 1
            page = await asyncio.to_thread(server.get, f"/api/runs/{run_id}/events?after={after}&limit=100000")
            for ev in page["events"]:
                for seq in ev.get("seqs") or [ev["seq"]]:
                    missing.discard(seq)
            lost += len(missing)
    q = statistics.quantiles(lags, n=100) if len(lags) > 1 else [0.0] * 99
    print(f"{n_viewers} viewers on one run ({last_seq:,} events, status {final[0]['status']}) beside {n_other} runs: "
          f"lag behind the first viewer p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, max {lags[-1]:.0f} ms")
    print(f"events missed live: {live_missing:,} of {last_seq * n_viewers:,}; lost after catch-up from the database: {lost}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=16)
    p.add_argument("--viewers", type=int, default=100)
    p.add_argument("--others", type=int, default=4)
    p.add_argument("--sqlite", action="store_true", help="SQLite instead of a throwaway PostgreSQL")
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--skip-fanout", action="store_true")
    args = p.parse_args()
    for part in ("throughput", "fanout"):
        if getattr(args, f"skip_{part}"):
            continue
        stack = Stack(use_pg=not args.sqlite).start()
        print(f"== {part} (database: {stack.db.split('://')[0]})", flush=True)
        try:
            if part == "throughput":
                throughput(stack, args.runs)
            else:
                asyncio.run(fanout(stack, args.viewers, args.others))
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
