"""GET /api/rooms/current: what a student's playground polls (the pushed lesson, the locks),
answered 304 while nothing changed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import JsonClient

SPEC = {"data": {"dataset": "xor", "n_samples": 100}, "training": {"epochs": 2}}


pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def room(teacher):
    return teacher.post_json("/api/rooms", {"name": "Week 4"}).json()


def _student(room, name="table 2"):
    c = JsonClient()
    assert c.post_json(f"/api/rooms/{room['code']}/join", {"name": name}).status_code == 200
    return c


def test_a_browser_in_no_room_gets_null(db):
    r = JsonClient().get("/api/rooms/current")
    assert r.status_code == 200 and r.json() == {"room": None}
    assert r["ETag"] and "no-cache" in r["Cache-Control"]


def test_a_student_sees_the_pushed_lesson_and_the_locks(room, teacher):
    s = _student(room)
    body = s.get("/api/rooms/current").json()["room"]
    assert body["code"] == room["code"] and body["student"] == "table 2"
    assert body["lesson"] is None and body["push_seq"] == 0 and body["locked"] is False
    teacher.post_json(f"/api/rooms/{room['code']}/push", {"spec": SPEC, "title": "Learning rates",
                                                         "unlocked": ["/optimizer/lr"], "lock": True})
    body = s.get("/api/rooms/current").json()["room"]
    assert body["push_seq"] == 1 and body["lesson"]["title"] == "Learning rates"
    assert body["lesson"]["spec"]["data"]["dataset"] == "xor"
    assert body["locked"] is True and body["unlocked"] == ["/optimizer/lr"]
    assert "runs" not in body  # cheap: the room page has those


def test_unchanged_room_answers_304_and_every_change_a_new_etag(room, teacher):
    s = _student(room)
    first = s.get("/api/rooms/current")
    etag = first["ETag"]
    again = s.get("/api/rooms/current", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    seen = {etag}
    for action, body in (("push", {"spec": SPEC, "title": "one"}), ("lock", {"locked": True}),
                         ("lock", {"locked": True, "unlocked": ["/optimizer"]}), ("push", {"spec": SPEC, "title": "two"}),
                         ("close", {})):
        assert teacher.post_json(f"/api/rooms/{room['code']}/{action}", body).status_code == 200
        r = s.get("/api/rooms/current", HTTP_IF_NONE_MATCH=etag)
        assert r.status_code == 200, action
        etag = r["ETag"]
        assert etag not in seen
        seen.add(etag)
    assert r.json()["room"]["closed"] is True


def test_a_304_costs_one_query(room):
    s = _student(room)
    etag = s.get("/api/rooms/current")["ETag"]
    with CaptureQueriesContext(connection) as queries:
        assert s.get("/api/rooms/current", HTTP_IF_NONE_MATCH=etag).status_code == 304
    room_queries = [q for q in queries.captured_queries if "rooms_" in q["sql"]]
    assert len(room_queries) == 1


def test_the_teacher_and_strangers_are_in_no_room(room, teacher):
    assert teacher.get("/api/rooms/current").json() == {"room": None}
    stranger = JsonClient()
    assert stranger.get("/api/rooms/current").json() == {"room": None}


def test_joining_another_room_moves_the_playground_there(room, teacher):
    s = _student(room)
    other = teacher.post_json("/api/rooms", {"name": "Week 5"}).json()
    assert s.post_json(f"/api/rooms/{other['code']}/join", {"name": "table 2"}).status_code == 200
    assert s.get("/api/rooms/current").json()["room"]["code"] == other["code"]
