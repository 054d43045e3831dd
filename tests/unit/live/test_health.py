"""The page's dependency status: when a change is worth telling, and what the page says."""

from __future__ import annotations

from dashboard.live.health import Dependencies, HealthWatch


def test_a_bus_down_for_two_pings_is_reported_once_and_its_return_at_once():
    """One failed ping is not an outage; the second is; recovery shows on the first good ping."""
    watch = HealthWatch(failures_to_degrade=2)
    assert watch.observe(store_ok=True, bus_ok=True) is None
    assert watch.observe(store_ok=True, bus_ok=False) is None
    down = watch.observe(store_ok=True, bus_ok=False)
    assert down == Dependencies(store_ok=True, bus_ok=False)
    assert watch.observe(store_ok=True, bus_ok=False) is None  # no repeat while it stays down
    assert watch.observe(store_ok=True, bus_ok=True) == Dependencies()
    assert watch.observe(store_ok=True, bus_ok=True) is None


def test_a_single_slow_ping_does_not_flash_the_banner():
    """A failure between good pings never changes the state."""
    watch = HealthWatch(failures_to_degrade=2)
    for ok in (True, False, True, False, True):
        assert watch.observe(store_ok=ok, bus_ok=True) is None
    assert watch.state.ok


def test_the_page_is_told_which_part_is_down_and_that_it_polls():
    """Each part down has its own words; all well says nothing."""
    assert Dependencies().as_dict() == {"ok": True, "store": True, "bus": True, "message": ""}
    bus = Dependencies(bus_ok=False).as_dict()
    assert bus["ok"] is False and bus["bus"] is False
    assert bus["message"] == "Updates delayed: message bus unreachable — polling"
    assert Dependencies(store_ok=False).message() == (
        "Updates delayed: database unreachable — polling"
    )
    assert "message bus and database unreachable" in Dependencies(False, False).message()
