"""How the benchmarks state their figures: percentiles and one line per measured thing."""

from __future__ import annotations

import statistics


def percentile(values: list[float], q: float) -> float:
    """The value at quantile `q` (0-1) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(name: str, ms: list[float], width: int = 10) -> None:
    """One line: count, p50, p90, p99 and max in milliseconds."""
    print(f"{name:<{width}} n={len(ms):4d}  p50 {statistics.median(ms):6.2f}  "
          f"p90 {percentile(ms, 0.90):6.2f}  p99 {percentile(ms, 0.99):6.2f}  "
          f"max {max(ms):6.2f} ms")
