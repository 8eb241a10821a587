"""`sms-warehouse run`: one run of the warehouse job, recorded in the Dagster instance the UI reads."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from orchestration.paths import Paths, resolve_paths
from orchestration.progress import line


class UserError(Exception):
    """A problem the user can fix; printed as one line without a traceback."""


def check_writable(path: Path, what: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UserError(
            f"cannot write the {what} at {path} ({exc.strerror}): choose a writable path"
        ) from exc


def check_not_locked(db: Path) -> None:
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


def checked_paths(args: argparse.Namespace) -> Paths:
    """The run's paths, once they are known to be usable."""
    paths = resolve_paths(args.landing, args.lake, args.warehouse, args.exports)
    if not paths.landing.is_dir():
        raise UserError(
            f"landing directory {paths.landing} does not exist: pass --landing DIR or set SMS_LANDING_DIR "
            "(sms-warehouse generate --out DIR makes sample data)"
        )
    check_writable(paths.lake, "lake")
    check_writable(paths.warehouse.parent, "warehouse")
    return paths


@contextlib.contextmanager
def terminal(verbose: bool) -> Iterator[int]:
    """A file descriptor of this terminal for the run's progress lines; unless `verbose`, what the
    run's steps print themselves (dbt's line per node, among others) goes to the run's logs only."""
    sys.stdout.flush()
    fd = os.dup(sys.stdout.fileno())
    saved = None
    if not verbose:
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    try:
        yield fd
    finally:
        sys.stdout.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)
        os.close(fd)


def say(message: str) -> None:
    sys.stdout.write(line(message))
    sys.stdout.flush()


def failure(result) -> str:  # noqa: ANN001 - a Dagster execution result
    """Why a run failed, in one line: the first failed step and its error (a `dg.Failure`'s description)."""
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            why = data.user_failure_data.description
        else:
            why = data.error.message.strip().splitlines()[0] if data.error else "unknown error"
        return f"step {event.step_key} failed: {why}"
    return "the run failed"


def cmd_run(args: argparse.Namespace) -> int:
    paths = checked_paths(args)
    paths.export_env()
    # dagster-dbt echoes dbt's lines, kept in the run's logs: no colour codes in logs and files
    os.environ.setdefault("DBT_USE_COLORS", "false")
    started = time.perf_counter()
    say(f"landing {paths.landing} → lake {paths.lake} → warehouse {paths.warehouse}")

    from orchestration.dbt_cli import forkserver
    from orchestration.quality.worker import validating

    # the run's helper processes start first: they import dbt and GX on the other core while this
    # process imports Dagster and the definitions; the run's resources use them (their blocks nest)
    with forkserver.running(), validating(paths.data_docs):
        return _run_the_job(args, paths, started)


def _run_the_job(args: argparse.Namespace, paths: Paths, started: float) -> int:
    import dagster as dg

    from orchestration.assets.landing import arrival_days
    from orchestration.cli import report
    from orchestration.definitions import update_warehouse
    from orchestration.instance import dagster_home, wait_for_turn
    from orchestration.jobs import plan_for_instance

    if args.ephemeral:
        instance = dg.DagsterInstance.ephemeral()
    else:
        dagster_home()
        instance = dg.DagsterInstance.get()
    with instance:
        wait_for_turn(instance, say)
        check_not_locked(paths.build_db)  # not by a run of ours (none holds it now): by what, then
        plan = plan_for_instance(instance, full_refresh=args.full_refresh)
        if plan.new_days:
            instance.add_dynamic_partitions(arrival_days.name, plan.new_days)
        request = plan.request
        say(f"run: {plan.describe()}")
        run_config = {
            **request.run_config,
            "loggers": {"terminal": {"config": {"fd": 0, "verbose": args.verbose}}},
        }
        with terminal(args.verbose) as fd:
            run_config["loggers"]["terminal"]["config"]["fd"] = fd
            result = dg.execute_job(
                dg.reconstructable(update_warehouse),
                instance=instance,
                run_config=run_config,
                tags={**request.tags, "sms/launched_by": "sms-warehouse run"},
                asset_selection=list(request.asset_selection or []),
            )
        evaluations = result.get_asset_check_evaluations()
        feeds_done = report.feed_metadata(result.get_asset_materialization_events())
        for text in report.check_lines(evaluations):
            print(text)
        for text in report.problem_file_lines(feeds_done, paths.warehouse, paths.data_docs):
            print(text)
        docs = report.data_docs(evaluations)
        if docs:
            print(f"Data Docs: {docs}")
        recorded = (
            "" if args.ephemeral else f"; recorded as run {result.run_id[:8]} in {instance.root_directory}"
        )
        if not result.success:
            failed = failure(result)
            ingesting = any(e.step_key == "landing_feeds" for e in result.get_step_failure_events())
            outcome = (
                "nothing was built or published" if ingesting else "the published marts were left unchanged"
            )
            raise UserError(f"the run failed ({failed}); {outcome}{recorded}")
    warned = sum(not c.passed for c in evaluations)
    say(f"done in {time.perf_counter() - started:.1f}s: {len(evaluations) - warned}/{len(evaluations)} checks passed, "
        f"{warned} failed or warned{recorded}")  # fmt: skip
    for text in report.summary_table(paths.warehouse):
        print(text)
    print(f"\nmarts:  .venv/bin/duckdb -readonly {paths.warehouse}  (schemas marts, audit; Parquet in "
          f"{paths.warehouse.parent / 'parquet'})")  # fmt: skip
    print(
        f"docs:   {paths.warehouse.parent / 'docs' / 'index.html'} (every column), {paths.reports / 'index.html'} (the campaigns)"
    )
    print("UI:     .venv/bin/sms-warehouse ui   then open http://127.0.0.1:3000")
    return 0
