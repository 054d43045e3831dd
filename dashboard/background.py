"""A node's background tasks (the live edge's sweeps, the bus's tail and persister, alert ticks,
retention, pollers, the demo), and the alert tasks ``dashboard worker`` adds to its own."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable

from flask import Flask
from flask_socketio import SocketIO
from redis.exceptions import RedisError

from dashboard.alerts.engine import validate_rule
from dashboard.alerts.runner import AlertService, Notifier
from dashboard.alerts.store import AlertStore
from dashboard.boards.service import offer_host_dashboard
from dashboard.db.appdb import open_app_db
from dashboard.extensions import socketio
from dashboard.live import socket as live
from dashboard.metrics.retention import run_retention
from dashboard.metrics.sealing import run_sealer
from dashboard.metrics.service import StoreReader
from dashboard.query.service import QueryLimits
from dashboard.runtime import Runtime, secret_box
from ingest import demo
from ingest.pollers import TargetError, node_exporter_hook, start_pollers
from ingest.redis_bus import AlertStream, RedisBus, alert_stream_name
from ingest.worker import Worker

log = logging.getLogger(__name__)


def start_background(server: Flask) -> None:
    """Start the node's background tasks: session sweeps, pollers and the demo when enabled."""
    rt: Runtime = server.extensions["dashboard"]
    namespace = server.extensions["live_namespace"]
    socketio.start_background_task(live.run_session_sweeper, socketio, namespace)
    socketio.start_background_task(live.run_health_watch, socketio, namespace)
    if namespace.emitter is not None:
        socketio.start_background_task(live.run_expression_feed, rt, namespace.emitter)
    if hasattr(rt.store, "retention"):
        socketio.start_background_task(
            run_retention, store=rt.store, metrics=rt.metrics, sleep=socketio.sleep
        )
        rt.tasks["retention"] = "running"
    if hasattr(rt.store, "seal"):
        socketio.start_background_task(
            run_sealer,
            store=rt.store,
            metrics=rt.metrics,
            sleep=socketio.sleep,
            interval_s=rt.settings.seal_interval_s,
        )
        rt.tasks["seal"] = "running"
    if isinstance(rt.bus, RedisBus):
        start_bus_tasks(rt, rt.bus)
    else:
        # embedded: this node evaluates the alert rules; with Redis the worker does
        socketio.start_background_task(rt.alerts.run_ticks, socketio.sleep)
        if rt.alerts.notifier is not None:
            socketio.start_background_task(rt.alerts.notifier.run)
    # with Redis and dedicated workers (persist_in_web off) the worker polls, not every web node
    if rt.settings.poll_targets and (
        not isinstance(rt.bus, RedisBus) or rt.settings.persist_in_web
    ):
        start_node_pollers(rt, socketio)
    if rt.settings.demo:
        socketio.start_background_task(run_demo, rt)


def start_bus_tasks(rt: Runtime, bus: RedisBus) -> None:
    """Tail the Redis stream into this node, and the alert stream into its browsers; persist
    from the stream too unless workers do."""
    socketio.start_background_task(
        bus.run_tail, sleep=socketio.sleep, on_state=task_state(rt, "stream_tail")
    )
    rt.tasks["stream_tail"] = "running"
    alerts_in = AlertStream.from_url(
        rt.settings.redis_url, alert_stream_name(rt.settings.redis_prefix)
    )
    socketio.start_background_task(
        alerts_in.run,
        rt.publish_alert,
        sleep=socketio.sleep,
        on_state=task_state(rt, "alert_tail"),
    )
    rt.tasks["alert_tail"] = "running"
    if rt.settings.persist_in_web:
        name = f"web-{socket.gethostname()}-{os.getpid()}"
        socketio.start_background_task(
            bus.run_persister,
            rt.store.write,
            name,
            sleep=socketio.sleep,
            on_state=task_state(rt, "persister"),
        )
        rt.tasks["persister"] = "running"


def start_node_pollers(rt: Runtime, socketio: SocketIO) -> None:
    """Start one poller per DASHBOARD_POLL_TARGETS entry; a bad target stops the start."""
    try:
        start_pollers(
            rt.settings,
            publish=rt.publish,
            spawn=lambda _name, run: socketio.start_background_task(run),
            sleep=socketio.sleep,
            metrics=rt.metrics,
            tasks=rt.tasks,
            limits=rt.limits,
            on_first_scrape=node_exporter_hook(lambda instance: offer_host(rt, instance)),
        )
    except TargetError as exc:
        raise SystemExit(f"DASHBOARD_POLL_TARGETS: {exc}") from None


def offer_host(rt: Runtime, instance: str) -> str | None:
    """Save the "Host <instance>" dashboard of a polled node exporter unless there is one; its
    id when saved. The poller's series carry no ``instance`` label, so it picks by none."""
    created = offer_host_dashboard(store=rt.dashboards, instance=instance, matchers={})
    return created["id"] if created else None


def run_demo(rt: Runtime) -> None:
    """The demo source: its alert rule (once), backfill after its last stored point, then a
    point a second."""
    rt.tasks["demo"] = "running"
    if rt.settings.demo_alert:
        ensure_demo_rule(rt)
    try:
        demo.run(
            rt.publish,
            last_ts=demo.last_demo_ts(rt.series_list()),
            step_ms=rt.settings.demo_backfill_step_s * 1000,
            sleep=socketio.sleep,
            opening_spike_after_s=15.0 if rt.settings.demo_alert else None,
        )
    finally:
        rt.tasks["demo"] = "stopped"


def ensure_demo_rule(rt: Runtime) -> None:
    """Save the demo's alert rule when no rule exists yet (a first start): a user's edits,
    removal or own rules are never overridden."""
    store = rt.alerts.store
    if not store.rules():
        store.put_rule(validate_rule(demo.DEMO_RULE))
        rt.alerts.reload_rules()


def task_state(rt: Runtime, name: str) -> Callable[[str], None]:
    """A callback that records a task's state for /healthz."""

    def record(state: str) -> None:
        """Keep ``state`` as the task's."""
        rt.tasks[name] = state

    return record


def start_worker_alerts(worker: Worker) -> None:
    """In ``dashboard worker``: evaluate the alert rules on every point of the stream, with a
    tail of its own, and append their events to the alert stream every node tails for its
    browsers (a node that was cut off from Redis reads what it missed when it is back)."""
    settings = worker.settings
    alerts_out = AlertStream.from_url(settings.redis_url, alert_stream_name(settings.redis_prefix))

    def emit(payload: dict) -> None:
        """To every node's browsers, retried over a short Redis outage; the event is stored
        either way (the alerts panel lists it)."""
        for attempt in range(6):
            try:
                alerts_out.publish(payload)
                return
            except RedisError as exc:
                if attempt == 5:
                    log.warning("alert %s not pushed to the pages: %s", payload.get("id"), exc)
                else:
                    worker.sleep(0.2 * 2**attempt)

    notifier = Notifier(allow_private=settings.webhook_allow_private, sleep=worker.sleep)
    service = AlertService(
        AlertStore(
            open_app_db(settings.resolved_database_url), owns_db=True, box=secret_box(settings)
        ),
        emit=emit,
        notifier=notifier,
        global_webhook=settings.alert_webhook,
        reader=StoreReader(worker.store),
        limits=QueryLimits(settings.query_max_samples, settings.query_timeout_s),
    )
    tail = worker.new_tail()
    tail.subscribe(service.on_batch)
    should_stop = worker.stopping.is_set
    worker.spawn("alert-tail", lambda: tail.run_tail(sleep=worker.sleep, should_stop=should_stop))
    worker.spawn("alert-ticks", lambda: service.run_ticks(worker.sleep, should_stop))
    worker.spawn("webhooks", lambda: notifier.run(should_stop))
