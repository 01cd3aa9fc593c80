"""Rooms: create, join, the teacher's view and controls, permissions, locked fields, guessing."""

import pytest

from tests.api.conftest import JsonClient
from webapp.rooms.models import CODE_ALPHABET, Room, RoomRun
from webapp.runs.models import Run

SPEC = {"data": {"dataset": "xor", "n_samples": 100}, "training": {"epochs": 2}}


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr("webapp.runs.services.send", lambda run, queue: None)


pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def room(teacher):
    r = teacher.post_json("/api/rooms", {"name": "Deep learning, week 3"})
    assert r.status_code == 201, r.content
    return r.json()


def _student(room, name):
    c = JsonClient()
    r = c.post_json(f"/api/rooms/{room['code']}/join", {"name": name})
    assert r.status_code == 200, r.content
    return c


def test_create_returns_a_short_code_and_a_secret_teacher_link(room):
    assert len(room["code"]) == 6 and all(ch in CODE_ALPHABET for ch in room["code"])
    assert len(room["teacher_key"]) >= 24
    assert room["teacher_url"] == f"/room/{room['code']}?key={room['teacher_key']}"


def test_create_needs_a_name(teacher):
    r = teacher.post_json("/api/rooms", {"name": " "})
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/name"


def test_students_runs_carry_the_room_and_the_teacher_sees_them(room, teacher):
    s1, s2 = _student(room, "table 3"), _student(room, "table 4")
    run = s1.post_json("/api/runs", {"spec": SPEC}).json()
    body = teacher.get(f"/api/rooms/{room['code']}").json()
    students = {s["name"]: s for s in body["students"]}
    assert set(students) == {"table 3", "table 4"}
    assert [r["id"] for r in students["table 3"]["runs"]] == [run["id"]]
    assert students["table 3"]["runs"][0]["status"] == "queued"
    assert students["table 3"]["runs"][0]["knobs"]["dataset"] == "xor"
    assert students["table 4"]["runs"] == []
    assert RoomRun.objects.get(run__public_id=run["id"]).room.code == room["code"]
    # a run of someone who never joined is not in the room
    outsider = JsonClient().post_json("/api/runs", {"spec": SPEC}).json()
    assert not RoomRun.objects.filter(run__public_id=outsider["id"]).exists()
    assert s2  # joined, no runs


def test_teacher_key_header_works_from_any_browser(room):
    other = JsonClient()
    r = other.get(f"/api/rooms/{room['code']}", HTTP_X_TEACHER_KEY=room["teacher_key"])
    assert r.status_code == 200 and r.json()["code"] == room["code"]


def test_students_and_strangers_get_403_for_the_teacher_view(room):
    s = _student(room, "table 1")
    assert s.get(f"/api/rooms/{room['code']}").status_code == 403
    assert JsonClient().get(f"/api/rooms/{room['code']}", HTTP_X_TEACHER_KEY="wrong").status_code == 403


def test_the_teacher_link_makes_the_session_the_teacher(room):
    c = JsonClient()
    r = c.get(room["teacher_url"])
    assert r.status_code == 302 and r["Location"] == f"/room/{room['code']}"
    assert c.get(f"/api/rooms/{room['code']}").status_code == 200
    assert "teacher" in c.get(f"/room/{room['code']}").content.decode().lower()


@pytest.mark.parametrize("action,body", [("push", {"preset": "underfit-tiny-mlp"}), ("lock", {"locked": False}),
                                         ("spotlight", {"run": None}), ("close", {})])
def test_only_the_teacher_may_push_lock_spotlight_or_close(room, action, body):
    s = _student(room, "table 1")
    r = s.post_json(f"/api/rooms/{room['code']}/{action}", body)
    assert r.status_code == 403


def test_a_student_sees_only_their_own_runs_until_one_is_spotlighted(room, teacher):
    s1, s2 = _student(room, "ana"), _student(room, "ben")
    r1 = s1.post_json("/api/runs", {"spec": SPEC}).json()
    s2.post_json("/api/runs", {"spec": SPEC})
    me2 = s2.get(f"/api/rooms/{room['code']}/me").json()
    assert r1["id"] not in [r["id"] for r in me2["runs"]] and me2["spotlight"] is None
    assert teacher.post_json(f"/api/rooms/{room['code']}/spotlight", {"run": r1["id"]}).status_code == 200
    me2 = s2.get(f"/api/rooms/{room['code']}/me").json()
    assert me2["spotlight"]["id"] == r1["id"] and me2["spotlight"]["student"] == "ana"


def test_spotlight_only_takes_runs_of_the_room(room, teacher):
    outsider = JsonClient().post_json("/api/runs", {"spec": SPEC}).json()
    r = teacher.post_json(f"/api/rooms/{room['code']}/spotlight", {"run": outsider["id"]})
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/run"


def test_push_reaches_every_student(room, teacher):
    s1, s2 = _student(room, "ana"), _student(room, "ben")
    r = teacher.post_json(f"/api/rooms/{room['code']}/push", {"preset": "underfit-tiny-mlp"})
    assert r.status_code == 200, r.content
    for s in (s1, s2):
        me = s.get(f"/api/rooms/{room['code']}/me").json()
        assert me["push_seq"] == 1 and me["lesson"]["slug"] == "underfit-tiny-mlp"
        assert me["lesson"]["spec"]["data"]["dataset"] == "moons"  # full spec, defaults filled in


def test_push_of_an_unknown_preset_or_bad_spec_is_400(room, teacher):
    r = teacher.post_json(f"/api/rooms/{room['code']}/push", {"preset": "nope"})
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/preset"
    r = teacher.post_json(f"/api/rooms/{room['code']}/push", {"spec": {"optimizer": {"lr": -1}}})
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/spec/optimizer/lr"


def test_locked_fields_are_enforced_on_the_server_for_students(room, teacher):
    s = _student(room, "ana")
    teacher.post_json(f"/api/rooms/{room['code']}/push", {"spec": SPEC, "title": "learning rates",
                                                         "unlocked": ["/optimizer/lr"], "lock": True})
    lesson = s.get(f"/api/rooms/{room['code']}/me").json()["lesson"]["spec"]
    ok = s.post_json("/api/runs", {"spec": {**lesson, "optimizer": {**lesson["optimizer"], "lr": 0.3}}})
    assert ok.status_code == 201, ok.content
    bad = s.post_json("/api/runs", {"spec": {**lesson, "training": {**lesson["training"], "epochs": 50}}})
    assert bad.status_code == 403
    assert bad.json()["errors"][0]["path"] == "/training/epochs" and "/optimizer/lr" in bad.json()["errors"][0]["message"]
    assert Run.objects.count() == 1
    # unlocking lets it through; others outside the room were never affected
    teacher.post_json(f"/api/rooms/{room['code']}/lock", {"locked": False})
    assert s.post_json("/api/runs", {"spec": {**lesson, "training": {**lesson["training"], "epochs": 50}}}).status_code == 201
    assert JsonClient().post_json("/api/runs", {"spec": {"training": {"epochs": 5}}}).status_code == 201


def test_lock_before_any_lesson_is_409(room, teacher):
    r = teacher.post_json(f"/api/rooms/{room['code']}/lock", {"locked": True})
    assert r.status_code == 409


def test_closing_stops_joins_and_tagging(room, teacher):
    s = _student(room, "ana")
    assert teacher.post_json(f"/api/rooms/{room['code']}/close").status_code == 200
    assert JsonClient().post_json(f"/api/rooms/{room['code']}/join", {"name": "late"}).status_code == 409
    run = s.post_json("/api/runs", {"spec": SPEC}).json()
    assert not RoomRun.objects.filter(run__public_id=run["id"]).exists()
    assert teacher.get(f"/api/rooms/{room['code']}").json()["closed"] is True


def test_join_needs_a_name_and_codes_are_case_insensitive(room):
    c = JsonClient()
    assert c.post_json(f"/api/rooms/{room['code']}/join", {}).json()["errors"][0]["path"] == "/name"
    assert c.post_json(f"/api/rooms/{room['code'].lower()}/join", {"name": "x"}).status_code == 200


def test_guessing_codes_is_rate_limited(room, settings):
    settings.ROOM_CODE_MISS_RATE_IP = "5/10m"
    c = JsonClient()
    codes = ["AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE"]
    assert [c.get(f"/api/rooms/{code}/me").status_code for code in codes] == [404] * 5
    # from now on even the right code is refused to this client
    r = c.get(f"/api/rooms/{room['code']}/me")
    assert r.status_code == 429 and r["Retry-After"]
    assert Room.objects.filter(code=room["code"]).exists()


def test_a_browser_session_has_its_own_smaller_guessing_budget(room, settings):
    settings.ROOM_CODE_MISS_RATE = "3/10m"
    guesser = _student(room, "curious")  # has a session
    assert [guesser.get(f"/api/rooms/{c}/me").status_code for c in ("AAAAAA", "BBBBBB", "CCCCCC")] == [404] * 3
    assert guesser.get(f"/api/rooms/{room['code']}/me").status_code == 429
    assert _student(room, "classmate")  # same address, another browser: still fine


def test_student_view_needs_membership(room):
    assert JsonClient().get(f"/api/rooms/{room['code']}/me").status_code == 403


def test_a_sweep_lesson_can_be_pushed_and_unlocks_its_swept_fields(room, teacher):
    s = _student(room, "ana")
    r = teacher.post_json(f"/api/rooms/{room['code']}/push", {"preset": "lr-orders-of-magnitude", "lock": True})
    assert r.status_code == 200, r.content
    me = s.get(f"/api/rooms/{room['code']}/me").json()
    assert me["unlocked"] == ["/optimizer/lr"] and me["locked"] is True
