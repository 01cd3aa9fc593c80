"""``GET /api/runs/<id>/export/csv``: a run's per-epoch metrics as CSV.

One row per ``epoch`` event, one column per metric the run reported (whatever the
trainer put in its epoch events: losses, accuracies or R²/RMSE, lr, seconds, penalties),
in the order they first appear; nested values (``penalty: {l1, l2}``) become
``penalty_l1``, ``penalty_l2``. ``step`` is the last optimizer step of the epoch (from the
step events before it), so a row can be put on the loss chart's x axis. Anyone with the
link may read it, like the events themselves.
"""

from __future__ import annotations

import csv
import io
import json
import re

from django.http import HttpResponse

from webapp.runs.api import api
from webapp.runs.models import Event, Run
from webapp.runs.services import ApiError

SKIP = {"seq", "type"}


def _flat(ev: dict) -> dict:
    row: dict = {}
    for k, v in ev.items():
        if k in SKIP:
            continue
        if isinstance(v, dict):
            for k2, v2 in v.items():
                if not isinstance(v2, (dict, list)):
                    row[f"{k}_{k2}"] = v2
        elif not isinstance(v, list):
            row[k] = v
    return row


def rows_of(payloads) -> tuple[list[str], list[dict]]:
    """(columns, rows) from an ordered iterable of event dicts."""
    columns: list[str] = ["epoch", "step"]
    rows: list[dict] = []
    last_step = None
    for ev in payloads:
        if ev.get("type") == "step":
            s = ev.get("step")
            last_step = s[-1] if isinstance(s, list) and s else (s if not isinstance(s, list) else last_step)
        elif ev.get("type") == "epoch":
            row = _flat(ev)
            row.setdefault("step", last_step)
            for k in row:
                if k not in columns:
                    columns.append(k)
            rows.append(row)
    return columns, rows


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return v


def render_csv(columns: list[str], rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in columns])
    return buf.getvalue()


@api("GET")
def run_export_csv(request, public_id: str):
    run = Run.objects.filter(public_id=public_id).first()
    if run is None:
        raise ApiError(404, f"no run {public_id!r}")
    payloads = (json.loads(p) for p in Event.objects.filter(run=run, type__in=("step", "epoch"))
                .order_by("seq").values_list("payload", flat=True).iterator(chunk_size=2000))
    columns, rows = rows_of(payloads)
    response = HttpResponse(render_csv(columns, rows), content_type="text/csv; charset=utf-8")
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", run.name or "")[:60].strip("_") or "run"
    response["Content-Disposition"] = f'attachment; filename="descent_{name}_{run.public_id}_metrics.csv"'
    return response
