"""``python -m dashboard.export.render_worker``: renders Plotly figures to PNG with kaleido.

kaleido hangs inside a gevent-patched process, so the web node keeps one of these (or a few)
running beside it and talks to it over pipes: one JSON request per line on stdin
(``{"figures": [...], "width": W, "height": H}``), one JSON answer per line on stdout
(``{"images": [base64 PNG, ...]}`` or ``{"error": "..."}``). Chromium starts once, at the
first request, and stays warm.
"""

from __future__ import annotations

import base64
import json
import sys


def main() -> None:
    """Serve render requests until stdin closes."""
    import kaleido

    started = False
    for line in sys.stdin:
        try:
            request = json.loads(line)
            if not started:
                kaleido.start_sync_server(silence_warnings=True)
                started = True
            opts = {
                "format": "png",
                "width": request.get("width", 900),
                "height": request.get("height", 360),
                "scale": request.get("scale", 1.5),
            }
            images = [
                base64.b64encode(kaleido.calc_fig_sync(fig, opts=opts)).decode()
                for fig in request["figures"]
            ]
            answer: dict[str, object] = {"images": images}
        except Exception as exc:  # noqa: BLE001 - the error goes back to the caller
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    if started:
        kaleido.stop_sync_server(silence_warnings=True)


if __name__ == "__main__":
    main()
