"""Run creation, uploads, room joins and logins are limited per session and per IP (429 + Retry-After)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from tests.api.conftest import JsonClient
from webapp.ratelimit import Rate, env_rate, parse_rate

BAD_SPEC = {"spec": {"training": {"epochs": -1}}}  # refused with 400: counts, but runs nothing


def limits(**scopes):
    full = {name: {"session": None, "ip": None} for name in ("runs", "uploads", "joins", "logins")}
    for name, (session, ip) in scopes.items():
        full[name] = {"session": parse_rate(session), "ip": parse_rate(ip)}
    return override_settings(RATE_LIMITS=full)


def assert_limited(r):
    assert r.status_code == 429, r.content
    retry = int(r["Retry-After"])
    assert 1 <= retry <= 60
    body = r.json()
    assert body["errors"][0]["path"] == "" and f"try again in {retry} s" in body["errors"][0]["message"]


def test_run_creation_over_the_session_budget_is_429_with_retry_after(client_a):
    with limits(runs=("2/m", "off")):
        assert client_a.post_json("/api/runs", BAD_SPEC).status_code == 400
        assert client_a.post_json("/api/runs", BAD_SPEC).status_code == 400
        r = client_a.post_json("/api/runs", BAD_SPEC)
        assert_limited(r)
        assert "per browser session" in r.json()["errors"][0]["message"]


def test_forks_count_as_new_runs(client_a):
    with limits(runs=("1/m", "off")):
        assert client_a.post_json("/api/runs", BAD_SPEC).status_code == 400
        assert_limited(client_a.post_json("/api/runs/whatever/fork", {}))


def test_another_session_has_its_own_budget(client_a, client_b):
    with limits(runs=("1/m", "off")):
        client_a.post_json("/api/runs", BAD_SPEC)
        assert client_a.post_json("/api/runs", BAD_SPEC).status_code == 429
        assert client_b.post_json("/api/runs", BAD_SPEC).status_code == 400


def test_dropping_the_cookie_does_not_escape_the_ip_budget(db):
    with limits(runs=("100/m", "3/m")):
        codes = [JsonClient().post_json("/api/runs", BAD_SPEC).status_code for _ in range(4)]
        assert codes == [400, 400, 400, 429]
        other_ip = JsonClient()
        other_ip.defaults["REMOTE_ADDR"] = "10.1.2.3"
        assert other_ip.post_json("/api/runs", BAD_SPEC).status_code == 400


@override_settings(TRUST_X_FORWARDED_FOR=True)
def test_behind_a_proxy_the_forwarded_address_is_the_client(db):
    with limits(runs=("100/m", "1/m")):
        a, b = JsonClient(), JsonClient()
        a.defaults["HTTP_X_FORWARDED_FOR"] = "203.0.113.5"
        b.defaults["HTTP_X_FORWARDED_FOR"] = "203.0.113.6"
        assert a.post_json("/api/runs", BAD_SPEC).status_code == 400
        assert a.post_json("/api/runs", BAD_SPEC).status_code == 429
        assert b.post_json("/api/runs", BAD_SPEC).status_code == 400


def test_uploads_are_limited(client_a):
    with limits(uploads=("1/m", "off")):
        csrf = client_a._csrf()
        assert client_a.post("/api/uploads", {}, **csrf).status_code == 400  # no file
        r = client_a.post("/api/uploads", {}, **csrf)
        assert_limited(r)
        assert "uploads" in r.json()["errors"][0]["message"]


def test_room_joins_are_limited(client_a):
    with limits(joins=("2/m", "off")):
        first = [client_a.post_json("/api/rooms/NOPE42/join", {}).status_code for _ in range(2)]
        assert 429 not in first
        assert_limited(client_a.post_json("/api/rooms/NOPE42/join", {}))


def test_reading_is_never_limited(client_a):
    with limits(runs=("1/m", "1/m")):
        client_a.post_json("/api/runs", BAD_SPEC)
        assert all(client_a.get("/api/runs").status_code == 200 for _ in range(5))


def test_off_means_no_limit(client_a):
    with limits(runs=("off", "off")):
        assert {client_a.post_json("/api/runs", BAD_SPEC).status_code for _ in range(30)} == {400}


def test_an_unreachable_cache_lets_requests_through(client_a):
    dead = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
                        "OPTIONS": {"socket_connect_timeout": 0.5}}}
    with limits(runs=("1/m", "1/m")), override_settings(CACHES=dead):
        assert [client_a.post_json("/api/runs", BAD_SPEC).status_code for _ in range(3)] == [400, 400, 400]


@pytest.mark.parametrize("text, rate", [("20/m", Rate(20, 60)), ("5/10s", Rate(5, 10)), ("100/h", Rate(100, 3600)),
                                        ("1/2d", Rate(1, 172800)), ("off", None), ("0", None)])
def test_rates_are_parsed(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["20", "x/m", "20/fortnight", "-1/m", "0/m", "3/0m"])
def test_a_bad_rate_names_the_variable(monkeypatch, text):
    monkeypatch.setenv("DESCENT_RATE_RUNS", text)
    with pytest.raises(ImproperlyConfigured, match="DESCENT_RATE_RUNS"):
        env_rate("DESCENT_RATE_RUNS", "20/m")
