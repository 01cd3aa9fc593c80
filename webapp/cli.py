"""`descent`: the command-line client. It talks HTTP and the websocket only (no Django).

    descent run spec.json [--server URL] [--watch]   submit a run; --watch follows it
    descent watch <id or link>                       follow a run: queue, epochs, summary
    descent export <id> --script|--csv|--weights     download what the server exports
    descent sweep sweep.json [--watch]               submit a sweep; --watch follows its table

Live progress comes from the run's websocket (the `websockets` package) and falls back
to polling ``GET /api/runs/<id>/events`` without it (or with ``--poll``). A progress bar
uses tqdm when it is installed, plain lines otherwise.

Exit status: 0 the run succeeded (or was submitted); 1 it ended failed, diverged,
timed_out or cancelled; 2 the server refused the request (4xx); 3 the server could not
be reached or answered 5xx.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

ENDED = ("succeeded", "failed", "cancelled", "diverged", "timed_out")
EXIT_OK, EXIT_RUN_FAILED, EXIT_REFUSED, EXIT_UNREACHABLE = 0, 1, 2, 3
DEFAULT_SERVER = "http://127.0.0.1:8000"


class CliError(Exception):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def error_text(status: int, raw: bytes) -> str:
    """The server's ``{"errors": [{"path", "message"}]}`` as lines a person reads."""
    try:
        errors = json.loads(raw).get("errors") or []
        lines = [f"{e.get('path') or '(request)'}: {e.get('message')}" for e in errors if isinstance(e, dict)]
        if lines:
            return "\n".join(lines)
    except (ValueError, AttributeError):
        pass
    text = raw.decode(errors="replace").strip()
    return f"HTTP {status}" + (f": {text[:300]}" if text and not text.lstrip().startswith("<") else "")


class Server:
    """A browser-like session: keeps cookies, sends the CSRF token and Referer."""

    def __init__(self, base: str, timeout: float = 30.0):
        if not base.startswith(("http://", "https://")):
            base = "http://" + base
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self._csrf_ready = False

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def _open(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            return self.opener.open(req, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            code = EXIT_UNREACHABLE if exc.code >= 500 else EXIT_REFUSED
            extra = f" (retry after {exc.headers['Retry-After']} s)" if exc.code == 429 and exc.headers.get("Retry-After") else ""
            raise CliError(error_text(exc.code, raw) + extra, code) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CliError(f"cannot reach {self.base}: {reason}", EXIT_UNREACHABLE) from None

    def get(self, path: str) -> dict:
        with self._open("GET", path, headers={"Accept": "application/json"}) as resp:
            return json.loads(resp.read())

    def download(self, path: str) -> tuple[bytes, str | None]:
        with self._open("GET", path) as resp:
            disposition = resp.headers.get("Content-Disposition", "")
            name = None
            if "filename=" in disposition:
                name = disposition.split("filename=", 1)[1].strip().strip('"')
            return resp.read(), name

    def post(self, path: str, body: dict) -> dict:
        # Django's CSRF check: the csrftoken cookie from a page, echoed in X-CSRFToken,
        # and (it is an unsafe request) a Referer of the same origin
        if not self._csrf_ready:
            self._open("GET", "/").close()
            self._csrf_ready = True
        headers = {"Content-Type": "application/json", "Accept": "application/json", "Referer": self.base + "/",
                   "X-CSRFToken": self.cookie("csrftoken") or ""}
        with self._open("POST", path, json.dumps(body).encode(), headers) as resp:
            return json.loads(resp.read() or b"{}")

    def ws_url(self, path: str) -> str:
        parts = urllib.parse.urlsplit(self.base)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}{path}"


def run_id_of(text: str) -> str:
    """A run's id from its id or its share link (…/r/<id>)."""
    text = text.strip().rstrip("/")
    if "/" in text:
        return text.rsplit("/", 1)[1]
    return text


def load_json(path: str) -> dict:
    try:
        raw = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}", EXIT_REFUSED) from None
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise CliError(f"{path} is not valid JSON: {exc}", EXIT_REFUSED) from None
    if not isinstance(doc, dict):
        raise CliError(f"{path} must hold a JSON object (a spec)", EXIT_REFUSED)
    return doc


# -- progress -------------------------------------------------------------------------


def fmt(v) -> str:
    if isinstance(v, bool) or v is None:
        return "–" if v is None else str(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


class Progress:
    """What a person sees while a run goes: status lines, and one line (or a bar) per epoch."""

    def __init__(self, epochs: int | None, out=sys.stdout, use_tqdm: bool | None = None):
        self.out = out
        self.epochs = epochs
        self.status = None
        self.bar = None
        self.last_loss = None
        if use_tqdm is None:
            use_tqdm = out.isatty()
        if use_tqdm:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=epochs, unit="epoch", file=out, dynamic_ncols=True)
            except ImportError:
                self.bar = None

    def say(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text, file=self.out, flush=True)

    def event(self, ev: dict) -> None:
        kind = ev.get("type")
        if kind == "status":
            status = ev.get("status")
            if status != self.status:
                self.status = status
                where = f" (position {ev['queue_position']} in the queue)" if status == "queued" and ev.get("queue_position") else ""
                msg = f": {ev['message']}" if ev.get("message") else ""
                self.say(f"status: {status}{where}{msg}")
        elif kind == "queue" and self.status == "queued" and ev.get("queue_position"):
            self.say(f"queue position: {ev['queue_position']}")
        elif kind == "step":
            loss = ev.get("loss")
            self.last_loss = loss[-1] if isinstance(loss, list) and loss else loss
        elif kind == "epoch":
            self.epoch(ev)

    def epoch(self, ev: dict) -> None:
        e = ev.get("epoch")
        val = next(((k, ev[k]) for k in ("val_acc", "val_r2", "val_loss") if ev.get(k) is not None), None)
        parts = [f"epoch {fmt(e)}" + (f"/{self.epochs}" if self.epochs else ""), f"loss {fmt(ev.get('train_loss'))}"]
        if val:
            parts.append(f"{val[0]} {fmt(val[1])}")
        if self.bar is not None:
            self.bar.set_postfix_str("  ".join(parts[1:]))
            self.bar.update(1)
        else:
            self.say("  ".join(parts))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def print_summary(run: dict, server: Server, out=sys.stdout) -> None:
    summary = run.get("summary") or {}
    print(f"\nrun {run['id']}: {run['status']}", file=out)
    if run.get("error"):
        print(f"  {run['error']}", file=out)
    for key in ("epochs_run", "best_epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc",
                "params", "seconds", "early_stopped"):
        if summary.get(key) is not None:
            print(f"  {key:<14} {fmt(summary[key])}", file=out)
    print(f"  link           {server.base}{run['url']}", file=out)


# -- following a run ---------------------------------------------------------------------


def follow(server: Server, run_id: str, progress: Progress, poll: bool = False, idle: float = 15.0) -> str:
    """Show the run's events until it ends; returns its final status."""
    last = 0
    if not poll:
        try:
            import websockets.sync.client  # noqa: F401
        except ImportError:
            poll = True
    attempts = 0
    while True:
        if poll:
            return _poll(server, run_id, progress, last)
        try:
            status, last = _websocket(server, run_id, progress, last, idle)
            if status in ENDED:
                return status
            attempts = 0
        except Exception as exc:  # the network (OSError, EOFError), websockets' ConnectionClosed, InvalidStatus...
            attempts += 1
            if attempts > 5:
                why = exc if isinstance(exc, (OSError, EOFError)) else type(exc).__name__
                progress.say(f"(websocket unavailable: {why}; polling instead)")
                poll = True
            else:
                time.sleep(min(5.0, 0.5 * 2 ** attempts))
        # a reconnect resumes after the last seq seen: the server replays from the database


def _websocket(server: Server, run_id: str, progress: Progress, last: int, idle: float) -> tuple[str | None, int]:
    from websockets.sync.client import connect

    url = server.ws_url(f"/ws/runs/{urllib.parse.quote(run_id)}/?after={last}")
    origin = server.base
    status = None
    with connect(url, origin=origin, open_timeout=server.timeout, close_timeout=2, max_size=None) as ws:
        while True:
            try:
                raw = ws.recv(timeout=idle)
            except TimeoutError:
                # quiet (queued, or a landscape computing): ask the server how it stands
                run = server.get(f"/api/runs/{urllib.parse.quote(run_id)}")
                if run["status"] in ENDED and run.get("last_seq", 0) <= last:
                    return run["status"], last
                ws.send(json.dumps({"type": "ping"}))
                continue
            message = json.loads(raw)
            if message.get("type") in ("live", "pong"):
                continue
            if message.get("type") == "error":
                raise CliError(f"the server refused the websocket: {message.get('message')}", EXIT_REFUSED)
            seq = message.get("seq")
            if isinstance(seq, int) and seq <= last:
                continue
            progress.event(message)
            if isinstance(seq, int):
                last = seq
            if message.get("type") == "status":
                status = message.get("status")
                if status in ENDED:
                    return status, last


def _poll(server: Server, run_id: str, progress: Progress, last: int, every: float = 1.0) -> str:
    path = f"/api/runs/{urllib.parse.quote(run_id)}/events"
    while True:
        page = server.get(f"{path}?after={last}")
        for ev in page["events"]:
            progress.event(ev)
        last = page.get("last_seq", last)
        if page.get("more"):
            continue
        if page.get("status") in ENDED:
            return page["status"]
        time.sleep(every)


def exit_for(status: str) -> int:
    return EXIT_OK if status == "succeeded" else EXIT_RUN_FAILED


# -- commands ---------------------------------------------------------------------------


def cmd_run(args, server: Server) -> int:
    doc = load_json(args.spec)
    spec = doc["spec"] if isinstance(doc.get("spec"), dict) else doc
    created = server.post("/api/runs", {"spec": spec})
    link = server.base + created["url"]
    where = f", position {created['queue_position']} in the queue" if created.get("queue_position") else ""
    print(f"run {created['id']}: {created['status']}{where}\n  link {link}", flush=True)
    if not args.watch:
        return EXIT_OK
    return watch(server, created["id"], args)


def watch(server: Server, run_id: str, args) -> int:
    run = server.get(f"/api/runs/{urllib.parse.quote(run_id)}")
    epochs = ((run.get("spec") or {}).get("training") or {}).get("epochs")
    progress = Progress(epochs, use_tqdm=False if args.plain else None)
    try:
        status = follow(server, run_id, progress, poll=args.poll)
    finally:
        progress.close()
    run = server.get(f"/api/runs/{urllib.parse.quote(run_id)}")
    print_summary(run, server)
    return exit_for(status)


def cmd_watch(args, server: Server) -> int:
    return watch(server, run_id_of(args.run), args)


EXPORTS = {"script": "script", "csv": "csv", "weights": "weights", "onnx": "onnx"}


def cmd_export(args, server: Server) -> int:
    run_id = run_id_of(args.run)
    body, name = server.download(f"/api/runs/{urllib.parse.quote(run_id)}/export/{args.what}?download=1")
    binary = args.what in ("weights", "onnx")
    target = args.output or (name if binary else "-")
    if target == "-":
        if binary and sys.stdout.isatty():
            raise CliError(f"the {args.what} are binary: pass -o FILE (or redirect stdout)", EXIT_REFUSED)
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    else:
        with open(target, "wb") as f:
            f.write(body)
        print(f"wrote {target} ({len(body):,} bytes)", file=sys.stderr)
    return EXIT_OK


def cmd_sweep(args, server: Server) -> int:
    doc = load_json(args.sweep)
    created = server.post("/api/sweeps", doc)
    print(f"sweep {created['id']}: {created['n_runs']} runs\n  link {server.base}{created['url']}", flush=True)
    if not args.watch:
        return EXIT_OK
    seen: dict[str, str] = {}
    while True:
        table = server.get(f"/api/sweeps/{urllib.parse.quote(created['id'])}")
        for row in table["runs"]:
            if seen.get(row["id"]) != row["status"]:
                seen[row["id"]] = row["status"]
                final = f"  final {fmt(row.get('final'))}" if row.get("final") is not None else ""
                print(f"  {row['id']}  {json.dumps(row.get('values'))}  {row['status']}{final}", flush=True)
        if table.get("done"):
            break
        time.sleep(1.0)
    failed = [s for s in seen.values() if s != "succeeded"]
    print(f"sweep done: {len(seen) - len(failed)} succeeded, {len(failed)} did not", flush=True)
    return EXIT_OK if not failed else EXIT_RUN_FAILED


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="descent", description="Command-line client of a Descent server.")
    p.add_argument("--server", default=os.environ.get("DESCENT_SERVER", DEFAULT_SERVER),
                   help=f"the server's base URL (default $DESCENT_SERVER or {DEFAULT_SERVER})")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each HTTP answer")
    sub = p.add_subparsers(dest="command", required=True)

    def follow_options(sp):
        sp.add_argument("--poll", action="store_true", help="poll the events endpoint instead of the websocket")
        sp.add_argument("--plain", action="store_true", help="plain lines, no progress bar")

    r = sub.add_parser("run", help="submit a spec (JSON file, or - for stdin)")
    r.add_argument("spec")
    r.add_argument("--watch", action="store_true", help="follow the run until it ends; exit 1 unless it succeeded")
    follow_options(r)
    w = sub.add_parser("watch", help="follow a run by id or link until it ends")
    w.add_argument("run")
    follow_options(w)
    e = sub.add_parser("export", help="download a run's script, metrics CSV or weights")
    e.add_argument("run")
    kind = e.add_mutually_exclusive_group(required=True)
    for name in EXPORTS:
        kind.add_argument(f"--{name}", dest="what", action="store_const", const=name)
    e.add_argument("-o", "--output", help="file to write (default: stdout for text, the server's file name for binary)")
    s = sub.add_parser("sweep", help="submit a sweep (JSON: spec, method, axes...)")
    s.add_argument("sweep")
    s.add_argument("--watch", action="store_true", help="follow the sweep's table until every run ended")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    server = Server(args.server, timeout=args.timeout)
    handler = {"run": cmd_run, "watch": cmd_watch, "export": cmd_export, "sweep": cmd_sweep}[args.command]
    try:
        return handler(args, server)
    except CliError as exc:
        print(f"descent: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("\ndescent: interrupted (the run goes on; `descent watch` follows it again)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
