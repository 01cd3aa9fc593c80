"""Security headers on every response, and a CSP that the templates can pass."""

import re
from pathlib import Path

import pytest

from webapp.security import INLINE_HANDLERS, content_security_policy

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "frontend" / "templates", *ROOT.glob("webapp/*/templates")]


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.mark.parametrize("path", ["/", "/accounts/login", "/api/spec/schema", "/no-such-page"])
def test_responses_carry_csp_nosniff_referrer_policy_and_frame_denial(client_a, path):
    r = client_a.get(path)
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Referrer-Policy"] == "same-origin"
    assert r["X-Frame-Options"] == "DENY"
    csp = directives(r["Content-Security-Policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]


def test_scripts_run_only_from_our_origin_never_from_markup_or_eval(client_a):
    csp = directives(client_a.get("/")["Content-Security-Policy"])
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["script-src"][0] == "'self'"
    assert csp["default-src"] == ["'self'"]
    # websockets of the same host (Safari < 15.4 does not count them as 'self')
    assert "ws://testserver" in csp["connect-src"] and "wss://testserver" in csp["connect-src"]


def test_every_inline_handler_in_the_templates_is_allowed_by_its_hash():
    handlers, scripts, styles = set(), [], []
    for folder in TEMPLATE_DIRS:
        for f in folder.rglob("*.html"):
            text = re.sub(r"\{#.*?#\}|<!--.*?-->|\{% comment %\}.*?\{% endcomment %\}", "", f.read_text(), flags=re.S)
            handlers |= {m.group(2) for m in re.finditer(r"\son([a-z]+)=\"([^\"]*)\"", text)}
            scripts += [f"{f.name}: {m.group(0)[:60]}" for m in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>", text)]
            styles += [f.name for _ in re.finditer(r"<style\b", text)]
    assert scripts == [], "inline <script> blocks would be refused by the CSP: move them to a static module"
    assert styles == [], "inline <style> blocks are refused (style-src-elem 'self'): use descent.css"
    assert handlers <= set(INLINE_HANDLERS), f"add to webapp.security.INLINE_HANDLERS or move to JS: {handlers}"
    policy = content_security_policy()
    for handler in INLINE_HANDLERS:
        assert "'unsafe-hashes'" in policy and "'sha256-" in policy, handler


def test_a_disallowed_host_still_gets_headers_not_an_error(client_a):
    r = client_a.get("/", HTTP_HOST="evil.example")
    assert r.status_code == 400
    assert "ws://evil.example" not in r["Content-Security-Policy"]
