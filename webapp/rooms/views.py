"""Rooms: JSON API and the room pages (docs/protocol.md "Rooms")."""

from __future__ import annotations

from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.cache import get_conditional_response
from django.views.decorators.csrf import ensure_csrf_cookie

from webapp.rooms import services
from webapp.runs.api import api, json_body
from webapp.runs.services import ApiError


@api("POST")
def rooms(request):
    room = services.create_room(request, json_body(request, key=None))
    return JsonResponse({"code": room.code, "name": room.name, "teacher_key": room.teacher_key,
                         "teacher_url": room.teacher_url, "url": f"/room/{room.code}"}, status=201)


@api("GET")
def room_detail(request, code: str):
    room = services.find_room(request, code)
    services.require_teacher(request, room)
    return JsonResponse(services.teacher_view(room))


@api("POST")
def room_join(request, code: str):
    room = services.find_room(request, code)
    member = services.join(request, room, json_body(request, key=None))
    return JsonResponse(services.student_view(room, member))


@api("GET")
def room_me(request, code: str):
    room = services.find_room(request, code)
    member = services.member_of(request, room)
    if member is None:
        raise ApiError(403, "join the room first")
    return JsonResponse(services.student_view(room, member))


@api("GET")
def room_current(request):
    """The room this browser session joined, for its playground; polled, so it answers 304
    to a matching If-None-Match without building the body."""
    member = services.session_member(request)
    etag = services.playground_version(member)
    # Django's own If-None-Match handling (weak and "*" included): a 304, or None
    response = get_conditional_response(request, etag=etag) or \
        JsonResponse({"room": services.playground_view(member) if member else None})
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def _teacher_action(action):
    @api("POST")
    def view(request, code: str):
        room = services.find_room(request, code)
        services.require_teacher(request, room)
        if not room.is_open and action is not services.close:
            raise ApiError(409, "this room is closed")
        room = action(room, json_body(request, key=None)) if action is not services.close else action(room)
        return JsonResponse(services.teacher_view(room))

    return view


room_push = _teacher_action(services.push)
room_lock = _teacher_action(services.lock)
room_spotlight = _teacher_action(services.spotlight)
room_close = _teacher_action(services.close)


@ensure_csrf_cookie
def room_page(request, code: str):
    try:
        room = services.find_room(request, code)
    except ApiError as exc:
        return render(request, "rooms/missing.html", {"code": code, "message": exc.errors[0]["message"]},
                      status=exc.status)
    key = request.GET.get("key")
    if key is not None:
        # the teacher link: remember the teacher in the session, then drop the key from the address bar
        if services.claim_teacher(request, room, key):
            return HttpResponseRedirect(f"/room/{room.code}")
    if services.is_teacher(request, room):
        return render(request, "rooms/teacher.html", {"room": room})
    member = services.member_of(request, room)
    return render(request, "rooms/student.html", {"room": room, "member": member})


@ensure_csrf_cookie
def room_start(request):
    return render(request, "rooms/start.html", {})
