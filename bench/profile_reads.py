"""Where a read's time goes: py-spy samples the store's uvicorn worker under load and prints
the top functions (own time and inclusive time).

    python -m bench.profile_reads [get|list] [seconds] [--pg URL]

Needs ``py-spy`` (``uv pip install py-spy``: a profiling tool, not a dependency).
"""

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.api_read import BASE, prepare, reset_postgres, scenario_paths, serve, served_bodies
from bench.loadgen import load
from unified_ats.demo import free_port
from unified_ats.settings import Settings


def top(raw: str, n: int = 15) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """(own time, inclusive time) shares per function from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = [
            f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].split("/")[-1] + ")"
            for f in stack.split(";")
            if f
        ]
        total += count
        if frames:
            own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    return (
        [(name, 100 * c / total) for name, c in own.most_common(n)],
        [(name, 100 * c / total) for name, c in inclusive.most_common(n * 3)],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["get", "list"], nargs="?", default="get")
    parser.add_argument("seconds", type=int, nargs="?", default=10)
    parser.add_argument("--pg")
    parser.add_argument("--raw", type=Path, help="also keep py-spy's collapsed stacks here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        env = {
            "UNIFIED_ATS_DATA_DIR": str(data_dir),
            "UNIFIED_ATS_MAX_AGE_SECONDS": "86400",
            "UNIFIED_ATS_SYNC_INTERVAL_SECONDS": "0",
        }
        if args.pg:
            asyncio.run(reset_postgres(args.pg))
            env["UNIFIED_ATS_DATABASE_URL"] = args.pg
        settings = Settings(data_dir=data_dir, database_url=args.pg, allow_base_url_override=True)
        api_key, token = asyncio.run(prepare(settings))
        headers = {"Authorization": f"Bearer {api_key}", "x-connector-token": token}
        port = free_port()
        process = serve("unified_ats.api.app:create_app", port, env)
        try:
            origin = f"http://127.0.0.1:{port}"
            paths = scenario_paths(served_bodies(origin, headers))
            scenario = "get random id, 64 conn" if args.what == "get" else "list 50, 64 conn"
            urls = [origin + p for p in paths[scenario]]
            out = data_dir / "profile.txt"
            spy = subprocess.Popen(
                [
                    shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "-f",
                    "raw",
                    "-r",
                    "200",
                    "-d",
                    str(args.seconds),
                    "-o",
                    str(out),
                    "-p",
                    str(process.pid),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            result = load(urls, headers, connections=64, seconds=args.seconds)
            spy.wait()
            own, inclusive = top(out.read_text())
            if args.raw:
                shutil.copy(out, args.raw)
        finally:
            process.terminate()
            process.wait()
    print(f"\n{BASE} {args.what}: {result.requests_per_second:,.0f} req/s under py-spy")
    print("  own time:")
    for name, share in own:
        print(f"    {share:5.1f}%  {name}")
    print("  inclusive:")
    for name, share in inclusive:
        print(f"    {share:5.1f}%  {name}")


if __name__ == "__main__":
    main()
