"""The page's dependency status: when a change is worth telling, and what the page says."""

from __future__ import annotations

from dashboard.live.health import Dependencies, DependencyProbe, HealthWatch


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


def test_a_failed_ping_is_checked_again_soon_so_an_outage_shows_within_seconds():
    """After one failure the next ping comes at a quarter of the period; once the part counts
    as down (or answers again), pings go back to the period."""
    watch = HealthWatch(failures_to_degrade=2)
    watch.observe(store_ok=True, bus_ok=True)
    assert watch.next_check_s(1.0) == 1.0
    watch.observe(store_ok=False, bus_ok=True)
    assert watch.next_check_s(1.0) == 0.25
    watch.observe(store_ok=False, bus_ok=True)  # down now: the pages are told
    assert not watch.state.ok and watch.next_check_s(1.0) == 1.0
    watch.observe(store_ok=True, bus_ok=False)
    assert watch.next_check_s(1.0) == 0.25
    watch.observe(store_ok=True, bus_ok=True)
    assert watch.next_check_s(1.0) == 1.0


def test_the_page_is_told_which_part_is_down_and_that_it_polls():
    """Each part down has its own words; all well says nothing."""
    assert Dependencies().as_dict() == {
        "ok": True,
        "store": True,
        "bus": True,
        "live": True,
        "message": "",
    }
    bus = Dependencies(bus_ok=False).as_dict()
    assert bus["ok"] is False and bus["bus"] is False
    assert bus["message"] == "Updates delayed: message bus unreachable — polling"
    assert Dependencies(store_ok=False).message() == (
        "Updates delayed: database unreachable — polling"
    )
    assert "message bus and database unreachable" in Dependencies(False, False).message()


def test_with_redis_the_database_down_leaves_the_live_feed_on():
    """On a Redis setup points still reach the pages with the database down: the page is told
    so and does not poll; on the embedded bus the database is the bus, so the page polls."""
    redis_side = Dependencies(store_ok=False, separate_bus=True)
    assert redis_side.as_dict()["live"] is True and redis_side.ok is False
    assert redis_side.message().startswith("Database unreachable: live updates go on")
    assert Dependencies(store_ok=False).as_dict()["live"] is False
    watch = HealthWatch(failures_to_degrade=1, separate_bus=True)
    assert watch.observe(store_ok=False, bus_ok=True) == redis_side


def test_health_is_read_from_the_background_check_and_a_hanging_check_counts_as_down():
    """The probe answers at once: a check under way for longer than its bound is a failure."""
    probe = DependencyProbe(stale_after_s=2.0)
    assert probe.read("store", 0.0) is None  # never checked: the caller pings itself
    probe.begin("store", 10.0)
    probe.done("store", True, 10.1)
    assert probe.read("store", 10.5) == (True, "")
    probe.begin("store", 11.0)
    assert probe.read("store", 12.5) == (True, "")  # a check under way, not late yet
    assert probe.read("store", 13.5) == (False, "no answer for 2.5 s")
    probe.done("store", False, 14.0)
    assert probe.read("store", 14.0) == (False, "check failed")
    assert probe.read("store", 30.0)[0] is False  # not checked for long: not trusted
