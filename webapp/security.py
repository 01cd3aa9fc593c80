"""Operational safety: the secret key file, security headers, and static files.

- ``secret_key_from_file``: `make run` works without SECRET_KEY; a random key is made
  once into ``var/secret_key`` (mode 0600) and reused, so sessions survive restarts.
- ``SecurityHeadersMiddleware``: a Content-Security-Policy the pages pass, plus
  Referrer-Policy and frame-ancestors (X-Content-Type-Options and X-Frame-Options come
  from Django's own middleware, see settings).
- ``StaticFilesMiddleware``: WhiteNoise, streaming files asynchronously under ASGI.
- ``StaticStorage``: compressed (gzip + brotli), hashed file names, and ES module
  imports rewritten to the hashed names so that modules cache forever too.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage


def secret_key_from_file(path: Path) -> str:
    """The key stored at ``path``, made (atomically, 0600) on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) < 32:  # a half-written file from a crash: never run on a weak key
            raise RuntimeError(f"{path} holds no usable secret key; delete it to make a new one") from None
        return key
    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def _hash_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# Inline event handlers the templates carry, allowed by hash ('unsafe-hashes', CSP 3)
# instead of 'unsafe-inline': a form that must not navigate when Enter is pressed.
INLINE_HANDLERS = ("return false",)


def content_security_policy(extra_connect: str = "") -> str:
    """The policy every page is served with.

    Style attributes need 'unsafe-inline': Plotly sets them on everything it draws (a
    probe with ``style-src 'self'`` counted a style-src-attr violation per element), while
    its own <style> rules go in through CSSOM, which 'self' allows. So <style> elements
    are held to 'self' (style-src-elem) and only attributes fall back to style-src.
    No script runs from markup.
    connect-src lists ws:/wss: of the same host because Safari before 15.4 does not
    count websockets as 'self'.
    """
    script = " ".join(["'self'", "'unsafe-hashes'", *(_hash_source(h) for h in INLINE_HANDLERS)])
    return "; ".join([
        "default-src 'self'",
        f"script-src {script}",
        "style-src 'self' 'unsafe-inline'",
        "style-src-elem 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        f"connect-src 'self'{extra_connect}",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set: CSP and Permissions-Policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            host = request.get_host() if _valid_host(request) else ""
            extra = f" ws://{host} wss://{host}" if host else ""
            response["Content-Security-Policy"] = content_security_policy(extra)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


def _valid_host(request) -> bool:
    from django.core.exceptions import DisallowedHost

    try:
        request.get_host()
        return True
    except DisallowedHost:
        return False


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise whose file bodies are read in a thread under ASGI.

    WhiteNoise returns a FileResponse over a plain file; Django's ASGI handler can only
    consume a sync iterator by reading it whole into memory (with a warning per request).
    An async iterator streams it in chunks without blocking the event loop.
    """

    def serve(self, static_file, request):  # noqa: D102 - WhiteNoise's hook
        response = WhiteNoiseMiddleware.serve(static_file, request)
        f = getattr(response, "file_to_stream", None)
        if f is not None and _under_asgi(request):
            response.streaming_content = _read_async(f)  # the file stays among the closers
        return response


def _under_asgi(request) -> bool:
    from django.core.handlers.asgi import ASGIRequest

    return isinstance(request, ASGIRequest)


async def _read_async(f, chunk: int = 64 * 1024):
    from asgiref.sync import sync_to_async

    read = sync_to_async(f.read, thread_sensitive=False)
    while True:
        data = await read(chunk)
        if not data:
            return
        yield data


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed names everywhere, ES module imports included (Django's opt-in rewriting).

    Without it, playground.<hash>.js would import "./api.js" by its plain name, which
    can only be cached briefly. Plain names stay served too
    (WHITENOISE_KEEP_ONLY_HASHED_FILES off) for anything that asks for them.
    """

    support_js_module_import_aggregation = True
    # the import graph is a few modules deep; each pass settles one more level
    max_post_process_passes = 12

    def compress_files(self, paths):
        """Compress the hashed names only, and only once.

        Pages link hashed names, so the plain copies are a fallback served as they are.
        A hashed name fixes the content: its .gz/.br from an earlier collectstatic are
        still right, which makes a second collectstatic (every `make run`) quick.
        """
        hashed = set(self.hashed_files.values())
        todo = [p for p in paths if p in hashed and not (self.exists(p + ".gz") and self.exists(p + ".br"))]
        return super().compress_files(todo)


class PlotlyFinder(BaseFinder):
    """``vendor/plotly.min.js`` from the plotly package; nothing else of its package_data.

    (Listing the whole package_data folder would collect and compress 170 files of
    templates, datasets and widget bundles that no page uses.)
    """

    prefix = "vendor"
    names = ("plotly.min.js",)

    def __init__(self, *args, **kwargs):
        import plotly

        self.storage = FileSystemStorage(location=str(Path(plotly.__file__).parent / "package_data"))
        self.storage.prefix = self.prefix

    def find(self, path, find_all=False, **kwargs):
        name = path[len(self.prefix) + 1:] if path.startswith(self.prefix + "/") else None
        if name in self.names and self.storage.exists(name):
            found = self.storage.path(name)
            return [found] if find_all else found
        return [] if find_all else None

    def list(self, ignore_patterns):
        for name in self.names:
            yield name, self.storage
