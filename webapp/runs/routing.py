"""Websocket routes and the origin check in front of them."""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.urls import path, re_path

from webapp.runs.consumers import NoRouteConsumer, RunConsumer
from webapp.sweeps.consumers import SweepConsumer

websocket_urlpatterns = [
    path("ws/runs/<str:public_id>/", RunConsumer.as_asgi()),
    # the session tells the sweep's owner (is_owner, as GET /api/sweeps/<id> does)
    path("ws/sweeps/<str:public_id>/", AuthMiddlewareStack(SweepConsumer.as_asgi())),
]
# last in the router (webapp/asgi.py): unknown paths are refused at the handshake
no_route = [re_path(r"", NoRouteConsumer.as_asgi())]

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _origin_tuple(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
        if scheme not in ("http", "https") or not parts.hostname:
            return None
        return scheme, parts.hostname.lower(), parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        return None


class SameOriginValidator:
    """Only pages of this site (or of CSRF_TRUSTED_ORIGINS) may open a websocket.

    The Origin header's scheme, host *and port* must equal the site the socket was
    opened on (its Host header, ws→http, wss→https), or one of the trusted origins.
    Channels' AllowedHostsOriginValidator compares the host name only, so a page served
    from another port of the same machine passed.
    """

    def __init__(self, application):
        self.application = application

    def allowed(self, scope) -> bool:
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin1")
        if not origin:
            return False
        got = _origin_tuple(origin)
        if got is None:
            return False
        host = headers.get(b"host", b"").decode("latin1")
        if host and not validate_host(split_domain_port(host)[0], settings.ALLOWED_HOSTS):
            return False
        scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
        if host and got == _origin_tuple(f"{scheme}://{host}"):
            return True
        return any(got == _origin_tuple(o) for o in settings.CSRF_TRUSTED_ORIGINS)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not self.allowed(scope):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
