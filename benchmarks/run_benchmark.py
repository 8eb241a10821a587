"""Benchmark: at each size, generate N launch-list contacts, time `sms-warehouse run` cold, after one more day, and with nothing new.

Beside each run it times the one-pass SQL baseline over the same landing zone
(`sql_baseline.py`: the contract's rules straight from the raw files, the floor of
this stack), prints the ratio, and checks that both give the same totals. For each
run: the CPU seconds of its processes (on 2 cores a run can take no less than half
of them) and the peak memory of each (the run and its dbt commands), and of all of them at once. Ends with the README's table.
    .venv/bin/python benchmarks/run_benchmark.py --contacts 1000000 [--latency] [--check]
    .venv/bin/python benchmarks/run_benchmark.py --scale      # 1M, 5M and 20M
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
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


@functools.cache
def _role(pid: int, root: int) -> str:
    """What a process of the run is, from its command line; read once per process: every read of
    /proc is CPU taken from the run being measured."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return "other"
    if pid == root:
        return "run"
    if any(Path(part).name == "dbt" for part in cmd[:2]):
        return "dbt"
    return "other"


def tree_memory_mib(root: int, peaks: dict[str, float]) -> float:
    """A process and all its descendants (helper processes included), from /proc: the sum of
    their resident memory now (returned), and each role's high-water mark (VmHWM, into `peaks`).

    Only counters the kernel keeps anyway are read (statm, status). Reading smaps_rollup
    for the proportional share (PSS) walks every page table of every process under their
    memory locks, and sampled this often it slowed the very run it measured. The RSS sum
    counts a page shared by two processes twice: it is an upper bound.
    """
    rss = 0
    for pid in _descendants(root):
        with contextlib.suppress(OSError, ValueError, IndexError):
            rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
            status = Path(f"/proc/{pid}/status").read_text()
            role = _role(pid, root)
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks[role] = max(peaks.get(role, 0.0), int(line.split()[1]) / 1024)
    return rss / 2**20


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Timed:
    """One timed `sms-warehouse run`."""

    seconds: float
    cpu: float
    peaks: dict[str, float]  # MiB, per role: the run, its dbt commands
    summed: float  # MiB, all processes' RSS at once, at its highest
    phases: dict[str, float]  # seconds, see `phases`

    @property
    def largest(self) -> float:
        return max(self.peaks.values(), default=0.0)

    def memory(self) -> str:
        roles = ", ".join(
            f"{role} {mib:,.0f}" for role, mib in sorted(self.peaks.items(), key=lambda kv: -kv[1])
        )
        return f"peak memory (MiB) {roles}; all at once {self.summed:,.0f}"


Timeline = list[tuple[float, str, str | None]]  # (epoch seconds, Dagster event type, step key)


def phases(timeline: Timeline, launched: float, ended: float) -> dict[str, float]:
    """Where one run's wall seconds went, from its Dagster events (`launched` and `ended`: the
    `sms-warehouse run` process's start and exit, epoch seconds): `start` (to the first event:
    imports, helper processes, the plan), `planned` (the planned materialisations and checks
    recorded before the run starts), each step from its start to its end, and `end` (from
    the run's end to the process's exit: the printed report)."""
    first = timeline[0][0]
    begun = next((t for t, kind, _ in timeline if kind == "PIPELINE_START"), first)
    done = next((t for t, kind, _ in reversed(timeline) if kind in ("PIPELINE_SUCCESS", "PIPELINE_FAILURE")),
                timeline[-1][0])  # fmt: skip
    seconds = {"start": first - launched, "planned": begun - first}
    opened: dict[str | None, float] = {}
    for t, kind, step in timeline:
        if kind == "STEP_START":
            opened[step] = t
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and step in opened:
            seconds[str(step)] = t - opened.pop(step)
    seconds["end"] = ended - done
    return seconds


def latest_run_timeline(home: Path) -> Timeline:
    """The events of the latest run recorded in the Dagster instance at `home`."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_runs(limit=1)[0]
        return [(e.timestamp, e.dagster_event.event_type_value, e.step_key)
                for e in instance.all_logs(run.run_id) if e.dagster_event is not None]  # fmt: skip


def timed_run(env: dict) -> Timed:
    """Wall seconds, CPU seconds of the run's processes (the run and its dbt commands, all waited
    for), and, sampled every 0.25 s, each process's peak and their summed RSS."""
    cpu = _children_cpu()
    started, launched = time.perf_counter(), time.time()
    proc = subprocess.Popen([str(BIN / "sms-warehouse"), "run"], env=env, stdout=subprocess.PIPE, text=True)
    peaks: dict[str, float] = {}
    summed = 0.0

    def sample() -> None:
        nonlocal summed
        while proc.poll() is None:
            summed = max(summed, tree_memory_mib(proc.pid, peaks))
            time.sleep(0.25)  # peaks are the kernel's high-water marks: sampling often adds nothing

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    took, ended = time.perf_counter() - started, time.time()
    sampler.join()
    if proc.returncode:
        sys.exit(f"run failed:\n{out[-3000:]}")
    for line in out.splitlines():
        if any(step in line for step in ("ingested ", "dbt: ", "dbt built", "published")):
            print("    " + line)
    peaks.pop("other", None)
    # the benchmark's environment has no DAGSTER_HOME: the instance is the data folder's own
    spent = phases(latest_run_timeline(Path(env["SMS_DATA_DIR"]) / "dagster_home"), launched, ended)
    print("    seconds: " + ", ".join(f"{name} {s:.1f}" for name, s in spent.items()))
    return Timed(took, _children_cpu() - cpu, peaks, summed, spent)


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
    with duckdb.connect(
        str(db), read_only=True
    ) as con:  # a final UNKNOWN, to be overturned by a later DELIVRD
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


def peak_of(command: list[str], env: dict) -> tuple[float, float, str]:
    """Seconds, peak memory (MiB) and output of a command run in a child of its own."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, *command], env=env, capture_output=True, text=True, check=True
    )
    out, peak = done.stdout.rstrip("\n").rsplit("\n", 1)
    return time.perf_counter() - started, float(peak), out


# runs a command and prints its output, then the largest peak RSS (MiB) among the processes it waited for
_PEAK = (
    "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "print(done.stdout + done.stderr); sys.exit(done.returncode) if done.returncode else "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
)


def baseline(landing: Path, env: dict) -> tuple[float, float, dict[str, int]]:
    """The one-pass SQL over the landing zone (benchmarks/sql_baseline.py): seconds, peak MiB, totals."""
    script = Path(__file__).with_name("sql_baseline.py")
    code = (
        f"import json, sys; sys.path.insert(0, {str(script.parent)!r}); import sql_baseline as b; from pathlib import Path; "
        f"took, totals, _ = b.run(Path({str(landing)!r})); print(json.dumps([took, totals]))"
    )
    _, peak, out = peak_of([sys.executable, "-c", code], env)
    took, totals = json.loads(out.strip().splitlines()[-1])
    return took, peak, totals


def measure(contacts: int, out: Path, env: dict, latency: bool, check: bool) -> dict[str, object]:
    """Every figure at one size: generate, the cold run, one more day, the SQL floor of each."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from sql_baseline import warehouse_totals

    shutil.rmtree(out, ignore_errors=True)
    env = env | {"SMS_DATA_DIR": str(out)}
    print(f"\n{contacts:,} contacts: generating")
    gen, gen_peak, _ = peak_of([str(BIN / "sms-warehouse"), "generate", "--out", str(out / "landing"),
                                "--contacts", str(contacts)], env)  # fmt: skip
    sql_cold, sql_cold_peak, sql_cold_totals = baseline(out / "landing", env)
    cold = timed_run(env)
    db = out / "warehouse" / "sms.duckdb"
    cold_equal = warehouse_totals(db) == sql_cold_totals
    late = late_receipts(db, out / "landing")
    sql_warm, _, sql_warm_totals = baseline(out / "landing", env)
    warm = timed_run(env)
    warm_equal = warehouse_totals(db) == sql_warm_totals
    idle = timed_run(env)  # what every run costs, whatever it carries
    idle_equal = warehouse_totals(db) == sql_warm_totals
    print(
        f"generate            {gen:.1f} s ({contacts / gen:,.0f} contacts/s), peak memory {gen_peak:,.0f} MiB"
    )
    print(f"SQL baseline, cold  {sql_cold:.1f} s, peak memory {sql_cold_peak:,.0f} MiB")
    print(f"run, cold           {cold.seconds:.1f} s = {cold.seconds / sql_cold:.2f}x the SQL baseline, "
          f"{cold.cpu:.0f} CPU-s; {cold.memory()}; totals {'equal' if cold_equal else 'DIFFER'}")  # fmt: skip
    print(f"SQL baseline, +1 day {sql_warm:.1f} s (the whole landing zone again: it keeps no history)")
    print(f"run, +1 day         {warm.seconds:.1f} s for {late:,} late receipts = {warm.seconds / sql_warm:.2f}x, "
          f"{warm.cpu:.0f} CPU-s; {warm.memory()}; totals {'equal' if warm_equal else 'DIFFER'}")  # fmt: skip
    print(f"run, nothing new    {idle.seconds:.1f} s, {idle.cpu:.0f} CPU-s; {idle.memory()}; "
          f"totals {'equal' if idle_equal else 'DIFFER'}")  # fmt: skip
    figures: dict[str, object] = {
        "contacts": contacts, "generate": gen, "generate_peak": gen_peak, "sql_cold": sql_cold,
        "sql_cold_peak": sql_cold_peak, "cold": cold.seconds, "cold_cpu": cold.cpu, "cold_peaks": cold.peaks,
        "cold_largest": cold.largest, "sql_warm": sql_warm, "warm": warm.seconds, "warm_peaks": warm.peaks,
        "late_receipts": late, "idle": idle.seconds, "totals_equal": cold_equal and warm_equal and idle_equal,
        "cold_phases": cold.phases, "warm_phases": warm.phases, "idle_phases": idle.phases,
    }  # fmt: skip
    if latency:
        seconds, status = sensor_latency(out, env)
        print(
            f"sensor latency      {seconds:.1f} s from a late receipt landing to its message {status} in the published marts"
        )
        figures["sensor_latency"] = seconds
    if check:
        summary, wrong = check_contract(out)
        print(f"contract check      {summary}")
        figures["contract_differences"] = wrong
    return figures


def table(rows: list[dict]) -> str:
    """The README's table: one line per size."""
    lines = [
        "| contacts | generate | SQL baseline | cold run | +1 day of late receipts | nothing new | largest process (cold) | totals |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['contacts']:,} | {r['generate']:.0f} s, {r['generate_peak'] / 1024:.1f} GB | "
            f"{r['sql_cold']:.1f} s | {r['cold']:.1f} s ({r['cold'] / r['sql_cold']:.1f}x) | "
            f"{r['warm']:.1f} s ({r['warm'] / r['sql_warm']:.1f}x the SQL's {r['sql_warm']:.1f} s) | {r['idle']:.1f} s | "
            f"{r['cold_largest'] / 1024:.1f} GB | {'= SQL' if r['totals_equal'] else 'differ'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--contacts", type=int, nargs="+", default=[1_000_000], help="one or more sizes (default 1000000)"
    )
    parser.add_argument(
        "--scale", action="store_true", help="1M, 5M and 20M contacts (the README says how long it takes)"
    )
    parser.add_argument("--out", default="benchmarks/out", help="scratch directory (wiped)")
    parser.add_argument(
        "--latency",
        action="store_true",
        help="also time a late receipt through the landing sensor (starts the UI and daemon)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare every contact of the final marts with tests/contract_oracle.py "
        "(plain Python; ~50 s and 3 GB at 1,000,000 contacts)",
    )
    args = parser.parse_args()
    sizes = [1_000_000, 5_000_000, 20_000_000] if args.scale else args.contacts
    # everything under `out`, the Dagster instance included (data/dagster_home's place)
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME" and not k.startswith("SMS_")}
    speed = loop_seconds()
    rows = [measure(n, Path(args.out).resolve() / f"{n}", env, args.latency, args.check) for n in sizes]
    speed = (speed + loop_seconds()) / 2
    print(f"\nmachine speed: {speed:.2f} s for a 20M-step Python loop (before and after; lower is faster)\n")
    print(table(rows))
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "figures.json").write_text(json.dumps(rows, indent=2))
    if any(r.get("contract_differences") for r in rows) or not all(r["totals_equal"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
