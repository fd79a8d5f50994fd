"""How the benchmarks state a ratio measured over several rounds: its median and how far the rounds spread."""

from __future__ import annotations

import statistics


def spread(values: list[float]) -> float:
    """The largest distance of any round from the median, relative to the median (0.05 = ±5 %)."""
    middle = statistics.median(values)
    return max(abs(value - middle) for value in values) / middle if middle else 0.0


def summary(values: list[float]) -> str:
    """`93 % (rounds 90, 93, 97 %; spread ±4 %)` for ratios given as fractions."""
    rounds = ", ".join(f"{value:.0%}".rstrip("%") for value in values)
    return f"{statistics.median(values):.0%} (rounds {rounds} %; spread ±{spread(values):.0%})"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table: the first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
