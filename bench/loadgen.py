"""A fixed-duration HTTP load: wrk when installed (honest numbers), else an httpx loader.

The loader runs in its own process so it does not share the server's event loop.
"""

import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass


@dataclass
class LoadResult:
    tool: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(value: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)$", value)
    if match is None:
        raise ValueError(f"unreadable wrk latency {value!r}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(url: str, headers: dict[str, str], *, connections: int, seconds: int) -> LoadResult:
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Requests/sec" not in out:
        raise RuntimeError(f"wrk failed:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)$", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)$", out, re.M).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return LoadResult("wrk", rps, p50, p99, int(non2xx.group(1)) if non2xx else 0)


async def _httpx_load(
    url: str, headers: dict[str, str], connections: int, seconds: int
) -> LoadResult:
    import httpx

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=30) as client:
        stop_at = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                start = time.perf_counter()
                response = await client.get(url)
                latencies.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return LoadResult("httpx", len(latencies) / elapsed, cuts[49], cuts[98], errors)


def load(
    url: str, headers: dict[str, str], *, connections: int = 64, seconds: int = 10
) -> LoadResult:
    if shutil.which("wrk"):
        return wrk(url, headers, connections=connections, seconds=seconds)
    return asyncio.run(_httpx_load(url, headers, connections, seconds))


if __name__ == "__main__":
    print(load(sys.argv[1], {}, seconds=3))
