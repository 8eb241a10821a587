"""`sms-warehouse`: generate sample data, run the warehouse job, export contact lists, open the UI.

Errors at the edges are one line that says what is wrong and what to do, with a
non-zero exit code; `--debug` shows the traceback as well.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from orchestration.cli.export import cmd_export
from orchestration.cli.run import UserError, cmd_run, say, settings_of


def cmd_generate(args: argparse.Namespace) -> int:
    from ingestion.generate import generate

    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UserError(f"{out} is not empty: choose another --out, or add --force to write into it")
    started = time.perf_counter()
    counts = generate(out, args.contacts, days=args.days, seed=args.seed)
    took = time.perf_counter() - started
    say(
        f"wrote a landing zone to {out} in {took:.1f}s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    )
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from orchestration.instance import dagster_home
    from orchestration.paths import REPO_ROOT

    settings = settings_of()
    home = dagster_home(Path(settings.data_dir))
    bin_dir = str(Path(sys.executable).parent)  # dagster beside this Python, venv activated or not
    # `dagster dev` and the processes it starts get this warehouse's settings as absolute paths (so
    # that a run launched from the UI works on the same files wherever it runs) and its instance
    env = {
        **os.environ,
        **settings.as_environment(),
        "DAGSTER_HOME": str(home),
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
    }
    dagster = os.path.join(bin_dir, "dagster")
    workspace = str(REPO_ROOT / "workspace.yaml")
    os.execve(dagster, [dagster, "dev", "-w", workspace, "-h", args.host, "-p", str(args.port)], env)
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
        "run",
        parents=[common],
        help="run the warehouse job: ingest what changed in the landing zone, build, check and publish",
        description="Runs the Dagster job update_warehouse once, recorded in DAGSTER_HOME (the instance "
        "`sms-warehouse ui` opens): the landing partitions whose files changed since they were last "
        "ingested, then the dbt build with its tests, the quality checks, and the publish. Prints one "
        "line per step, every landing file with a problem, and the campaign summary.",
    )
    run.add_argument("--landing", help="landing directory [SMS_LANDING_DIR, default data/landing]")
    run.add_argument("--lake", help="Parquet lake directory [SMS_LAKE_DIR, default data/lake]")
    run.add_argument(
        "--warehouse", help="published DuckDB file [SMS_WAREHOUSE, default data/warehouse/sms.duckdb]"
    )
    run.add_argument("--exports", help="contact-list export root [SMS_EXPORTS_DIR, default data/exports]")
    run.add_argument(
        "--ephemeral",
        action="store_true",
        help="run on a throwaway Dagster instance: nothing is recorded in DAGSTER_HOME (the UI will not "
        "show this run)",
    )
    run.add_argument(
        "--verbose",
        action="store_true",
        help="print every message of the run, dbt's line per node included (they are in the run's logs "
        "in the UI either way)",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every model from the whole lake instead of merging what is new "
        "(done by itself when models, seeds or old partitions changed)",
    )
    run.set_defaults(func=cmd_run)

    from ingestion.reference import contact_lists

    exp = sub.add_parser(
        "export",
        parents=[common],
        help="write contact lists of a launch, of a campaign, or of every launch that changed",
        description="Runs the Dagster job export_contact_lists (recorded like every run): writes "
        "<exports>/campaign=<campaign_id>/launch=<launch_id>/<list>.csv from the published marts. "
        "With neither --launch nor --campaign, every launch whose contacts changed since the last export.",
    )
    exp.add_argument("--launch", help="the launch_id")
    exp.add_argument("--campaign", help="the campaign_id: every launch of it")
    exp.add_argument(
        "--list",
        action="append",
        choices=contact_lists(),
        metavar="LIST",
        help="a reached status or not-sent reason, e.g. rejected_hard_bounce or insufficient_credit "
        "(repeatable; default: every list that has contacts): " + ", ".join(contact_lists()),
    )
    exp.add_argument("--warehouse", help="published DuckDB file [SMS_WAREHOUSE]")
    exp.add_argument("--exports", help="export root [SMS_EXPORTS_DIR, default data/exports]")
    exp.set_defaults(func=cmd_export)

    ui = sub.add_parser(
        "ui",
        parents=[common],
        help="open the Dagster UI on this warehouse (dagster dev: webserver and daemon)",
        description="Starts `dagster dev` on the project's workspace with the instance in DAGSTER_HOME "
        "(default data/dagster_home), where `sms-warehouse run` records its runs.",
    )
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ui.add_argument("--port", type=int, default=3000, help="port to listen on (default 3000)")
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
        from orchestration.failures import advice

        what = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        fix = advice(f"{type(exc).__name__}: {exc}")
        print(f"sms-warehouse: error: {what}{f' — {fix}' if fix else ''} (--debug shows the traceback)",
              file=sys.stderr)  # fmt: skip
        return 1


def console() -> None:
    """The `sms-warehouse` command."""
    sys.exit(main())


if __name__ == "__main__":
    console()
