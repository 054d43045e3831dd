"""The ready-made Host dashboard of a node exporter."""

from __future__ import annotations

from dashboard.boards.models import validate_dashboard
from dashboard.boards.templates import host_dashboard, host_dashboard_id, is_node_exporter
from dashboard.query.parse import parse


def _exprs(dashboard: dict) -> list[str]:
    """Every expression of the dashboard's widgets."""
    return [s["expr"] for w in dashboard["widgets"] for s in w["series"]]


def test_the_host_dashboard_is_valid_and_draws_the_six_charts():
    """A valid dashboard (expressions included), titled and named after the instance."""
    board = host_dashboard("db1:9100", "node")
    assert validate_dashboard(board) == board
    assert (board["id"], board["title"]) == ("host-db1-9100", "Host db1:9100")
    assert [w["id"] for w in board["widgets"]] == [
        "cpu",
        "load",
        "memory",
        "filesystem",
        "disk",
        "network",
    ]
    # Grafana's unit ids: CPU and memory 0-100 %, load a plain number, throughput bytes/s
    assert {w["format"]["unit"] for w in board["widgets"]} == {"percent", "none", "Bps"}
    for expr in _exprs(board):
        parse(expr)
        assert 'instance="db1:9100"' in expr and 'job="node"' in expr
    cpu = board["widgets"][0]["series"][0]
    assert cpu == {
        "expr": '100 * sum by (mode) (rate(node_cpu_seconds_total{instance="db1:9100",'
        'job="node"}[5m])) / scalar(count(count by (cpu) (node_cpu_seconds_total'
        '{instance="db1:9100",job="node"})))',
        "legend": "{{mode}}",
    }


def test_matchers_pick_the_series_as_they_are_stored():
    """Without matchers (the poller's series carry no instance label) the names stand alone."""
    board = host_dashboard("127.0.0.1:9100", "", matchers={})
    assert validate_dashboard(board) == board
    exprs = _exprs(board)
    assert "node_load1" in exprs
    assert 'rate(node_network_receive_bytes_total{device!="lo"}[5m])' in exprs
    assert not any("instance" in e for e in exprs)
    assert host_dashboard("x", "")["widgets"][1]["series"][0]["expr"] == 'node_load1{instance="x"}'


def test_ids_and_detection():
    """Ids stay within 64 characters; a node exporter is told by node_cpu_seconds_total."""
    assert host_dashboard_id("Very.Long-Host" * 10).startswith("host-very-long-host")
    assert len(host_dashboard_id("h" * 200)) == 64
    assert is_node_exporter(["node_load1", "node_cpu_seconds_total"])
    assert not is_node_exporter(["process_cpu_seconds_total"])
