"""One more day of late receipts, replayed on the same history: how docs/performance.md compares
two versions of the code on one more day without the noise of a new landing zone each time.

The first call builds the history once: generates N contacts into `OUT/data`, runs the warehouse
cold and keeps a copy of the data folder in `OUT/snapshot`. Every round then restores `OUT/data`
from that copy, lands one more day (every message still with its carrier gets its final receipt,
as `run_benchmark.py` does) and times `sms-warehouse run`: wall and CPU seconds, each process's
peak and the run's seconds by phase. Change the code, call it again, compare (alternate: on a
shared VM the hour's speed moves more than most changes). A change to the models makes the
first build after it a full one: give each version its own history (`--out`, `--rebuild`).

    .venv/bin/python benchmarks/replay_day.py --contacts 5000000 --times 3

`--code A B` alternates the rounds between two checkouts (A B, then B A, ...), each put first on
`PYTHONPATH` over this environment: for the other version, a `git worktree` with this checkout's
`dbt_project/target` linked into it (a change to the dbt project or to the dependencies needs its
own history and its own `make setup` instead, see above).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from run_benchmark import BIN, late_receipts, loop_seconds, timed_run


def build_history(contacts: int, data: Path, snapshot: Path, env: dict) -> None:
    """Generate `contacts` into `data`, run the warehouse cold, copy the data folder to `snapshot`."""
    print(f"building the history once: {contacts:,} contacts in {data}, kept in {snapshot}", flush=True)
    shutil.rmtree(data, ignore_errors=True)
    generate = [
        str(BIN / "sms-warehouse"),
        "generate",
        "--out",
        str(data / "landing"),
        "--contacts",
        str(contacts),
    ]
    subprocess.run(generate, env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([str(BIN / "sms-warehouse"), "run"], env=env, check=True, stdout=subprocess.DEVNULL)
    making = snapshot.with_name(snapshot.name + ".tmp")  # a half-made copy is never taken
    shutil.rmtree(making, ignore_errors=True)  # what an interrupted build left
    shutil.copytree(data, making, symlinks=True)
    os.rename(making, snapshot)


def replay(data: Path, snapshot: Path, env: dict) -> float:
    """Restore `data` from `snapshot`, land one more day, time the run (with `env`): its wall seconds."""
    shutil.rmtree(data)
    shutil.copytree(snapshot, data, symlinks=True)  # the same path: the instance's records name it
    receipts = late_receipts(data / "warehouse" / "sms.duckdb", data / "landing")
    print(f"  one more day: {receipts:,} late receipts", flush=True)
    timed = timed_run(env)
    print(f"  {timed.seconds:.1f} s, {timed.cpu:.0f} CPU-s; {timed.memory()}", flush=True)
    return timed.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--contacts", type=int, default=5_000_000, help="size of the history (default 5000000)"
    )
    parser.add_argument("--times", type=int, default=3, help="rounds to time (default 3)")
    parser.add_argument(
        "--out", default="benchmarks/replay", help="scratch directory (default benchmarks/replay)"
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="build the history again (after a model change)"
    )
    parser.add_argument(
        "--code",
        nargs="+",
        type=Path,
        metavar="CHECKOUT",
        help="alternate the rounds between these checkouts (each first on PYTHONPATH)",
    )
    args = parser.parse_args()
    out = Path(args.out).resolve()
    data, snapshot = out / "data", out / "snapshot"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"} | {"SMS_DATA_DIR": str(data)}
    if args.rebuild:
        shutil.rmtree(snapshot, ignore_errors=True)
    if not snapshot.exists():
        build_history(args.contacts, data, snapshot, env)
    else:
        print(f"the history in {snapshot} (--rebuild to build it again; --contacts applies then)")
    speed = loop_seconds()
    # no --code: this checkout alone, as `sms-warehouse` finds it (nothing put on PYTHONPATH)
    trees: list[Path | None] = [tree.resolve() for tree in args.code] if args.code else [None]
    seconds: dict[Path | None, list[float]] = {tree: [] for tree in trees}
    for round_ in range(args.times):
        for tree in trees if round_ % 2 == 0 else trees[::-1]:
            code = {} if tree is None else {"PYTHONPATH": str(tree)}
            if tree is not None:
                print(f"  code of {tree}", flush=True)
            seconds[tree].append(replay(data, snapshot, env | code))
    print()
    for tree, times in seconds.items():
        named = "" if tree is None else f"{tree}: "
        print(f"{named}median {statistics.median(times):.1f} s of {len(times)} (min {min(times):.1f} s)")
    print(f"machine speed {speed:.2f} s for a 20M-step Python loop (lower is faster)")


if __name__ == "__main__":
    sys.exit(main())
