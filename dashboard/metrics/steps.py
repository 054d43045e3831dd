"""Resolutions (steps), their retention, and the choice of a step for a range (pure)."""

from __future__ import annotations

from dataclasses import dataclass

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@dataclass(frozen=True)
class Step:
    """A resolution: its name, bucket width and how long it is kept."""

    name: str
    width_ms: int
    retention_ms: int


RAW = Step("raw", SECOND, DAY)
STEPS: tuple[Step, ...] = (
    RAW,
    Step("1m", MINUTE, DAY),
    Step("5m", 5 * MINUTE, 7 * DAY),
    Step("1h", HOUR, 30 * DAY),
    Step("1d", DAY, 365 * DAY),
)
BY_NAME = {s.name: s for s in STEPS}
ROLLUPS = STEPS[1:]
# How many stored points per output pixel a query may read before a coarser step is used.
POINTS_PER_PIXEL = 100


def step_named(name: str) -> Step:
    """The step called ``name`` (raw, 1m, 5m, 1h, 1d), or ValueError."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown step {name!r}; use one of auto, {', '.join(BY_NAME)}") from None


def choose_step(start_ms: int, end_ms: int, now_ms: int, max_points: int) -> Step:
    """The finest step that still holds ``start_ms`` and reads at most ~100 points a pixel.

    Raw data is assumed at its hot-store resolution of one point a second.
    """
    span = max(end_ms - start_ms, 1)
    age = max(now_ms - start_ms, 0)
    budget = max(max_points, 1) * POINTS_PER_PIXEL
    for step in STEPS:
        if age <= step.retention_ms and span / step.width_ms <= budget:
            return step
    return STEPS[-1]


def finer(step: Step) -> Step | None:
    """The next finer step (for drill-down), or None for raw."""
    i = STEPS.index(step)
    return STEPS[i - 1] if i > 0 else None
