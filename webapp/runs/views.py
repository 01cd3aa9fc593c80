"""JSON API for specs and runs (see DESIGN.md, "HTTP API"), and the two pages."""

from __future__ import annotations

import json

from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods

from training import events as event_protocol
from training.spec import json_schema
from webapp.runs import services
from webapp.runs.api import api, json_body
from webapp.runs.events import drop_seen, dumps
from webapp.runs.models import Event, Run
from webapp.runs.services import ApiError

EVENTS_PAGE = 5000
page = require_http_methods(["GET", "HEAD"])  # pages answer 405 to anything else


def _run_or_404(public_id: str) -> Run:
    run = Run.objects.filter(public_id=public_id).select_related("parent").first()
    if run is None:
        raise ApiError(404, f"no run {public_id!r}")
    if run.is_lost():  # its worker is gone: end it now rather than at the next sweep
        services.reap()
        run.refresh_from_db()
    return run


@page
@ensure_csrf_cookie
def playground(request):
    return render(request, "playground.html", {})


@page
@ensure_csrf_cookie
def run_page(request, public_id: str):
    if not Run.objects.filter(public_id=public_id).exists():
        raise Http404("no such run")
    return render(request, "run.html", {"run_id": public_id})


@api("GET")
def spec_schema(request):
    return JsonResponse(json_schema())


@api("GET")
def events_schema(request):
    """The event protocol (training.events): every event type, the statuses, the wire messages."""
    return JsonResponse(event_protocol.json_schema())


@api("POST")
def spec_validate(request):
    _spec, summary = services.check_spec(json_body(request))
    return JsonResponse({"summary": summary})


@api("GET", "POST")
def runs(request):
    if request.method == "POST":
        run = services.create_run(request, json_body(request))
        return JsonResponse({"id": run.public_id, "status": run.status, "url": run.url, "ws": run.ws,
                             "queue_position": run.queue_position()}, status=201)
    # GET: the caller's own runs, newest first (lost ones ended first)
    services.reap()
    key = request.session.session_key
    own = Q(owner_session=key) if key else Q(pk__in=[])
    if request.user.is_authenticated:
        own |= Q(owner_user=request.user)
    from webapp.compare.listing import LIST_LIMIT, run_row  # the /runs page's columns

    rows = Run.objects.filter(own).only("public_id", "name", "status", "created", "spec", "summary")[:LIST_LIMIT]
    return JsonResponse({"runs": [run_row(r) for r in rows]})


@api("GET", "DELETE")
def run_detail(request, public_id: str):
    run = _run_or_404(public_id)
    if request.method == "DELETE":
        if not run.is_owned_by(request):
            raise ApiError(403, "only the owner of a run may delete it")
        if run.is_active:
            raise ApiError(409, "stop the run before deleting it")
        run.delete()
        return HttpResponse(status=204)
    from webapp.sweeps.services import sweep_ref  # the run's place in its sweep, if any

    return JsonResponse({**run.as_dict(request), "sweep": sweep_ref(run)})


@api("GET")
def run_events(request, public_id: str):
    run = _run_or_404(public_id)
    try:
        after = min(int(request.GET.get("after", "0")), 2**31 - 1)  # seq is a 32-bit column (PostgreSQL)
        limit = min(int(request.GET.get("limit", str(EVENTS_PAGE))), EVENTS_PAGE)
    except ValueError:
        raise ApiError(400, [{"path": "after", "message": "after and limit must be integers"}]) from None
    if after < 0 or limit < 1:
        raise ApiError(400, [{"path": "after", "message": "after must be >= 0 and limit >= 1"}])
    payloads = list(Event.objects.filter(run=run, seq__gt=after).order_by("seq")
                    .values_list("seq", "payload")[:limit + 1])
    more = len(payloads) > limit
    payloads = payloads[:limit]
    last = payloads[-1][0] if payloads else after
    # a stored step row holds several steps: only the first row can hold some <= after
    if payloads and '"seqs"' in payloads[0][1]:
        first = drop_seen(json.loads(payloads[0][1]), after)
        payloads[0] = (payloads[0][0], dumps(first))
    # payloads are stored as the JSON text sent to browsers: splice, don't re-encode
    body = ('{"events":[' + ",".join(p for _, p in payloads) + f'],"last_seq":{last},'
            f'"more":{"true" if more else "false"},"status":"{run.status}"}}')
    return HttpResponse(body, content_type="application/json")


@api("POST")
def run_cancel(request, public_id: str):
    run = _run_or_404(public_id)
    if not run.is_owned_by(request):
        raise ApiError(403, "only the owner of a run may stop it")
    if not run.is_active:
        raise ApiError(409, f"the run has already ended ({run.status})")
    run = services.cancel_run(run)
    return JsonResponse(run.as_dict(request))


@api("POST")
def run_fork(request, public_id: str):
    parent = _run_or_404(public_id)
    body = json_body(request, key=None) if request.body else {}
    spec = body.get("spec", parent.spec)
    run = services.create_run(request, spec, parent=parent)
    return JsonResponse({"id": run.public_id, "status": run.status, "url": run.url, "ws": run.ws,
                         "parent": parent.public_id}, status=201)


@api("GET")
def run_export_script(request, public_id: str):
    from django.conf import settings

    from training.export import export_script, script_filename
    from training.spec import validate

    run = _run_or_404(public_id)
    spec = validate(run.spec, services.limits())
    script = export_script(spec, upload_root=settings.UPLOAD_ROOT)
    response = HttpResponse(script, content_type="text/x-python; charset=utf-8")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{script_filename(spec)}"'
    return response


async def healthz(request):
    """For a load balancer: database, Redis and the freshest worker; 200 or 503 with details.

    Async, with every check bounded by a short timeout and none of them on the event
    loop's thread: it answers promptly however many viewers the process serves.
    """
    import asyncio
    import time

    from asgiref.sync import sync_to_async
    from django.conf import settings
    from django.utils import timezone

    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"errors": [{"path": "", "message": "use GET"}]}, status=405)

    def database() -> dict:
        from django.db import connection

        from webapp.runs.models import Worker

        try:
            t0 = time.perf_counter()
            with connection.cursor() as cur:
                cur.execute("SELECT 1")
            seen = Worker.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
            age = (timezone.now() - seen).total_seconds() if seen else None
            return {"ok": True, "ms": round((time.perf_counter() - t0) * 1000, 1), "worker_age": age}
        except Exception as exc:
            return {"ok": False, "error": str(exc)[:200]}
        finally:
            if not connection.in_atomic_block:  # never under a caller's transaction (tests)
                connection.close()

    async def redis_ping() -> dict:
        if settings.CHANNEL_BACKEND != "redis":
            return {"ok": True, "skipped": "in-memory channel layer"}
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        try:
            t0 = time.perf_counter()
            await asyncio.wait_for(client.ping(), 1.5)
            return {"ok": True, "ms": round((time.perf_counter() - t0) * 1000, 1)}
        except Exception as exc:
            return {"ok": False, "error": str(exc)[:200] or type(exc).__name__}
        finally:
            await client.aclose()

    try:
        db = await asyncio.wait_for(sync_to_async(database, thread_sensitive=False)(), 3)
    except TimeoutError:
        db = {"ok": False, "error": "the database did not answer within 3 s"}
    redis_state = await redis_ping()
    age = db.pop("worker_age", None)
    worker = {"ok": age is not None and age <= settings.HEARTBEAT_TIMEOUT,
              "last_seen_seconds": None if age is None else round(age, 1)}
    ok = db["ok"] and redis_state["ok"] and worker["ok"]
    return JsonResponse({"ok": ok, "database": db, "redis": redis_state, "worker": worker}, status=200 if ok else 503)
