"""One study's record in summary.json: its best configuration, trials, failures, cost per
phase, test metric, deploy record, Pareto front and meta-learning figures."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from automl_bench.deploy.record import DeviceFigures
from automl_bench.schema.base import Record
from automl_bench.schema.cost import Cost

Figure = float | int | str | bool | list[float] | None
STEPS = "steps"


class Failure(Record):
    trial_id: str
    phase: str
    reason: str | None


class ParetoTrial(Record):
    """A search trial on the study's Pareto front; written as ``{"trial_id", "val_metric",
    <objective>: cost, "config"}`` (``"params": 1234``)."""

    trial_id: str
    val_metric: float
    objective: str
    cost: float
    config: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _from_file(cls, data: Any) -> Any:
        if isinstance(data, dict) and "objective" not in data:
            named = [k for k in data if k not in ("trial_id", "val_metric", "config")]
            if len(named) == 1:
                data = {**data, "objective": named[0], "cost": data[named[0]]}
                del data[named[0]]
        return data

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {
            "trial_id": self.trial_id,
            "val_metric": self.val_metric,
            self.objective: self.cost,
            "config": self.config,
        }


class Deploy(Record):
    """A final model's deploy record with its inference energy per 1,000 predictions; a model
    that could not be measured has only ``error``, ``feasible`` (False) and ``broken``."""

    OMIT_NONE = frozenset(
        {
            "error",
            "params",
            "flops",
            "size_mb",
            "exportable",
            "onnx",
            "inference_per_1k_energy_kwh",
            "inference_per_1k_wall_s",
        }
    )
    error: str | None = None
    params: int | None = None
    flops: int | None = None
    size_mb: float | None = None
    exportable: bool | None = None
    export_error: str | None = None
    onnx: str | None = None
    cpu: DeviceFigures | None = None
    cuda: DeviceFigures | None = None
    broken: list[str]
    feasible: bool
    inference_per_1k_energy_kwh: float | None = None
    inference_per_1k_wall_s: float | None = None


class MetaStep(Record):
    """The test metric after some adaptation steps: a study's over its meta-test tasks, or a
    method's over its seeds (``ci`` says which interval, ``seeds`` over how many)."""

    OMIT_NONE = frozenset({"diverged", "ci", "seeds"})
    mean: float
    ci95: tuple[float | None, float | None] | None
    ci: str | None = None
    seeds: int | None = None
    diverged: int | None = None  # tasks whose adaptation blew up, left out of the mean


class MetaFigures(Record):
    """Meta-learning figures (``seconds_per_iteration``, ``peak_memory_mb``, ``memory_measured``,
    ``tasks_served``, ``train_kwh_per_task``...; a learner adds its own) and, per adaptation
    step, the test metric. Written flat: the figures beside ``"steps"``."""

    figures: dict[str, Figure]
    steps: dict[str, MetaStep]

    def number(self, name: str) -> float | None:
        value = self.figures.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)

    def text(self, name: str) -> str | None:
        value = self.figures.get(name)
        return value if isinstance(value, str) and value else None

    @model_validator(mode="before")
    @classmethod
    def _from_file(cls, data: Any) -> Any:
        if isinstance(data, dict) and "figures" not in data:
            figures = {k: v for k, v in data.items() if k != STEPS}
            return {"figures": figures, STEPS: data.get(STEPS, {})}
        return data

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        return {**data["figures"], STEPS: data[STEPS]}


class Study(Record):
    """One method with one seed: what it chose, ran and spent, and how its final model did."""

    OMIT_NONE = frozenset({"pareto_front", "meta"})
    seed: int
    look: int = 0
    method: str
    space: str
    best_config: dict[str, Any] | None
    trials: int
    failed: int
    # final trainings run and failed (failures.py); None: a record from before they were counted
    final_trainings: int | None = None
    final_failed: int | None = None
    stopped: int = 0  # early, by the scheduler
    failures: list[Failure] = Field(default_factory=list)
    search: Cost  # every search trial (failed ones at what they ran) plus the sampler's work
    decide: Cost
    final: Cost
    inference: Cost
    inference_predictions: int
    inference_per_1k: Cost
    val_metric: float | None
    test_metric: float | None
    model_path: str | None
    deploy: Deploy | None
    pareto_front: list[ParetoTrial] | None = None
    meta: MetaFigures | None = None

    @property
    def finished(self) -> bool:
        return self.test_metric is not None

    def cost(self, phase: str) -> Cost:
        """The cost of ``phase``: search, decide, final, inference or inference_per_1k."""
        found = getattr(self, phase)
        if not isinstance(found, Cost):
            raise ValueError(f"no phase {phase!r}")
        return found
