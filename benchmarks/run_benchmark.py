"""Benchmark: generate N launch-list contacts, time `sms-warehouse run` cold, then after one more day of receipts.

Prints contacts per second, the CPU seconds of the run's processes (on 2 cores a run can
take no less than half of them) and the peak memory of the run's processes: the largest one,
and all of them summed. The generator's own memory is not counted in the run's (it was, as the
"largest process", until its peak was read from the run's processes rather than from
getrusage's maximum over every child, the generator included).
    .venv/bin/python benchmarks/run_benchmark.py --contacts 1000000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

BIN = Path(sys.executable).parent


PAGE = os.sysconf("SC_PAGE_SIZE")


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def tree_memory_mib(root: int) -> tuple[float, float]:
    """A process and all its descendants (helper processes included), from /proc: the sum of
    their resident memory now, and the largest high-water mark (VmHWM) among them.

    Only counters the kernel keeps anyway are read (statm, status). Reading smaps_rollup
    for the proportional share (PSS) walks every page table of every process under their
    memory locks, and sampled this often it slowed the very run it measured. The RSS sum
    counts a page shared by two processes (a forked dbt child and its server) twice: it
    is an upper bound.
    """
    rss = hwm = 0
    for pid in _descendants(root):
        with contextlib.suppress(OSError, ValueError, IndexError):
            rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    hwm = max(hwm, int(line.split()[1]) * 1024)
    return rss / 2**20, hwm / 2**20


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(env: dict) -> tuple[float, float, float, float]:
    """Wall seconds, CPU seconds of the run's processes (all are waited for: the GX worker, the dbt
    forkserver and its builds), and, sampled every 0.1 s, the largest peak of any one of them and
    the peak of their summed RSS (MiB)."""
    cpu = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "sms-warehouse"), "run"], env=env, stdout=subprocess.PIPE, text=True)
    tree_peak = largest = 0.0

    def sample() -> None:
        nonlocal tree_peak, largest
        while proc.poll() is None:
            rss, hwm = tree_memory_mib(proc.pid)
            tree_peak, largest = max(tree_peak, rss), max(largest, hwm)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    took = time.perf_counter() - started
    sampler.join()
    if proc.returncode:
        sys.exit(f"run failed:\n{out[-3000:]}")
    for line in out.splitlines():
        if any(step in line for step in ("ingestion done", "dbt: ", "dbt built", "published")):
            print("    " + line)
    return took, _children_cpu() - cpu, largest, tree_peak


def late_receipts(db: Path, landing: Path) -> int:
    """One more arrival day: every message still with the carrier gets its final receipt."""
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        "select provider, provider_message_id from marts.fct_launch_contacts where reached_status = 'with_carrier'"
    ).fetchall()
    con.close()
    folder = landing / "dlrs" / "date=2026-11-25"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "late.jsonl", "w") as fh:
        for provider, msg in rows:
            fh.write(json.dumps({"received_at": "2026-11-25T10:00:00Z", "provider": provider,
                                 "provider_message_id": msg, "stat": "DELIVRD", "err": "000",
                                 "done_at": "2026-11-25T09:59:00Z"}) + "\n")  # fmt: skip
    return len(rows)


SENSOR_TICKS = """{ sensorOrError(sensorSelector: {repositoryLocationName: "orchestration.definitions",
    repositoryName: "__repository__", sensorName: "landing_sensor"}) {
    ... on Sensor { sensorState { ticks(limit: 1) { timestamp } } } } }"""


def sensor_latency(out: Path, env: dict) -> tuple[float, str]:
    """With `sms-warehouse ui` (webserver and daemon) running on the benchmark's data folder: seconds
    from a late receipt file landing (renamed from .tmp, as producers do) to its message's new
    status in the published marts, the landing sensor and the run it launched in between."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.dagster_ui import graphql, running_ui

    db = out / "warehouse" / "sms.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:  # a final UNKNOWN, to be overturned by a later DELIVRD
        provider, message = con.execute(
            "select provider, provider_message_id from marts.fct_launch_contacts "
            "where reached_status = 'delivery_status_unknown' order by all limit 1"
        ).fetchone()
    with running_ui(out, env) as port:
        while not graphql(port, SENSOR_TICKS)["sensorOrError"]["sensorState"]["ticks"]:
            time.sleep(1)  # its first look at the landing zone, which holds nothing new
        folder = out / "landing" / "dlrs" / "date=2026-11-26"
        folder.mkdir(parents=True, exist_ok=True)
        receipt = {"received_at": "2026-11-26T10:00:00Z", "provider": provider, "provider_message_id": message,
                   "stat": "DELIVRD", "err": "000", "done_at": "2026-11-26T09:59:00Z"}  # fmt: skip
        (folder / "late.jsonl.tmp").write_text(json.dumps(receipt) + "\n")
        os.rename(folder / "late.jsonl.tmp", folder / "late.jsonl")
        landed = time.perf_counter()
        status = "delivery_status_unknown"
        while status == "delivery_status_unknown":
            time.sleep(0.5)
            with contextlib.suppress(duckdb.Error), duckdb.connect(str(db), read_only=True) as con:
                (status,) = con.execute(
                    "select reached_status from marts.fct_launch_contacts "
                    "where provider = ? and provider_message_id = ?",
                    [provider, message],
                ).fetchone()
        return time.perf_counter() - landed, status


def loop_seconds() -> float:
    """A fixed pure-Python loop: how fast this machine is right now (shared VMs vary by 1.5x)."""
    started = time.perf_counter()
    total = 0
    for i in range(20_000_000):
        total += i
    return time.perf_counter() - started


def check_contract(out: Path) -> tuple[str, int]:
    """Every contact of the published marts against the contract written a second way
    (`tests/contract_oracle.py`, plain Python over the lake): what the benchmark timed was right."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.contract_oracle import differing_contacts, expected_marts

    started = time.perf_counter()
    expected = expected_marts(out / "lake")
    with duckdb.connect(str(out / "warehouse" / "sms.duckdb"), read_only=True) as con:
        wrong = len(differing_contacts(con, expected))
    took = time.perf_counter() - started
    return (
        f"{len(expected.contacts):,} contacts, {wrong:,} differ from the contract's answer ({took:.0f} s)",
        wrong,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--out", default="benchmarks/out", help="scratch directory (wiped)")
    parser.add_argument(
        "--no-latency",
        action="store_true",
        help="skip the latency of a late receipt through the landing sensor (it starts the UI and daemon)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare every contact of the final marts with tests/contract_oracle.py "
        "(plain Python; ~50 s and 3 GB at 1,000,000 contacts)",
    )
    args = parser.parse_args()
    out = Path(args.out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    # everything under `out`, the Dagster instance included (data/dagster_home's place)
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME" and not k.startswith("SMS_")}
    env["SMS_DATA_DIR"] = str(out)

    speed = loop_seconds()
    started = time.perf_counter()
    subprocess.run([str(BIN / "sms-warehouse"), "generate", "--out", str(out / "landing"),
                    "--contacts", str(args.contacts)], env=env, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    gen = time.perf_counter() - started
    gen_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # only child so far
    cold, cold_cpu, peak, tree = timed_run(env)
    late = late_receipts(out / "warehouse" / "sms.duckdb", out / "landing")
    warm, warm_cpu, peak2, tree2 = timed_run(env)
    speed = (speed + loop_seconds()) / 2
    print(f"machine speed       {speed:.2f} s for a 20M-step Python loop (before and after; lower is faster)")
    print(f"contacts            {args.contacts:,}")
    print(
        f"generate            {gen:.1f} s ({args.contacts / gen:,.0f} contacts/s), peak memory {gen_peak:,.0f} MiB"
    )
    print(
        f"run, cold           {cold:.1f} s ({args.contacts / cold:,.0f} contacts/s), {cold_cpu:.0f} CPU-s, "
        f"peak memory {peak:,.0f} MiB (largest process), {tree:,.0f} MiB (all processes, RSS summed)"
    )
    print(
        f"run, +1 day         {warm:.1f} s for {late:,} late receipts, {warm_cpu:.0f} CPU-s, "
        f"peak memory {peak2:,.0f} MiB (largest process), {tree2:,.0f} MiB (all processes, RSS summed)"
    )
    if not args.no_latency:
        seconds, status = sensor_latency(out, env)
        print(f"sensor latency      {seconds:.1f} s from a late receipt landing to its message {status} in the published marts")
    if args.check:
        summary, wrong = check_contract(out)
        print(f"contract check      {summary}")
        if wrong:
            sys.exit(1)


if __name__ == "__main__":
    main()
