"""Rooms: creation, joining, the teacher's controls, locked fields; views stay thin."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from training.spec import SpecError, dump
from webapp.rooms.models import CODE_ALPHABET, CODE_LENGTH, Member, Room, RoomRun, new_code
from webapp.runs.models import ACTIVE, Run
from webapp.runs.services import ApiError, check_spec, owner_key

SESSION_TEACHER = "rooms_teacher"  # codes whose teacher this browser session is
CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
POINTER_RE = re.compile(r"^(/[^/]+)+$")
RUNS_PER_STUDENT = 10


def _text(body: dict, key: str, max_len: int) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, [{"path": f"/{key}", "message": f"a {key} is required"}])
    value = value.strip()
    if len(value) > max_len:
        raise ApiError(400, [{"path": f"/{key}", "message": f"at most {max_len} characters"}])
    return value


# ---------------------------------------------------------------- who is who


def create_room(request, body: dict) -> Room:
    name = _text(body, "name", 200)
    key = owner_key(request)
    for _ in range(10):  # 31^6 ≈ 9e8 codes: a collision is rare, never fatal
        try:
            with transaction.atomic():
                room = Room.objects.create(code=new_code(), name=name, teacher_session=key)
            break
        except IntegrityError:
            continue
    else:
        raise ApiError(503, "could not find a free room code; try again")
    request.session[SESSION_TEACHER] = [*request.session.get(SESSION_TEACHER, []), room.code][-20:]
    return room


def _parse_rate(text: str) -> tuple[int, int] | None:
    """ "10/10m" → (10, 600); "off" → None."""
    m = re.match(r"^\s*(\d+)\s*/\s*(\d*)\s*([smh])\s*$", text or "")
    if text.strip().lower() == "off":
        return None
    if not m:
        raise ImproperlyConfigured(f"{text!r}: expected N/period such as 10/10m")
    return int(m.group(1)), int(m.group(2) or 1) * {"s": 1, "m": 60, "h": 3600}[m.group(3)]


def _miss_counters(request) -> list[tuple[str, int, int]]:
    """(counter key, count, seconds) per browser session and per address: a class behind
    one NAT address mistypes codes too, so the address gets a larger budget."""
    ip = request.META.get("REMOTE_ADDR", "")
    session = request.session.session_key
    out = []
    for ident, setting, default in ((f"s{session}" if session else None, "ROOM_CODE_MISS_RATE", "10/10m"),
                                    (f"ip{ip}" if ip else None, "ROOM_CODE_MISS_RATE_IP", "100/10m")):
        rate = _parse_rate(getattr(settings, setting, default))
        if ident and rate is not None:
            window = int(time.time() // rate[1])
            out.append((f"roomcode:{ident}:{window}", rate[0], (window + 1) * rate[1] - int(time.time())))
    return out


def find_room(request, code: str) -> Room:
    """The room of ``code``; 404 if none, 429 once a client has guessed wrong too often."""
    counters = _miss_counters(request)
    for key, count, retry in counters:
        if (cache.get(key) or 0) >= count:
            raise ApiError(429, "too many unknown room codes from this browser or address; try again in a few minutes",
                           {"Retry-After": str(max(1, retry))})
    code = (code or "").upper()
    room = Room.objects.filter(code=code).first() if CODE_RE.match(code) else None
    if room is None:
        for key, _count, retry in counters:
            cache.add(key, 0, timeout=retry + 1)
            try:
                cache.incr(key)
            except ValueError:  # expired in between
                cache.add(key, 1, timeout=retry + 1)
        raise ApiError(404, [{"path": "/code", "message": f"no room {code!r}; check the code"}])
    return room


def is_teacher(request, room: Room) -> bool:
    key = request.headers.get("X-Teacher-Key", "")
    if key and hmac.compare_digest(key, room.teacher_key):
        return True
    if room.code in request.session.get(SESSION_TEACHER, []):
        return True
    session = request.session.session_key
    return bool(session) and session == room.teacher_session


def require_teacher(request, room: Room) -> None:
    if not is_teacher(request, room):
        raise ApiError(403, "only the teacher of this room (with its teacher link) may do this")


def claim_teacher(request, room: Room, key: str) -> bool:
    """The teacher link: a valid key makes this browser session the room's teacher."""
    if not key or not hmac.compare_digest(key, room.teacher_key):
        return False
    owner_key(request)
    request.session[SESSION_TEACHER] = [*request.session.get(SESSION_TEACHER, []), room.code][-20:]
    return True


def join(request, room: Room, body: dict) -> Member:
    name = _text(body, "name", 60)
    if not room.is_open:
        raise ApiError(409, "this room is closed")
    key = owner_key(request)
    member = Member.objects.filter(room=room, session_key=key).first()
    if member is None:
        if room.members.count() >= settings.ROOM_MAX_STUDENTS:
            raise ApiError(409, f"the room is full ({settings.ROOM_MAX_STUDENTS} students)")
        member = Member.objects.create(room=room, session_key=key, name=name)
    elif member.name != name:
        Member.objects.filter(pk=member.pk).update(name=name)
        member.name = name
    # a session is in one room at a time: the one it joined last
    Member.objects.filter(session_key=key).exclude(pk=member.pk).delete()
    return member


def member_of(request, room: Room) -> Member | None:
    key = request.session.session_key
    return Member.objects.filter(room=room, session_key=key).first() if key else None


def current_member(session_key: str) -> Member | None:
    """The open room this browser session is a student of, if any."""
    if not session_key:
        return None
    return (Member.objects.filter(session_key=session_key, room__closed__isnull=True)
            .select_related("room").order_by("-joined").first())


# ---------------------------------------------------------------- the teacher's controls


def _pointers(raw, path: str) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(p, str) and POINTER_RE.match(p) for p in raw):
        raise ApiError(400, [{"path": path, "message": "a list of JSON pointers such as /optimizer/lr"}])
    return raw


def push(room: Room, body: dict) -> Room:
    """A preset (by slug) or a spec to every student; optionally locks all but some fields."""
    from webapp.presets.presets import PRESETS

    if "preset" in body:
        from webapp.sweeps.lessons import SWEEP_LESSONS

        # a sweep lesson pushes its base spec; its swept fields are the ones students may change
        preset = next((p for p in [*PRESETS, *SWEEP_LESSONS] if p["slug"] == body["preset"]), None)
        if preset is None:
            raise ApiError(400, [{"path": "/preset", "message": f"no preset {body['preset']!r}"}])
        title, text, doc = preset["title"], preset.get("lesson", ""), preset["spec"]
        unlocked = preset.get("unlocked", [])
        slug = preset["slug"]
    elif "spec" in body:
        doc, slug = body["spec"], None
        title = body.get("title") or (doc.get("name") if isinstance(doc, dict) else "") or "Lesson"
        text = body.get("lesson", "")
        unlocked = []
        if not isinstance(title, str) or not isinstance(text, str):
            raise ApiError(400, [{"path": "/title", "message": "title and lesson are strings"}])
    else:
        raise ApiError(400, [{"path": "/preset", "message": "push a preset (its slug) or a spec"}])
    try:
        spec, _ = check_spec(doc)
    except SpecError as exc:
        raise ApiError(400, [{"path": "/spec" + e["path"], "message": e["message"]} for e in exc.errors]) from None
    if "unlocked" in body:
        unlocked = _pointers(body["unlocked"], "/unlocked")
    locked = body.get("lock", room.locked)
    if not isinstance(locked, bool):
        raise ApiError(400, [{"path": "/lock", "message": "true or false"}])
    Room.objects.filter(pk=room.pk).update(
        lesson={"slug": slug, "title": title[:200], "lesson": text[:4000], "spec": dump(spec)},
        push_seq=room.push_seq + 1, locked=locked, unlocked=unlocked)
    room.refresh_from_db()
    return room


def lock(room: Room, body: dict) -> Room:
    locked = body.get("locked")
    if not isinstance(locked, bool):
        raise ApiError(400, [{"path": "/locked", "message": "true or false"}])
    fields = {"locked": locked}
    if "unlocked" in body:
        fields["unlocked"] = _pointers(body["unlocked"], "/unlocked")
    if locked and room.lesson is None:
        raise ApiError(409, [{"path": "/locked", "message": "push a lesson first: the locked fields are the lesson's"}])
    Room.objects.filter(pk=room.pk).update(**fields)
    room.refresh_from_db()
    return room


def spotlight(room: Room, body: dict) -> Room:
    run_id = body.get("run")
    if run_id is None:
        room.spotlight = None
    else:
        rr = RoomRun.objects.filter(room=room, run__public_id=run_id).select_related("run").first() \
            if isinstance(run_id, str) else None
        if rr is None:
            raise ApiError(400, [{"path": "/run", "message": "not a run of a student of this room"}])
        room.spotlight = rr.run
    Room.objects.filter(pk=room.pk).update(spotlight=room.spotlight)
    return room


def close(room: Room) -> Room:
    if room.closed is None:
        Room.objects.filter(pk=room.pk).update(closed=timezone.now(), spotlight=None)
        room.refresh_from_db()
    return room


# ---------------------------------------------------------------- locked fields


def leaves(doc, prefix: str = "") -> dict:
    """Every leaf of a JSON document by its JSON pointer."""
    if isinstance(doc, dict) and doc:
        out = {}
        for k, v in doc.items():
            out.update(leaves(v, f"{prefix}/{str(k).replace('~', '~0').replace('/', '~1')}"))
        return out
    if isinstance(doc, list) and doc:
        out = {}
        for i, v in enumerate(doc):
            out.update(leaves(v, f"{prefix}/{i}"))
        return out
    return {prefix: doc}


def locked_changes(lesson_spec: dict, run_spec: dict, unlocked: list[str]) -> list[str]:
    """Pointers where ``run_spec`` differs from the lesson outside the unlocked fields."""
    a, b = leaves(lesson_spec), leaves(run_spec)
    free = [*unlocked, "/name"]
    out = []
    for p in sorted(set(a) | set(b)):
        if a.get(p, object()) == b.get(p, object()) and (p in a) == (p in b):
            continue
        if any(p == u or p.startswith(u + "/") for u in free):
            continue
        out.append(p)
    return out


def check_run_allowed(run: Run) -> None:
    """Raise 403 if a room student's new run changes a field the teacher locked."""
    member = current_member(run.owner_session)
    if member is None or not member.room.locked or not member.room.lesson:
        return
    room = member.room
    changed = locked_changes(room.lesson["spec"], run.spec, room.unlocked)
    if changed:
        allowed = ", ".join(room.unlocked) or "nothing"
        raise ApiError(403, [{"path": p, "message": f"locked by the teacher of room {room.code}; "
                              f"in this lesson you may change only: {allowed}"} for p in changed[:20]])


def tag_run(run: Run) -> None:
    member = current_member(run.owner_session)
    if member is not None:
        RoomRun.objects.get_or_create(run=run, defaults={"room": member.room, "member": member})


# ---------------------------------------------------------------- what each side sees


def knobs(spec: dict) -> dict:
    """The few settings a teacher scans in a grid of thirty runs."""
    layers = spec.get("model", {}).get("layers", [])
    shape = "-".join(str(lay.get("units") or lay.get("filters") or lay.get("type")) for lay in layers
                     if lay.get("type") in ("dense", "conv2d"))
    acts = sorted({lay.get("activation") for lay in layers if lay.get("activation")})
    opt = spec.get("optimizer", {})
    reg = spec.get("regularization", {})
    return {"dataset": spec.get("data", {}).get("dataset"), "layers": shape or "linear", "activation": ",".join(acts),
            "optimizer": opt.get("name"), "lr": opt.get("lr"), "weight_decay": opt.get("weight_decay"),
            "l2": reg.get("l2"), "epochs": spec.get("training", {}).get("epochs"),
            "batch_size": spec.get("training", {}).get("batch_size")}


def run_row(run: Run) -> dict:
    s = run.summary or {}
    return {"id": run.public_id, "url": run.url, "ws": run.ws, "status": run.status, "name": run.name,
            "created": run.created.isoformat(), "queue_position": run.queue_position() if run.status == "queued" else None,
            "knobs": knobs(run.spec),
            "summary": {k: s.get(k) for k in ("val_acc", "val_loss", "test_acc", "train_acc", "train_loss",
                                               "epochs_run", "best_epoch") if k in s}}


def teacher_view(room: Room) -> dict:
    members = list(room.members.all())
    runs_by_member: dict[int, list[Run]] = {}
    for rr in RoomRun.objects.filter(room=room).select_related("run").order_by("-run__created"):
        lst = runs_by_member.setdefault(rr.member_id, [])
        if len(lst) < RUNS_PER_STUDENT:
            lst.append(rr.run)
    return {"code": room.code, "name": room.name, "closed": room.closed is not None, "lesson": room.lesson,
            "push_seq": room.push_seq, "locked": room.locked, "unlocked": room.unlocked,
            "spotlight": room.spotlight.public_id if room.spotlight_id else None,
            "active": sum(r.status in ACTIVE for lst in runs_by_member.values() for r in lst),
            "students": [{"name": m.name, "joined": m.joined.isoformat(),
                          "runs": [run_row(r) for r in runs_by_member.get(m.pk, [])]} for m in members]}


def session_member(request) -> Member | None:
    """This browser session's membership (open or closed room); a session is in one room at a time."""
    key = request.session.session_key
    if not key:
        return None
    return Member.objects.filter(session_key=key).select_related("room").order_by("-joined").first()


def playground_version(member: Member | None) -> str:
    """An ETag for playground_view: it changes with every push, lock, rename and close."""
    if member is None:
        return '"none"'
    room = member.room
    raw = json.dumps([room.code, member.name, room.push_seq, room.locked, room.unlocked, room.closed is not None])
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:20] + '"'


def playground_view(member: Member) -> dict:
    """What a student's playground needs of the room: the pushed lesson and the locks (no runs)."""
    room = member.room
    return {"code": room.code, "name": room.name, "student": member.name, "closed": room.closed is not None,
            "lesson": room.lesson, "push_seq": room.push_seq, "locked": room.locked, "unlocked": room.unlocked}


def student_view(room: Room, member: Member) -> dict:
    runs = [rr.run for rr in RoomRun.objects.filter(member=member).select_related("run").order_by("-run__created")
            [:RUNS_PER_STUDENT]]
    spot = None
    if room.spotlight_id:
        spot_run = room.spotlight
        owner = RoomRun.objects.filter(run=spot_run).select_related("member").first()
        spot = {**run_row(spot_run), "student": owner.member.name if owner else ""}
    return {"code": room.code, "name": room.name, "student": member.name, "closed": room.closed is not None,
            "lesson": room.lesson, "push_seq": room.push_seq, "locked": room.locked, "unlocked": room.unlocked,
            "spotlight": spot, "runs": [run_row(r) for r in runs]}
