"""Running a user's ``build`` and forward pass for the checks: each failure becomes one line.

The user's exception is the error's ``__cause__`` (pytest shows its traceback); the message
itself holds only its type and first line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from automl_bench.seeding import init_seed

if TYPE_CHECKING:
    import torch

    from automl_bench.space import SearchSpace
    from automl_bench.space_errors import SearchSpaceCheckError
    from automl_bench.testing.target import CheckTarget


class Subject(Protocol):
    """What running a build needs of the space under check (``subject.Subject`` has it)."""

    seed: int
    space: SearchSpace
    target: CheckTarget

    def error(self, check: str, problem: str) -> SearchSpaceCheckError: ...


def build_model(
    s: Subject, check: str, label: str, config: Mapping[str, Any], seed: int | None = None
) -> torch.nn.Module:
    """``build(config, task)`` under torch's global seed ``seed`` (the trial's, by default)."""
    import torch

    torch.manual_seed(init_seed(s.seed, "search") if seed is None else seed)
    try:
        model = s.space.build(dict(config), s.target.info)
    except (Exception, SystemExit) as exc:  # the user's code: any failure is the space's
        raise s.error(check, f"build({label}) raised {describe(exc)}") from exc
    if isinstance(model, type):
        raise s.error(
            check,
            f"build({label}) returned the class {model.__qualname__}, expected an instance "
            "of a torch.nn.Module (was it called?)",
        )
    if not isinstance(model, torch.nn.Module):
        raise s.error(
            check,
            f"build({label}) returned {type(model).__name__} {short(repr(model))}, expected "
            "a torch.nn.Module",
        )
    return model


def forward(
    s: Subject, check: str, label: str, model: torch.nn.Module, x: torch.Tensor, mode: str = ""
) -> torch.Tensor:
    """``model(x)``, which must give a tensor."""
    import torch

    try:
        out = model(x)
    except (Exception, SystemExit) as exc:
        raise s.error(
            check,
            f"the {mode}forward pass of build({label}) on a {s.target.name} batch of shape "
            f"{tuple(x.shape)} raised {describe(exc)}",
        ) from exc
    if not isinstance(out, torch.Tensor):
        raise s.error(
            check,
            f"the forward pass of build({label}) returned {type(out).__name__}, expected a tensor",
        )
    return out


def same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal shapes, dtypes and values, NaN equal to NaN (NaN is the forward check's business)."""
    import torch

    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point() or a.is_complex():
        return bool(
            torch.equal(a.isnan(), b.isnan()) and torch.equal(a.nan_to_num(), b.nan_to_num())
        )
    return bool(torch.equal(a, b))


def describe(exc: BaseException) -> str:
    """``Type: first line of the message``, short: never a traceback."""
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return f"{type(exc).__name__}: {short(lines[0])}" if lines else type(exc).__name__


def short(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@contextmanager
def torch_kept() -> Iterator[None]:
    """The checks seed torch and run it on one thread (batches of 7 gain nothing from more, and
    on a busy machine extra threads make them many times slower); the caller's global random
    state and thread count are restored afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        torch.set_num_threads(threads)


@contextmanager
def optuna_quiet() -> Iterator[None]:
    import optuna

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)
