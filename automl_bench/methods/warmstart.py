"""Warm start: a study on a new task begins from earlier studies on related tasks.

The earlier experiments (``search.warmstart_from``: names under ``output_dir``) are read from
their ``trials.jsonl``: the finished search trials of searching methods (status ``ok``, with a
validation metric; a proxy's scores and a one-shot method's supernet are left out). The top
``search.warmstart_top`` configurations overall, by validation metric in the direction of the
earlier experiment's task (``automl_bench.scoring.task_metric``; maximize when its task is not
recorded), are enqueued as the study's first trials, and the space is narrowed to their bounding
box (``narrowed``): every number between the smallest and the largest value they took, every
categorical parameter to the values they took.

Everything is checked in ``load_warmstart``, before anything starts: a named experiment without
trials.jsonl, without usable trials, run on another search space, or whose configurations are
not points of this experiment's space is a ``ConfigError`` on ``search.warmstart_from``.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from automl_bench.errors import ConfigError
from automl_bench.metric import MAXIMIZE
from automl_bench.scoring import task_metric

if TYPE_CHECKING:
    import optuna

    from automl_bench.space import SearchSpace, SpaceFn

FIELD = "search.warmstart_from"


class WarmstartSearch(Protocol):
    """The config's ``search`` section, as far as a warm start reads it."""

    @property
    def warmstart_from(self) -> Sequence[str]: ...

    @property
    def warmstart_top(self) -> int: ...


class WarmstartConfig(Protocol):
    """What ``load_warmstart`` reads of an experiment's config (``ExperimentConfig`` has it; the
    config module imports the methods, so they name no config class back)."""

    @property
    def experiment(self) -> str: ...

    @property
    def output_dir(self) -> str: ...

    @property
    def search(self) -> WarmstartSearch: ...


_GRID_TOLERANCE = 1e-9  # a value this close to a step of the grid is on it (float rounding)


@dataclass(frozen=True)
class Bound:
    """What the chosen configurations took for one parameter: the distinct values, in the order
    first seen. A number's range is [low, high]; a categorical parameter keeps ``seen``."""

    seen: tuple[Any, ...]

    @property
    def numeric(self) -> bool:
        return bool(self.seen) and all(_is_number(v) for v in self.seen)

    @property
    def low(self) -> float:
        return float(min(self.seen))

    @property
    def high(self) -> float:
        return float(max(self.seen))


Box = Mapping[str, Bound]


@dataclass(frozen=True)
class Candidate:
    """One finished search trial of an earlier experiment."""

    experiment: str
    method: str
    value: float  # its validation metric
    config: dict[str, Any]


@dataclass(frozen=True)
class WarmStart:
    """What a ``warmstart`` study starts from: ``top`` (best first; their configurations are
    enqueued in that order) and the bounding ``box`` of their parameters."""

    sources: tuple[str, ...]
    direction: str
    top: tuple[Candidate, ...]
    box: Box = field(default_factory=dict)

    @property
    def configs(self) -> list[dict[str, Any]]:
        return [dict(c.config) for c in self.top]

    def space(self, space_fn: SpaceFn) -> SpaceFn:
        return narrowed(space_fn, self.box)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def bounding_box(configs: Sequence[Mapping[str, Any]]) -> dict[str, Bound]:
    """Per parameter, the values ``configs`` took (a parameter some lack: those that have it)."""
    seen: dict[str, list[Any]] = {}
    for config in configs:
        for name, value in config.items():
            values = seen.setdefault(name, [])
            if not any(_same(value, v) for v in values):
                values.append(value)
    return {name: Bound(tuple(values)) for name, values in seen.items()}


def _same(a: Any, b: Any) -> bool:
    """Equal, and a bool only ever equals a bool (``True == 1`` in Python)."""
    return isinstance(a, bool) == isinstance(b, bool) and bool(a == b)


# -- the narrowed space ---------------------------------------------------------------------------


def _snap(value: float, origin: float, step: float, up: bool) -> float:
    """``value`` moved onto the grid ``origin + k * step``: up (ceil) or down (floor)."""
    k = (value - origin) / step
    if abs(k - round(k)) < _GRID_TOLERANCE:
        k = round(k)
    return origin + (math.ceil(k) if up else math.floor(k)) * step


def narrow_range(
    low: float, high: float, bound: Bound | None, step: float | None = None
) -> tuple[float, float]:
    """[low, high] clamped to ``bound``'s range and snapped outwards onto the step grid
    (``low + k * step``); the range unchanged where ``bound`` does not fit it."""
    if bound is None or not bound.numeric:
        return low, high
    lo, hi = max(low, bound.low), min(high, bound.high)
    if lo > hi:  # the box lies outside this range: nothing to narrow to
        return low, high
    if step:
        top = _snap(high, low, step, up=False)  # the last point of the grid
        lo = _snap(lo, low, step, up=False)
        hi = min(_snap(hi, low, step, up=True), top)
    return lo, hi


def narrow_choices(choices: Sequence[Any], bound: Bound | None) -> list[Any]:
    """The choices ``bound`` saw, in their original order; all of them if it saw none."""
    if bound is None:
        return list(choices)
    kept = [c for c in choices if any(_same(c, v) for v in bound.seen)]
    return kept or list(choices)


class _NarrowedTrial:
    """A trial whose ``suggest_*`` draw from the box; everything else is the trial's own."""

    def __init__(self, trial: Any, box: Box) -> None:
        self._trial, self._box = trial, box

    def suggest_float(
        self,
        name: str,
        low: float,
        high: float,
        *,
        step: float | None = None,
        log: bool = False,
    ) -> float:
        lo, hi = narrow_range(low, high, self._box.get(name), step)
        if step:  # keep the grid's own rounding: 0.1 * 3 is 0.30000000000000004
            lo, hi = round(lo, 12), round(hi, 12)
        value = self._trial.suggest_float(name, lo, hi, step=step, log=log)
        return float(value)

    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        lo, hi = narrow_range(low, high, self._box.get(name), step)
        value = self._trial.suggest_int(name, int(lo), int(hi), step=step, log=log)
        return int(value)

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self._trial.suggest_categorical(name, narrow_choices(choices, self._box.get(name)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._trial, name)


class _Narrowed:
    """A space function drawn inside a box. A class at module level, not a closure: the
    searcher's saved state (a pickle, written at each Ray Tune checkpoint) holds it."""

    def __init__(self, space_fn: SpaceFn, box: Box) -> None:
        self.space_fn, self.box = space_fn, box
        self.__name__ = getattr(space_fn, "__name__", "space")
        self.__doc__ = f"{space_fn.__doc__ or 'space'} (narrowed to a warm start's box)"

    def __call__(self, trial: optuna.Trial) -> dict[str, Any]:
        return self.space_fn(_NarrowedTrial(trial, self.box))  # type: ignore[arg-type]


def narrowed(space_fn: SpaceFn, box: Box) -> SpaceFn:
    """``space_fn`` with every parameter the box knows drawn from inside the box: numbers from
    [min, max] of the values seen (log scale and step kept; an integer range snapped to its step
    grid; [a, a] when all agree), categorical parameters from the values seen, in the original
    order. A parameter the box does not know keeps its range."""
    return _Narrowed(space_fn, box)


# -- reading the earlier experiments --------------------------------------------------------------


def _recorded(exp_dir: Path) -> dict[str, str]:
    """The task and space an experiment recorded (summary.json, else results.csv), if any."""
    summary = exp_dir / "summary.json"
    if summary.is_file():
        try:
            data = json.loads(summary.read_text())
        except (OSError, ValueError):
            data = {}
        if isinstance(data, dict):
            return {k: str(data[k]) for k in ("task", "space") if data.get(k)}
    results = exp_dir / "results.csv"
    if results.is_file():
        import csv

        with results.open(newline="") as f:
            for row in csv.DictReader(f):
                if row.get("method") != "constant" and row.get("space"):
                    return {"task": row.get("task") or "", "space": row["space"]}
    return {}


def _searching(label: str) -> bool:
    """A study label whose search trials are trained configurations scored on validation."""
    from automl_bench.methods import METHODS

    method = METHODS.get(label.split(":")[0])
    return (
        method is not None
        and method.make_sampler is not None
        and method.proxy is None
        and method.one_shot is None
    )


def read_candidates(name: str, exp_dir: Path) -> list[Candidate]:
    """The finished search trials of searching methods in ``exp_dir/trials.jsonl``."""
    path = exp_dir / "trials.jsonl"
    if not path.is_file():
        raise ConfigError(
            FIELD, f"experiment {name!r} has no {path}: run it first (or fix the name)"
        )
    out = []
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except ValueError:
            raise ConfigError(FIELD, f"{path} line {number} is not JSON") from None
        value, config = line.get("val_metric"), line.get("config")
        if (
            line.get("phase") == "search"
            and line.get("status") == "ok"
            and _searching(str(line.get("method", "")))
            and _is_number(value)
            and math.isfinite(value)
            and isinstance(config, dict)
        ):
            out.append(Candidate(name, str(line["method"]), float(value), config))
    if not out:
        raise ConfigError(
            FIELD,
            f"experiment {name!r} has no usable trials in {path}: none is a finished (ok) "
            "search trial of a searching method with a validation metric",
        )
    return out


def top_candidates(candidates: Sequence[Candidate], k: int, direction: str) -> list[Candidate]:
    """The best ``k`` distinct configurations, best first (ties: the earlier trial)."""
    sign = -1.0 if direction == MAXIMIZE else 1.0
    ranked = sorted(candidates, key=lambda c: sign * c.value)
    chosen: list[Candidate] = []
    keys: set[str] = set()
    for c in ranked:
        key = json.dumps(c.config, sort_keys=True, default=str)
        if key not in keys:
            keys.add(key)
            chosen.append(c)
        if len(chosen) == k:
            break
    return chosen


def replay(space: SearchSpace, config: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters ``space`` suggests for ``config``; raises if it is not a point of it."""
    import optuna

    trial = optuna.trial.FixedTrial(dict(config))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a value outside a distribution
        space.space(trial)  # type: ignore[arg-type]
    return dict(trial.params)


def load_warmstart(config: WarmstartConfig, config_path: Path, space: SearchSpace) -> WarmStart:
    """The warm start of ``config``'s ``warmstart`` studies, from ``search.warmstart_from``.

    Earlier experiments are read where ``run_experiment`` wrote them:
    ``<output_dir>/<name>/`` with ``output_dir`` relative to the working directory
    (``config_path`` is named in messages only). Raises ConfigError; writes nothing.
    """
    names = list(config.search.warmstart_from)
    if not names:
        raise ConfigError(FIELD, "names no earlier experiment to start from")
    out = Path(config.output_dir).resolve()
    candidates: list[Candidate] = []
    directions: dict[str, str] = {}
    for name in names:
        if name == config.experiment:
            raise ConfigError(
                FIELD,
                f"{name!r} is this experiment ({config_path.name}): a warm start reads earlier "
                "experiments on related tasks",
            )
        exp_dir = out / name
        found = read_candidates(name, exp_dir)
        recorded = _recorded(exp_dir)
        if recorded.get("space") and recorded["space"] != space.name:
            raise ConfigError(
                FIELD,
                f"experiment {name!r} searched space {recorded['space']!r}, this experiment "
                f"searches {space.name!r}: configurations carry over within one space only",
            )
        task = recorded.get("task")
        directions[name] = task_metric(task).direction if task else MAXIMIZE
        candidates += found
    if len(set(directions.values())) > 1:
        raise ConfigError(
            FIELD,
            f"the experiments' metrics go different ways ({directions}): their validation "
            "values cannot be ranked together",
        )
    direction = next(iter(directions.values()))
    top = top_candidates(candidates, config.search.warmstart_top, direction)
    params = []
    for c in top:
        try:
            params.append(replay(space, c.config))
        except (Exception, SystemExit) as exc:  # the user's space code: any failure is a misfit
            raise ConfigError(
                FIELD,
                f"experiment {c.experiment!r}: configuration {c.config} is not a point of "
                f"{space.path.name} ({type(exc).__name__}: {exc})",
            ) from None
    return WarmStart(tuple(names), direction, tuple(top), bounding_box(params))
