"""Static files: brotli-11 bodies built once are served as they are; the rest falls back."""

from __future__ import annotations

import re
from pathlib import Path

import brotli
import pytest

from dashboard.app import create_app
from dashboard.delivery.static_build import ASSETS, build, component_files

BR = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.fixture
def static_app(settings, tmp_path: Path):
    """A node whose static cache is a fresh folder (filled by each test)."""
    app = create_app(settings.model_copy(update={"static_cache": tmp_path / "static"}))
    yield app
    app.extensions["dashboard"].close()


def page_scripts(client, prefix: str = "/login/") -> list[str]:
    """The script URLs of a Dash page (the sign-in page needs no session)."""
    return re.findall(r'<script src="([^"]+)"', client.get(prefix).get_data(as_text=True))


def script_url(client, fragment: str) -> str:
    """The one script URL of the sign-in page containing ``fragment``."""
    (url,) = [u for u in page_scripts(client) if fragment in u]
    return url


def dcc_file() -> Path:
    """The dcc bundle on disk."""
    return next(p for p in component_files() if p.name == "dash_core_components.js")


def test_a_built_dcc_script_is_the_brotli_11_body_with_dash_caching(static_app, tmp_path):
    """The body is brotli 11 of the file, with Dash's year-long cache for a fingerprinted URL."""
    original = dcc_file().read_bytes()
    build([dcc_file()], tmp_path / "static", workers=1)
    client = static_app.test_client()
    url = script_url(client, "dash_core_components.v")
    response = client.get(url, headers=BR)
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert response.mimetype.endswith("javascript")
    assert response.headers["Cache-Control"] == "max-age=31536000"
    for header in ("Content-Type", "Cache-Control"):
        assert response.headers[header] == plain.headers[header]
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert len(response.data) == len(brotli.compress(original, quality=11))
    assert brotli.decompress(response.data) == original


def test_a_built_asset_is_served_from_the_cache_under_the_login_app(static_app, tmp_path):
    """An asset (here under /login/assets/) comes from the cache with Flask's own validators."""
    asset = ASSETS / "style.css"
    build([asset], tmp_path / "static", workers=1)
    client = static_app.test_client()
    response = client.get("/login/assets/style.css", headers=BR)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    assert response.mimetype == "text/css"
    assert response.headers["ETag"].endswith(':br"') and response.headers.get("Last-Modified")
    assert len(response.data) == len(brotli.compress(asset.read_bytes(), quality=11))
    assert brotli.decompress(response.data) == asset.read_bytes()
    again = client.get(
        "/login/assets/style.css", headers={**BR, "If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_without_br_the_file_is_plain_or_gzip(static_app, tmp_path):
    """A client that takes no brotli never gets the cached body."""
    original = dcc_file().read_bytes()
    build([dcc_file()], tmp_path / "static", workers=1)
    client = static_app.test_client()
    url = script_url(client, "dash_core_components.v")
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.data == original
    refused = client.get(url, headers={"Accept-Encoding": "gzip, br;q=0"})
    assert refused.headers["Content-Encoding"] == "gzip"
    import gzip

    assert gzip.decompress(refused.data) == original


def test_a_file_absent_from_the_cache_is_still_compressed(static_app):
    """With nothing built, the fallback (Flask-Compress, brotli 5) compresses it per URL."""
    original = dcc_file().read_bytes()
    client = static_app.test_client()
    response = client.get(script_url(client, "dash_core_components.v"), headers=BR)
    assert response.headers["Content-Encoding"] == "br"
    assert brotli.decompress(response.data) == original
    assert len(response.data) > len(brotli.compress(original, quality=11))


def test_an_asset_absent_from_the_cache_is_compressed_once_not_streamed(static_app):
    """The fallback gets Flask's streamed file in memory, so it compresses and keeps it once."""
    asset = ASSETS / "style.css"
    client = static_app.test_client()
    first, second = (client.get("/assets/style.css", headers=BR) for _ in range(2))
    assert first.headers["Content-Encoding"] == second.headers["Content-Encoding"] == "br"
    assert int(first.headers["Content-Length"]) == len(first.data)  # a stream has no length
    assert brotli.decompress(second.data) == asset.read_bytes()
    assert len(first.data) > len(brotli.compress(asset.read_bytes(), quality=11))


def test_the_page_loads_regenerator_runtime_in_place_of_the_polyfill(static_app):
    """Babel's polyfill is swapped for regenerator-runtime, before React, and it is served."""
    client = static_app.test_client()
    scripts = page_scripts(client)
    assert not [u for u in scripts if "polyfill" in u]
    assert "regenerator-runtime" in scripts[0] and "react" in scripts[1]
    response = client.get(scripts[0], headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert b"regeneratorRuntime = runtime" in response.data
