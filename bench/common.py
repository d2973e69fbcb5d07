"""Timing helpers: best-of-N wall time, so a noisy machine disturbs the ratio less."""

import time
from collections.abc import Callable, Sequence


def best_of(fn: Callable[[], object], *, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def best_of_each(fns: Sequence[Callable[[], object]], *, repeat: int = 5) -> list[float]:
    """Best-of-N wall time of each function, the functions taking turns: a load change on a
    shared machine then hits every side of a ratio alike, not one side's whole series."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for index, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def report(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}")
