"""Experiment configuration: the only module that reads YAML (``yaml.safe_load``).

A config file maps one-to-one onto ``ExperimentConfig``. Anything wrong is a ``ConfigError``
that names the field and what is allowed, raised before anything starts.
"""

from __future__ import annotations

import importlib.util
import reprlib
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from automl_bench.config_table import TableSection, check_section
from automl_bench.cost.countries import known_countries
from automl_bench.cost.prices import DEFAULT_HOUR_ROWS, Prices, parse_table, resolve_prices
from automl_bench.errors import ConfigError
from automl_bench.locate import resolve_path
from automl_bench.methods import METHODS
from automl_bench.scoring import reference_method
from automl_bench.tasks import FOLDER_TASKS, TABLE, TASKS
from automl_bench.tasks.base import TaskInfo
from automl_bench.tasks.families import META_FAMILIES

# NaN and infinity are no number a field takes (YAML reads .nan and .inf as floats)
_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

_SHOWN = reprlib.Repr()  # what a message quotes of a value: bounded, however big or deep it is
_SHOWN.maxstring = _SHOWN.maxother = 80
_SHOWN.maxlevel = 2
_SHOWN.maxlist = _SHOWN.maxtuple = _SHOWN.maxdict = _SHOWN.maxset = 6


def shown(value: object) -> str:
    return _SHOWN.repr(value)


class Budget(BaseModel):
    """Per study: ``trials`` search trials; per trial and final training: ``epochs``.

    Left out, each comes from the task's default budget. ``trial_timeout_s``: a trial still
    training after this many seconds is stopped at its next epoch (or meta-iteration), or killed
    min(60 s, the limit) later if it cannot stop (``runner/watchdog.py``), and recorded as failed
    with the time it used; null: no limit.
    """

    model_config = _STRICT
    trials: int | None = Field(
        default=None, gt=0, description="Search trials per study; null: the task's default."
    )
    epochs: int | None = Field(
        default=None,
        gt=0,
        description="Epochs per trial and for the final training; null: the task's default.",
    )
    trial_timeout_s: float | None = Field(
        default=None, gt=0, description="A trial past this many seconds fails; null: no limit."
    )


class Resources(BaseModel):
    """What one trial holds (fractions of a GPU allowed), and how many trials run at once.

    ``trials_per_gpu``: pack that many trials onto each GPU (``gpus_per_trial`` = 1 / it). Ray's
    fractional GPUs isolate no memory: a trial that runs out of it fails alone, recorded.
    """

    model_config = _STRICT
    cpus_per_trial: float = Field(default=1.0, gt=0, description="CPUs each trial holds.")
    gpus_per_trial: float = Field(
        default=0.0, ge=0, description="GPUs each trial holds; a fraction packs trials on a GPU."
    )
    trials_per_gpu: int | None = Field(
        default=None, ge=1, le=100, description="Or: this many trials per GPU (1 / it each)."
    )
    max_concurrent_trials: int | None = Field(
        default=None, gt=0, description="Trials at once; null: as many as the CPUs and GPUs allow."
    )

    @model_validator(mode="after")
    def _packing(self) -> Resources:
        if self.trials_per_gpu is not None:
            share = 1.0 / self.trials_per_gpu
            if self.gpus_per_trial not in (0.0, share):
                raise ValueError(
                    f"give gpus_per_trial ({self.gpus_per_trial:g}) or trials_per_gpu "
                    f"({self.trials_per_gpu}), not both"
                )
            self.gpus_per_trial = share
        elif self.gpus_per_trial > 1 and self.gpus_per_trial != int(self.gpus_per_trial):
            raise ValueError(
                "gpus_per_trial above 1 must be a whole number of GPUs, "
                f"got {self.gpus_per_trial:g}"
            )
        return self


class Cost(BaseModel):
    """How measured time and energy become USD and kg CO2e (see configs/prices.yaml).

    Each of ``gpu_hour``, ``cpu_hour``, ``electricity``, ``carbon_intensity`` and ``pue`` is a row
    name of the price table or a number; electricity and carbon intensity default to the rows of
    ``country_iso_code``.

    ``billing``: ``cloud`` (rented instances, whose hourly price already pays for their power:
    ``usd`` is what was held at those rates, the electricity bill is reported but not added) or
    ``owned`` (hardware you own: ``usd`` is what was held at amortised hardware rates, the
    ``owned-*`` rows, plus the electricity at the tariff). ``gpu_hour`` and ``cpu_hour`` default
    to the billing's rows.
    """

    model_config = _STRICT
    country_iso_code: str = Field(
        default="USA", description="ISO 3166-1 alpha-3: the electricity and carbon rows to use."
    )
    prices: str = Field(
        default="configs/prices.yaml",
        description="The price table; this default is the project's own table, from any folder.",
    )
    billing: Literal["cloud", "owned"] = Field(
        default="cloud",
        description="cloud: instance rates, power included; owned: amortised hardware + tariff.",
    )
    gpu_hour: str | float = Field(
        default=DEFAULT_HOUR_ROWS["cloud"][0],
        description="USD per GPU-hour held: a row of the price table, or a number.",
    )
    cpu_hour: str | float = Field(
        default=DEFAULT_HOUR_ROWS["cloud"][1],
        description="USD per logical CPU (vCPU) hour held: a row, or a number.",
    )
    electricity: str | float | None = Field(
        default=None, description="USD per kWh (times the PUE); null: the country's row."
    )
    carbon_intensity: str | float | None = Field(
        default=None, description="kg CO2e per kWh (times the PUE); null: the country's row."
    )
    pue: str | float = Field(
        default="aws", description="Facility energy / IT energy: a row, or a number; none is 1.0."
    )

    @field_validator("country_iso_code")
    @classmethod
    def _known_country(cls, value: str) -> str:
        if value not in known_countries():
            raise ValueError(
                "must be an ISO 3166-1 alpha-3 code with a known grid carbon intensity "
                f"(such as USA, FRA, DEU, GBR), got {shown(value)}"
            )
        return value

    @field_validator("gpu_hour", "cpu_hour", "electricity", "carbon_intensity", "pue")
    @classmethod
    def _not_negative(cls, value: str | float | None) -> str | float | None:
        if isinstance(value, int | float) and value < 0:
            raise ValueError(f"must be a row name or a number >= 0, got {value!r}")
        return value

    @model_validator(mode="after")
    def _billing_rows(self) -> Cost:
        """Owned hardware is priced by the owned rows unless the config names its own."""
        gpu_row, cpu_row = DEFAULT_HOUR_ROWS[self.billing]
        if "gpu_hour" not in self.model_fields_set:
            self.gpu_hour = gpu_row
        if "cpu_hour" not in self.model_fields_set:
            self.cpu_hour = cpu_row
        return self


class DeployConstraints(BaseModel):
    """What a final model must meet to count as deployable; null: no limit."""

    model_config = _STRICT
    max_latency_ms_p95: float | None = Field(
        default=None, gt=0, description="p95 latency in ms at batch size 1, on deploy.target."
    )
    max_size_mb: float | None = Field(
        default=None, gt=0, description="Size of the saved state_dict in MB."
    )
    max_params: int | None = Field(default=None, gt=0, description="Parameters.")
    max_flops: int | None = Field(
        default=None, gt=0, description="FLOPs per prediction (a multiply-add is two)."
    )
    export_required: bool = Field(
        default=False, description="torch.export must save, load and give the same outputs."
    )


class Deploy(BaseModel):
    """How the final models would be deployed, and the limits they must meet.

    Inference energy is measured at ``batch_size`` (the deployment batch size); every final model
    is timed at batch size 1 and at ``batch_size`` with ``threads`` CPU threads, on the CPU and on
    a GPU when the cluster has one. ``target`` is where the latency limit applies.
    """

    model_config = _STRICT
    batch_size: int = Field(
        default=64, gt=0, description="The deployment batch size: throughput, inference energy."
    )
    threads: int = Field(default=1, gt=0, description="CPU threads while timing.")
    target: Literal["cpu", "cuda"] = Field(
        default="cpu", description="Where the latency limit applies."
    )
    onnx: bool | None = Field(
        default=None, description="ONNX round trip too; null: when the onnx extra is installed."
    )
    constraints: DeployConstraints = Field(
        default_factory=DeployConstraints, description="What a final model must meet."
    )

    @field_validator("onnx")
    @classmethod
    def _onnx_installed(cls, value: bool | None) -> bool | None:
        if value and importlib.util.find_spec("onnxruntime") is None:
            raise ValueError(
                "true needs the onnx extra (pip install 'automl-bench[onnx]'); "
                "set false or leave it out"
            )
        return value


class Verdict(BaseModel):
    """What "worth it" means here. The defaults are placeholders: set them for your product.

    ``rope_points``: differences within +-this many units of the task's metric count as no
    difference (the region of practical equivalence): accuracy points, MSE on the sinusoid
    family, or on a table its metric's unit (AUC points, the target's units for RMSE and MAE:
    docs/tables.md). ``value_usd_per_point_per_million``: what one such unit is worth on a million
    predictions. ``deployment_predictions``: how many predictions the model
    is expected to serve; the automated design must pay off within them.
    """

    model_config = _STRICT
    rope_points: float = Field(
        default=1.0, ge=0, description="Half-width of the ROPE, in the metric's unit."
    )
    value_usd_per_point_per_million: float = Field(
        default=10.0, ge=0, description="USD one unit of the metric is worth per 1 M predictions."
    )
    deployment_predictions: float = Field(
        default=1e8, gt=0, description="Predictions the model is expected to serve."
    )
    # caps on a run that adds seeds until decided (``seeds: {first, max}``): no seed is added
    # once the nodes have used this much energy, or the run has taken this long; null: none
    max_energy_kwh: float | None = Field(
        default=None, gt=0, description="With a seed plan: add no seed past this much energy."
    )
    max_wall_s: float | None = Field(
        default=None, gt=0, description="With a seed plan: add no seed past this long a run."
    )

    @field_validator("*", mode="before")
    @classmethod
    def _number_written_as_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return value
            raise ValueError(
                f"must be a number; YAML reads {value!r} as text: write it as 1.0e+8 or 100000000"
            )
        return value


class Search(BaseModel):
    """How the methods search. ``cost_objective``: what multi-objective methods (nsga2, motpe)
    minimise next to validation accuracy: the model's ``params`` or its ``flops`` per example.
    ``warmstart_from``: earlier experiments (names under output_dir) whose best configurations
    the ``warmstart`` method starts from; ``warmstart_top``: how many of them."""

    model_config = _STRICT
    cost_objective: Literal["params", "flops"] = Field(
        default="params", description="What nsga2 and motpe minimise next to accuracy."
    )
    warmstart_from: list[str] = Field(
        default_factory=list, description="warmstart: earlier experiments (names under output_dir)."
    )
    warmstart_top: int = Field(
        default=5, gt=0, description="warmstart: how many of their best configurations."
    )


class Meta(BaseModel):
    """A meta-learning family's budget and evaluation (task sinusoid, fewshot_*).

    ``iterations``: meta-iterations (outer steps) of each meta-training, search trials and final
    alike (the MAML paper: 70,000). ``k_shot``: support examples per task (per class for
    few-shot) in meta-training, and in meta-test unless ``test_k_shot`` is set (the MAML paper
    meta-trains its sinusoid model with K = 10 and reports K = 5). ``n_way``: classes per
    few-shot episode. ``test_tasks``: meta-test tasks the final phase is
    scored on (at least 600); ``eval_steps``: adaptation steps the query metric is read after;
    ``primary_steps``: which of them is the test metric. ``verdict.rope_points`` is in the
    family's unit: MSE on sinusoid (0.05 suits), accuracy points on the few-shot families.
    ``tasks_served``: the tasks a deployed meta-learner is expected to adapt to, over which its
    meta-training is amortised (left out: ``test_tasks``). ``log_every``: meta-iterations per
    point of the logged training curve.
    """

    model_config = _STRICT
    iterations: int = Field(
        default=2000, gt=0, description="Meta-iterations per meta-training (the paper: 70,000)."
    )
    k_shot: int = Field(
        default=10, gt=0, description="Support examples per task (per class, few-shot)."
    )
    test_k_shot: int | None = Field(
        default=None, gt=0, description="Meta-test tasks' support size; null: k_shot."
    )
    n_way: int = Field(default=5, ge=2, description="Classes per few-shot episode.")
    test_tasks: int = Field(default=600, ge=600, description="Meta-test tasks scored.")
    eval_steps: list[int] = Field(
        default_factory=lambda: [1, 5, 10],
        min_length=1,
        description="Adaptation steps the metric is read after.",
    )
    primary_steps: int = Field(
        default=10, ge=0, description="Which reading of eval_steps is the test metric."
    )
    tasks_served: int | None = Field(
        default=None, gt=0, description="Tasks meta-training is amortised over; null: test_tasks."
    )
    log_every: int = Field(
        default=100, gt=0, description="Meta-iterations per point of the training curve."
    )

    @model_validator(mode="after")
    def _primary_is_evaluated(self) -> Meta:
        if any(s < 0 for s in self.eval_steps) or len(set(self.eval_steps)) != len(self.eval_steps):
            raise ValueError(f"eval_steps must be distinct counts >= 0, got {self.eval_steps}")
        if self.primary_steps not in self.eval_steps:
            raise ValueError(
                f"primary_steps must be one of eval_steps {self.eval_steps}, "
                f"got {self.primary_steps}"
            )
        return self


MAX_SEED = 2**31


class SeedPlan(BaseModel):
    """Seeds added until every call is decided: the run starts with seeds ``start`` ..
    ``start + first - 1`` for every method, then adds one seed at a time (``start + first``,
    ...) for the reference and every method whose call is still inconclusive, up to ``max``
    seeds in all (or a cap of ``verdict:``). The seed interval is bounded from 3 seeds on."""

    model_config = _STRICT
    first: int = Field(ge=2, le=100, description="Seeds every method runs first.")
    max: int = Field(ge=2, le=100, description="Seeds at most, per method.")
    start: int = Field(default=0, ge=0, description="The first seed.")

    @model_validator(mode="after")
    def _ordered(self) -> SeedPlan:
        if self.first > self.max:
            raise ValueError(f"first ({self.first}) must not exceed max ({self.max})")
        if self.start + self.max > MAX_SEED:
            raise ValueError(f"start + max must stay below {MAX_SEED}, got {self.start + self.max}")
        return self

    @property
    def seeds(self) -> list[int]:
        """Every seed the plan may run, in order."""
        return list(range(self.start, self.start + self.max))


class Tracking(BaseModel):
    """Where the MLflow runs go. Only the driver writes to the store; trials never open it."""

    model_config = _STRICT
    uri: str | None = Field(
        default=None,
        description="An MLflow tracking URI; null: SQLite under output_dir (an absolute URI).",
    )


class ExperimentConfig(BaseModel):
    """One experiment: methods x seeds on one task, in one search space.

    Paths (``space``, ``reference_spaces``, ``data_dir``, ``cost.prices``) are relative to the
    working directory, else to the config file's folder, else to its parent; for a space or the
    price table, else the copy shipped in the package (``search_spaces/mlp.py``,
    ``configs/prices.yaml``). A space may also be named by its built-in name: ``mlp``.
    """

    model_config = _STRICT

    experiment: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        max_length=100,
        description="The MLflow experiment, and the folder under output_dir.",
    )
    task: str = Field(
        description="A built-in task, a folder task, a meta-learning family, or table (a file)."
    )
    space: str = Field(description="The searched space's file; its baseline is the reference.")
    reference_spaces: list[str] = Field(
        default_factory=list, description="Other spaces whose baselines are trained as extra rows."
    )
    methods: list[str] = Field(
        min_length=1, description="What to run; baseline (pretrain_finetune) is required."
    )
    # a list: those seeds for every method; a SeedPlan: seeds added until decided
    seeds: list[int] | SeedPlan = Field(
        description="A list: those seeds for every method; a plan: seeds added until decided."
    )
    budget: Budget = Field(default_factory=Budget, description="Trials and epochs.")
    resources: Resources = Field(default_factory=Resources, description="What a trial holds.")
    cost: Cost = Field(default_factory=Cost, description="Prices, tariff, carbon and PUE.")
    deploy: Deploy = Field(default_factory=Deploy, description="Deployment measurements.")
    verdict: Verdict = Field(default_factory=Verdict, description="What worth it means.")
    search: Search = Field(default_factory=Search, description="Multi-objective and warm start.")
    meta: Meta = Field(default_factory=Meta, description="A meta-learning family's budget.")
    tracking: Tracking = Field(default_factory=Tracking, description="The MLflow store.")
    output_dir: str = Field(
        default="runs", description="Where the experiment's folder, the MLflow store and caches go."
    )
    data_dir: str | None = Field(
        default=None, description="The folder an image task (cifar10, image_folder) reads."
    )
    table: TableSection | None = Field(
        default=None, description="task: table: the CSV or Parquet file and its target."
    )

    @field_validator("task")
    @classmethod
    def _known_task(cls, value: str) -> str:
        known_tasks = (*TASKS, *FOLDER_TASKS, *META_FAMILIES, TABLE)
        if value not in known_tasks:
            known = ", ".join(known_tasks)
            raise ValueError(f"must be one of {known}, got {shown(value)}")
        return value

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in METHODS:
                raise ValueError(f"must each be one of {', '.join(METHODS)}, got {shown(name)}")
        if len(set(value)) != len(value):
            raise ValueError(f"must not repeat a method, got {value}")
        return value

    @field_validator("seeds", mode="before")
    @classmethod
    def _list_or_plan(cls, value: Any) -> Any:
        if not isinstance(value, list | dict):
            raise ValueError(
                "must be a list of seeds, or a plan {first, max, start} (such as "
                f"{{first: 3, max: 20}}), got {shown(value)}"
            )
        return value

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, value: list[int] | SeedPlan) -> list[int] | SeedPlan:
        if isinstance(value, SeedPlan):
            return value
        if not 1 <= len(value) <= 100:
            raise ValueError(f"must list 1 to 100 seeds, got {len(value)}")
        # below 2**31: a seed (plus the final phase's offset) must fit NumPy's 32-bit seeds
        if any(not 0 <= s < MAX_SEED for s in value) or len(set(value)) != len(value):
            raise ValueError(f"must be distinct integers from 0 to {MAX_SEED - 1}, got {value}")
        return value

    @property
    def seed_plan(self) -> SeedPlan | None:
        return self.seeds if isinstance(self.seeds, SeedPlan) else None

    @property
    def first_seeds(self) -> list[int]:
        """The seeds every method runs: the list, or the plan's first ones."""
        plan = self.seed_plan
        return plan.seeds[: plan.first] if plan is not None else list(self.seeds)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _task_default_budget(self) -> ExperimentConfig:
        info = self._info
        if self.budget.trials is None:
            self.budget.trials = info.default_trials
        if self.budget.epochs is None:
            self.budget.epochs = info.default_epochs
        return self

    @property
    def _info(self) -> TaskInfo:
        """The built-in task's description; a folder task's defaults (its shape is the data's)."""
        if self.task in TASKS:
            return TASKS[self.task].info
        if self.task in META_FAMILIES:  # trials: meta-trainings of a search; epochs unused
            return TaskInfo(self.task, (), 0, default_trials=8, default_epochs=1)
        if self.task == TABLE:  # its shape is the file's
            return TaskInfo(self.task, (), 0, default_trials=20, default_epochs=30)
        return TaskInfo(self.task, (), 0, default_trials=20, default_epochs=20)

    @property
    def trials(self) -> int:
        return self.budget.trials or self._info.default_trials

    @property
    def epochs(self) -> int:
        return self.budget.epochs or self._info.default_epochs


def _duplicate_key(root: yaml.Node | None) -> yaml.Node | None:
    """The first key written twice in one mapping of the composed document (PyYAML's loaders
    keep the last one silently), or None. Composing builds no Python object, so this is safe;
    each node is visited once, however many aliases point at it."""
    seen: set[int] = set()
    todo = [root] if root is not None else []
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[tuple[str, str]] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if (key.tag, key.value) in keys:
                        return key
                    keys.add((key.tag, key.value))
                todo += [key, value]
        elif isinstance(node, yaml.SequenceNode):
            todo += node.value
    return None


def _load_yaml(text: str) -> Any:
    """``yaml.safe_load``, after refusing duplicate keys. Any failure is a ``yaml.YAMLError``:
    nesting deeper than Python's recursion limit, a tag whose value PyYAML cannot build."""
    try:
        duplicate = _duplicate_key(yaml.compose(text, Loader=yaml.SafeLoader))
        if duplicate is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {duplicate.value!r}", duplicate.start_mark
            )
        return yaml.safe_load(text)
    except yaml.YAMLError:
        raise
    except RecursionError:
        raise yaml.YAMLError("nested too deeply") from None
    except Exception as exc:  # a tag PyYAML cannot build (!!int abc, !!timestamp x): bad YAML too
        raise yaml.YAMLError(f"{type(exc).__name__}: {exc}") from None


def read_yaml(path: Path, field: str = "config") -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(field, f"cannot read {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(field, f"{path.name} is not UTF-8 text (a YAML file)") from None
    try:
        raw = _load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        why = f" ({problem})" if isinstance(problem, str) and "duplicate key" in problem else ""
        raise ConfigError(field, f"{path.name} is not valid YAML{where}{why}") from None
    if not isinstance(raw, dict):
        raise ConfigError(
            field, f"{path.name} must hold a mapping of fields, got {type(raw).__name__}"
        )
    return raw


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """``--set budget.trials=4``: the value is read as YAML (numbers, lists), never evaluated."""
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError("--set", f"expects key=value (such as budget.trials=4), got {item!r}")
        try:
            value = _load_yaml(text)
        except yaml.YAMLError:
            raise ConfigError(
                "--set", f"the value of {key!r} is not valid YAML: {text!r}"
            ) from None
        node = raw
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError("--set", f"{key!r}: {part!r} is not a section of the config")
            node = child
        node[parts[-1]] = value
    return raw


_UNION_TAGS = {"str": "a row name", "float": "a number", "int": "a number", "none": "null"}


def _describe(error: Any, model: type[BaseModel], others: Sequence[Any] = ()) -> ConfigError:
    loc = [str(p) for p in error["loc"]]
    if loc and loc[-1] in _UNION_TAGS:  # a field taking several types: name the field, not a tag
        same = [e for e in (error, *others) if [str(p) for p in e["loc"]][:-1] == loc[:-1]]
        wanted = sorted({_UNION_TAGS.get(str(e["loc"][-1]), str(e["loc"][-1])) for e in same})
        field = ".".join(loc[:-1])
        return ConfigError(field, f"must be {' or '.join(wanted)}, got {shown(error.get('input'))}")
    field = ".".join(loc) or "config"
    kind = error["type"]
    if kind == "extra_forbidden":
        return ConfigError(
            field, f"unknown field; allowed here: {', '.join(_allowed(model, loc[:-1]))}"
        )
    if kind == "missing":
        return ConfigError(field, "required field is missing")
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind.startswith(("value_error", "assertion_error")):
        return ConfigError(field, message)
    return ConfigError(field, f"{message}, got {shown(error.get('input'))}")


def _allowed(model: type[BaseModel], path: list[str]) -> list[str]:
    for part in path:
        annotation = model.model_fields[part].annotation
        # a field that takes a model or something else (seeds: a list or a SeedPlan)
        for option in (annotation, *typing.get_args(annotation)):
            if isinstance(option, type) and issubclass(option, BaseModel):
                model = option
    return list(model.model_fields)


def _seed_plan_errors(errors: list[Any]) -> list[Any]:
    """``seeds`` takes a list or a plan: the errors of the form that was written (a plan's
    when the input was no list), without the union's tag (``seeds.first``, ``seeds.1``)."""
    tagged = [e for e in errors if len(e["loc"]) > 1 and e["loc"][0] == "seeds"]
    if not tagged:
        return errors
    not_a_list = any(e["type"] == "list_type" for e in tagged)
    chosen = [e for e in tagged if ("SeedPlan" in str(e["loc"][1])) == not_a_list]
    chosen.sort(key=lambda e: e["type"] != "extra_forbidden")  # a misspelt key named first
    return [{**e, "loc": (e["loc"][0], *e["loc"][2:])} for e in chosen or tagged]


def parse_config(raw: dict[str, Any]) -> ExperimentConfig:
    try:
        config = ExperimentConfig.model_validate(raw)
    except ValidationError as exc:
        errors = _seed_plan_errors(exc.errors())
        raise _describe(errors[0], ExperimentConfig, errors[1:]) from None
    check_section(config.task, config.table, config.methods)
    check_methods_for_task(config)
    _check_caps(config)
    if config.data_dir is not None and config.task not in FOLDER_TASKS:
        raise ConfigError(
            "data_dir",
            f"only the image tasks ({', '.join(FOLDER_TASKS)}) read a folder; task "
            f"{config.task!r} does not: leave data_dir out",
        )
    return config


def _check_caps(config: ExperimentConfig) -> None:
    """The caps of verdict: act only where seeds are added (a seed plan)."""
    for name in ("max_energy_kwh", "max_wall_s"):
        if getattr(config.verdict, name) is not None and config.seed_plan is None:
            raise ConfigError(
                f"verdict.{name}",
                "caps a run that adds seeds until decided (seeds: {first, max}); with a list of "
                "seeds nothing is added: leave it out",
            )


# what a method on a meta-learning family may be: its algorithms, or a search over the space
_SEARCHES_ON_META = ("random", "tpe", "warmstart")


def check_methods_for_task(config: ExperimentConfig) -> None:
    """The reference method is there, and each method runs on the config's task."""
    reference = reference_method(config.task)
    if reference not in config.methods:
        raise ConfigError(
            "methods",
            f"must include {reference!r}: every method is compared with it, got {config.methods}",
        )
    family = META_FAMILIES.get(config.task)
    for name in config.methods:
        method = METHODS[name]
        if family is None and method.meta is not None:
            raise ConfigError(
                "methods",
                f"{name} is a meta-learning method: it runs on a task family "
                f"({', '.join(META_FAMILIES)}), not on task {config.task!r}",
            )
        searchable = name in _SEARCHES_ON_META and family is not None and family.searchable
        if family is not None and not searchable and name not in family.algorithms:
            allowed = [*family.algorithms]
            if family.searchable:  # a search over the meta-learner's settings
                allowed += _SEARCHES_ON_META
            raise ConfigError(
                "methods", f"task {config.task!r} runs {', '.join(allowed)}; got {name!r}"
            )
        if method.warmstart and not config.search.warmstart_from:
            raise ConfigError(
                "search.warmstart_from",
                f"method {name} needs earlier experiments to start from: their names under "
                f"{config.output_dir}/",
            )


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Read, override and validate a config file. Raises ConfigError; starts and writes nothing."""
    raw = apply_overrides(read_yaml(Path(path)), overrides)
    return parse_config(raw)


def load_prices(config: ExperimentConfig, config_path: Path) -> Prices:
    """The price table the config names, and the figures its ``cost`` section picks."""
    cost = config.cost
    path = resolve_path(cost.prices, config_path, "cost.prices", shipped="prices")
    table = parse_table(read_yaml(path, "cost.prices"), path.name)
    return resolve_prices(
        table,
        path,
        country_iso_code=cost.country_iso_code,
        gpu_hour=cost.gpu_hour,
        cpu_hour=cost.cpu_hour,
        billing=cost.billing,
        electricity=cost.electricity,
        carbon_intensity=cost.carbon_intensity,
        pue=cost.pue,
    )
