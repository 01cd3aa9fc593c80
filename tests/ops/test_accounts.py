"""Optional accounts: sign up, log in, log out; anonymous runs follow the browser into the account."""

import pytest
from django.contrib.auth.models import User

from tests.api.conftest import JsonClient
from webapp.runs.models import Run

SPEC = {"data": {"dataset": "xor"}, "training": {"epochs": 2}}
PASSWORD = "a long enough passphrase 42"


def form(client, path, **fields):
    return client.post(path, fields, **client._csrf())


def new_run(client) -> str:
    r = client.post_json("/api/runs", {"spec": SPEC})
    assert r.status_code == 201, r.content
    return r.json()["id"]


def test_signup_logs_in_and_moves_this_browsers_runs_to_the_account(client_a, client_b):
    mine, theirs = new_run(client_a), new_run(client_b)
    r = form(client_a, "/accounts/signup", username="ada", password1=PASSWORD, password2=PASSWORD)
    assert r.status_code == 302 and r["Location"] == "/runs"
    ada = User.objects.get(username="ada")
    assert Run.objects.get(public_id=mine).owner_user == ada
    assert Run.objects.get(public_id=theirs).owner_user is None
    assert client_a.get(f"/api/runs/{mine}").json()["is_owner"] is True


def test_logging_in_on_another_browser_shows_and_controls_the_same_runs(client_a, db):
    User.objects.create_user("grace", password=PASSWORD)
    assert form(client_a, "/accounts/login", username="grace", password=PASSWORD).status_code == 302
    run_id = new_run(client_a)
    other = JsonClient()
    assert other.post_json(f"/api/runs/{run_id}/cancel").status_code == 403
    assert form(other, "/accounts/login", username="grace", password=PASSWORD).status_code == 302
    assert run_id in [r["id"] for r in other.get("/api/runs").json()["runs"]]
    assert other.post_json(f"/api/runs/{run_id}/cancel").status_code == 200


def test_logging_in_moves_runs_made_before_login(client_a, db):
    User.objects.create_user("alan", password=PASSWORD)
    before = new_run(client_a)
    assert Run.objects.get(public_id=before).owner_user is None
    form(client_a, "/accounts/login", username="alan", password=PASSWORD)
    assert Run.objects.get(public_id=before).owner_user.username == "alan"


def test_after_logout_the_browser_no_longer_owns_the_accounts_runs(client_a, db):
    User.objects.create_user("edsger", password=PASSWORD)
    form(client_a, "/accounts/login", username="edsger", password=PASSWORD)
    run_id = new_run(client_a)
    assert form(client_a, "/accounts/logout").status_code == 302
    assert client_a.get(f"/api/runs/{run_id}").json()["is_owner"] is False
    assert client_a.post_json(f"/api/runs/{run_id}/cancel").status_code == 403


def test_a_wrong_password_stays_on_the_form_with_a_message(client_a, db):
    User.objects.create_user("barbara", password=PASSWORD)
    r = form(client_a, "/accounts/login", username="barbara", password="nope")
    assert r.status_code == 200 and b"correct username and password" in r.content
    assert "_auth_user_id" not in client_a.session


def test_signup_with_mismatched_passwords_is_refused_with_the_reason(client_a):
    r = form(client_a, "/accounts/signup", username="kay", password1=PASSWORD, password2=PASSWORD + "x")
    assert r.status_code == 400 and b"didn" in r.content  # "The two password fields didn't match."
    assert not User.objects.filter(username="kay").exists()


def test_login_redirects_only_to_this_site(client_a, db):
    User.objects.create_user("ken", password=PASSWORD)
    r = client_a.post("/accounts/login?next=https://evil.example/", {"username": "ken", "password": PASSWORD},
                      **client_a._csrf())
    assert r.status_code == 302 and r["Location"] == "/runs"


@pytest.mark.parametrize("path", ["/accounts/login", "/accounts/signup"])
def test_account_pages_render_with_a_form(client_a, path):
    r = client_a.get(path)
    assert r.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in r.content and b'type="password"' in r.content


def test_admin_lists_runs_for_staff_only(client_a, db):
    run_id = new_run(client_a)
    assert client_a.get("/admin/runs/run/").status_code == 302  # to the admin login
    admin = User.objects.create_superuser("root", password=PASSWORD)
    client_a.force_login(admin)
    r = client_a.get("/admin/runs/run/")
    assert r.status_code == 200 and run_id.encode() in r.content
    assert client_a.get(f"/admin/runs/run/{Run.objects.get(public_id=run_id).pk}/change/").status_code == 200


def test_admin_stop_action_cancels_a_queued_run(client_a, db):
    run_id = new_run(client_a)
    client_a.force_login(User.objects.create_superuser("root", password=PASSWORD))
    pk = Run.objects.get(public_id=run_id).pk
    r = client_a.post("/admin/runs/run/", {"action": "request_stop", "_selected_action": [pk]}, **client_a._csrf())
    assert r.status_code == 302
    assert Run.objects.get(pk=pk).status == "cancelled"


def test_every_page_offers_log_in_and_then_shows_the_name_and_log_out(client_a, db):
    page = client_a.get("/").content.decode()
    assert 'href="/accounts/login?next=/"' in page and "Log out" not in page
    User.objects.create_user("ada", password=PASSWORD)
    form(client_a, "/accounts/login", username="ada", password=PASSWORD)
    page = client_a.get("/").content.decode()
    assert 'class="account-name">ada<' in page and 'action="/accounts/logout"' in page


def test_a_teacher_who_logs_in_keeps_their_room(client_a, db):
    User.objects.create_user("teacher", password=PASSWORD)
    r = client_a.post_json("/api/rooms", {"name": "Period 3"})
    assert r.status_code == 201, r.content
    code = r.json()["code"]
    form(client_a, "/accounts/login", username="teacher", password=PASSWORD)
    assert client_a.get(f"/api/rooms/{code}").status_code == 200


def test_admin_lists_sweeps_and_rooms(client_a, db):
    client_a.force_login(User.objects.create_superuser("root", password=PASSWORD))
    for path in ("/admin/sweeps/sweep/", "/admin/rooms/room/", "/admin/uploads/upload/", "/admin/runs/event/"):
        assert client_a.get(path).status_code == 200, path
