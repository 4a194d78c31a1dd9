"""Every final model of an experiment, measured for deployment in one process, one at a time.

Each model is rebuilt from its search space and configuration, its trained weights loaded from
the final training's checkpoint, and measured on the real test inputs of its seed's split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl_bench.deploy.record import Constraints, DeployRecord


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


def measure_final_models(
    models: list[FinalModel], settings: DeploySettings
) -> dict[str, DeployRecord | str]:
    """Study key -> the model's deploy record, checked against the constraints, or the reason it
    could not be measured."""
    import torch

    from automl_bench.deploy.measure import measure
    from automl_bench.space import load_search_space
    from automl_bench.tasks import load_task

    out: dict[str, DeployRecord | str] = {}
    for model_ref in models:
        try:
            space = load_search_space(model_ref.space_path)
            data = load_task(
                settings.task,
                model_ref.seed,
                Path(settings.cache_dir),
                torch.device("cpu"),
                settings.data_dir,
            )
            model = space.build(dict(model_ref.config), data.info)
            state = torch.load(Path(model_ref.model_dir) / "model.pt", map_location="cpu")
            model.load_state_dict(state)
            record = measure(
                model,
                data.x_test,
                batch_size=settings.batch_size,
                threads=settings.threads,
                seconds=settings.seconds,
                cuda=settings.cuda,
                onnx=settings.onnx,
            )
            out[model_ref.key] = record.checked(settings.constraints)
        except Exception as exc:  # one model that cannot be measured does not stop the others
            out[model_ref.key] = f"{type(exc).__name__}: {exc}"[:500]
    return out
