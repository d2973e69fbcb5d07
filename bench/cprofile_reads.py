"""Where a read's Python time goes, in process: cProfile over N requests through the ASGI app
(no server, no load generator), top functions by own time.

    python -m bench.cprofile_reads [get|list] [requests] [--pg URL]
"""

import argparse
import asyncio
import cProfile
import io
import pstats
import random
import tempfile
import time
from pathlib import Path

import httpx

from bench.api_read import BASE, prepare, reset_postgres
from unified_ats.api.app import create_app
from unified_ats.services import Services
from unified_ats.settings import Settings


async def run(
    what: str,
    requests: int,
    settings: Settings,
    *,
    profile_it: bool = True,
    sort: str = "tottime",
    lines: int = 25,
) -> str:
    api_key, token = await prepare(settings)
    services = await Services.start(settings)
    app = create_app(settings, services=services)
    app.state.services = services
    headers = {"Authorization": f"Bearer {api_key}", "x-connector-token": token}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as client:
            paths: list[str] = []
            cursor: str | None = ""
            while cursor is not None:
                path = f"{BASE}?page_size=50" + (f"&cursor={cursor}" if cursor else "")
                page = (await client.get(path)).json()
                paths += (
                    [f"{BASE}/{item['id']}" for item in page["items"]] if what == "get" else [path]
                )
                cursor = page["cursor"]
            for path in paths[:20]:  # warm-up
                assert (await client.get(path)).status_code == 200
            profile = cProfile.Profile()
            started = time.process_time()  # CPU time: a loaded machine disturbs it least
            if profile_it:
                profile.enable()
            for _ in range(requests):
                response = await client.get(random.choice(paths))
                assert response.status_code == 200
            if profile_it:
                profile.disable()
            elapsed = time.process_time() - started
    finally:
        await services.aclose()
    if not profile_it:
        return f"{what}: {elapsed / requests * 1000:.2f} ms of CPU per request, in process, one at a time"
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats(sort).print_stats(lines)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["get", "list"], nargs="?", default="get")
    parser.add_argument("requests", type=int, nargs="?", default=1000)
    parser.add_argument("--pg")
    parser.add_argument("--time", action="store_true", help="time only, no profiler")
    parser.add_argument("--sort", default="tottime", help="a pstats key: tottime, cumulative")
    parser.add_argument("--lines", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.pg:
            asyncio.run(reset_postgres(args.pg))
        settings = Settings(
            data_dir=Path(tmp),
            database_url=args.pg,
            allow_base_url_override=True,
            max_age_seconds=86400,
            sync_interval_seconds=0,
        )
        print(
            asyncio.run(
                run(
                    args.what,
                    args.requests,
                    settings,
                    profile_it=not args.time,
                    sort=args.sort,
                    lines=args.lines,
                )
            )
        )


if __name__ == "__main__":
    main()
