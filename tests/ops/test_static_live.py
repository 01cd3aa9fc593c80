"""Static files through WhiteNoise behind the real ASGI server (daphne): hashed names,
brotli and gzip, a year of immutable caching, module imports that stay hashed, and
paths that cannot leave the static folder."""

import http.client
import re
import urllib.request

import pytest

pytestmark = pytest.mark.integration

YEAR = "max-age=315360000"


def fetch(base: str, path: str, encoding: str | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(base + path)
    if encoding:
        req.add_header("Accept-Encoding", encoding)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href|content)="(/static/[^"]+)"', html)


def test_pages_link_hashed_names_only(live_app):
    status, _, body = fetch(live_app.url, "/")
    urls = static_urls(body.decode())
    # the page's Plotly is the cartesian bundle; the full one is named for 3-D charts
    assert status == 200 and any("plotly-cartesian.min." in u for u in urls) and any("plotly.min." in u for u in urls)
    for url in urls:
        assert re.search(r"\.[0-9a-f]{12}\.(js|css)$", url), url


@pytest.mark.parametrize("bundle", ["plotly-cartesian.min.", "plotly.min."])
@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_plotly_is_compressed_and_cached_forever(live_app, encoding, bundle):
    _, _, page = fetch(live_app.url, "/")
    plotly = next(u for u in static_urls(page.decode()) if bundle in u)
    _, _, plain = fetch(live_app.url, plotly)
    status, headers, body = fetch(live_app.url, plotly, encoding)
    assert status == 200 and headers["content-encoding"] == encoding
    assert YEAR in headers["cache-control"] and "immutable" in headers["cache-control"]
    assert "accept-encoding" in headers["vary"].lower()
    assert len(body) < len(plain) / 3  # 4.8 MB → about 1.1 MB (br) or 1.5 MB (gzip); 1.5 MB → about 0.45 MB
    print(f"\n{bundle}js: {len(plain):,} bytes plain, {len(body):,} bytes {encoding}")


def test_plain_names_still_work_with_a_short_cache(live_app):
    status, headers, _ = fetch(live_app.url, "/static/descent/js/api.js")
    assert status == 200 and "immutable" not in headers["cache-control"]


def test_module_imports_point_at_hashed_modules_that_exist(live_app):
    root = live_app.var / "static"
    modules = [p for p in root.rglob("*.js") if re.search(r"\.[0-9a-f]{12}\.js$", p.name)]
    assert modules
    for module in modules:
        for target in re.findall(r"""(?:from|import)\s*["'](\.{1,2}/[^"']+)["']""", module.read_text()):
            assert re.search(r"\.[0-9a-f]{12}\.js$", target), f"{module.name} imports {target} by its plain name"
            assert (module.parent / target).resolve().exists(), f"{module.name} imports missing {target}"


@pytest.mark.parametrize("path", ["/static/../webapp/settings.py", "/static/%2e%2e/webapp/settings.py",
                                  "/static/..%2fwebapp/settings.py", "/static/descent/../../manage.py"])
def test_paths_out_of_the_static_folder_are_404(live_app, path):
    conn = http.client.HTTPConnection("127.0.0.1", live_app.port, timeout=30)
    conn.request("GET", path)  # sent as is: no client-side normalisation
    r = conn.getresponse()
    body = r.read()
    assert r.status == 404 and b"SECRET_KEY" not in body


def test_pages_carry_the_security_headers_through_daphne(live_app):
    _, headers, _ = fetch(live_app.url, "/")
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
