"""``python -m bench.fanout_clients URL COOKIE N SECONDS``: N Socket.IO viewers in one process.

Runs on gevent so hundreds of clients fit in one process; prints one JSON line with the
deliveries and their latency (each point's value is the time it was sent, in Unix ms).
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import socketio  # noqa: E402


def connect_viewer(
    url: str, cookie: str, latencies: list[float], *, timeout: float = 20, on_disconnect=None
) -> socketio.Client | None:
    """A viewer of the default dashboard that records each point's age; None if it failed."""
    client = socketio.Client(reconnection=False)

    def on_points(msg: dict) -> None:
        now = time.time() * 1000
        for points in msg["series"].values():
            latencies.extend(now - v for _, v in points)

    client.on("points", on_points, namespace="/live")
    if on_disconnect is not None:
        client.on("disconnect", on_disconnect)
    try:
        client.connect(
            url,
            namespaces=["/live"],
            transports=["websocket"],
            headers={"Cookie": cookie},
            wait_timeout=timeout,
        )
        client.call("subscribe", {"dashboard": "default"}, namespace="/live", timeout=timeout)
    except Exception:  # noqa: BLE001 - counted as not connected
        return None
    return client


def main() -> None:
    """Connect the viewers, listen for the given seconds, print what arrived."""
    url, cookie, n, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    latencies: list[float] = []
    clients = []

    def make() -> None:
        client = connect_viewer(url, cookie, latencies)
        if client is not None:
            clients.append(client)

    gevent.joinall([gevent.spawn(make) for _ in range(n)])
    print(json.dumps({"ready": len(clients)}), flush=True)
    latencies.clear()
    started = time.time()
    gevent.sleep(seconds)
    elapsed = time.time() - started
    snapshot = sorted(latencies)
    for client in clients:
        gevent.spawn(client.disconnect)
    gevent.sleep(0.5)
    out = {"connected": len(clients), "deliveries": len(snapshot), "seconds": elapsed}
    if snapshot:
        out["p50_ms"] = snapshot[len(snapshot) // 2]
        out["p99_ms"] = snapshot[min(len(snapshot) - 1, int(len(snapshot) * 0.99))]
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
