"""Every issue-18 figure in one run, written as one table to ``bench/README.md``.

    python -m bench.all [--quick] [--pg URL]

Runs the read bench (SQLite, and PostgreSQL with ``--pg`` or ``UNIFIED_ATS_BENCH_PG_URL``), the
sync bench (each vendor, vendor latency 0 and 50 ms), and the mapping benches, each against its
own baseline in the same run, then rewrites the table between the markers in the README.
``--quick`` runs shorter loads and smaller data sets (for a try; the README says which).
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

README = Path(__file__).parent / "README.md"
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"


def run_json(args: list[str]) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        subprocess.run([sys.executable, "-m", *args, "--json", str(out)], check=True)
        return json.loads(out.read_text())


def read_rows(backend: str, figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    f, s = figures["figures"], figures["summary"]

    def rps(scenario: str) -> str:
        bare, store = f[scenario]["bare"], f[scenario]["store"]
        return (
            f"{store['requests_per_second']:,.0f} vs bare {bare['requests_per_second']:,.0f} req/s"
            f" = **{store['requests_per_second'] / bare['requests_per_second']:.2f}x**"
            f" (p99 {store['p99_ms']:.0f} vs {bare['p99_ms']:.0f} ms, errors {store['errors']})"
        )

    p99 = f["get random id, 8 conn"]
    return [
        (
            f"{backend}: GET /candidates/{{id}}, random of 2,000, 64 conn",
            ">= 0.5x",
            rps("get random id, 64 conn"),
        ),
        (
            f"{backend}: the same, one hot id (1 s cache), 64 conn",
            "(reported apart)",
            rps("get hot id, 64 conn"),
        ),
        (
            f"{backend}: GET /candidates?page_size=50, random cursor, 64 conn",
            ">= 0.3x",
            rps("list 50, 64 conn"),
        ),
        (f"{backend}: list of 50 at 8 conn", "", rps("list 50, 8 conn")),
        (
            f"{backend}: GET by random id, p99 at 8 conn",
            "<= 3x bare p99",
            f"{p99['store']['p99_ms']:.1f} vs bare {p99['bare']['p99_ms']:.1f} ms"
            f" = **{s['random id p99 ratio at 8 conn (<= 3)']:.2f}x**",
        ),
    ]


def sync_rows(
    figures: dict[str, dict[str, dict[str, float]]], store: str = ""
) -> list[tuple[str, str, str]]:
    """``store``: how the run's names say where it synced to (SQLite when empty)."""
    from bench.sync import cpu_line

    rows = []
    for vendor, runs in figures.items():
        for run_name, r in runs.items():
            name = run_name + store
            ratio = r["sync_rps"] / r["enumerate_rps"]
            resync = r["resync_seconds"] / r["sync_seconds"]
            if vendor == "flatchr":
                rows.append(
                    (
                        f"Flatchr full sync, {name}",
                        ">= 0.7x enumeration",
                        f"{r['sync_rps']:,.0f} vs {r['enumerate_rps']:,.0f} rec/s = **{ratio:.2f}x**",
                    )
                )
                rows.append(
                    (
                        f"Flatchr unchanged re-sync, {name}",
                        "<= 0.3x a full sync",
                        f"{r['resync_seconds']:.1f} s vs {r['sync_seconds']:.1f} s = **{resync:.2f}x**, {r['resync_rows_written']:.0f} rows written",
                    )
                )
            elif vendor == "welcomekit":
                rows.append(
                    (
                        f"Welcome Kit full sync (with documents), {name}",
                        ">= 0.5x enumeration without documents",
                        f"{r['sync_rps']:,.0f} vs {r['enumerate_rps']:,.0f} rec/s = **{ratio:.2f}x**; re-sync {resync:.2f}x, {r['resync_rows_written']:.0f} rows written",
                    )
                )
            else:
                rows.append(
                    (
                        f"viasto paging, 4 pages in flight vs 1, {name}",
                        ">= 3x",
                        f"**{r['paging_speedup']:.2f}x**; full sync {r['sync_rps']:,.0f} rec/s, re-sync {resync:.2f}x, {r['resync_rows_written']:.0f} rows written",
                    )
                )
            rows.append((f"{vendor} peak RSS, {name}", "", f"{r['peak_rss_mb']:.0f} MB"))
            rows.append((f"{vendor} CPU per record (ms), {name}", "", cpu_line(r)))
    return rows


def mapping_rows(n: int) -> list[tuple[str, str, str]]:
    from bench import flatchr_mapping, viasto, welcomekit_mapping

    return [
        (
            "Flatchr mapping / validation (warm phone cache)",
            "<= 2x",
            f"**{flatchr_mapping.main(n):.2f}x**",
        ),
        (
            "Welcome Kit mapping / validation (warm phone cache)",
            "<= 2x",
            f"**{welcomekit_mapping.main(n):.2f}x**",
        ),
        (
            "viasto mapping / validation (warm phone cache)",
            "<= 2x",
            f"**{viasto.mapping(n // 4)[1]:.2f}x**",
        ),
    ]


def _flags(args: argparse.Namespace) -> str:
    """The command line as the README shows it: never the database URL (it may hold a
    password)."""
    flags = (" --quick" if args.quick else "") + (" --pg URL" if args.pg else "")
    return flags + (" --sizes " + " ".join(args.sizes) if args.sizes else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pg", default=os.environ.get("UNIFIED_ATS_BENCH_PG_URL"))
    parser.add_argument(
        "--sizes", nargs="+", help="Flatchr sync sizes (default 10000 100000; 2000 with --quick)"
    )
    args = parser.parse_args()
    seconds, repeat = ("3", "1") if args.quick else ("10", "3")
    sizes = args.sizes or (["2000"] if args.quick else ["10000", "100000"])
    rows = read_rows("SQLite", run_json(["bench.api_read", seconds, "--repeat", repeat]))
    if args.pg:
        rows += read_rows(
            "PostgreSQL", run_json(["bench.api_read", seconds, "--repeat", repeat, "--pg", args.pg])
        )
    rows += sync_rows(run_json(["bench.sync", "flatchr", *sizes, "--latency", "0", "50"]))
    small = sizes[:1]
    if args.pg:
        pg_sync = ["bench.sync", "flatchr", *small, "--latency", "0", "--pg", args.pg]
        rows += sync_rows(run_json(pg_sync), store=", into PostgreSQL")
    rows += sync_rows(run_json(["bench.sync", "welcomekit", *small, "--latency", "0", "50"]))
    rows += sync_rows(run_json(["bench.sync", "viasto", *small, "--latency", "50"]))
    rows += mapping_rows(2_000 if args.quick else 20_000)
    table = "\n".join(
        ["| figure | target | measured (same run, ratio to its baseline) |", "|---|---|---|"]
        + [f"| {name} | {target} | {value} |" for name, target, value in rows]
    )
    stamp = (
        f"Generated {datetime.date.today()} by `python -m bench.all{_flags(args)}`"
        f" on {os.cpu_count()} cores ({platform.processor() or platform.machine()}),"
        f" Python {platform.python_version()}; reads: 1 uvicorn worker, wrk,"
        f" {seconds} s x {repeat} (median)."
    )
    text = README.read_text() if README.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    README.write_text(f"{head}{BEGIN}\n{stamp}\n\n{table}\n{END}{tail}")
    print(table)


if __name__ == "__main__":
    main()
