"""Sweeps: JSON API and the sweep page (DESIGN.md "HTTP API"; docs/protocol.md "Sweeps")."""

from __future__ import annotations

import csv
import io

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from webapp.runs.api import api, json_body
from webapp.runs.services import ApiError
from webapp.sweeps import services
from webapp.sweeps.models import Sweep

SUMMARY_COLUMNS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "epochs_run", "seconds")


def _sweep_or_404(public_id: str) -> Sweep:
    sweep = Sweep.objects.filter(public_id=public_id).first()
    if sweep is None:
        raise ApiError(404, f"no sweep {public_id!r}")
    return sweep


@api("POST")
def sweeps(request):
    sweep = services.create_sweep(request, json_body(request, key=None))
    runs = list(sweep.members.select_related("run").order_by("index"))
    return JsonResponse({"id": sweep.public_id, "url": sweep.url, "n_runs": len(runs),
                         "runs": [{"id": m.run.public_id, "url": m.run.url, "values": m.values, "seed": m.run.spec["seed"],
                                   "status": m.run.status} for m in runs]}, status=201)


@api("GET")
def sweep_lessons(request):
    from webapp.sweeps.lessons import SWEEP_LESSONS

    return JsonResponse(SWEEP_LESSONS, safe=False)


@api("GET")
def sweep_detail(request, public_id: str):
    sweep = _sweep_or_404(public_id)
    services.release(sweep.owner_session, sweep.owner_user_id)  # fallback if a worker's hook was missed
    body = services.table(sweep)
    body["is_owner"] = sweep.is_owned_by(request)
    return JsonResponse(body)


@api("POST")
def sweep_cancel(request, public_id: str):
    sweep = _sweep_or_404(public_id)
    if not sweep.is_owned_by(request):
        raise ApiError(403, "only the owner of a sweep may stop it")
    n = services.cancel_all(sweep)
    return JsonResponse({"cancelled": n, **services.table(sweep)})


@api("GET")
def sweep_csv(request, public_id: str):
    sweep = _sweep_or_404(public_id)
    t = services.table(sweep)
    paths = [a["path"] for a in sweep.axes]
    summaries = dict(sweep.members.values_list("run__public_id", "run__summary"))
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["run", "url", "status", "point", "repeat", "seed", *paths, f"final_{sweep.metric}",
                f"best_{sweep.metric}", *SUMMARY_COLUMNS])
    for r in t["runs"]:
        s = summaries.get(r["id"]) or {}
        w.writerow([r["id"], r["url"], r["status"], r["point"], r["repeat"], r["seed"], *(r["values"].get(p) for p in paths),
                    _cell(r["final"]), _cell(r["best"]), *(_cell(s.get(c)) for c in SUMMARY_COLUMNS)])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sweep-{sweep.public_id}.csv"'
    return response


def _cell(v):
    return "" if v is None else v


@ensure_csrf_cookie
def sweep_page(request, public_id: str):
    if not Sweep.objects.filter(public_id=public_id).exists():
        raise Http404("no such sweep")
    return render(request, "sweeps/sweep.html", {"sweep_id": public_id})
