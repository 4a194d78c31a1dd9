"""The driver: plan the studies, run every trial on Ray, record in MLflow, summarise.

``prepare`` checks everything a run needs and writes nothing; ``run_experiment`` does the work.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from automl_bench.analysis.verdict import VerdictSettings
from automl_bench.config import ExperimentConfig, load_config, load_prices
from automl_bench.cost.prices import Prices
from automl_bench.cost.record import CostRecord
from automl_bench.deploy.models import DeploySettings, FinalModel
from automl_bench.deploy.record import Constraints, DeployRecord
from automl_bench.errors import ConfigError
from automl_bench.locate import find_config, resolve_path
from automl_bench.looks import ONE_LOOK, Caps, Looks
from automl_bench.methods import BASELINE, METHODS
from automl_bench.methods.warmstart import WarmStart
from automl_bench.metric import Metric
from automl_bench.outcome import TrialOutcome
from automl_bench.progress import Progress
from automl_bench.resume import RunState, clear_state, interrupted, resumed_now, write_state
from automl_bench.scoring import reference_method, task_metric
from automl_bench.space import SearchSpace, load_search_space
from automl_bench.study import StudySpec
from automl_bench.study_record import StudyRecord
from automl_bench.table_setup import (
    PreparedTable,
    check_names,
    reference_model_studies,
    write_example,
)
from automl_bench.tasks.families import META_FAMILIES
from automl_bench.tasks.folders import FOLDER_TASKS
from automl_bench.trial import FINAL, TrialContext, TrialJob

if TYPE_CHECKING:
    from automl_bench.schema import Summary
    from automl_bench.tracking import TrialRun


@dataclass(frozen=True)
class Prepared:
    """A validated config with its search spaces loaded and its studies planned."""

    config: ExperimentConfig
    config_path: Path
    config_text: str
    spaces: dict[str, SearchSpace]
    primary_space: str
    studies: list[StudySpec]
    prices: Prices
    warmstart: WarmStart | None = None  # what ``warmstart`` studies start from
    table: PreparedTable | None = None  # task: table: the file, its metric, its reference models

    @property
    def total_trials(self) -> int:
        return sum(s.n_trials + 1 for s in self.studies)

    @property
    def metric(self) -> Metric:
        """What the experiment is scored by: the table's metric, else its task's."""
        return self.table.metric if self.table is not None else task_metric(self.config.task)

    @property
    def reference(self) -> str:
        """The row every other is compared with: a table's (its boosted tree, by default), else
        its task's (``scoring.reference_method``)."""
        return (
            self.table.reference if self.table is not None else reference_method(self.config.task)
        )

    @property
    def reference_spaces(self) -> list[str]:
        """The spaces whose baselines are extra rows (not the primary, not a reference model)."""
        models = self.table.estimators if self.table is not None else {}
        return [s for s in self.spaces if s != self.primary_space and s not in models]


def prepare(config_path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Prepared:
    """Validate the config and every file it names. Raises ConfigError, and then writes
    nothing; once everything passed, a shipped example table is written under the cache."""
    path = find_config(config_path)  # a path, else a shipped example (quickstart)
    config = load_config(path, overrides)
    if config.task in FOLDER_TASKS and config.data_dir is None:
        raise ConfigError(
            "data_dir",
            f"task {config.task!r} reads a folder: set data_dir to it (cifar10: the "
            "cifar-10-batches-py folder; image_folder: a folder of class folders)",
        )
    if config.data_dir is not None:  # an image task's folder: its layout checked here
        from automl_bench.tasks import get_task
        from automl_bench.tasks.folders import check_contents

        config.data_dir = str(resolve_path(config.data_dir, path, "data_dir"))
        check_contents(get_task(config.task, config.data_dir))  # every file read once, here
    primary = load_search_space(resolve_path(config.space, path, "space", "search_spaces"), "space")
    spaces = {primary.name: primary}
    for i, ref in enumerate(config.reference_spaces):
        field_name = f"reference_spaces.{i}"
        space = load_search_space(resolve_path(ref, path, field_name, "search_spaces"), field_name)
        if space.name in spaces:
            raise ConfigError(
                field_name, f"a second space named {space.name!r}; file stems must differ"
            )
        spaces[space.name] = space
    for name in config.methods:
        if METHODS[name].one_shot and primary.supernet is None:
            raise ConfigError(
                "methods",
                f"{name} needs a search space with a supernet(config, task) function "
                f"(as search_spaces/nb201.py has); {primary.path.name} has none",
            )
    references = [s for s in spaces if s != primary.name]
    table = _prepare_table(config, path, spaces)
    studies = plan_studies(config, primary.name, references, config.first_seeds, table)
    prices = load_prices(config, path)
    warm = None
    if any(METHODS[name].warmstart for name in config.methods):
        from automl_bench.methods.warmstart import load_warmstart

        warm = load_warmstart(config, path, primary)
    if table is not None:  # every check passed: only now is anything written
        table = write_example(table, config.output_dir)
    text = json.dumps(config.model_dump(), indent=2)
    return Prepared(config, path, text, spaces, primary.name, studies, prices, warm, table)


def _prepare_table(
    config: ExperimentConfig, path: Path, spaces: dict[str, SearchSpace]
) -> PreparedTable | None:
    """``task: table``: its file checked, its reference models' spaces added to ``spaces``."""
    if config.table is None:
        return None
    from automl_bench.table_setup import prepare_table

    table = prepare_table(config, path)
    check_names(table, spaces)
    spaces.update(table.estimators)
    return table


def plan_studies(
    config: ExperimentConfig,
    primary: str,
    references: list[str],
    seeds: list[int],
    table: PreparedTable | None = None,
) -> list[StudySpec]:
    """Methods x ``seeds`` on the primary space, plus each reference space's baseline per seed
    and a table's reference models."""
    studies = []
    for seed in seeds:
        for name in config.methods:
            method = METHODS[name]
            # a one-shot method's search is one trial: the supernet's
            n_trials = 1 if method.one_shot else config.trials if method.searches else 0
            studies.append(StudySpec(name, seed, primary, n_trials, label=name))
        for ref in references:
            studies.append(StudySpec(BASELINE, seed, ref, 0, label=f"{BASELINE}:{ref}"))
        if table is not None:
            studies.extend(reference_model_studies(table, seed, config.trials))
    return studies


class _Recorder:
    """The trial listener: child runs in MLflow and the progress display."""

    def __init__(
        self,
        tracking: Any,
        studies: dict[str, StudyRecord],
        progress: Progress,
        earlier: list[TrialRun] | None = None,
    ) -> None:
        self.tracking = tracking
        self.studies = studies
        self.progress = progress
        # a resumed run: the trial runs its killed driver logged, by trial id
        self.earlier: dict[str, list[TrialRun]] = {}
        for run in earlier or []:
            self.earlier.setdefault(run.trial_id, []).append(run)
        self.logged: set[str] = set()  # trials whose run an earlier driver ended: not rewritten
        self.run_ids: dict[str, str] = {}
        self.history: dict[str, list[tuple[int, Mapping[str, float]]]] = {}
        self.times: dict[str, tuple[str, str | None]] = {}  # trial id -> UTC start, end
        self.first_start: float | None = None  # the first trial's start (time.monotonic)
        self.last_end: float | None = None  # the last trial's end

    def _adopt(self, trial_id: str) -> bool:
        """Take over what an earlier driver logged for ``trial_id``: runs it left open are ended
        as interrupted; True when it had ended the trial's run (FINISHED or FAILED), which then
        stands as it is."""
        earlier = self.earlier.pop(trial_id, [])
        self._interrupt([r for r in earlier if r.status == "RUNNING"], "run again by --resume")
        ended = [r for r in earlier if r.ended]
        if not ended:
            return False
        run = ended[-1]
        self.run_ids[trial_id] = run.run_id
        self.logged.add(trial_id)
        self.times[trial_id] = (_utc(run.start_ms), _utc(run.end_ms) if run.end_ms else None)
        return True

    def _interrupt(self, runs: list[TrialRun], then: str) -> None:
        for run in runs:
            self.tracking.end_run(
                run.run_id,
                "KILLED",
                None,
                None,
                {
                    "trial_status": "interrupted",
                    "failure_reason": f"the driver was killed while it ran; {then}",
                },
            )

    def close_interrupted(self) -> None:
        """End the runs of trials the killed driver had started after Ray Tune last saved its
        state: Tune knows nothing of them, so they were not run again (the searcher suggested
        afresh in their place)."""
        for trial_id in list(self.earlier):
            runs = self.earlier.pop(trial_id)
            self._interrupt(
                [r for r in runs if r.status == "RUNNING"],
                "started after Ray Tune last saved its state, so not run again",
            )

    def trial_started(self, trial_id: str, job: TrialJob) -> None:
        study = self.studies[job.study]
        if self._adopt(trial_id):  # it had ended: started again, it reports what it left
            self.progress.trial_started(job)
            return
        if trial_id in self.history:  # started again: its worker was lost, Tune retries it
            self.tracking.end_run(
                self.run_ids[trial_id],
                "KILLED",
                None,
                self.history.pop(trial_id),
                {"trial_status": "lost", "failure_reason": "its worker was lost; run again"},
            )
        self.run_ids[trial_id] = self.tracking.start_run(
            name=f"{job.study} {job.phase} {trial_id}",
            tags={
                "phase": job.phase,
                "method": job.method,
                "seed": job.seed,
                "space": job.space,
                "trial_id": trial_id,
                "study": job.study,
            },
            params=job.config,
            parent_run_id=study.run_id,
        )
        self.history[trial_id] = []
        self.times[trial_id] = (datetime.now(UTC).isoformat(), None)
        self.first_start = self.first_start or time.monotonic()
        self.progress.trial_started(job)

    def trial_result(self, trial_id: str, job: TrialJob, result: dict[str, Any]) -> None:
        if trial_id in self.logged:
            return
        for epoch in result.get("epoch_history", []):
            numbers = {k: float(v) for k, v in epoch.items() if k != "epoch"}
            self.history.setdefault(trial_id, []).append((int(epoch["epoch"]), numbers))

    def trial_finished(self, outcome: TrialOutcome) -> None:
        earlier = self.earlier.get(outcome.trial_id, [])
        if outcome.trial_id not in self.run_ids and earlier:
            # it ended before the driver was killed (Tune restored it as ended)
            if any(r.ended for r in earlier):
                self._adopt(outcome.trial_id)
            else:  # stopped by a scheduler, and settled only now: its open run gets the outcome
                run = self.earlier.pop(outcome.trial_id)[-1]
                self.run_ids[outcome.trial_id] = run.run_id
                self.times[outcome.trial_id] = (_utc(run.start_ms), None)
        if outcome.trial_id in self.logged:
            self.studies[outcome.job.study].outcomes.append(outcome)
            self.progress.trial_finished(outcome)
            return
        self.last_end = time.monotonic()
        start = self.times.get(outcome.trial_id, (None, None))[0]
        # a stopped trial is settled after the run: it says when it ended
        end = str(outcome.result.get("end_utc") or datetime.now(UTC).isoformat())
        self.times[outcome.trial_id] = (start or "", end)
        self.studies[outcome.job.study].outcomes.append(outcome)
        run_id = self.run_ids.get(outcome.trial_id)
        if run_id is not None:
            history = self.history.pop(outcome.trial_id, [])
            per_epoch = set(history[-1][1]) if history else set()  # logged per step already
            self.tracking.end_run(
                run_id,
                "FAILED" if outcome.failed else "FINISHED",
                _final_metrics(outcome, per_epoch),
                history,
                _outcome_tags(outcome),
            )
        self.progress.trial_finished(outcome)

    def annotate(
        self, trial_id: str, metrics: Mapping[str, float], tags: Mapping[str, Any]
    ) -> None:
        """Add to a finished trial's run (the final training's deploy record)."""
        run_id = self.run_ids.get(trial_id)
        if run_id is not None:
            self.tracking.log(run_id, metrics, tags)

    def abandon(self) -> None:
        """Mark every run still open as KILLED (the driver is going down)."""
        for trial_id, run_id in list(self.run_ids.items()):
            if trial_id in self.history:  # started, never finished
                self.tracking.end_run(run_id, "KILLED", None, self.history.pop(trial_id), None)
        for study in self.studies.values():
            self.tracking.end_run(study.run_id, "KILLED")


def _final_metrics(outcome: TrialOutcome, per_epoch: set[str]) -> dict[str, float]:
    """A finished trial's numbers for its MLflow run, less those logged per epoch already."""
    return {
        k: float(v)
        for k, v in outcome.result.items()
        if isinstance(v, int | float)
        and not isinstance(v, bool)
        and k != "epoch"
        and k not in per_epoch
    }


def _outcome_tags(outcome: TrialOutcome) -> dict[str, str]:
    """A finished trial's tags: how it ended, why, where its model is, how it was measured."""
    tags = {
        k: str(v)
        for k, v in outcome.result.items()
        if k.removeprefix("inference_").startswith(("measured_", "energy_estimate"))
        or k == "inference_failure_reason"
    }
    for key in ("derived_config", "alpha_softmax"):  # a one-shot search's outcome
        if isinstance(outcome.result.get(key), dict):
            tags[key] = json.dumps(outcome.result[key])[:5000]
    tags["trial_status"] = outcome.status
    if outcome.reason:
        tags["failure_reason" if outcome.failed else "stop_reason"] = outcome.reason
    if outcome.model_path:
        tags["model_path"] = outcome.model_path
    return tags


def _utc(ms: int | None) -> str:
    return datetime.fromtimestamp((ms or 0) / 1000, UTC).isoformat()


@dataclass
class _Run:
    """Everything one run of an experiment holds while its looks run (see ``looks``)."""

    prepared: Prepared
    console: Console
    cluster: Any
    meters: Any
    tracking: Any
    out: Path
    exp_dir: Path
    cache: Path
    uri: str
    created: datetime
    started: float
    metering: dict[str, float]
    provenance: tuple[dict[str, Any], dict[str, str], str]  # hardware, versions, revision
    common_tags: dict[str, str]
    config_file: Path
    state: RunState
    ctx: TrialContext
    concurrency: int
    recorder: _Recorder
    progress: Progress
    studies: dict[str, StudyRecord]
    deploy_cost: CostRecord = field(default_factory=CostRecord)


def run_experiment(
    prepared: Prepared,
    *,
    resume: RunState | None = None,
    ray_address: str | None = None,
    tracking_uri: str | None = None,
    console: Console | None = None,
    live: bool = True,
) -> Summary:
    """Run every study of ``prepared``, look by look (``looks``); returns the summary (also
    written to runs/<experiment>/summary.json)."""
    from automl_bench.outputs import write_summary
    from automl_bench.report import log_report, write_report
    from automl_bench.report.build import PLOTS
    from automl_bench.report.console import print_looks, print_table, print_verdicts
    from automl_bench.runner import ray_cluster

    console = console or Console()
    started = time.monotonic()
    # The tracking store and the task's data are made while Ray starts (each takes seconds)
    store = _open_store_meanwhile(prepared, resume, tracking_uri)
    with ray_cluster(ray_address) as cluster:
        run = _start(prepared, cluster, resume, store.result(), console, live, started)
        try:
            with run.progress:
                looks = _run_looks(run, resume is not None)
        except BaseException:
            run.recorder.abandon()  # interrupted: open runs are marked KILLED, finished ones stay
            raise
        summary = _finish(run, looks)
    exp_dir = run.exp_dir
    write_summary(summary, exp_dir, archive=False)
    clear_state(exp_dir)  # finished: nothing left to resume
    report = write_report(exp_dir, summary)
    log_report(run.tracking, str(summary.summary_run_id), report, exp_dir)
    print_table(summary, console, exp_dir)
    print_verdicts(summary, console)
    print_looks(summary, console)
    console.print(f"report: {report.html} and {report.markdown.name}, plots in {PLOTS}/")
    return summary


def _open_store_meanwhile(
    prepared: Prepared, resume: RunState | None, tracking_uri: str | None
) -> Future[tuple[str, Any]]:
    """In a thread of its own: the tracking store (its URI and client: a new SQLite store's
    schema takes seconds to create) and the task's data, while the caller starts Ray. Neither
    is metered: like Ray's own start, it comes before the node meters start."""
    from automl_bench.tracking import Tracking

    def open_store() -> tuple[str, Any]:
        config = prepared.config
        out = Path(config.output_dir).resolve()
        uri = _tracking_uri(config, out, resume, tracking_uri)
        out.mkdir(parents=True, exist_ok=True)
        tracking = Tracking(uri, config.experiment, out / "artifacts" / config.experiment)
        _make_task_data(prepared, out / "cache")
        return uri, tracking

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="automl-bench-store")
    store = pool.submit(open_store)
    pool.shutdown(wait=False)  # the thread ends with its one task
    return store


def _start(
    prepared: Prepared,
    cluster: Any,
    resume: RunState | None,
    store: tuple[str, Any],
    console: Console,
    live: bool,
    started: float,
) -> _Run:
    """Meters and the run state, before any trial; ``store``: the tracking store's URI and
    client (``_open_store_meanwhile``)."""
    from automl_bench import provenance

    config = prepared.config
    created = datetime.fromisoformat(resume.created) if resume else datetime.now(UTC)
    out = Path(config.output_dir).resolve()
    # Meters first: from here on, everything the nodes spend is measured (and what no trial
    # held is the idle / overhead line).
    meters, metering = _start_meters(config, started)
    uri, tracking = store
    cache = out / "cache"
    hw, libs, revision = provenance.hardware(), provenance.versions(), provenance.code_revision()
    tracking.set_experiment_tags({"task": config.task, "space": prepared.primary_space})
    exp_dir, config_file = _experiment_dir(prepared, out)
    state, earlier = _run_state(prepared, tracking, resume, created, uri, exp_dir, console)
    progress = Progress(0, console, enabled=live)
    studies: dict[str, StudyRecord] = {}  # filled look by look
    return _Run(
        prepared=prepared,
        console=console,
        cluster=cluster,
        meters=meters,
        tracking=tracking,
        out=out,
        exp_dir=exp_dir,
        cache=cache,
        uri=uri,
        created=created,
        started=started,
        metering=metering,
        provenance=(hw, libs, revision),
        common_tags=provenance.flat_tags(hw, libs, revision),
        config_file=config_file,
        state=state,
        ctx=_trial_context(prepared, cache),
        concurrency=_concurrency(config, cluster),
        recorder=_Recorder(tracking, studies, progress, earlier),
        progress=progress,
        studies=studies,
    )


def _experiment_dir(prepared: Prepared, out: Path) -> tuple[Path, Path]:
    """The experiment's folder under ``out``, with the validated config written in it."""
    exp_dir = out / prepared.config.experiment
    exp_dir.mkdir(parents=True, exist_ok=True)
    config_file = exp_dir / "config.json"
    config_file.write_text(prepared.config_text)
    return exp_dir, config_file


def _start_meters(config: ExperimentConfig, started: float) -> tuple[Any, dict[str, float]]:
    """The node meters, and how long they took to start and when, since the run started."""
    from automl_bench.runner import start_node_meters

    meter_start = time.monotonic()
    meters = start_node_meters(config.cost.country_iso_code)
    metering = {
        "meter_start_s": time.monotonic() - meter_start,
        "measured_from_s": meter_start - started,
    }
    return meters, metering


def _tracking_uri(
    config: ExperimentConfig, out: Path, resume: RunState | None, given: str | None
) -> str:
    """A resumed run's store (it goes on where its trials were logged), else the one given on
    the command line, the config's, or the default under ``out``."""
    from automl_bench.tracking import default_tracking_uri

    return (
        (resume.tracking_uri if resume else None)
        or given
        or config.tracking.uri
        or default_tracking_uri(out)
    )


def _make_task_data(prepared: Prepared, cache: Path) -> None:
    """Generate (or decode) the task's data once, here, before trials need it (a table: its
    first seeds' splits, split and transformed)."""
    from automl_bench.tasks import get_task

    config = prepared.config
    if prepared.table is not None:
        _prepare_table_seeds(prepared, config.first_seeds, cache)
    elif config.task not in META_FAMILIES:
        get_task(config.task, config.data_dir).arrays(cache)
    elif config.task == "fewshot_mnist1d":  # episodes are drawn from MNIST-1D
        get_task("mnist1d").arrays(cache)


def _prepare_table_seeds(prepared: Prepared, seeds: list[int], cache: Path) -> None:
    """A table's splits at ``seeds``, transformed and cached before any trial at those seeds
    runs: the transform's cost is paid once, here, not by whichever trial comes first."""
    from automl_bench.tasks.table.task import open_table

    if prepared.table is not None:
        open_table(prepared.table.spec).prepare(seeds, cache)


def _concurrency(config: ExperimentConfig, cluster: Any) -> int:
    """Trials at once: the config's, else as many as the cluster's CPUs and GPUs hold."""
    resources = config.resources
    return resources.max_concurrent_trials or _fit_concurrency(
        cluster.cpus, cluster.gpus, resources.cpus_per_trial, resources.gpus_per_trial
    )


def _run_state(
    prepared: Prepared,
    tracking: Any,
    resume: RunState | None,
    created: datetime,
    uri: str,
    exp_dir: Path,
    console: Console,
) -> tuple[RunState, list[TrialRun]]:
    """A new run's state, or a resumed one's with the parent runs its killed driver opened
    (reopened) and the trial runs it logged under them."""
    config = prepared.config
    if resume is None:
        if interrupted(exp_dir):
            console.print(
                f"[yellow]an unfinished run of {config.experiment} was left in {exp_dir}; "
                "starting afresh (--resume would have carried it on)[/yellow]"
            )
        tune_name = f"{config.experiment}-{created.strftime('%Y%m%dT%H%M%S')}"
        return RunState(tune_name, created.isoformat(), prepared.config_text, {}, uri), []
    state = resumed_now(resume)
    for run_id in state.parents.values():
        tracking.reopen(run_id)
    return state, tracking.trial_runs(set(state.parents.values()))


def _run_looks(run: _Run, resuming: bool) -> Looks:
    """The first seeds for every study, then (with a seed plan) one seed at a time for the
    reference and every undecided method, until ``Looks.stop_reason`` says stop."""
    config = run.prepared.config
    plan = config.seed_plan
    caps = Caps(
        plan.max if plan is not None else len(config.first_seeds),
        config.verdict.max_energy_kwh,
        config.verdict.max_wall_s,
    )
    looks = Looks(caps)
    seeds, labels = config.first_seeds, None
    while True:
        index = len(looks.taken)
        specs = _look_studies(run, index, seeds, labels)
        # a resumed run restores each look its killed driver had started (finished ones end at
        # once, giving back their outcomes), then goes on
        _run_look(run, index, specs, resuming and (index == 0 or index < len(run.state.looks)))
        if plan is None:
            looks.stopped = ONE_LOOK
            return looks
        reference = _reference(run)
        reference_seeds = {s.spec.seed for s in run.studies.values() if s.spec.label == reference}
        energy = sum(t.node.kwh for t in run.meters.totals().values())
        looks.record(
            seeds,
            sorted({s.label for s in specs}),
            _interim_verdicts(run),
            len(reference_seeds),
            energy,
            time.monotonic() - run.started,
        )
        looks.stopped = looks.stop_reason()
        if looks.stopped is not None:
            return looks
        seeds = [plan.seeds[len(reference_seeds)]]
        labels = {_reference(run), *looks.undecided()}


def _reference(run: _Run) -> str:
    return run.prepared.reference


def _look_studies(
    run: _Run, index: int, seeds: list[int], labels: set[str] | None
) -> list[StudySpec]:
    """The studies of look ``index``: those a resumed run's state recorded for it, else the
    ``labels`` (all, when None) at ``seeds``."""
    prepared = run.prepared
    references = prepared.reference_spaces
    if index < len(run.state.looks):  # recorded by the killed driver
        plan = prepared.config.seed_plan
        every = plan.seeds if plan is not None else prepared.config.first_seeds
        specs = plan_studies(
            prepared.config, prepared.primary_space, references, every, prepared.table
        )
        by_key = {s.key: s for s in specs}
        return [by_key[key] for key in run.state.looks[index]]
    specs = plan_studies(prepared.config, prepared.primary_space, references, seeds, prepared.table)
    return [s for s in specs if labels is None or s.label in labels]


def _run_look(run: _Run, index: int, specs: list[StudySpec], resuming: bool) -> None:
    """One look's studies on Ray, their MLflow parents opened first; then their final models'
    deploy records."""
    from automl_bench.runner import run_trials

    _prepare_table_seeds(run.prepared, sorted({s.seed for s in specs}), run.cache)
    new = [s for s in specs if s.key not in run.state.parents]
    opened = _open_studies(run.tracking, run.prepared, new, run.common_tags, run.config_file)
    parents = {**run.state.parents, **{k: r.run_id for k, r in opened.items()}}
    for spec in specs:
        run.studies[spec.key] = StudyRecord(spec, parents[spec.key], look=index)
    looks = list(run.state.looks)
    if index >= len(looks):
        looks.append([s.key for s in specs])
    run.state = replace(run.state, parents=parents, looks=looks)
    write_state(run.exp_dir, run.state)  # from here on, --resume can carry this run on
    run.progress.total += sum(s.n_trials + 1 for s in specs)
    name = run.state.tune_name if index == 0 else f"{run.state.tune_name}-look{index}"
    _, decide = run_trials(
        specs,
        run.prepared.spaces,
        run.ctx,
        run.recorder,
        storage_path=run.out / "ray",
        name=name,
        max_concurrent_trials=run.concurrency,
        collect=run.meters.collect,
        cost_objective=run.prepared.config.search.cost_objective,
        warmstart=run.prepared.warmstart,
        resume=resuming,
    )
    run.recorder.close_interrupted()
    for key, record in decide.items():
        run.studies[key].decide = record
    _measure_deployments(run, {s.key for s in specs})


def _measure_deployments(run: _Run, keys: set[str]) -> None:
    """The deploy phase of these studies: every final model, measured in one process on one
    machine (this one, on a local Ray)."""
    from automl_bench.runner import measure_deployments

    finals = [(m, t) for m, t in _final_models(run.prepared, run.studies) if m.key in keys]
    deployed, cost = measure_deployments(
        [model for model, _ in finals],
        _deploy_settings(run.prepared, run.cache),
        run.cluster.cpus,
        run.cluster.gpus,
        run.prepared.prices,
        here=run.cluster.address is None,  # a local Ray: measured in this process
    )
    run.deploy_cost = run.deploy_cost + cost
    for model, trial_id in finals:
        found = deployed.get(model.key, "not measured")
        run.studies[model.key].deploy = found
        if isinstance(found, DeployRecord):
            run.recorder.annotate(trial_id, found.to_metrics(), found.to_tags())
        else:
            run.recorder.annotate(trial_id, {}, {"deploy_error": found})


def _summary_now(run: _Run, node_totals: Mapping[str, Any]) -> Summary:
    from automl_bench.schema import Budget
    from automl_bench.summary import Metering, RunFacts, Scoring, build_summary

    config = run.prepared.config
    hw, libs, revision = run.provenance
    first, last = run.recorder.first_start, run.recorder.last_end
    facts = RunFacts(
        experiment=config.experiment,
        task=config.task,
        space=run.prepared.primary_space,
        created=run.created.isoformat(),
        code_revision=revision,
        hardware=hw,
        versions=libs,
        budget=Budget(trials=config.trials, epochs=config.epochs),
        deploy=config.deploy.model_dump(),
        wall_s=time.monotonic() - run.started,
        trials_wall_s=last - first if first is not None and last is not None else 0.0,
        tracking_uri=run.uri,
        cluster={
            "address": run.cluster.address,
            "cpus": run.cluster.cpus,
            "gpus": run.cluster.gpus,
        },
    )
    scoring = Scoring(run.prepared.metric, run.prepared.reference, config.search.cost_objective)
    metering = Metering(node_totals, run.prepared.prices, run.metering, run.deploy_cost)
    return build_summary(facts, list(run.studies.values()), scoring, metering)


def _interim_verdicts(run: _Run) -> dict[str, dict[str, Any]]:
    """Every judged method's verdict from the studies so far (as results.csv would have them)."""
    from automl_bench.analysis import verdicts
    from automl_bench.results import result_rows

    rows = result_rows(_summary_now(run, {}))
    return verdicts(rows, verdict_settings(run.prepared.config))


def _run_warnings(run: _Run) -> list[str]:
    """What the figures leave out: nodes lost during the run, and drivers killed before."""
    warnings = [
        f"node {node_id} was lost during the run: its meter went with it, so what it "
        "spent (the lost trials' partial work included) is not in these figures"
        for node_id in run.meters.lost  # its trials were run again elsewhere (Tune's retries)
    ]
    if run.state.resumed:
        warnings.append(
            f"the run was resumed {len(run.state.resumed)} time(s) after its driver was "
            "killed: each trial's cost is whole, but the node totals (and the idle and "
            "overhead line) cover the last driver only, and the trials its predecessors "
            "had running when killed were paid for and lost"
        )
    return warnings


def _write_long_results(run: _Run, summary: Summary) -> None:
    """results.csv (with the constant predictor's rows) and trials.jsonl."""
    from automl_bench.results import (
        constant_rows,
        result_rows,
        trial_lines,
        write_results,
        write_trials,
    )
    from automl_bench.tasks import get_task
    from automl_bench.tasks.constant import constant_scores

    config = run.prepared.config
    # a meta-learning family has no constant predictor (its tasks are drawn, not one set)
    table = run.prepared.table
    task = (
        None
        if config.task in META_FAMILIES
        else get_task(config.task, config.data_dir, table.spec if table is not None else None)
    )
    constant = (
        []
        if task is None
        else constant_scores(task, summary.seeds, run.cache, run.prepared.metric.name)
    )
    write_results(
        result_rows(summary) + constant_rows(summary, constant), run.exp_dir / "results.csv"
    )
    write_trials(
        trial_lines(config.experiment, run.studies.values(), run.recorder.times),
        run.exp_dir / "trials.jsonl",
    )


def _finish(run: _Run, looks: Looks) -> Summary:
    """The summary, results.csv and trials.jsonl, the verdict read back from them, and the
    MLflow parent and summary runs closed."""
    from automl_bench.analysis.experiment import analyse, with_analysis
    from automl_bench.files import archive_previous
    from automl_bench.schema import LooksBlock
    from automl_bench.schema import VerdictSettings as SettingsRecord
    from automl_bench.summary import benchmark_cost
    from automl_bench.summary_runs import close_parent_runs, log_summary_run

    config = run.prepared.config
    summary = _summary_now(run, run.meters.totals())
    cost = summary.cost.model_copy(update={"warnings": summary.cost.warnings + _run_warnings(run)})
    summary = summary.model_copy(update={"cost": cost, "resumed": run.state.resumed or None})
    if config.seed_plan is not None:
        block = {**looks.to_dict(), "benchmark": benchmark_cost(summary).model_dump()}
        summary = summary.model_copy(update={"looks": LooksBlock.model_validate(block)})
    archive_previous(run.exp_dir)
    _write_long_results(run, summary)  # results in long format; the verdict reads them alone
    settings = verdict_settings(config)
    summary = with_analysis(summary, analyse(run.exp_dir, settings))
    summary = summary.model_copy(
        update={"verdict_settings": SettingsRecord.model_validate(asdict(settings))}
    )
    close_parent_runs(run.tracking, summary, run.studies)
    run_id = log_summary_run(run.tracking, summary, run.common_tags)
    return summary.model_copy(update={"summary_run_id": run_id})


def _open_studies(
    tracking: Any,
    prepared: Prepared,
    specs: list[StudySpec],
    tags: dict[str, str],
    config_file: Path,
) -> dict[str, StudyRecord]:
    """One MLflow parent run per study, created before any of its trials starts."""
    config = prepared.config
    studies: dict[str, StudyRecord] = {}
    for spec in specs:
        run_id = tracking.start_run(
            name=spec.key,
            tags={
                **tags,
                "method": spec.method,
                "label": spec.label,
                "seed": spec.seed,
                "task": config.task,
                "space": spec.space,
            },
            params={
                "method": spec.method,
                "seed": spec.seed,
                "task": config.task,
                "space": spec.space,
                "trials": spec.n_trials,
                "epochs": config.epochs,
            },
        )
        tracking.log_artifact(run_id, config_file)
        studies[spec.key] = StudyRecord(spec, run_id)
    return studies


def _trial_context(prepared: Prepared, cache: Path) -> TrialContext:
    config = prepared.config
    return TrialContext(
        task=config.task,
        data_dir=config.data_dir,
        cache_dir=str(cache),
        spaces={name: str(s.path) for name, s in prepared.spaces.items()},
        epochs=config.epochs,
        cpus_per_trial=config.resources.cpus_per_trial,
        gpus_per_trial=config.resources.gpus_per_trial,
        prices=prepared.prices,
        deploy_batch_size=config.deploy.batch_size,
        meta_budget=config.meta.model_dump() if config.task in META_FAMILIES else None,
        timeout_s=config.budget.trial_timeout_s,
        # a multi-fidelity scheduler decides at every epoch: each is reported on its own
        report_interval_s=0.0 if any(METHODS[s.method].fidelity for s in prepared.studies) else 1.0,
        metric=prepared.metric.name,
        table=prepared.table.spec if prepared.table is not None else None,
        estimators=tuple(prepared.table.estimators) if prepared.table is not None else (),
    )


def _final_models(
    prepared: Prepared, studies: dict[str, StudyRecord]
) -> list[tuple[FinalModel, str]]:
    """Each study's trained final model (with its trial id), where the final training finished.

    A meta-learning family has none to measure: every method there adapts the same network (its
    model is kept; serving a task is the ``inference`` window: adapting and predicting)."""
    out: list[tuple[FinalModel, str]] = []
    if prepared.config.task in META_FAMILIES:
        return out
    for key, study in studies.items():
        for o in study.outcomes:
            if o.job.phase == FINAL and o.ok and o.model_path:
                space = str(prepared.spaces[o.job.space].path)
                out.append(
                    (FinalModel(key, space, o.job.config, o.job.seed, o.model_path), o.trial_id)
                )
    return out


def _deploy_settings(prepared: Prepared, cache: Path) -> DeploySettings:
    deploy = prepared.config.deploy
    return DeploySettings(
        task=prepared.config.task,
        data_dir=prepared.config.data_dir,
        cache_dir=str(cache),
        batch_size=deploy.batch_size,
        threads=deploy.threads,
        constraints=Constraints(**deploy.constraints.model_dump(), target=deploy.target),
        onnx=deploy.onnx,
        cuda=False,  # the runner turns it on where a GPU is there
        table=prepared.table.spec if prepared.table is not None else None,
    )


def verdict_settings(config: ExperimentConfig) -> VerdictSettings:
    """The config's ``verdict:`` section, with the deployment constraints in words and how
    many seeds a forecast may count on (the seed plan's max, else 100)."""
    deploy = config.deploy
    limits = Constraints(**deploy.constraints.model_dump(), target=deploy.target)
    plan = config.seed_plan
    return VerdictSettings(
        rope_points=config.verdict.rope_points,
        value_usd_per_point_per_million=config.verdict.value_usd_per_point_per_million,
        deployment_predictions=config.verdict.deployment_predictions,
        constraints=limits.describe(),
        max_seeds=plan.max if plan is not None else 100,
    )


def _fit_concurrency(cpus: float, gpus: float, cpus_per_trial: float, gpus_per_trial: float) -> int:
    fits = int(cpus // cpus_per_trial) if cpus_per_trial > 0 else 1
    if gpus_per_trial > 0:
        fits = min(fits, int(gpus // gpus_per_trial))
    return max(1, fits)


__all__ = ["Prepared", "plan_studies", "prepare", "run_experiment"]
