"""`sms-warehouse`: generate sample data, run the warehouse end to end, open the UI.

Errors at the edges are one line that says what is wrong and what to do, with a
non-zero exit code; `--debug` shows the traceback as well.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import threading
import time
from pathlib import Path


class UserError(Exception):
    """A problem the user can fix; printed as one line without a traceback."""


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def cmd_generate(args: argparse.Namespace) -> int:
    from ingestion.generate import build, write_landing

    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UserError(f"{out} is not empty: choose another --out, or add --force to write into it")
    started = time.perf_counter()
    counts = write_landing(build(args.contacts, days=args.days, seed=args.seed), out)
    took = time.perf_counter() - started
    _progress(
        f"wrote a landing zone to {out} in {took:.1f}s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    )
    return 0


def _instance():
    import dagster as dg

    if not os.environ.get("DAGSTER_HOME"):
        home = Path(os.environ.get("SMS_DATA_DIR", "data")).resolve() / "dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        config = home / "dagster.yaml"
        if not config.exists():
            config.write_text("telemetry:\n  enabled: false\n")
        os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def _check_writable(path: Path, what: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UserError(
            f"cannot write the {what} at {path} ({exc.strerror}): choose a writable path"
        ) from exc


def _check_not_locked(db: Path) -> None:
    import duckdb

    if not db.exists():
        return
    try:
        duckdb.connect(str(db)).close()
    except duckdb.IOException as exc:
        raise UserError(
            f"the build database {db} is locked by another process ({str(exc).splitlines()[0][:160]}): "
            "wait for that run to finish or stop it"
        ) from exc


def _failure(result) -> str:
    for event in result.all_events:
        if event.is_step_failure:
            err = event.step_failure_data.error
            message = err.message.strip().splitlines()[0] if err else "unknown error"
            return f"step {event.step_key} failed: {message}"
    return "the run failed"


def _report_checks(result) -> None:
    """One line per failed check (GX suites and dbt tests), warnings included; where to read more."""
    for check in result.get_asset_check_evaluations():
        if check.passed:
            continue
        level = "FAILED" if check.severity.value == "ERROR" else "warning"
        summary = check.metadata.get("summary")
        text = summary.value if summary is not None else (check.description or "")
        _progress(f"{level}: {check.asset_key.to_user_string()} {check.check_name}: {str(text)[:300]}")
    docs = next(
        (
            c.metadata["data_docs"].value
            for c in result.get_asset_check_evaluations()
            if "data_docs" in c.metadata
        ),
        None,
    )
    if docs:
        _progress(f"Data Docs: {docs}")


def _quiet() -> dict:
    return {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def cmd_run(args: argparse.Namespace) -> int:
    from orchestration.settings import resolve_paths

    paths = resolve_paths(args.landing, args.lake, args.warehouse, args.exports)
    if not paths.landing.is_dir():
        raise UserError(
            f"landing directory {paths.landing} does not exist: pass --landing DIR or set SMS_LANDING_DIR "
            "(sms-warehouse generate --out DIR makes sample data)"
        )
    _check_writable(paths.lake, "lake")
    _check_writable(paths.warehouse.parent, "warehouse")
    _check_not_locked(paths.build_db)
    paths.export_env()
    # dagster-dbt echoes dbt's progress lines to stdout: no colour codes in logs and files
    os.environ.setdefault("DBT_USE_COLORS", "true" if sys.stdout.isatty() else "false")
    started = time.perf_counter()
    _progress(f"landing {paths.landing} → lake {paths.lake} → warehouse {paths.warehouse}")

    from orchestration import dbt_forkserver
    from orchestration.gx_worker import validating_in_a_worker

    # dbt and GX import themselves in their own processes, started first: this process
    # imports Dagster and makes its instance on one core for the first 2-3 s, and the
    # helpers' imports (dbt 4, GX 5 CPU-s) take the other. One Data Docs build for the run
    with dbt_forkserver.running(), validating_in_a_worker(paths.data_docs):
        import dagster as dg

        if not args.record_runs:
            # Dagster's own switch: a run over a partition range plans each asset once, not once per
            # partition (144 events, 2.5 s of this process on a cold benchmark run); what it gives
            # up is marking planned partitions failed in a stored run, and these runs are not stored
            os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
        instance = _instance() if args.record_runs else dg.DagsterInstance.ephemeral()
        # the dbt assets (dagster-dbt and dbt-core, 3 s of one core) load while ingestion
        # leaves a core part-idle, not after it; a failed import fails again in _build.
        # What both need is imported here first, so the two threads never wait on each other
        from orchestration import feed_assets, rebuild  # noqa: F401

        with instance:
            loading = threading.Thread(
                target=_import_quietly, args=("orchestration.definitions",), daemon=True
            )
            loading.start()
            _ingest(instance, paths)
            loading.join()
            _build(instance, paths, args.full_refresh)
    _progress(f"published {paths.warehouse} in {time.perf_counter() - started:.1f}s total")
    print_summary(paths.warehouse)
    return 0


def _import_quietly(module: str) -> None:
    with contextlib.suppress(Exception):
        importlib.import_module(module)


def _ingest(instance, paths) -> None:
    """Materialise the feed partitions whose landing files changed since the lake accepted them."""
    from orchestration.feed_assets import plan_ingestion

    plans = plan_ingestion(paths)
    if not any(plan.days for plan in plans.values()):
        _progress(f"no partitions in {paths.landing}: nothing to ingest")
        return
    step = time.perf_counter()
    todo = {feed: plan.touched for feed, plan in plans.items() if plan.touched}
    if not todo:
        _progress("no landing files changed since they were last ingested")
    seen = _materialise_feeds(instance, todo) if todo else {}
    for feed, plan in sorted(plans.items()):
        md = seen.get(feed, {})
        new = md.get("days_ingested", 0)
        _progress(
            f"ingested {feed:<13} {new} day(s) new, {len(plan.days) - new} unchanged: "
            f"{md.get('dagster/row_count', 0):,} rows kept, "
            f"{md.get('duplicates', 0):,} duplicates, {md.get('quarantined', 0):,} quarantined"
        )
    _progress(f"ingestion done in {time.perf_counter() - step:.1f}s")


def _materialise_feeds(instance, todo: dict[str, list[str]]) -> dict[str, dict]:
    """One Dagster run over the given feeds and the span of their days; each feed's metadata."""
    import dagster as dg

    from orchestration.feed_assets import feed_assets

    days = sorted(day for touched in todo.values() for day in touched)
    result = dg.materialize(
        feed_assets,
        selection=[dg.AssetKey(feed) for feed in todo],
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": days[0],
            "dagster/asset_partition_range_end": days[-1],
        },
        run_config=_quiet(),
        raise_on_error=False,
    )
    _report_checks(result)
    if not result.success:
        raise UserError(
            f"ingestion failed ({_failure(result)}); nothing was built or published. "
            "See the checks above, the Data Docs, or the run in the UI (sms-warehouse ui --record-runs)"
        )
    return {  # one event per partition, same totals
        mat.asset_key.to_user_string(): {k: v.value for k, v in mat.materialization.metadata.items()}
        for mat in result.get_asset_materialization_events()
    }


def _build(instance, paths, full_refresh: bool) -> None:
    """Build the dbt models, run the mart checks, and publish when the blocking ones pass."""
    import dagster as dg

    from orchestration import rebuild
    from orchestration.checks import mart_checks
    from orchestration.dbt_assets import warehouse_models
    from orchestration.definitions import defs
    from orchestration.publish_asset import published_warehouse

    why = rebuild.reasons(paths, asked=full_refresh)
    _progress(f"dbt: full rebuild ({'; '.join(why)})" if why else "dbt: incremental build of what is new")
    step = time.perf_counter()
    result = dg.materialize(
        [warehouse_models, published_warehouse, *mart_checks],
        instance=instance,
        resources=defs.resources,
        run_config={"ops": {"warehouse_models": {"config": {"full_refresh": full_refresh}}}, **_quiet()},
        raise_on_error=False,
    )
    _report_checks(result)
    if not result.success:
        raise UserError(
            f"the warehouse build failed ({_failure(result)}); the published marts were left unchanged"
        )
    checks = result.get_asset_check_evaluations()
    warned = sum(not c.passed for c in checks)
    _progress(
        f"dbt built {len(result.get_asset_materialization_events()) - 1} models and seeds; "
        f"{len(checks) - warned}/{len(checks)} checks passed, {warned} warned; in {time.perf_counter() - step:.1f}s"
    )


def print_summary(warehouse: Path) -> None:
    """One line per launch from the published campaign summary."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select launch_id, campaign_id, launch_list_size, sent, not_sent, delivered, "
            "coalesce(format('{:.1f}%', 100 * delivery_rate), '-'), hard_bounced, soft_bounced, "
            "unknown_delivery, with_carrier, unsubscribed, opted_out_by_keyword "
            "from marts.mart_campaign_summary order by launched_at nulls last, launch_id"
        ).fetchall()
    finally:
        con.close()
    head = ("launch", "campaign", "list", "sent", "not sent", "delivered", "rate", "hard", "soft", "unknown",
            "carrier", "unsub", "STOP")  # fmt: skip
    cells = [head, *[tuple(f"{v:,}" if isinstance(v, int) else str(v) for v in row) for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    for row in cells:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    print(f"\nmarts: duckdb -readonly {warehouse}  (schemas marts, audit)")
    print("UI:    .venv/bin/sms-warehouse ui   then open http://127.0.0.1:3000")


def cmd_export(args: argparse.Namespace) -> int:
    from orchestration.exports import ExportError, export_lists
    from orchestration.settings import resolve_paths

    paths = resolve_paths(warehouse=args.warehouse, exports=args.exports)
    if not paths.warehouse.exists():
        raise UserError(f"no published warehouse at {paths.warehouse}: run `sms-warehouse run` first")
    try:
        written = export_lists(paths.warehouse, paths.exports, args.launch, args.list)
    except ExportError as exc:
        raise UserError(str(exc)) from exc
    for name, (path, rows) in written.items():
        _progress(f"{name}: {rows:,} contacts → {path}")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from orchestration.settings import REPO_ROOT, resolve_paths

    resolve_paths().export_env()
    _instance()
    dagster = Path(sys.executable).with_name("dagster")
    os.execv(
        str(dagster), [str(dagster), "dev", "-w", str(REPO_ROOT / "workspace.yaml"), "-p", str(args.port)]
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sms-warehouse",
        description="SMS campaign reporting warehouse: landing feeds → Parquet lake → dbt marts, run by Dagster.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    common = argparse.ArgumentParser(add_help=False)  # so --debug also works after the command
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser(
        "generate", parents=[common], help="write a synthetic landing zone in the contract's formats"
    )
    gen.add_argument("--out", required=True, help="landing directory to write (e.g. data/landing)")
    gen.add_argument(
        "--contacts", type=int, default=10_000, help="launch-list contacts in all (default 10000)"
    )
    gen.add_argument("--days", type=int, default=7, help="days of launches (default 7)")
    gen.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    gen.add_argument("--force", action="store_true", help="write into a non-empty directory")
    gen.set_defaults(func=cmd_generate)

    run = sub.add_parser(
        "run", parents=[common], help="ingest every landing partition, build and publish the marts"
    )
    run.add_argument("--landing", help="landing directory [SMS_LANDING_DIR, default data/landing]")
    run.add_argument("--lake", help="Parquet lake directory [SMS_LAKE_DIR, default data/lake]")
    run.add_argument(
        "--warehouse", help="published DuckDB file [SMS_WAREHOUSE, default data/warehouse/sms.duckdb]"
    )
    run.add_argument("--exports", help="contact-list export root [SMS_EXPORTS_DIR, default data/exports]")
    run.add_argument(
        "--record-runs",
        action="store_true",
        help="record the runs in DAGSTER_HOME (default data/dagster_home) so the UI shows them; slower",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every model from the whole lake instead of merging what is new "
        "(done by itself when models, seeds or old partitions changed)",
    )
    run.set_defaults(func=cmd_run)

    exp = sub.add_parser("export", parents=[common], help="write contact lists of a launch as CSV files")
    exp.add_argument("--launch", required=True, help="the launch_id")
    exp.add_argument(
        "--list",
        action="append",
        required=True,
        help="a reached status or not-sent reason, e.g. rejected_hard_bounce or insufficient_credit (repeatable)",
    )
    exp.add_argument("--warehouse", help="published DuckDB file [SMS_WAREHOUSE]")
    exp.add_argument("--exports", help="export root [SMS_EXPORTS_DIR, default data/exports]")
    exp.set_defaults(func=cmd_export)

    ui = sub.add_parser("ui", parents=[common], help="open the Dagster UI on this warehouse (dagster dev)")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"sms-warehouse: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line unless --debug
        if args.debug:
            raise
        print(f"sms-warehouse: error: {type(exc).__name__}: {exc} (run again with --debug for the traceback)",
              file=sys.stderr)  # fmt: skip
        return 1


def console() -> None:
    """The `sms-warehouse` command: `main`, then exit without Python's teardown.

    Python unloads Dagster, dbt-core, GX's and Polars' modules one by one at exit:
    1-1.5 s after the work is done and reported, every run. Everything that needs
    closing is closed by then (files, DuckDB connections, helper processes, the
    Dagster instance), so the process ends as soon as its output is flushed.
    """
    from orchestration.gc_tuning import collect_less_often

    collect_less_often()
    code = main()
    with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    console()
