"""Every final model of an experiment, measured for deployment in one process, one at a time.

Each model is rebuilt from its search space and configuration, its trained weights loaded from
the final training's checkpoint, and measured on the real test inputs of its seed's split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl_bench.deploy.record import Constraints, DeployRecord

if TYPE_CHECKING:
    from automl_bench.tasks.base import TaskInfo
    from automl_bench.tasks.table.spec import TableSpec


@dataclass(frozen=True)
class FinalModel:
    """A final training's model: where it came from and where its weights are."""

    key: str  # the study
    space_path: str
    config: dict[str, Any]
    seed: int
    model_dir: str  # holds model.pt (its state_dict)


@dataclass(frozen=True)
class DeploySettings:
    task: str
    cache_dir: str
    batch_size: int
    threads: int
    constraints: Constraints
    onnx: bool | None  # None: when the onnx extra is installed
    cuda: bool  # measure on the GPU too (one is available to this process)
    seconds: float = 0.5  # per timing series
    data_dir: str | None = None  # an image task's folder
    table: TableSpec | None = None  # task table: its file (models are measured from raw rows)


def measure_final_models(
    models: list[FinalModel], settings: DeploySettings
) -> dict[str, DeployRecord | str]:
    """Study key -> the model's deploy record, checked against the constraints, or the reason it
    could not be measured."""
    out: dict[str, DeployRecord | str] = {}
    for model_ref in models:
        try:
            measure_one = _measure_from_rows if settings.table is not None else _measure_net
            out[model_ref.key] = measure_one(model_ref, settings).checked(settings.constraints)
        except Exception as exc:  # one model that cannot be measured does not stop the others
            out[model_ref.key] = f"{type(exc).__name__}: {exc}"[:500]
    return out


def _measure_net(model_ref: FinalModel, settings: DeploySettings) -> DeployRecord:
    """A network on its seed's test inputs, on the CPU (and the GPU where there is one)."""
    import torch

    from automl_bench.deploy.measure import measure
    from automl_bench.tasks import load_task

    data = load_task(
        settings.task,
        model_ref.seed,
        Path(settings.cache_dir),
        torch.device("cpu"),
        settings.data_dir,
    )
    return measure(
        _load_net(model_ref, data.info),
        data.x_test,
        batch_size=settings.batch_size,
        threads=settings.threads,
        seconds=settings.seconds,
        cuda=settings.cuda,
        onnx=settings.onnx,
    )


def _load_net(model_ref: FinalModel, info: TaskInfo) -> Any:
    import torch

    from automl_bench.space import load_search_space

    model = load_search_space(model_ref.space_path).build(dict(model_ref.config), info)
    state = torch.load(Path(model_ref.model_dir) / "model.pt", map_location="cpu")
    model.load_state_dict(state)
    return model


def _measure_from_rows(model_ref: FinalModel, settings: DeploySettings) -> DeployRecord:
    """A table's model together with its preprocessing, answering raw rows of its seed's test
    split: the fitted transform and the net, or the fitted scikit-learn pipeline (CPU only)."""
    import pickle

    from automl_bench.deploy.rows import EstimatorOnRows, NetOnRows, measure_rows
    from automl_bench.estimator_trial import MODEL_FILE
    from automl_bench.tasks.table.task import open_table

    assert settings.table is not None
    table, cache = open_table(settings.table), Path(settings.cache_dir)
    transform = table.fitted_transform(model_ref.seed, cache)
    pickled = Path(model_ref.model_dir) / MODEL_FILE
    answering: Any = (
        EstimatorOnRows(transform, pickle.loads(pickled.read_bytes()))
        if pickled.exists()
        else NetOnRows(transform, _load_net(model_ref, table.info))
    )
    return measure_rows(
        answering,
        table.raw_rows(model_ref.seed, cache, "test"),
        batch_size=settings.batch_size,
        threads=settings.threads,
        seconds=settings.seconds,
        onnx=settings.onnx,
    )
