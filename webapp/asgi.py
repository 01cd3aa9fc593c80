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
