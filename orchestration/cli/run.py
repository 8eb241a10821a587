"""`sms-warehouse run`: one run of the warehouse job, recorded in the Dagster instance the UI reads."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from orchestration.paths import Paths
from orchestration.progress import failure_line, line
from orchestration.settings import SettingsError, WarehouseSettings, from_environment


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


def settings_of(**flags: str | None) -> WarehouseSettings:
    """The settings of this command: the `SMS_*` variables, its flags winning; checked."""
    try:
        settings = from_environment(**flags)
        settings.check()
    except SettingsError as exc:
        raise UserError(str(exc)) from exc
    return settings


def checked_paths(settings: WarehouseSettings) -> Paths:
    """The run's paths, once they are known to be usable."""
    paths = settings.paths
    if not paths.landing.is_dir():
        raise UserError(
            f"landing directory {paths.landing} does not exist: pass --landing DIR or set SMS_LANDING_DIR "
            "(sms-warehouse generate --out DIR makes sample data)"
        )
    check_writable(paths.lake, "lake")
    check_writable(paths.warehouse.parent, "warehouse")
    return paths


def check_instance_home(settings: WarehouseSettings) -> Path:
    """The Dagster instance's folder, when it can hold one (checked before any work starts); a
    `UserError` naming `DAGSTER_HOME` otherwise."""
    from orchestration.instance import home_folder

    home = home_folder(Path(settings.data_dir))
    try:
        check_writable(home, "Dagster instance")
    except UserError as exc:
        where = os.environ.get("DAGSTER_HOME") or f"{settings.data_dir}/dagster_home"
        raise UserError(
            f"DAGSTER_HOME={where} cannot hold the Dagster instance ({exc}): set DAGSTER_HOME to a writable folder"
        ) from exc
    return home


def open_instance(settings: WarehouseSettings, ephemeral: bool = False) -> dg.DagsterInstance:
    """The Dagster instance runs are recorded in (`DAGSTER_HOME`), set up when new; or a throwaway one."""
    from orchestration.instance import dagster_home

    if ephemeral:
        return dg.DagsterInstance.ephemeral()
    check_instance_home(settings)
    return dg.DagsterInstance.from_config(str(dagster_home(Path(settings.data_dir))))


def prepare_dbt_project(say_line=None) -> None:  # noqa: ANN001 - a function that prints a line
    """Parse the dbt project when a model changed since it was last parsed (`make setup` parses it;
    `dagster dev` parses it each time it loads the definitions)."""
    from orchestration.dbt_cli import project

    if project.manifest_is_stale():
        if say_line:
            say_line("dbt: parsing the project (it changed since it was last parsed)")
        project.parse()


def run_config(settings: WarehouseSettings, fd: int, verbose: bool, extra: dict | None = None) -> dict:
    """A run's config from the command line: its settings and the terminal logger (and `extra`)."""
    return {
        **(extra or {}),
        "resources": {"settings": {"config": settings.model_dump()}},
        "loggers": {"terminal": {"config": {"fd": fd, "verbose": verbose}}},
    }


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
    """Why a run failed, in one line: the first failed step and its underlying error, with what to
    do where it is known (`orchestration/failures.py`)."""
    for event in result.get_step_failure_events():
        return f"step {event.step_key} failed: {failure_line(event.step_failure_data)}"
    return "the run failed"


def _disk_space(paths: Paths, failed: str) -> str:
    """After a failure on a full disk: how much room each of the warehouse's folders has left."""
    if "No space left" not in failed and "disk is full" not in failed:
        return ""
    room = []
    for what, folder in (("lake", paths.lake), ("warehouse", paths.warehouse.parent)):
        with contextlib.suppress(OSError):
            room.append(f"{what} {folder}: {shutil.disk_usage(folder).free / 2**20:,.0f} MiB free")
    return "; " + ", ".join(room)


def cmd_run(args: argparse.Namespace) -> int:
    settings = settings_of(
        landing_dir=args.landing, lake_dir=args.lake, warehouse=args.warehouse, exports_dir=args.exports
    )
    if not args.ephemeral:
        check_instance_home(settings)  # before any folder of the warehouse is made
    paths = checked_paths(settings)
    started = time.perf_counter()
    say(f"landing {paths.landing} → lake {paths.lake} → warehouse {paths.warehouse}")
    prepare_dbt_project(say)

    from orchestration.cli import report
    from orchestration.definitions import update_warehouse
    from orchestration.instance import command_turn, wait_for_turn
    from orchestration.jobs import apply_partitions, plan_for_instance

    # one command at a time on this warehouse, from setting the instance up to the run's end
    with command_turn(paths.warehouse.parent, say), open_instance(settings, args.ephemeral) as instance:
        wait_for_turn(instance, say)
        check_not_locked(paths.build_db)  # not by a run of ours (none holds it now): by what, then
        plan = plan_for_instance(instance, settings, full_refresh=args.full_refresh)
        apply_partitions(instance, plan)
        request = plan.request
        say(f"run: {plan.describe()}")
        if plan.not_read:
            print(
                f"{len(plan.not_read)} entr{'y' if len(plan.not_read) == 1 else 'ies'} of the landing zone not read:"
            )
            for problem in plan.not_read:
                print(f"  {problem}")
        with terminal(args.verbose) as fd:
            result = dg.execute_job(
                dg.reconstructable(update_warehouse),
                instance=instance,
                run_config=run_config(settings, fd, args.verbose, request.run_config),
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
            if args.debug:  # the whole chain, tracebacks included (the UI shows the same)
                for event in result.get_step_failure_events():
                    print(event.step_failure_data.error.to_string(), file=sys.stderr)
            ingesting = any(e.step_key == "landing_feeds" for e in result.get_step_failure_events())
            outcome = (
                "nothing was built or published" if ingesting else "the published marts were left unchanged"
            )
            raise UserError(f"the run failed ({failed}); {outcome}{recorded}{_disk_space(paths, failed)}")
    warned = sum(not c.passed for c in evaluations)
    say(f"done in {time.perf_counter() - started:.1f}s: {len(evaluations) - warned}/{len(evaluations)} checks passed, "
        f"{warned} failed or warned{recorded}")  # fmt: skip
    for text in report.summary_table(paths.warehouse):
        print(text)
    print(f"\nmarts:  .venv/bin/duckdb -readonly {paths.warehouse}  (schemas marts, audit; Parquet in "
          f"{paths.parquet})")  # fmt: skip
    print(f"docs:   {paths.column_docs} (every column), {paths.report} (the campaigns)")
    print("UI:     .venv/bin/sms-warehouse ui   then open http://127.0.0.1:3000")
    return 0
