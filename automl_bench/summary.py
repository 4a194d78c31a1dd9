"""Building the experiment's ``Summary`` record from its studies as the driver holds them.

Writing it (summary.json, summary.csv) is ``outputs``; printing it is ``report.console``; its
schema is ``schema``; cost totals are ``cost.totals``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from automl_bench.analysis.intervals import mean_ci
from automl_bench.cost.node_meter import NodeTotals
from automl_bench.cost.prices import Prices
from automl_bench.cost.record import CostRecord, total
from automl_bench.cost.totals import ExperimentTotals, StudyCosts, experiment_totals, per_1k
from automl_bench.failures import count_failures
from automl_bench.meta_summary import meta_block, meta_ratios, method_meta
from automl_bench.methods import get_method
from automl_bench.metric import ACCURACY, BASELINE, Metric
from automl_bench.outcome import TrialOutcome
from automl_bench.schema import (
    Attribution,
    Benchmark,
    Budget,
    Cost,
    Deploy,
    DeploySummary,
    ExperimentCost,
    Failure,
    MeanCI,
    Method,
    MethodCost,
    NodeCost,
    ParetoTrial,
    PriceTable,
    Study,
    Summary,
)
from automl_bench.study_record import StudyRecord
from automl_bench.trial import FINAL, INFERENCE, SEARCH


@dataclass(frozen=True)
class RunFacts:
    """What the driver knows about the run as a whole, written as it is."""

    experiment: str
    task: str
    space: str
    created: str
    code_revision: str | None
    hardware: dict[str, Any]
    versions: dict[str, Any]
    budget: Budget
    deploy: dict[str, Any]  # the config's deploy section
    wall_s: float  # the whole run
    trials_wall_s: float  # the first trial's start to the last one's end
    tracking_uri: str
    cluster: dict[str, Any]


@dataclass(frozen=True)
class Scoring:
    """What every study is scored by and against, and its multi-objective cost."""

    metric: Metric = ACCURACY
    reference: str = BASELINE
    cost_objective: str = "params"


def study_costs(record: StudyRecord) -> StudyCosts:
    """Search (its trials plus its sampler's work), final training, and the first final
    trial's inference window with the predictions made in it."""
    search = total(o.cost for o in record.outcomes if o.job.phase == SEARCH) + record.decide
    finals = [o for o in record.outcomes if o.job.phase == FINAL]
    result = finals[0].result if finals else {}
    predictions = int(result.get(f"{INFERENCE}_predictions") or 0)
    inference = CostRecord.from_result(result, f"{INFERENCE}_") if predictions else CostRecord()
    return StudyCosts(search, total(o.cost for o in finals), inference, predictions)


def pareto_trials(
    outcomes: list[TrialOutcome], cost_objective: str, metric: Metric = ACCURACY
) -> list[ParetoTrial]:
    """A multi-objective study's Pareto front over its finished search trials: the validation
    metric (by its direction) against ``cost_objective`` (lower is better), cheapest first."""
    from automl_bench.analysis.curves import pareto_front

    points: dict[str, tuple[float, float]] = {}
    configs: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        value = o.val_metric(metric)
        if o.job.phase == SEARCH and value is not None and cost_objective in o.result:
            points[o.trial_id] = (value, float(o.result[cost_objective]))
            configs.setdefault(o.trial_id, o.job.config)
    return [
        ParetoTrial(
            trial_id=t,
            val_metric=points[t][0],
            objective=cost_objective,
            cost=points[t][1],
            config=configs[t],
        )
        for t in pareto_front(points, metric.sign > 0)
    ]


def _deploy(record: StudyRecord, inference_per_1k: CostRecord) -> Deploy | None:
    """The final model's deploy record, with its inference energy per 1,000 predictions from
    the cost meter; a model that could not be measured is not feasible."""
    if record.deploy is None:
        return None
    if isinstance(record.deploy, str):
        return Deploy(
            error=record.deploy, feasible=False, broken=[f"not measured: {record.deploy}"]
        )
    return Deploy.model_validate(
        {
            **record.deploy.to_dict(),
            "inference_per_1k_energy_kwh": inference_per_1k.energy_kwh,
            "inference_per_1k_wall_s": inference_per_1k.wall_s,
        }
    )


def _best(search: list[TrialOutcome], metric: Metric) -> TrialOutcome | None:
    """The finished search trial with the best validation value by ``metric``'s direction."""
    scored = [(o, v) for o in search if o.ok and (v := o.val_metric(metric)) is not None]
    return max(scored, key=lambda p: metric.sign * p[1])[0] if scored else None


def study_summary(record: StudyRecord, scoring: Scoring = Scoring()) -> Study:
    """One study's figures; the best search trial is chosen by the metric's direction."""
    metric = scoring.metric
    search = [o for o in record.outcomes if o.job.phase == SEARCH]
    finals = [o for o in record.outcomes if o.job.phase == FINAL]
    final = finals[0] if finals else None
    best = _best(search, metric)
    # what the study chose is what its final training trained (a one-shot search derives it)
    best_config = final.job.config if final else (best.job.config if best else None)
    costs = study_costs(record)
    multi = get_method(record.spec.method).multi_objective
    count = count_failures(record.outcomes)  # the one count of what ran and what failed
    return Study(
        seed=record.spec.seed,
        look=record.look,
        method=record.spec.method,
        space=record.spec.space,
        best_config=best_config,
        trials=count.search,
        failed=count.search_failed,
        final_trainings=count.final,
        final_failed=count.final_failed,
        stopped=sum(o.status == "stopped" for o in search),
        failures=[
            Failure(trial_id=o.trial_id, phase=o.job.phase, reason=o.reason)
            for o in record.outcomes
            if o.failed
        ],
        search=Cost.of(costs.search),
        decide=Cost.of(record.decide),
        final=Cost.of(costs.final),
        inference=Cost.of(costs.inference),
        inference_predictions=costs.predictions,
        inference_per_1k=Cost.of(costs.inference_per_1k),
        val_metric=best.val_metric(metric) if best else None,
        test_metric=final.test_metric(metric) if final else None,
        model_path=final.model_path if final else None,
        deploy=_deploy(record, costs.inference_per_1k),
        pareto_front=pareto_trials(record.outcomes, scoring.cost_objective, metric)
        if multi
        else None,
        meta=meta_block(final.result, metric) if final is not None and final.ok else None,
    )


def deploy_summary(studies: list[Study]) -> DeploySummary:
    """Per method: how many of its final models are feasible, and what the others break."""
    records = [s.deploy for s in studies if s.deploy is not None]
    return DeploySummary(
        models=len(records),
        feasible=sum(r.feasible for r in records),
        broken=sorted({b for r in records for b in r.broken}),
    )


def method_summary(
    studies: list[Study],
    costs: list[StudyCosts],
    reference_tests: Mapping[int, float | None],
    scoring: Scoring,
) -> Method:
    """A method over its seeds: the test metric, the paired difference to the reference, its
    meta-learning figures, deployability and totals."""
    metric = scoring.metric
    tests = [s.test_metric for s in studies if s.test_metric is not None]
    pairs = [
        s.test_metric - ref
        for s in studies
        if s.test_metric is not None and (ref := reference_tests.get(s.seed)) is not None
    ]
    delta = MeanCI.model_validate(mean_ci(pairs, metric.difference_bounds))
    return Method(
        studies=studies,
        test_metric=MeanCI.model_validate(mean_ci(tests, metric.value_bounds)),
        delta_vs_reference=delta,
        delta_vs_baseline=delta if scoring.reference == BASELINE else None,
        meta=method_meta(studies, metric),
        deploy=deploy_summary(studies),
        cost=MethodCost(
            search=Cost.of(total(c.search for c in costs)),
            final=Cost.of(total(c.final for c in costs)),
            inference_per_1k=Cost.of(
                per_1k(total(c.inference for c in costs), sum(c.predictions for c in costs))
            ),
        ),
    )


def experiment_cost(
    totals: ExperimentTotals, prices: Prices, metering: Mapping[str, float], gpus: list[str]
) -> ExperimentCost:
    """The cost block: the lines of ``totals`` and the prices they were reckoned at."""
    return ExperimentCost(
        **{phase: Cost.of(record) for phase, record in totals.phases.items()},
        deploy=Cost.of(totals.deploy),
        idle=Cost.of(totals.idle),
        unclosed=Cost.of(totals.unclosed),
        node=Cost.of(totals.node),
        attribution=Attribution(
            node_kwh=totals.node.energy_kwh,
            phases_kwh=totals.attributed_kwh,
            deploy_kwh=totals.deploy.energy_kwh,
            idle_kwh=totals.idle.energy_kwh,
            unclosed_kwh=totals.unclosed.energy_kwh,
            ratio=totals.ratio,
        ),
        nodes={
            node_id: NodeCost(
                node=Cost.of(n.node), idle=Cost.of(n.idle), unclosed_windows=n.unclosed_count
            )
            for node_id, n in totals.nodes.items()
        },
        prices=PriceTable.model_validate(prices.to_dict()),
        gpus_used=gpus,
        warnings=[totals.gpu_mismatch] if totals.gpu_mismatch else [],
        metering=dict(metering),
    )


def gpus_used(records: list[StudyRecord]) -> list[str]:
    return sorted(
        {str(o.result["gpu_name"]) for r in records for o in r.outcomes if "gpu_name" in o.result}
    )


@dataclass(frozen=True)
class Metering:
    """What the node meters measured and how metering went; priced with ``prices``."""

    node_totals: Mapping[str, NodeTotals]
    prices: Prices
    figures: Mapping[str, float]  # the meters' own figures (start-up time...)
    deploy: CostRecord | None = None  # measuring the final models' deployability


def methods_summary(records: list[StudyRecord], scoring: Scoring) -> dict[str, Method]:
    """Every method (by label, in the order first run) over its seeds."""
    studies: dict[str, list[Study]] = defaultdict(list)
    costs: dict[str, list[StudyCosts]] = defaultdict(list)
    for record in records:
        studies[record.spec.label].append(study_summary(record, scoring))
        costs[record.spec.label].append(study_costs(record))
    reference_tests = {s.seed: s.test_metric for s in studies.get(scoring.reference, [])}
    return {
        label: method_summary(
            sorted(mine, key=lambda s: s.seed), costs[label], reference_tests, scoring
        )
        for label, mine in studies.items()
    }


def benchmark_cost(summary: Summary) -> Benchmark:
    """What deciding cost: every study's search and final training, and the part spent on the
    seeds added after the first look. This is the benchmark's own cost, not a method's."""
    every, added = CostRecord(), CostRecord()
    for method in summary.methods.values():
        for study in method.studies:
            spent = study.search.record() + study.final.record()
            every = every + spent
            if study.look > 0:
                added = added + spent
    seeds = {label: len(m.studies) for label, m in summary.methods.items()}
    return Benchmark(seeds=seeds, all_seeds=Cost.of(every), added_seeds=Cost.of(added))


def build_summary(
    facts: RunFacts, records: list[StudyRecord], scoring: Scoring, metering: Metering
) -> Summary:
    """The summary of ``records``. Per method, ``delta_vs_reference`` is the mean paired
    difference method - reference in the metric's own values (a fraction for accuracy;
    negative is better for MSE), also as ``delta_vs_baseline`` when the reference is
    ``baseline``."""
    methods = methods_summary(records, scoring)
    gpus = gpus_used(records)
    totals = experiment_totals(
        (study_costs(r) for r in records),
        metering.node_totals,
        metering.prices,
        gpus,
        metering.deploy,
    )
    metric = scoring.metric
    return Summary(
        **{k: getattr(facts, k) for k in RunFacts.__dataclass_fields__},
        metric=metric.name,
        direction=metric.direction,
        metric_unit=metric.unit,
        metric_scale=metric.scale,
        reference_method=scoring.reference,
        seeds=sorted({r.spec.seed for r in records}),
        cost=experiment_cost(totals, metering.prices, metering.figures, gpus),
        methods=methods,
        meta_ratios=meta_ratios({label: m.meta for label, m in methods.items()}),
    )
