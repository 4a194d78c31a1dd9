"""The deploy phase: every final model measured in one process, on one machine.

One process measures every model (so the figures compare), holding ``deploy.threads`` CPUs and,
when the cluster has a GPU, one whole GPU (so nothing else runs on it while it is timed). On a
cluster that process is one Ray task; on the local Ray a run starts by default it is the driver
itself, which has nothing else to do while it measures (the trials of the look have ended) and
needs no worker started and no torch imported again: seconds per look. Its work is a window on
the node's meter, holding the same CPUs and GPU: the experiment's ``deploy`` cost line, charged
to no method.
"""

from __future__ import annotations

from dataclasses import replace

import ray

from automl_bench.cost.prices import Prices
from automl_bench.cost.record import CostRecord
from automl_bench.cost.window import metered
from automl_bench.deploy.models import DeploySettings, FinalModel, measure_final_models
from automl_bench.deploy.record import DeployRecord
from automl_bench.runner.meters import RayWindowMeter


def _metered_measurement(
    models: list[FinalModel], settings: DeploySettings, cpus: float, gpus: float, prices: Prices
) -> tuple[dict[str, DeployRecord | str], CostRecord]:
    with metered(RayWindowMeter(cpus, gpus), prices) as spent:
        records = measure_final_models(models, settings)
    return records, spent.record


def measure_deployments(
    models: list[FinalModel],
    settings: DeploySettings,
    cpus: float,
    gpus: float,
    prices: Prices,
    here: bool = False,
) -> tuple[dict[str, DeployRecord | str], CostRecord]:
    """Study key -> deploy record (or why it could not be measured), from one Ray task (in this
    process when ``here``: a local Ray on this machine); and what measuring cost."""
    if not models:
        return {}, CostRecord()
    held_cpus, held_gpus = min(float(settings.threads), cpus), 1.0 if gpus >= 1 else 0.0
    if here:
        try:
            return _metered_measurement(
                models, replace(settings, cuda=held_gpus > 0), held_cpus, held_gpus, prices
            )
        except Exception as exc:  # as a failed task would be: every record says why
            reason = f"the deploy measurement failed: {type(exc).__name__}: {exc}"[:300]
            return {m.key: reason for m in models}, CostRecord()
    task = ray.remote(_metered_measurement).options(  # type: ignore[call-overload]
        num_cpus=held_cpus, num_gpus=held_gpus, max_retries=0
    )
    try:
        records, spent = ray.get(
            task.remote(models, replace(settings, cuda=held_gpus > 0), held_cpus, held_gpus, prices)
        )
    except ray.exceptions.RayError as exc:
        lines = str(exc).strip().splitlines()
        reason = lines[-1][:300] if lines else repr(exc)
        return {m.key: f"the deploy measurement failed: {reason}" for m in models}, CostRecord()
    return records, spent
