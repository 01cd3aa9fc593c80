"""ASGI entry point: HTTP (Django; static files through WhiteNoise) and websockets (Channels)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from webapp.runs.routing import SameOriginValidator, no_route, websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,  # static files: WhiteNoise in MIDDLEWARE (webapp.security)
    "websocket": SameOriginValidator(URLRouter(websocket_urlpatterns + no_route)),
})


def _warm_up() -> None:
    """Pay the web process's first-request costs now, not on a visitor's first Train.

    The first POST /api/runs used to take ~1.3 s more than the next ones: importing torch
    and the engine, and torch's first kernels while the spec's shapes are checked
    (issue 9 §7; bench/bench_latency.py measures the cold figure). DESCENT_WARMUP=0 skips it.
    """
    if os.environ.get("DESCENT_WARMUP", "1") == "0":
        return
    try:
        from webapp.runs.services import check_spec

        check_spec({})
        check_spec({"data": {"dataset": "digits"}, "model": {"layers": [
            {"type": "conv2d", "filters": 4, "kernel": 3}, {"type": "flatten"}, {"type": "dense", "units": 8}]}})
    except Exception:  # a warm-up must never keep the server from starting
        import logging

        logging.getLogger(__name__).exception("web warm-up failed")


_warm_up()
