"""Sweep creation, fair dispatch, the live table, cancel-all; views stay thin.

Fairness: a sweep's runs are created at once as ordinary ``queued`` runs, but only
``DESCENT_SWEEP_ACTIVE_PER_OWNER`` of one owner's sweep runs are in the broker (or
running) at any time. Another visitor's single run therefore waits behind at most that
many sweep runs, not behind the whole sweep. The rest wait in the database and are
released as earlier ones end (a Celery ``task_postrun`` hook in the worker, and each read
of the sweep's table as a fallback).
"""

from __future__ import annotations

import json
import math

from django.conf import settings
from django.db import transaction

from training.spec import SpecError, dump
from webapp.runs.models import ACTIVE, Event, Run
from webapp.runs.services import ApiError, check_spec, owner_key
from webapp.runs.sink import EventSink
from webapp.sweeps import expand, live
from webapp.sweeps.models import Sweep, SweepRun

MAX_REPORTED_ERRORS = 20


def _int_field(body: dict, key: str, default, low: int, high: int) -> int:
    value = body.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ApiError(400, [{"path": f"/{key}", "message": f"an integer from {low} to {high}"}])
    return value


def parse_body(body: dict) -> dict:
    """Check the sweep's own fields (not yet the generated specs)."""
    if "lesson" in body:  # a sweep lesson, with any field of the body overriding the lesson's
        from webapp.sweeps.lessons import SWEEP_LESSONS

        lesson = next((x for x in SWEEP_LESSONS if x["slug"] == body["lesson"]), None)
        if lesson is None:
            raise ApiError(400, [{"path": "/lesson", "message": f"no sweep lesson {body['lesson']!r}"}])
        body = {**lesson["sweep"], "spec": lesson["spec"], "name": lesson["title"],
                **{k: v for k, v in body.items() if k != "lesson"}}
    known = {"spec", "method", "axes", "samples", "repeats", "metric", "goal", "name", "seed"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise ApiError(400, [{"path": f"/{unknown[0]}", "message": "unknown field"}])
    base = body.get("spec", {})
    if not isinstance(base, dict):
        raise ApiError(400, [{"path": "/spec", "message": "the base spec must be a JSON object"}])
    method = body.get("method", "grid")
    if method not in expand.METHODS:
        raise ApiError(400, [{"path": "/method", "message": "grid or random"}])
    max_runs = settings.MAX_SWEEP_RUNS
    samples = _int_field(body, "samples", None if method == "random" else 1, 1, max_runs) if method == "random" else None
    repeats = _int_field(body, "repeats", 1, 1, max_runs)
    metric = body.get("metric", "val_acc")
    if metric not in expand.METRICS:
        raise ApiError(400, [{"path": "/metric", "message": "one of " + ", ".join(expand.METRICS)}])
    goal = body.get("goal", expand.METRICS[metric])
    if goal not in ("max", "min"):
        raise ApiError(400, [{"path": "/goal", "message": "max or min"}])
    name = body.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        raise ApiError(400, [{"path": "/name", "message": "a string of at most 200 characters"}])
    try:
        axes = expand.parse_axes(body.get("axes"), method)
    except expand.BodyError as exc:
        raise ApiError(400, exc.errors) from None
    seed = body.get("seed", base.get("seed", 0))
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ApiError(400, [{"path": "/seed", "message": "an integer"}])
    return {"base": base, "method": method, "samples": samples, "repeats": repeats, "metric": metric,
            "goal": goal, "axes": axes, "seed": seed, "name": name}


def _axis_of(error_path: str, axes: list[expand.Axis]) -> int | None:
    for i, axis in enumerate(axes):
        if error_path == axis.path or error_path.startswith(axis.path + "/") or axis.path.startswith(error_path + "/"):
            return i
    return None


def generate(parsed: dict) -> list[tuple[int, int, dict, dict]]:
    """Every (point, repeat, values, checked spec dict); 400 naming the axis and value of each bad one."""
    axes, base = parsed["axes"], parsed["base"]
    try:
        base_spec, _ = check_spec(base)
    except SpecError as exc:
        raise ApiError(400, [{"path": "/spec" + e["path"], "message": e["message"]} for e in exc.errors]) from None
    defaults = dump(base_spec)
    # count before expanding: a grid of a few long value lists is huge
    n_points = math.prod(len(a.values) for a in axes) if parsed["method"] == "grid" else parsed["samples"]
    total = n_points * parsed["repeats"]
    if total > settings.MAX_SWEEP_RUNS:
        raise ApiError(400, [{"path": "/axes", "message": f"{n_points} points x {parsed['repeats']} repeats = {total} runs; "
                              f"at most {settings.MAX_SWEEP_RUNS} runs per sweep (DESCENT_MAX_SWEEP_RUNS)"}])
    pts = expand.points(axes, parsed["method"], parsed["samples"], parsed["seed"])
    total = len(pts) * parsed["repeats"]
    if total > settings.MAX_SWEEP_RUNS:
        raise ApiError(400, [{"path": "/axes", "message": f"{len(pts)} points x {parsed['repeats']} repeats = {total} runs; "
                              f"at most {settings.MAX_SWEEP_RUNS} runs per sweep (DESCENT_MAX_SWEEP_RUNS)"}])
    base_seed = base_spec.seed
    seed_swept = any(a.path == "/seed" for a in axes)
    out, errors, seen = [], [], set()
    for p, values in enumerate(pts):
        doc = base
        try:
            for path, value in values.items():
                doc = expand.set_pointer(doc, defaults, path, value)
        except KeyError as exc:
            i = next(i for i, a in enumerate(axes) if a.path == path)
            errors.append({"path": f"/axes/{i}/path", "message": f"{path} does not exist in the spec: {exc.args[0]}"})
            break
        for r in range(parsed["repeats"]):
            one = doc if seed_swept and parsed["repeats"] == 1 else {**doc, "seed": (doc.get("seed", base_seed)) + r}
            try:
                spec, _ = check_spec(one)
            except SpecError as exc:
                for e in exc.errors:
                    i = _axis_of(e["path"], axes)
                    shown = ", ".join(f"{k} = {json.dumps(v)}" for k, v in values.items())
                    key = (i, json.dumps(values.get(axes[i].path) if i is not None else values), e["path"])
                    if key in seen:
                        continue
                    seen.add(key)
                    if i is not None:
                        v = values[axes[i].path]
                        errors.append({"path": f"/axes/{i}", "message": f"{axes[i].path} = {json.dumps(v)} gives an invalid "
                                       f"spec: {e['path'] or '/'}: {e['message']}"})
                    else:
                        errors.append({"path": "/axes", "message": f"the point {shown} gives an invalid spec: "
                                       f"{e['path'] or '/'}: {e['message']}"})
                break  # one repeat tells for the point
            out.append((p, r, values, dump(spec)))
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
    if errors:
        raise ApiError(400, errors[:MAX_REPORTED_ERRORS])
    return out


def create_sweep(request, body: dict) -> Sweep:
    """Validate every generated spec, then create every run; nothing is queued on error.

    The per-owner cap on active single runs (``DESCENT_MAX_ACTIVE_RUNS``) does not apply:
    a sweep has its own limits (``DESCENT_MAX_SWEEP_RUNS``, and the dispatch cap below).
    """
    parsed = parse_body(body)
    runs = generate(parsed)
    cap = getattr(settings, "MAX_QUEUED_RUNS", None)
    if cap is not None and Run.objects.filter(status__in=ACTIVE).count() + len(runs) > cap:
        raise ApiError(429, f"the server's queue cannot take {len(runs)} more runs now (at most {cap} active in "
                            "total); try again later or sweep fewer points", {"Retry-After": "30"})
    key = owner_key(request)
    user = request.user if getattr(request, "user", None) and request.user.is_authenticated else None
    with transaction.atomic():
        sweep = Sweep.objects.create(
            owner_session=key, owner_user=user, name=parsed["name"] or parsed["base"].get("name", "") or "sweep",
            method=parsed["method"], axes=[a.describe() for a in parsed["axes"]], samples=parsed["samples"],
            repeats=parsed["repeats"], metric=parsed["metric"], goal=parsed["goal"], base_spec=parsed["base"])
        for index, (point, repeat, values, spec) in enumerate(runs):
            label = ", ".join(f"{k.rsplit('/', 1)[-1]}={_short(v)}" for k, v in values.items())
            run = Run.objects.create(spec=spec, name=f"{sweep.name} · {label} · seed {spec['seed']}"[:200],
                                     owner_session=key, owner_user=user)
            EventSink(run).emit({"type": "status", "status": "queued", "message": f"part of sweep {sweep.public_id}",
                                 "queue_position": run.queue_position()})
            SweepRun.objects.create(sweep=sweep, run=run, index=index, point=point, repeat=repeat, values=values)
        release(sweep.owner_session, sweep.owner_user_id)
    return sweep


def _short(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else json.dumps(v) if not isinstance(v, str) else v


def _owned(qs, owner_session: str, owner_user_id: int | None):
    return qs.filter(sweep__owner_user_id=owner_user_id) if owner_user_id else qs.filter(sweep__owner_session=owner_session,
                                                                                          sweep__owner_user__isnull=True)


def release(owner_session: str, owner_user_id: int | None = None) -> int:
    """Send the owner's waiting sweep runs to the broker while fewer than the cap are active."""
    cap = settings.SWEEP_ACTIVE_PER_OWNER
    members = _owned(SweepRun.objects.all(), owner_session, owner_user_id)
    active = members.filter(dispatched=True, run__status__in=ACTIVE).count()
    free = cap - active
    if free <= 0:
        return 0
    waiting = list(members.filter(dispatched=False, run__status="queued")
                   .order_by("sweep__created", "index").values_list("pk", "run_id")[:free])
    sent = 0
    for pk, run_pk in waiting:
        # a conditional update: two workers releasing at once never send one run twice
        if SweepRun.objects.filter(pk=pk, dispatched=False).update(dispatched=True):
            transaction.on_commit(lambda run_pk=run_pk: enqueue(run_pk))
            sent += 1
    return sent


def enqueue(run_pk: int) -> None:
    """To the broker with the run's own task id (the runs app's resend logic knows it)."""
    from webapp.runs import services as run_services

    run = Run.objects.filter(pk=run_pk, status="queued").first()
    if run is None:  # cancelled meanwhile
        return
    try:
        run_services.send(run, run_services.queue_for_doc(run.spec))
    except Exception:  # broker down: leave it waiting; the next release sends it
        SweepRun.objects.filter(run_id=run_pk).update(dispatched=False)
        raise
    sweep_id = SweepRun.objects.filter(run_id=run_pk).values_list("sweep__public_id", flat=True).first()
    if sweep_id:
        live.changed(sweep_id, run.public_id)  # "waiting" → "queued" on the sweep's page


def on_run_finished(run_pk: int) -> None:
    member = SweepRun.objects.filter(run_id=run_pk).select_related("sweep", "run").first()
    if member is None:
        return
    record(member)
    # the trainer's last status event came before Run.finish: now the row is final
    live.changed(member.sweep.public_id, member.run.public_id)
    release(member.sweep.owner_session, member.sweep.owner_user_id)


# ---------------------------------------------------------------- the table


def _metric_series(run_pk: int, metric: str) -> list[float]:
    if not metric.startswith(("train_", "val_")):
        return []
    out = []
    for payload in Event.objects.filter(run_id=run_pk, type="epoch").values_list("payload", flat=True):
        v = json.loads(payload).get(metric)
        if isinstance(v, (int, float)) and math.isfinite(v):
            out.append(float(v))
    return out


def metric_of(run: Run, metric: str, goal: str) -> tuple[float | None, float | None]:
    """(final, best over epochs) of ``metric`` for one run, so far."""
    series = _metric_series(run.pk, metric)
    final = None
    if run.summary and isinstance(run.summary.get(metric), (int, float)):
        final = float(run.summary[metric])
    elif series:
        final = series[-1]
    pick = max if goal == "max" else min
    best = pick(series) if series else final
    return final, best


def record(member: SweepRun) -> None:
    """Store the metric of a finished run once."""
    run = member.run
    if member.recorded or run.is_active:
        return
    member.final, member.best = metric_of(run, member.sweep.metric, member.sweep.goal)
    member.recorded = True
    SweepRun.objects.filter(pk=member.pk).update(final=member.final, best=member.best, recorded=True)


def _stats(xs: list[float]) -> tuple[float | None, float | None]:
    if not xs:
        return None, None
    mean = sum(xs) / len(xs)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return mean, std


def row(sweep: Sweep, m: SweepRun) -> dict:
    """One run's row of the table, as it stands in the database now."""
    run = m.run
    if run.is_active:
        final, best = metric_of(run, sweep.metric, sweep.goal) if run.status == "running" else (None, None)
    else:
        record(m)
        final, best = m.final, m.best
    return {"id": run.public_id, "url": run.url, "status": run.status, "point": m.point, "repeat": m.repeat,
            "seed": run.spec.get("seed"), "values": m.values, "final": final, "best": best,
            "waiting": run.status == "queued" and not m.dispatched,
            "epochs_run": (run.summary or {}).get("epochs_run"), "error": run.error or None}


def rows(sweep: Sweep, run_ids: list[str] | None = None) -> list[dict]:
    """The rows of the sweep (only those of ``run_ids`` when given), in creation order."""
    members = sweep.members.select_related("run").order_by("index")
    if run_ids is not None:
        members = members.filter(run__public_id__in=run_ids)
    return [row(sweep, m) for m in members]


def aggregate(metric: str, goal: str, rows: list[dict]) -> dict:
    """What the table derives from its rows: points (mean ± std over repeats), counts, best, top, done.

    Pure: the websocket consumer recomputes it from the rows it holds (webapp/sweeps/consumers.py).
    """
    sign = 1 if goal == "max" else -1
    done = [r for r in rows if r["status"] == "succeeded" and r["final"] is not None]
    ranked = sorted(done, key=lambda r: -sign * r["final"])
    points: dict[int, dict] = {}
    for r in rows:
        pt = points.setdefault(r["point"], {"point": r["point"], "values": r["values"], "runs": [], "finals": [], "bests": []})
        pt["runs"].append(r["id"])
        if r["status"] == "succeeded" and r["final"] is not None:
            pt["finals"].append(r["final"])
            if r["best"] is not None:
                pt["bests"].append(r["best"])
    point_rows = []
    for pt in points.values():
        mean, std = _stats(pt.pop("finals"))
        bmean, bstd = _stats(pt.pop("bests"))
        point_rows.append({**pt, "n": len(pt["runs"]), "mean": mean, "std": std, "best_mean": bmean, "best_std": bstd})
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return {"counts": counts, "done": not any(r["status"] in ACTIVE for r in rows),
            "best": ranked[0]["id"] if ranked else None, "top": [r["id"] for r in ranked[:5]], "points": point_rows}


def table(sweep: Sweep) -> dict:
    runs = rows(sweep)
    agg = aggregate(sweep.metric, sweep.goal, runs)
    return {"id": sweep.public_id, "url": sweep.url, "name": sweep.name, "method": sweep.method, "axes": sweep.axes,
            "samples": sweep.samples, "repeats": sweep.repeats, "metric": sweep.metric, "goal": sweep.goal,
            "created": sweep.created.isoformat(), "counts": agg["counts"], "done": agg["done"],
            "best": agg["best"], "top": agg["top"], "runs": runs, "points": agg["points"]}


def sweep_ref(run: Run) -> dict | None:
    """The ``sweep`` field of GET /api/runs/<id>: which sweep a run belongs to, and its place there."""
    m = SweepRun.objects.filter(run_id=run.pk).select_related("sweep").first()
    if m is None:
        return None
    return {"id": m.sweep.public_id, "url": m.sweep.url, "name": m.sweep.name, "axes": m.values,
            "point": m.point, "repeat": m.repeat if m.sweep.repeats > 1 else None}


def cancel_all(sweep: Sweep) -> int:
    from webapp.runs.services import cancel_run

    n = 0
    for run in Run.objects.filter(sweep_member__sweep=sweep, status__in=ACTIVE):
        cancel_run(run)
        n += 1
    return n

