"""A fixed-duration HTTP load: wrk when installed (honest numbers), else an httpx loader.

Each request picks one of ``urls`` at random (wrk through a Lua script), so a bench of many
ids measures the store, not a cache of one hot id. Errors count non-2xx answers *and* socket
errors, timeouts included: a request that never came back is not left out of the figures
(wrk records no latency for it, so without this a saturated server would look fast).

The loader runs in its own process so it does not share the server's event loop.
"""

import asyncio
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 10
"""About the interactive read deadline: a request slower than this counts as an error."""

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass
class LoadResult:
    tool: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    timeouts: int = 0


def parse_latency_ms(value: str) -> float:
    """wrk prints latencies in whichever unit reads best: ``812.00us``, ``1.38s``, ``2.00m``."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value.strip())
    if match is None:
        raise ValueError(f"unreadable wrk latency {value!r}")
    number, unit = match.groups()
    return float(number) * _UNITS[unit]


def parse_wrk(out: str) -> LoadResult:
    if "Requests/sec" not in out:
        raise RuntimeError(f"wrk failed:\n{out}")

    def find(pattern: str) -> str:
        match = re.search(pattern, out, re.M)
        if match is None:
            raise RuntimeError(f"wrk output without {pattern!r}:\n{out}")
        return match.group(1)

    rps = float(find(r"Requests/sec:\s+([\d.]+)"))
    p50 = parse_latency_ms(find(r"^\s+50%\s+(\S+)\s*$"))
    p99 = parse_latency_ms(find(r"^\s+99%\s+(\S+)\s*$"))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    timeouts = 0
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if sockets:
        connect, read, write, timeouts = (int(n) for n in sockets.groups())
        errors += connect + read + write + timeouts
    return LoadResult("wrk", rps, p50, p99, errors, timeouts)


_LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format(nil, paths[math.random(#paths)])
end
"""


def wrk(
    urls: Sequence[str], headers: dict[str, str], *, connections: int, seconds: int
) -> LoadResult:
    base = urlsplit(urls[0])
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={TIMEOUT_SECONDS}s",
        "--latency",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.TemporaryDirectory() as tmp:
        paths = Path(tmp) / "paths.txt"
        paths.write_text(
            "".join(f"{u.path}{'?' + u.query if u.query else ''}\n" for u in map(urlsplit, urls))
        )
        script = Path(tmp) / "paths.lua"
        script.write_text(_LUA % paths)
        command += ["-s", str(script), f"{base.scheme}://{base.netloc}/"]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


async def _httpx_load(
    urls: Sequence[str], headers: dict[str, str], connections: int, seconds: int
) -> LoadResult:
    import httpx

    latencies: list[float] = []
    errors = timeouts = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=TIMEOUT_SECONDS) as client:
        stop_at = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors, timeouts
            while time.perf_counter() < stop_at:
                start = time.perf_counter()
                try:
                    response = await client.get(random.choice(urls))
                except httpx.TimeoutException:
                    errors += 1
                    timeouts += 1
                    continue
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - start) * 1000)
                if response.status_code >= 400:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return LoadResult("httpx", len(latencies) / elapsed, cuts[49], cuts[98], errors, timeouts)


def load(
    url: str | Sequence[str],
    headers: dict[str, str],
    *,
    connections: int = 64,
    seconds: int = 10,
) -> LoadResult:
    """Load ``url`` (or a random one of several, per request) for ``seconds``."""
    urls = [url] if isinstance(url, str) else list(url)
    if shutil.which("wrk"):
        return wrk(urls, headers, connections=connections, seconds=seconds)
    return asyncio.run(_httpx_load(urls, headers, connections, seconds))


if __name__ == "__main__":
    print(load(sys.argv[1:], {}, seconds=3))
