"""``python -m bench.naive_viewers URL N SECONDS``: N viewers of the naive app, polling at 1 Hz.

Each viewer makes the request a browser's ``dcc.Interval`` makes every second; prints one JSON
line with the answers and their latency.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402

BODY = {
    "output": "g.figure",
    "outputs": {"id": "g", "property": "figure"},
    "inputs": [{"id": "tick", "property": "n_intervals", "value": 1}],
    "changedPropIds": ["tick.n_intervals"],
    "state": [],
}


def main() -> None:
    """Poll from N viewers for the given seconds."""
    url, n, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    latencies: list[float] = []
    deadline = time.time() + seconds

    def viewer() -> None:
        session = requests.Session()
        while time.time() < deadline:
            started = time.time()
            try:
                session.post(url + "/_dash-update-component", json=BODY, timeout=30)
                latencies.append((time.time() - started) * 1000)
            except requests.RequestException:
                pass
            gevent.sleep(max(0.0, 1.0 - (time.time() - started)))

    gevent.joinall([gevent.spawn(viewer) for _ in range(n)])
    snapshot = sorted(latencies)
    out = {"answers": len(snapshot), "seconds": seconds}
    if snapshot:
        out["p50_ms"] = snapshot[len(snapshot) // 2]
        out["p99_ms"] = snapshot[min(len(snapshot) - 1, int(len(snapshot) * 0.99))]
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
