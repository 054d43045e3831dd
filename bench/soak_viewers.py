"""``python -m bench.soak_viewers URL COOKIE N SECONDS INTERVAL``: viewers timing each interval.

Like ``bench.fanout_clients`` (gevent, one process for hundreds of clients), but prints one JSON
line per interval so a long run shows drift: each point's value is its send time in Unix ms.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import socketio  # noqa: E402

from bench.fanout_clients import connect_viewer  # noqa: E402


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of already sorted values (nearest rank)."""
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def main() -> None:
    """Connect the viewers, then print each interval's deliveries and latency until time is up."""
    url, cookie = sys.argv[1], sys.argv[2]
    n, seconds, interval = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
    latencies: list[float] = []
    clients: list[socketio.Client] = []
    disconnects = [0]

    def count_disconnect(*_: object) -> None:
        disconnects[0] += 1

    def make() -> None:
        client = connect_viewer(url, cookie, latencies, timeout=30, on_disconnect=count_disconnect)
        if client is not None:
            clients.append(client)

    gevent.joinall([gevent.spawn(make) for _ in range(n)])
    print(json.dumps({"ready": len(clients)}), flush=True)
    latencies.clear()
    end = time.monotonic() + seconds
    while time.monotonic() < end - 1e-3:
        started = time.monotonic()
        gevent.sleep(min(interval, end - started))
        batch, latencies[:] = sorted(latencies), []
        out = {
            "seconds": time.monotonic() - started,
            "deliveries": len(batch),
            "disconnects": disconnects[0],
        }
        if batch:
            out["p50_ms"] = percentile(batch, 0.5)
            out["p99_ms"] = percentile(batch, 0.99)
        print(json.dumps(out), flush=True)
    for client in clients:
        gevent.spawn(client.disconnect)
    gevent.sleep(0.5)


if __name__ == "__main__":
    main()
