"""The command line: ``automl-bench run | validate | check | report | compare | ui | init``.

Bad input ends with one line naming the field and what is allowed, exit code 2, nothing written.
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from automl_bench.errors import ConfigError

if TYPE_CHECKING:
    from automl_bench.experiment import Prepared
    from automl_bench.report import ReportFiles
    from automl_bench.schema import Summary
    from automl_bench.tasks.base import TaskInfo
    from automl_bench.testing import SpaceCheckResult

EXIT_BAD_INPUT = 2
EXIT_TRIALS_FAILED = 3  # the run finished and its results are written, but some trials failed


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="automl-bench",
        description="Is automated model design worth it here? Runs search methods next to "
        "hand-designed baselines under one cost accounting.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run_commands(sub)
    _add_output_commands(sub)
    _add_space_commands(sub)
    return parser


def _add_run_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``run`` and ``validate``: the same config and overrides; ``run``'s own options."""
    for name, help_text in (
        ("run", "run an experiment"),
        ("validate", "check a config, run nothing"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("config", type=Path, help="the experiment's YAML file")
        p.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a config field, e.g. --set budget.trials=4 (repeatable)",
        )
        if name == "run":
            p.add_argument(
                "--ray-address",
                default=None,
                help="join this Ray cluster (default: RAY_ADDRESS, else a local Ray)",
            )
            p.add_argument(
                "--tracking-uri",
                default=None,
                help="MLflow tracking URI (default: MLFLOW_TRACKING_URI, else SQLite under runs/)",
            )
            p.add_argument("--no-live", action="store_true", help="no live progress display")
            p.add_argument(
                "--no-space-checks",
                action="store_true",
                help="start without the search-space checks (for a space that breaks the "
                "contract on purpose, such as a test's)",
            )
            p.add_argument(
                "--resume",
                action="store_true",
                help="carry on the unfinished run of this config (its driver was killed): "
                "finished trials are kept, the rest run",
            )


def _add_output_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``report``, ``compare`` and ``ui``: what reads a finished run's outputs."""
    report = sub.add_parser(
        "report",
        help="write an experiment's report (HTML, Markdown, PNG plots) from its results, and "
        "log it to its MLflow summary run",
    )
    report.add_argument("experiment", help="the experiment's name (under --runs-dir) or folder")
    report.add_argument(
        "--runs-dir", type=Path, default=Path("runs"), help="the output folder (default: runs)"
    )
    report.add_argument(
        "--tracking-uri", default=None, help="MLflow store (default: the one the run used)"
    )
    compare = sub.add_parser("compare", help="set experiments side by side")
    compare.add_argument("experiments", nargs="+", help="names (under --runs-dir) or folders")
    compare.add_argument(
        "--runs-dir", type=Path, default=Path("runs"), help="the output folder (default: runs)"
    )
    ui = sub.add_parser("ui", help="serve the MLflow UI on 127.0.0.1 over the experiment store")
    ui.add_argument(
        "--runs-dir", type=Path, default=Path("runs"), help="the output folder (default: runs)"
    )
    ui.add_argument("--tracking-uri", default=None, help="a store other than runs/mlflow.db")
    ui.add_argument("--port", type=int, default=5000)


def _add_space_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``check`` a search-space file, and ``init`` a folder with a starter space and config."""
    check = sub.add_parser(
        "check",
        help="run the conformance checks on a search-space file: one OK line, or one line "
        "naming the check that failed (exit code 2)",
    )
    check.add_argument("space", type=Path, help="the search-space file (.py)")
    check.add_argument(
        "--task", required=True, help="a task, a meta-learning family or a folder task"
    )
    check.add_argument("--data-dir", default=None, help="a folder task's data folder")
    check.add_argument("--seed", type=int, default=0, help="seeds the draws and torch (0)")
    init = sub.add_parser("init", help="write a starter search space and a config that runs it")
    init.add_argument("folder", type=Path, metavar="DIR", help="where (made if missing)")


def _run(args: argparse.Namespace) -> int:
    from automl_bench.experiment import prepare, run_experiment
    from automl_bench.failures import run_failures

    prepared = prepare(args.config, args.overrides)
    if args.command == "validate":
        checked = _check_config_spaces(prepared)
        plan = prepared.config.seed_plan
        more = f" at the first {plan.first} seeds, then added up to {plan.max}" if plan else ""
        print(
            f"{args.config}: valid; {len(prepared.studies)} studies, "
            f"up to {prepared.total_trials} trials{more}"
        )
        for field, result in checked:
            print(f"{field}: {result.line()}")
        return 0
    if not args.no_space_checks:
        _check_config_spaces(prepared)
    resume = None
    if args.resume:
        from automl_bench.resume import load_state

        exp_dir = Path(prepared.config.output_dir).resolve() / prepared.config.experiment
        resume = load_state(exp_dir, prepared.config_text, [s.key for s in prepared.studies])
    from rich.console import Console

    console = Console() if sys.stdout.isatty() else Console(width=170)
    summary = run_experiment(
        prepared,
        resume=resume,
        console=console,
        ray_address=args.ray_address,
        tracking_uri=args.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI"),
        live=not args.no_live and sys.stdout.isatty(),
    )
    count = run_failures(summary)
    if count.failed:
        print(
            f"automl-bench: {count.words()}; their reasons: summary.json, "
            f"methods.<m>.studies[].failures, and their MLflow runs; exit code "
            f"{EXIT_TRIALS_FAILED}",
            file=sys.stderr,
        )
        return EXIT_TRIALS_FAILED
    return 0


def _check_config_spaces(prepared: Prepared) -> list[tuple[str, SpaceCheckResult]]:
    """The conformance checks on the config's spaces (automl_bench.testing.preflight), each
    with the config field that names it."""
    from automl_bench.testing.preflight import check_spaces

    primary = prepared.spaces[prepared.primary_space]
    references = [prepared.spaces[name] for name in prepared.reference_spaces]
    spaces = [("space", primary)] + [(f"reference_spaces.{i}", s) for i, s in enumerate(references)]
    task: str | TaskInfo = prepared.config.task
    if prepared.table is not None:  # a table's shape is its file's (after the transform)
        from automl_bench.tasks.table.task import open_table

        task = open_table(prepared.table.spec).info
    results = check_spaces(spaces, task, prepared.config.data_dir)
    return [(field, result) for (field, _), result in zip(spaces, results, strict=True)]


def _check(args: argparse.Namespace) -> int:
    from automl_bench.testing import check_search_space

    result = check_search_space(args.space, args.task, data_dir=args.data_dir, seed=args.seed)
    print(result.line())
    return 0


def _report(args: argparse.Namespace) -> int:
    from automl_bench.report import experiment_dir, recomputed_summary, write_report

    exp_dir = experiment_dir(args.experiment, args.runs_dir)
    summary = recomputed_summary(exp_dir)
    files = write_report(exp_dir, summary)
    print(
        f"report: {files.html}, {files.markdown}, {len(files.plots)} plots in {files.html.parent}"
    )
    logged = _log_to_summary_run(summary, files, exp_dir, args.tracking_uri)
    print(logged)
    return 0


def _log_to_summary_run(
    summary: Summary, files: ReportFiles, exp_dir: Path, uri: str | None
) -> str:
    """Log the report to the run's MLflow summary run; a store that is gone is said, not fatal."""
    from automl_bench.report import log_report
    from automl_bench.tracking import Tracking

    uri = uri or summary.tracking_uri
    if not uri:
        return "MLflow: no tracking URI recorded; the report was not logged"
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        return f"MLflow: {uri} is not here; the report was not logged (see --tracking-uri)"
    tracking = Tracking(uri, summary.experiment, exp_dir.parent / "artifacts")
    run_id = summary.summary_run_id or tracking.summary_run()
    if not run_id:
        return "MLflow: the experiment has no summary run; the report was not logged"
    log_report(tracking, run_id, files, exp_dir)
    return f"MLflow: logged to the summary run {run_id} in {uri}"


def _compare(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from automl_bench.report import experiment_dir, recomputed_summary
    from automl_bench.report.compare import write_comparison

    dirs = [experiment_dir(name, args.runs_dir) for name in args.experiments]
    markdown, html, table = write_comparison([recomputed_summary(d) for d in dirs], args.runs_dir)
    console = Console() if sys.stdout.isatty() else Console(width=160)
    shown = Table(title=table.title)
    for name in table.header:
        shown.add_column(name)
    for row in table.rows:
        shown.add_row(*row)
    console.print(shown)
    console.print(table.note)
    console.print(f"written: {markdown} and {html}")
    return 0


def _ui(args: argparse.Namespace) -> int:
    from automl_bench.tracking import default_tracking_uri, prepare_ui

    uri = args.tracking_uri
    if uri is None:
        db = args.runs_dir / "mlflow.db"
        if not db.exists():
            raise ConfigError(
                "--runs-dir", f"no MLflow store at {str(db)!r}; run an experiment first"
            )
        uri = default_tracking_uri(args.runs_dir)
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        uri,
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
    ]
    base = f"http://127.0.0.1:{args.port}"
    pages = prepare_ui(uri)
    print(f"MLflow UI on {base} over {uri}; the runs of each experiment:")
    for page in pages:
        print(f"  {page.experiment}: {page.url(base)}")
    sys.stdout.flush()
    # Become the MLflow server: a signal to this process (Ctrl-C, a job scheduler's TERM) then
    # reaches it and its workers, instead of leaving them running.
    os.execv(sys.executable, command)


def _init(args: argparse.Namespace) -> int:
    from automl_bench.starter import write_starter

    starter = write_starter(args.folder)
    print(f"wrote {starter.space} and {starter.config}")
    print(f"check it: automl-bench validate {starter.config}")
    print(f"run it:   automl-bench run {starter.config}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        commands = {"ui": _ui, "report": _report, "compare": _compare, "init": _init}
        commands["check"] = _check
        return commands.get(args.command, _run)(args)
    except ConfigError as exc:
        print(f"automl-bench: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("automl-bench: interrupted", file=sys.stderr)
        return 130


def run() -> NoReturn:
    """The ``automl-bench`` command: ``main``, then the end of the process without the
    interpreter's teardown. Once every thread has ended and every exit handler has run (Ray's
    shutdown, logging's flush), that teardown of torch, Ray, MLflow and the rest frees only what
    the operating system takes back anyway: about 3 s of a one-trial run's 27 s on our 2-core
    machine (docs/measured-figures.md)."""
    code = main()
    for thread in threading.enumerate():  # as the interpreter would: non-daemon threads end
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
