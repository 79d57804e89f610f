"""Shared by the bench scripts: the one JSON line every benchmark ends with."""

import json


def percentile(values, pct: float) -> float:
    """The pct-th percentile (nearest rank) of a non-empty list of numbers."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))]


def report(bench: str, figure: float, unit: str, baseline: float, target: float | None) -> None:
    """Print the result as the last line: the figure, its baseline measured in the same run, and their ratio."""
    print(json.dumps({
        "bench": bench, "figure": round(figure, 3), "unit": unit, "baseline": round(baseline, 3),
        "ratio": float(f"{figure / baseline:.3g}") if baseline else None,  # 3 significant digits: 0.000115, not 0.0
        "target": target,
    }, ensure_ascii=False), flush=True)
