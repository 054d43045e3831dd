"""Dash's index page made leaner (``LeanDash``), and its set-up finished before any request."""

from __future__ import annotations

import re
from typing import Any

from dash import Dash
from flask import Flask

from dashboard.delivery.static_build import REGENERATOR_RUNTIME

# Dash always lists the DataTable component's script (9 KB compressed); these pages never use it
# (tables are plain HTML).
UNUSED_SCRIPTS = re.compile(r'<script src="[^"]*/dash_table/[^"]*"></script>\s*')
# Dash always ships @babel/polyfill (33 KB compressed) before React. In Chromium the only part of
# it that anything on these pages uses is the global regeneratorRuntime (dcc's and the renderer's
# lazy-component loader call it once a lazy chunk has loaded; core-js's other additions are
# native, non-standard, or feature-tested first), so the page gets regenerator-runtime alone
# (6 KB), in the polyfill's place, as a script of our package served by Dash's component-suites
# route (fingerprinted, public, allowed by the CSP's 'self').
POLYFILL_SCRIPT = re.compile(r'<script src="[^"]*/dash/deps/polyfill@[^"]*"></script>')
OWN_NAMESPACE = "dashboard"


# What Dash's renderer fetches only once its scripts have run (the layout and callbacks) and dcc
# only once the layout shows a graph or a dropdown (its lazy chunks): a page that names them in
# <link rel=preload> has them fetched alongside its scripts instead of after them. The upload's
# chunk is not named: Import JSON's file picker is drawn when an editor opens edit mode.
PRELOAD_FETCHES = ("_dash-layout", "_dash-dependencies")
PRELOAD_CHUNKS = tuple(
    f"_dash-component-suites/dash/dcc/async-{name}.js" for name in ("graph", "dropdown")
)


class LeanDash(Dash):
    """A Dash app whose pages leave out ``UNUSED_SCRIPTS`` and swap the polyfill for less, and
    (with ``preload``) start fetching what the renderer asks for next while its scripts load."""

    def __init__(self, *args: Any, preload: bool = False, **kwargs: Any) -> None:
        """A Dash app that serves regenerator-runtime from the start, before any page is built."""
        super().__init__(*args, **kwargs)
        self.registered_paths[OWN_NAMESPACE].add(REGENERATOR_RUNTIME)
        self.preload = preload

    def _preload_tags(self) -> str:
        """<link rel=preload> for ``PRELOAD_FETCHES`` (as Dash fetches them: same-origin
        credentials, hence ``crossorigin``) and ``PRELOAD_CHUNKS``."""
        prefix = self.config.requests_pathname_prefix
        fetches = [
            f'<link rel="preload" href="{prefix}{p}" as="fetch" crossorigin>'
            for p in PRELOAD_FETCHES
        ]
        chunks = [f'<link rel="preload" href="{prefix}{p}" as="script">' for p in PRELOAD_CHUNKS]
        return "\n".join(fetches + chunks)

    def _regenerator_tag(self) -> str:
        """The script tag of regenerator-runtime, at its fingerprinted URL."""
        resource = {"relative_package_path": REGENERATOR_RUNTIME, "namespace": OWN_NAMESPACE}
        (src,) = self._collect_and_register_resources([resource])
        return f'<script src="{src}"></script>'

    def interpolate_index(self, **kwargs: Any) -> str:
        """The page, without the unused script tags and with the polyfill swapped."""
        scripts = UNUSED_SCRIPTS.sub("", kwargs["scripts"])
        kwargs["scripts"] = POLYFILL_SCRIPT.sub(lambda _: self._regenerator_tag(), scripts, 1)
        if self.preload:  # after the stylesheets: the first paint waits for those, not these
            kwargs["css"] = kwargs["css"] + "\n" + self._preload_tags()
        page = super().interpolate_index(**kwargs)
        return page.replace("<html>", '<html lang="en">', 1)  # what screen readers speak it as


def finish_setup(server: Flask, dash_app: Dash) -> None:
    """Dash marks its set-up done before it finishes it; do it now, before any request."""
    with server.test_request_context(dash_app.config.routes_pathname_prefix):
        dash_app._setup_server()
