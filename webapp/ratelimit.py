"""Rate limits by path: fixed-window counters in Django's cache, per session and per IP.

A request matching a rule counts once against its browser session (or account) and once
against its client IP; over either budget it is answered 429 with ``Retry-After`` and the
usual ``{"errors": [...]}`` body, before any view runs. Budgets are settings
(``RATE_LIMITS``, from ``DESCENT_RATE_*``); the cache is Redis in production, so every web
process shares the counters. If the cache is unreachable the request is let through:
a broken limiter must not take the site down with it.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}s"


def parse_rate(text: str) -> Rate | None:
    """ "20/m" → 20 per 60 s; "5/10s" → 5 per 10 s; "off" → None (no limit)."""
    if text.strip().lower() in ("off", "none", "0", ""):
        return None
    m = RATE_RE.match(text)
    if not m:
        raise ValueError(f"{text!r}: expected N/period such as 20/m, 100/h or 5/10s, or off")
    count, mult, unit = int(m.group(1)), int(m.group(2) or 1), m.group(3)
    if count < 1 or mult < 1:
        raise ValueError(f"{text!r}: the count and the period must be positive")
    return Rate(count, mult * UNITS[unit])


def env_rate(name: str, default: str) -> Rate | None:
    """A rate from the environment, failing loudly with the variable's name."""
    from django.core.exceptions import ImproperlyConfigured

    try:
        return parse_rate(os.environ.get(name) or default)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={exc}") from None


# (method, path pattern, scope, what is being limited, for the message)
RULES: list[tuple[str, re.Pattern, str, str]] = [
    ("POST", re.compile(r"^/api/runs/?$"), "runs", "new runs"),
    ("POST", re.compile(r"^/api/runs/[^/]+/fork/?$"), "runs", "new runs"),
    ("POST", re.compile(r"^/api/sweeps/?$"), "runs", "new runs"),
    ("POST", re.compile(r"^/api/uploads/?$"), "uploads", "uploads"),
    ("POST", re.compile(r"^/api/rooms/[^/]+/join/?$"), "joins", "room joins"),
    ("POST", re.compile(r"^/accounts/(login|signup)/?$"), "logins", "login attempts"),
]


def match(method: str, path: str) -> tuple[str, str] | None:
    for rule_method, pattern, scope, what in RULES:
        if method == rule_method and pattern.match(path):
            return scope, what
    return None


def client_ip(request) -> str:
    from django.conf import settings

    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def client_key(request) -> str | None:
    """The account, else the browser session, else the browser's CSRF cookie.

    Every state-changing request carries the CSRF cookie (the check needs it), so a
    browser is known before it has a session. A client can drop or forge both cookies:
    the per-IP budget is what holds then.
    """
    from django.conf import settings

    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u{user.pk}"
    key = request.session.session_key if hasattr(request, "session") else None
    if key:
        return f"s{key}"
    csrf = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
    return f"c{csrf[:64]}" if csrf else None


def hit(name: str, rate: Rate, now: float | None = None) -> int:
    """Count one request under ``name``; 0 if within the rate, else seconds until the window resets."""
    from django.core.cache import cache

    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    key = f"rl:{name}:{window}"
    cache.add(key, 0, timeout=rate.seconds + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=rate.seconds + 1)
        count = 1
    if count <= rate.count:
        return 0
    return max(1, int((window + 1) * rate.seconds - now + 0.999))


def too_many(what: str, rate: Rate, who: str, retry_after: int):
    from django.http import JsonResponse

    per = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}.get(rate.seconds, f"{rate.seconds} s")
    response = JsonResponse({"errors": [{"path": "", "message": f"too many {what}: at most {rate.count} a {per} per {who}; "
                                                                 f"try again in {retry_after} s"}]}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


class RateLimitMiddleware:
    """Applies RULES before the view; after Session and Authentication middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = match(request.method, request.path_info)
        if found is not None:
            limited = self.check(request, *found)
            if limited is not None:
                return limited
        return self.get_response(request)

    def check(self, request, scope: str, what: str):
        from django.conf import settings

        rates = settings.RATE_LIMITS.get(scope, {})
        checks = [("session", client_key(request), "browser session"), ("ip", client_ip(request), "address")]
        for kind, ident, who in checks:
            rate = rates.get(kind)
            if rate is None or ident is None:
                continue
            try:
                retry_after = hit(f"{scope}:{kind}:{ident}", rate)
            except Exception as exc:  # the cache is down: fail open, say so in the log
                log.warning("rate limit not checked (%s: %s)", type(exc).__name__, exc)
                return None
            if retry_after:
                log.info("rate limited", extra={"scope": scope, "kind": kind, "retry_after": retry_after})
                return too_many(what, rate, who, retry_after)
        return None
