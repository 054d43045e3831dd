"""Functions of range vectors (``rate``, ``*_over_time``, ``deriv`` ...), vectorised (pure).

Each takes a :class:`Windows` (the samples of ``(t - range, t]`` for every series and step as
``[lo, hi)`` index pairs into flat arrays) and returns ``(S, T)`` values and a mask. The
semantics follow Prometheus' ``promql/functions.go``: ``extrapolatedRate`` (counter resets,
extrapolation to the range's edges, no extrapolation below zero), ``instantValue``,
``linearRegression``, ``quantile``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dashboard.query.samples import Samples

_CHUNK = 2_000_000
_BLOCK = 32_768  # windows per block of elementwise work (its temporaries fit a core's cache)


@dataclass
class Windows:
    """The windows of a range vector argument.

    Attributes
    ----------
    samples : the raw samples of S series
    lo, hi : int64 arrays, shape (S, T); the window of series i at step j is ``[lo, hi)``
    starts, ends : int64 arrays, shape (T,); the range's bounds (ms) at each step
    range_s : float, the range in seconds
    params : extra scalar arguments per step, each shape (T,)
    """

    samples: Samples
    lo: np.ndarray
    hi: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    range_s: float
    params: tuple[np.ndarray, ...] = ()

    @property
    def count(self) -> np.ndarray:
        """Samples per window, shape (S, T)."""
        return self.hi - self.lo


Result = tuple[np.ndarray, np.ndarray]


def _at(arr: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``arr[idx]`` with out-of-range indexes clipped (their results are masked anyway)."""
    if arr.size == 0:
        return np.zeros(idx.shape, dtype=arr.dtype)
    return arr.take(idx, mode="clip")


def _pair_flags(s: Samples, flags: np.ndarray) -> np.ndarray:
    """Indexes j of the flagged pairs (samples j-1, j of one series), ascending."""
    idx = np.flatnonzero(flags)
    if idx.size and s.offsets.size > 1:
        idx = idx[~np.isin(idx, s.offsets[:-1])]  # no pair across two series
    return idx


def _within(w: Windows, idx: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The sum of ``weights`` (or count) of the flagged pairs ``idx`` inside each window."""
    if idx.size == 0:
        return np.zeros(w.lo.shape)
    prefix = np.zeros(idx.size + 1)
    np.cumsum(weights if weights is not None else np.ones(idx.size), out=prefix[1:])
    inside_hi = np.searchsorted(idx, w.hi - 1, side="right")
    inside_lo = np.searchsorted(idx, w.lo, side="right")
    return prefix[inside_hi] - prefix[inside_lo]


def _resets(s: Samples) -> np.ndarray:
    """Indexes j where the value fell below the one before (counter resets)."""
    flags = np.zeros(s.v.size, dtype=bool)
    if s.v.size > 1:
        np.less(s.v[1:], s.v[:-1], out=flags[1:])
    return _pair_flags(s, flags)


def extrapolated_rate(w: Windows, counter: bool, rate: bool) -> Result:
    """``rate``, ``increase`` and ``delta``: the change over the window, extrapolated.

    Prometheus 3's ``extrapolatedRate``: extrapolate to each edge when the gap to it is under
    1.1 average intervals, else by half an interval; a counter not below its zero point.
    Computed a block of series at a time, so its temporaries stay in the CPU's caches.
    """
    resets = _resets(w.samples) if counter else None
    rows = max(1, _BLOCK // max(1, w.lo.shape[1]))
    if w.lo.shape[0] <= rows:
        return _extrapolated_rate(w, resets, rate)
    result = np.empty(w.lo.shape)
    mask = np.empty(w.lo.shape, dtype=bool)
    for a in range(0, w.lo.shape[0], rows):
        part = Windows(
            w.samples, w.lo[a : a + rows], w.hi[a : a + rows], w.starts, w.ends, w.range_s
        )
        result[a : a + rows], mask[a : a + rows] = _extrapolated_rate(part, resets, rate)
    return result, mask


def _extrapolated_rate(w: Windows, resets: np.ndarray | None, rate: bool) -> Result:
    """:func:`extrapolated_rate` of the windows ``w``; ``resets`` (a counter's, from
    :func:`_resets`) or None (``delta``)."""
    s, lo, last = w.samples, w.lo, w.hi - 1
    count = w.hi - lo
    mask = count >= 2
    first_v = _at(s.v, lo)
    result = _at(s.v, last)
    result -= first_v
    counter = resets is not None
    if resets is not None and resets.size:
        result += _within(w, resets, s.v[resets - 1])
    first_t, last_t = _at(s.ts, lo), _at(s.ts, last)
    sampled = (last_t - first_t) * 0.001  # ms to s (the int64 converted as astype would)
    np.maximum(sampled, 1e-9, out=sampled)
    count -= 1
    np.maximum(count, 1, out=count)
    half = sampled / count  # the average interval, halved below
    threshold = half * 1.1
    half *= 0.5
    to_start = (first_t - w.starts[None, :]) * 0.001
    np.copyto(to_start, half, where=to_start >= threshold)
    if counter:
        with np.errstate(divide="ignore", invalid="ignore"):
            to_zero = sampled * (first_v / result)
        use = (result > 0) & (first_v >= 0) & (to_zero < to_start)
        np.copyto(to_start, to_zero, where=use)
    to_end = (w.ends[None, :] - last_t) * 0.001
    np.copyto(to_end, half, where=to_end >= threshold)
    to_start += to_end
    to_start /= sampled
    to_start += 1.0  # the factor (sampled + to_start + to_end) / sampled
    result *= to_start
    if rate:
        result /= w.range_s
    result[~mask] = 0.0
    return result, mask


def instant_value(w: Windows, rate: bool) -> Result:
    """``irate`` and ``idelta``: from the last two samples of the window."""
    s = w.samples
    mask = w.count >= 2
    prev_v, last_v = _at(s.v, w.hi - 2), _at(s.v, w.hi - 1)
    prev_t, last_t = _at(s.ts, w.hi - 2), _at(s.ts, w.hi - 1)
    result = last_v - prev_v
    if rate:
        result = np.where(last_v < prev_v, last_v, result)
        result = result / np.maximum((last_t - prev_t) / 1000.0, 1e-9)
    return np.where(mask, result, 0.0), mask


def resets(w: Windows) -> Result:
    """Counter resets in the window: values lower than their predecessor."""
    mask = w.count >= 1
    return np.where(mask, _within(w, _resets(w.samples)), 0.0), mask


def changes(w: Windows) -> Result:
    """Value changes in the window (NaN to NaN is no change)."""
    v = w.samples.v
    flags = np.zeros(v.size, dtype=bool)
    flags[1:] = (v[1:] != v[:-1]) & ~(np.isnan(v[1:]) & np.isnan(v[:-1]))
    mask = w.count >= 1
    return np.where(mask, _within(w, _pair_flags(w.samples, flags)), 0.0), mask


def _gather(
    w: Windows, fn: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    """Apply ``fn(values, times, valid, rows)`` to padded windows, chunked to bound memory.

    ``values``/``times``/``valid`` have shape (R, W) for R windows (flattened series x steps)
    of at most W samples; ``rows`` are those windows' flat indexes. Returns shape (S, T).
    """
    lo, hi = w.lo.ravel(), w.hi.ravel()
    out = np.zeros(lo.size)
    width = int((hi - lo).max(initial=0))
    if width == 0:
        return out.reshape(w.lo.shape)
    step = max(1, _CHUNK // width)
    offsets = np.arange(width)
    for a in range(0, lo.size, step):
        rows = np.arange(a, min(a + step, lo.size))
        idx = lo[rows, None] + offsets[None, :]
        valid = idx < hi[rows, None]
        out[rows] = fn(_at(w.samples.v, idx), _at(w.samples.ts, idx), valid, rows)
    return out.reshape(w.lo.shape)


def _sum(v: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Row sums of the valid entries."""
    return np.where(valid, v, 0.0).sum(axis=1)


def over_time(w: Windows, kind: str) -> Result:
    """``sum``/``avg``/``min``/``max``/``count``/``last``/``stddev``/``stdvar_over_time``."""
    count = w.count
    mask = count >= 1
    n = np.maximum(count, 1).ravel()
    if kind == "count":
        return count.astype(np.float64), mask
    if kind == "last":
        return _at(w.samples.v, w.hi - 1), mask
    if kind in ("min", "max"):
        reduce = np.fmin if kind == "min" else np.fmax
        values = _gather(w, lambda v, _t, ok, _r: reduce.reduce(np.where(ok, v, np.nan), axis=1))
    elif kind == "sum":
        values = _gather(w, lambda v, _t, ok, _r: _sum(v, ok))
    elif kind == "avg":
        values = _gather(w, lambda v, _t, ok, r: _sum(v, ok) / n[r])
    else:

        def var(v: np.ndarray, _t: np.ndarray, ok: np.ndarray, r: np.ndarray) -> np.ndarray:
            """Population variance of each row."""
            mean = _sum(v, ok) / n[r]
            return _sum((v - mean[:, None]) ** 2, ok) / n[r]

        values = _gather(w, var)
        values = np.sqrt(values) if kind == "stddev" else values
    return np.where(mask, values, 0.0), mask


def quantile_over_time(w: Windows) -> Result:
    """The φ-quantile of each window (φ per step), interpolated like Prometheus' quantile."""
    mask = w.count >= 1
    phi = np.broadcast_to(w.params[0][None, :], w.lo.shape).ravel()

    def q(v: np.ndarray, _t: np.ndarray, ok: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Sorted-rank interpolation per row."""
        data = np.sort(np.where(ok, v, np.inf), axis=1)
        n = ok.sum(axis=1)
        p = phi[rows]
        rank = np.clip(p, 0, 1) * np.maximum(n - 1, 0)
        low = np.floor(rank).astype(np.int64)
        high = np.minimum(low + 1, np.maximum(n - 1, 0))
        at = np.arange(len(rows))
        lv, hv = data[at, np.clip(low, 0, None)], data[at, high]
        with np.errstate(invalid="ignore"):
            res = lv + (hv - lv) * (rank - low)
        res = np.where(hv == lv, lv, res)
        res = np.where(p < 0, -np.inf, np.where(p > 1, np.inf, res))
        return np.where(np.isnan(p), np.nan, res)

    return np.where(mask, _gather(w, q), 0.0), mask


def _regression(
    v: np.ndarray, t: np.ndarray, ok: np.ndarray, origin: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope (per second) and the fit's value at ``origin`` (ms) of each row."""
    n = np.maximum(ok.sum(axis=1), 1)
    x = (t - t[:, :1]) / 1000.0
    mx = _sum(x, ok) / n
    my = _sum(v, ok) / n
    dx = np.where(ok, x - mx[:, None], 0.0)
    dy = np.where(ok, v - my[:, None], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (dx * dy).sum(axis=1) / (dx * dx).sum(axis=1)
    const = np.all(np.where(ok, v == v[:, :1], True), axis=1)
    slope = np.where(const, 0.0, slope)
    at = (origin - t[:, 0]) / 1000.0
    value = np.where(const, v[:, 0], my + slope * (at - mx))
    value = np.where(const & np.isinf(v[:, 0]), np.nan, value)
    return slope, value


def deriv(w: Windows) -> Result:
    """The per-second derivative by simple linear regression."""
    mask = w.count >= 2
    values = _gather(w, lambda v, t, ok, _r: _regression(v, t, ok, t[:, 0])[0])
    return np.where(mask, values, 0.0), mask


def predict_linear(w: Windows, times: np.ndarray) -> Result:
    """The regression's value ``params[0]`` seconds after each evaluation time."""
    mask = w.count >= 2
    origin = np.broadcast_to(times[None, :], w.lo.shape).ravel()
    ahead = np.broadcast_to(w.params[0][None, :], w.lo.shape).ravel()

    def predict(v: np.ndarray, t: np.ndarray, ok: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Slope times the duration plus the intercept at the evaluation time."""
        slope, intercept = _regression(v, t, ok, origin[rows])
        return slope * ahead[rows] + intercept

    return np.where(mask, _gather(w, predict), 0.0), mask


RANGE_FUNCTIONS: dict[str, Callable[[Windows, np.ndarray], Result]] = {
    "rate": lambda w, _t: extrapolated_rate(w, True, True),
    "increase": lambda w, _t: extrapolated_rate(w, True, False),
    "delta": lambda w, _t: extrapolated_rate(w, False, False),
    "irate": lambda w, _t: instant_value(w, True),
    "idelta": lambda w, _t: instant_value(w, False),
    "resets": lambda w, _t: resets(w),
    "changes": lambda w, _t: changes(w),
    "deriv": lambda w, _t: deriv(w),
    "predict_linear": predict_linear,
    "quantile_over_time": lambda w, _t: quantile_over_time(w),
    **{
        f"{kind}_over_time": (lambda k: lambda w, _t: over_time(w, k))(kind)
        for kind in ("sum", "avg", "min", "max", "count", "last", "stddev", "stdvar")
    },
}
