"""What a model built for a task is fed, and what it must give back, as the checks see it.

Three kinds of output, one per kind of task:

- ``logits`` (the classification tasks, folder tasks included): shape (batch, num_classes),
  trained with cross-entropy;
- ``regression`` (the sinusoid family): shape (batch, outputs), trained with mean squared error;
- ``embedding`` (the few-shot families: ProtoNets compare embeddings): shape (batch, features)
  of any width, trained through whatever loss reads it (the checks use the mean square).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from automl_bench.errors import ConfigError
from automl_bench.tasks.base import TaskInfo

if TYPE_CHECKING:
    import torch

LOGITS, REGRESSION, EMBEDDING = "logits", "regression", "embedding"


@dataclass(frozen=True)
class CheckTarget:
    """The task a space is checked on: ``info`` is what ``build`` is given, ``output`` the kind
    of output its model must give (``logits``, ``regression`` or ``embedding``)."""

    info: TaskInfo
    output: str = LOGITS

    def __post_init__(self) -> None:
        if self.output not in (LOGITS, REGRESSION, EMBEDDING):
            raise ValueError(
                f"`output` must be one of {LOGITS!r}, {REGRESSION!r}, {EMBEDDING!r}, "
                f"but got {self.output!r}."
            )

    @property
    def name(self) -> str:
        return self.info.name

    def expected_shape(self, batch: int) -> tuple[int, ...] | None:
        """The output's shape; None for an embedding (only its batch dimension is known)."""
        return None if self.output == EMBEDDING else (batch, self.info.num_classes)

    def noun(self) -> str:
        """The output in words, for a message: ``logits``."""
        return {LOGITS: "logits", REGRESSION: "predictions", EMBEDDING: "embeddings"}[self.output]

    def dims(self) -> str:
        """What the output's dimensions are: ``batch, num_classes``."""
        last = {LOGITS: "num_classes", REGRESSION: "outputs", EMBEDDING: "features"}[self.output]
        return f"batch, {last}"

    def loss(self, out: torch.Tensor) -> torch.Tensor:
        """A loss of the kind the task trains with, on fixed targets."""
        import torch

        out = out.float()
        if self.output == LOGITS:
            labels = torch.arange(out.shape[0]) % self.info.num_classes
            return torch.nn.functional.cross_entropy(out, labels)
        if self.output == REGRESSION:
            return torch.nn.functional.mse_loss(out, torch.ones_like(out))
        return out.pow(2).mean()


def check_target(
    task: str | TaskInfo | CheckTarget, data_dir: str | Path | None = None
) -> CheckTarget:
    """The target for ``task``: a registered task, a meta-learning family, a folder task read
    from ``data_dir``, an unregistered :class:`TaskInfo` (its output: logits), or a target."""
    if isinstance(task, CheckTarget):
        return task
    if isinstance(task, TaskInfo):  # a table's regression: one output, squared error
        return CheckTarget(task, REGRESSION if task.problem == REGRESSION else LOGITS)
    from automl_bench.tasks import TASKS, get_task
    from automl_bench.tasks.folders import FOLDER_TASKS

    if task in TASKS:
        return CheckTarget(TASKS[task].info)
    meta = _meta_targets()
    if task in meta:
        return meta[task]
    if task in FOLDER_TASKS:
        if data_dir is None:
            raise ConfigError("data_dir", f"task {task!r} reads a folder: give its data_dir")
        return CheckTarget(get_task(task, data_dir).info)
    known = sorted([*TASKS, *meta, *FOLDER_TASKS])
    raise ConfigError("task", f"unknown task {task!r}; the tasks are {known}")


def _meta_targets() -> dict[str, CheckTarget]:
    """The meta-learning families: what their networks take and give (see meta/)."""
    from automl_bench.tasks import TASKS
    from automl_bench.tasks.families import FEWSHOT_DIGITS, FEWSHOT_MNIST1D, SINUSOID

    def fewshot(name: str, source: str) -> CheckTarget:
        info = TASKS[source].info
        return CheckTarget(TaskInfo(name, info.input_shape, info.num_classes), EMBEDDING)

    return {
        SINUSOID: CheckTarget(TaskInfo(SINUSOID, (1,), 1), REGRESSION),  # x -> y, one point each
        FEWSHOT_MNIST1D: fewshot(FEWSHOT_MNIST1D, "mnist1d"),
        FEWSHOT_DIGITS: fewshot(FEWSHOT_DIGITS, "digits"),
    }
