"""The project rule: bad input (config, search-space file) is refused before anything starts,
with one line that names the field and what is allowed, exit code 2, no traceback, nothing
written to runs/.

Every case is checked in-process (``prepare`` raises ConfigError naming the field; ``main``
returns 2 with one line on stderr) and a selection through the real CLI in subprocesses, which
run a few at a time in one module fixture (each costs 2-3 s of imports).
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from automl_bench.cli import EXIT_BAD_INPUT, main
from automl_bench.errors import ConfigError
from automl_bench.experiment import prepare

REPO = Path(__file__).resolve().parent.parent
slow = pytest.mark.slow
QUICKSTART = REPO / "configs" / "quickstart.yaml"
DROP = "<drop this key>"

GOOD: dict[str, Any] = {
    "experiment": "bad-input",
    "task": "wine",
    "space": "search_spaces/mlp.py",
    "methods": ["baseline", "random"],
    "seeds": [0, 1],
    "budget": {"trials": 2, "epochs": 1},
    "cost": {"country_iso_code": "FRA"},
}

SPACE_HEAD = """\
from typing import Any

import torch


def space(trial: Any) -> dict[str, Any]:
    trial.suggest_int("width", 4, 64)
    trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    trial.suggest_categorical("act", ["relu", "tanh"])
    return {}
"""
SPACE_BUILD = """
def build(config: dict[str, Any], task: Any) -> torch.nn.Module:
    return torch.nn.Linear(13, task.num_classes)
"""
GOOD_BASELINE = '{"width": 16, "lr": 1e-2, "act": "relu"}'


def space_file(baseline: str = GOOD_BASELINE, *, build: bool = True, tail: str = "") -> str:
    """A search-space file like a user's, with one thing changed."""
    return SPACE_HEAD + (SPACE_BUILD if build else "") + f"\nbaseline = {baseline}\n" + tail


@dataclass(frozen=True)
class Case:
    id: str
    field: str  # the field the error line must name
    changes: dict[str, Any] | None = None  # top-level keys replaced in GOOD (DROP removes one)
    text: str | bytes | None = None  # the whole config file instead of GOOD
    space_code: str | None = None  # written next to the config; the config's space names it
    overrides: tuple[str, ...] = ()  # --set items
    no_file: bool = False  # the config file itself does not exist
    prices_text: str | None = None  # a price table written next to the config; cost.prices names it


PRICES_OK = """\
gpu_hour:
  g: {usd: 1.0, source: "a page", date: "2026-01"}
cpu_hour:
  c: {usd: 0.05, source: "a page", date: "2026-01"}
electricity:
  FRA: {usd: 0.2, source: "a page", date: "2026-01"}
pue:
  p: {pue: 1.2, source: "a page", date: "2026-01"}
"""
PRICED = {"country_iso_code": "FRA", "gpu_hour": "g", "cpu_hour": "c", "pue": "p"}


CASES = [
    # the config's own fields
    Case("unknown_top_level_key", "epochs", {"epochs": 3}),
    Case("unknown_budget_key", "budget.epoch", {"budget": {"trials": 2, "epoch": 1}}),
    Case("unknown_cost_key", "cost.country", {"cost": {"country": "FRA"}}),
    Case("trials_is_a_word", "budget.trials", {"budget": {"trials": "many"}}),
    Case("seeds_is_a_string", "seeds", {"seeds": "0"}),
    Case("epochs_is_a_float", "budget.epochs", {"budget": {"epochs": 2.5}}),
    Case("trials_is_a_bool", "budget.trials", {"budget": {"trials": True}}),
    Case("seed_is_a_bool", "seeds.1", {"seeds": [0, True]}),
    # a seed plan, and its caps
    Case("seed_plan_first_past_max", "seeds", {"seeds": {"first": 5, "max": 3}}),
    Case("seed_plan_without_max", "seeds.max", {"seeds": {"first": 3}}),
    Case("seed_plan_misspelt_key", "seeds.maximum", {"seeds": {"first": 3, "maximum": 6}}),
    Case("seed_plan_one_first_seed", "seeds.first", {"seeds": {"first": 1, "max": 6}}),
    Case("seed_plan_past_100", "seeds.max", {"seeds": {"first": 3, "max": 1000}}),
    Case("wall_cap_with_a_seed_list", "verdict.max_wall_s", {"verdict": {"max_wall_s": 60}}),
    Case("negative_energy_cap", "verdict.max_energy_kwh", {"verdict": {"max_energy_kwh": -1}}),
    Case("cpus_is_a_bool", "resources.cpus_per_trial", {"resources": {"cpus_per_trial": True}}),
    Case("budget_is_a_number", "budget", {"budget": 5}),
    Case("methods_is_a_string", "methods", {"methods": "baseline"}),
    Case("zero_trials", "budget.trials", {"budget": {"trials": 0}}),
    Case("negative_epochs", "budget.epochs", {"budget": {"epochs": -1}}),
    Case("negative_gpus", "resources.gpus_per_trial", {"resources": {"gpus_per_trial": -1}}),
    Case("unknown_task", "task", {"task": "imagenet"}),
    Case("unknown_method", "methods", {"methods": ["baseline", "darts-typo"]}),
    Case("methods_without_baseline", "methods", {"methods": ["random", "tpe"]}),
    Case("repeated_method", "methods", {"methods": ["baseline", "random", "random"]}),
    Case("empty_methods", "methods", {"methods": []}),
    Case("duplicate_seeds", "seeds", {"seeds": [0, 1, 0]}),
    Case("negative_seed", "seeds", {"seeds": [0, -1]}),
    Case("empty_seeds", "seeds", {"seeds": []}),
    Case("missing_task", "task", {"task": DROP}),
    Case("missing_space", "space", {"space": DROP}),
    Case("missing_seeds", "seeds", {"seeds": DROP}),
    Case("unknown_country", "cost.country_iso_code", {"cost": {"country_iso_code": "XYZ"}}),
    Case("experiment_with_slash", "experiment", {"experiment": "team/quickstart"}),
    # prices (configs/prices.yaml or the config's own table and numbers)
    Case("unknown_gpu_row", "cost.gpu_hour", {"cost": {"gpu_hour": "aws-p99.huge"}}),
    Case("negative_cpu_price", "cost.cpu_hour", {"cost": {"cpu_hour": -0.1}}),
    Case("pue_below_one", "cost.pue", {"cost": {"pue": 0.9}}),
    Case("price_is_a_list", "cost.electricity", {"cost": {"electricity": [0.2]}}),
    Case("no_tariff_for_country", "cost.electricity", {"cost": {"country_iso_code": "MEX"}}),
    Case("prices_file_missing", "cost.prices", {"cost": {"prices": "configs/no_prices.yaml"}}),
    Case("prices_not_yaml", "cost.prices", prices_text="gpu_hour: [unclosed\n"),
    Case(
        "price_row_without_source",
        "cost.prices",
        prices_text=PRICES_OK.replace('g: {usd: 1.0, source: "a page", ', "g: {usd: 1.0, "),
    ),
    Case(
        "price_row_negative",
        "cost.prices",
        prices_text=PRICES_OK.replace("usd: 0.05", "usd: -0.05"),
    ),
    Case("unknown_price_table", "cost.prices", prices_text=PRICES_OK + "gpu_hours: {}\n"),
    Case("zero_deploy_batch", "deploy.batch_size", {"deploy": {"batch_size": 0}}),
    Case("unknown_deploy_target", "deploy.target", {"deploy": {"target": "tpu"}}),
    Case("negative_rope", "verdict.rope_points", {"verdict": {"rope_points": -1}}),
    Case(
        "zero_volume", "verdict.deployment_predictions", {"verdict": {"deployment_predictions": 0}}
    ),
    Case(
        "volume_as_yaml_text",
        "verdict.deployment_predictions",
        text="experiment: v\ntask: wine\nspace: search_spaces/mlp.py\nmethods: [baseline]\n"
        "seeds: [0]\nverdict:\n  deployment_predictions: 1e8\n",
    ),
    Case("unknown_verdict_key", "verdict.rope", {"verdict": {"rope": 1}}),
    Case("zero_threads", "deploy.threads", {"deploy": {"threads": 0}}),
    Case(
        "negative_latency_limit",
        "deploy.constraints.max_latency_ms_p95",
        {"deploy": {"constraints": {"max_latency_ms_p95": -5}}},
    ),
    Case(
        "unknown_constraint",
        "deploy.constraints.max_latency",
        {"deploy": {"constraints": {"max_latency": 5}}},
    ),
    Case(
        "export_required_a_word",
        "deploy.constraints.export_required",
        {"deploy": {"constraints": {"export_required": "yes please"}}},
    ),
    Case("experiment_dotdot", "experiment", {"experiment": "../escape"}),
    # the config file itself
    Case("config_not_yaml", "config", text="experiment: [unclosed\ntask: wine\n"),
    Case("config_a_list", "config", text="- experiment\n- task\n"),
    Case("config_a_scalar", "config", text="just some words\n"),
    Case("config_empty", "config", text=""),
    Case("config_binary", "config", text=b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary"),
    Case("config_missing", "config", no_file=True),
    # --set
    Case("set_without_equals", "--set", overrides=("budget.trials",)),
    Case("set_empty_key", "--set", overrides=("=4",)),
    Case("set_invalid_yaml", "--set", overrides=("seeds=[0, 1",)),
    Case("set_into_a_list", "--set", overrides=("seeds.0=3",)),
    Case("set_zero_trials", "budget.trials", overrides=("budget.trials=0",)),
    Case("set_unknown_key", "budget.trails", overrides=("budget.trails=4",)),
    # the search-space file
    Case("space_file_missing", "space", {"space": "search_spaces/no_such_space.py"}),
    Case("space_not_python", "space", {"space": "configs/quickstart.yaml"}),
    Case("space_is_a_folder", "space", {"space": "search_spaces"}),
    Case("space_without_build", "space", space_code=space_file(build=False)),
    Case("space_baseline_not_a_dict", "space", space_code=space_file("[16, 0.01]")),
    Case("baseline_missing_a_param", "space", space_code=space_file('{"width": 16, "lr": 1e-2}')),
    Case(
        "baseline_not_a_choice",
        "space",
        space_code=space_file('{"width": 16, "lr": 1e-2, "act": "gelu"}'),
    ),
    Case(
        "baseline_extra_key",
        "space",
        space_code=space_file('{"width": 16, "lr": 1e-2, "act": "relu", "depth": 3}'),
    ),
    Case(
        "baseline_int_out_of_range",
        "space",
        space_code=space_file('{"width": 1000, "lr": 1e-2, "act": "relu"}'),
    ),
    Case(
        "baseline_float_out_of_range",
        "space",
        space_code=space_file('{"width": 16, "lr": 0.5, "act": "relu"}'),
    ),
    Case(
        "baseline_int_off_the_grid",
        "space",
        space_code=space_file('{"width": 16.5, "lr": 1e-2, "act": "relu"}'),
    ),
    Case(
        "space_raises_on_import",
        "space",
        space_code=space_file(tail='raise RuntimeError("needs a GPU")\n'),
    ),
    Case(
        "space_raises_multiline_on_import",
        "space",
        space_code=space_file(tail='raise RuntimeError("needs a GPU\\nand CUDA 12")\n'),
    ),
    Case("space_import_error", "space", space_code="import no_such_module_anywhere\n"),
    Case("space_syntax_error", "space", space_code=space_file(tail="def broken(:\n")),
    Case(
        "space_exits_on_import",
        "space",
        space_code=space_file(tail="import sys\nsys.exit(3)\n"),
    ),
    Case(
        "space_returns_a_list",
        "space",
        space_code=space_file().replace("    return {}\n", "    return [1]\n"),
    ),
    Case(
        "space_bad_bounds",
        "space",
        space_code=space_file().replace('"width", 4, 64', '"width", 64, 4'),
    ),
    Case(
        "reference_space_missing",
        "reference_spaces.1",
        {"reference_spaces": ["search_spaces/cnn1d.py", "search_spaces/nope.py"]},
    ),
    Case(
        "reference_space_same_name",
        "reference_spaces.0",
        {"reference_spaces": ["search_spaces/mlp.py"]},
    ),
]
BY_ID = {case.id: case for case in CASES}
assert len(BY_ID) == len(CASES), "case ids must be unique"

# Through the real CLI: `run` for these (prepare refuses them, so nothing would start) ...
RUN_IDS = [
    "unknown_top_level_key",
    "trials_is_a_word",
    "seeds_is_a_string",
    "epochs_is_a_float",
    "zero_trials",
    "unknown_task",
    "unknown_method",
    "methods_without_baseline",
    "duplicate_seeds",
    "missing_task",
    "space_file_missing",
    "space_without_build",
    "space_raises_on_import",
    "space_raises_multiline_on_import",
    "space_exits_on_import",
    "config_not_yaml",
    "config_binary",
    "unknown_country",
    "set_without_equals",
    "experiment_with_slash",
    "unknown_gpu_row",
    "price_row_without_source",
    "unknown_deploy_target",
]
# ... and `validate` for these (an out-of-range baseline only through validate: were it
# accepted, `run` would start an experiment).
VALIDATE_IDS = [
    "unknown_budget_key",
    "baseline_not_a_choice",
    "baseline_int_out_of_range",
    "config_missing",
]
CLI_PARAMS = [(BY_ID[i], "run") for i in RUN_IDS] + [(BY_ID[i], "validate") for i in VALIDATE_IDS]
# In the fast loop, one case for each way a refusal comes about in a real process (a config
# field, text that is not YAML, a space file exiting on import, a missing file); every case in
# the slow run (each process costs 1-2 s of CPU).
FAST_CLI = {
    "run-unknown_top_level_key",
    "run-config_not_yaml",
    "run-space_exits_on_import",
    "validate-config_missing",
}
assert not FAST_CLI - {f"{cmd}-{c.id}" for c, cmd in CLI_PARAMS}, "FAST_CLI names a missing case"


def write_case(case: Case, folder: Path) -> tuple[Path, Path]:
    """Write the case's files under ``folder``; returns (config path, output_dir)."""
    out = folder / "runs-out"
    config = folder / "config.yaml"
    if case.no_file:
        return config, out
    if case.text is not None:
        data = case.text if isinstance(case.text, bytes) else case.text.encode()
        config.write_bytes(data)
        return config, out
    raw: dict[str, Any] = {**GOOD, "output_dir": str(out)}
    if case.prices_text is not None:
        prices = folder / "prices.yaml"
        prices.write_text(case.prices_text)
        raw["cost"] = {**PRICED, "prices": str(prices)}
    if case.space_code is not None:
        space = folder / f"space_{case.id}.py"
        space.write_text(case.space_code)
        raw["space"] = str(space)
    for key, value in (case.changes or {}).items():
        if value == DROP:
            raw.pop(key)
        else:
            raw[key] = value
    config.write_text(yaml.safe_dump(raw, sort_keys=False))
    return config, out


def set_args(case: Case) -> list[str]:
    return [arg for item in case.overrides for arg in ("--set", item)]


def one_line(stderr: str) -> str:
    """The single non-empty line stderr must be; fails with all of stderr otherwise."""
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    assert lines[0].strip(), "the one stderr line is empty"
    return lines[0]


# --- in-process: prepare and main ------------------------------------------------------------


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Relative space paths in the cases resolve against the repository, as in the CLI tests."""
    monkeypatch.chdir(REPO)
    return REPO


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_prepare_refuses(case: Case, tmp_path: Path, in_repo: Path) -> None:
    config, out = write_case(case, tmp_path)
    with pytest.raises(ConfigError) as info:
        prepare(config, list(case.overrides))
    error = info.value
    assert error.field == case.field, str(error)
    assert str(error).startswith(f"{case.field}: ")
    assert error.message.strip()
    assert "\n" not in str(error), f"the error must be one line: {str(error)!r}"
    assert not out.exists()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_main_validate_refuses_with_one_line(
    case: Case, tmp_path: Path, in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, out = write_case(case, tmp_path)
    code = main(["validate", str(config), *set_args(case)])
    captured = capsys.readouterr()
    assert code == EXIT_BAD_INPUT, captured.out + captured.err
    line = one_line(captured.err)
    assert line.startswith(f"automl-bench: error: {case.field}: "), line
    assert captured.out == ""
    assert not out.exists()


def test_main_validate_accepts_quickstart(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(QUICKSTART)]) == 0
    captured = capsys.readouterr()
    assert "valid" in captured.out
    assert "12 studies" in captured.out  # (3 methods + 1 reference space) x 3 seeds
    assert captured.err == ""


def test_main_validate_writes_nothing(
    in_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["validate", str(QUICKSTART), "--set", f"output_dir={out}"])
    assert code == 0, capsys.readouterr().err
    assert not out.exists()


def test_prepare_accepts_the_good_base_config(in_repo: Path, tmp_path: Path) -> None:
    """The cases' starting point is valid, so each case fails for its own change only."""
    config, out = write_case(Case("good", ""), tmp_path)
    prepared = prepare(config)
    assert prepared.primary_space == "mlp"
    assert len(prepared.studies) == 4  # 2 methods x 2 seeds
    assert not out.exists()


def test_the_good_space_file_is_accepted(in_repo: Path, tmp_path: Path) -> None:
    config, out = write_case(Case("good_space", "", space_code=space_file()), tmp_path)
    prepared = prepare(config)
    assert prepared.spaces[prepared.primary_space].baseline == {
        "width": 16,
        "lr": 1e-2,
        "act": "relu",
    }
    assert not out.exists()


# --- through the real CLI, in subprocesses ---------------------------------------------------


def _cli_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("RAY_ADDRESS", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "automl_bench.cli", *args]
    try:
        return subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=120, env=_cli_env()
        )
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(command, -9, str(exc.stdout), str(exc.stderr))


@pytest.fixture(scope="module")
def cli_results(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> dict[str, tuple[subprocess.CompletedProcess[str], Path]]:
    """Every CLI case this session runs, a few at a time: {"<command>-<id>": (process,
    output_dir)}."""
    selected = {
        item.callspec.id
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.originalname == "test_cli_refuses_bad_input"
    }
    jobs = []
    for case, command in CLI_PARAMS:
        if f"{command}-{case.id}" not in selected:
            continue
        folder = tmp_path_factory.mktemp(f"{command}-{case.id}")
        config, out = write_case(case, folder)
        args = [command, str(config), *set_args(case)]
        if command == "run":
            args.append("--no-live")
        jobs.append((f"{command}-{case.id}", args, out))
    workers = max(2, min(6, (os.cpu_count() or 2) * 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        procs = list(pool.map(lambda job: _cli(job[1], REPO), jobs))
    return {key: (proc, out) for (key, _, out), proc in zip(jobs, procs, strict=True)}


@pytest.mark.parametrize(
    ("case", "command"),
    [
        pytest.param(c, cmd, id=f"{cmd}-{c.id}", marks=() if f"{cmd}-{c.id}" in FAST_CLI else slow)
        for c, cmd in CLI_PARAMS
    ],
)
def test_cli_refuses_bad_input(
    case: Case,
    command: str,
    cli_results: dict[str, tuple[subprocess.CompletedProcess[str], Path]],
) -> None:
    proc, out = cli_results[f"{command}-{case.id}"]
    shown = f"rc={proc.returncode}\nstdout={proc.stdout[-2000:]}\nstderr={proc.stderr[-2000:]}"
    assert "Traceback" not in proc.stderr, shown
    assert proc.returncode == EXIT_BAD_INPUT, shown
    line = one_line(proc.stderr)
    assert line.startswith(f"automl-bench: error: {case.field}: "), shown
    if command == "run":
        assert proc.stdout == "", shown
    assert not out.exists(), f"{out} was written\n{shown}"


def test_cli_default_output_dir_is_not_created(tmp_path: Path) -> None:
    """With no output_dir, refusal leaves no runs/ folder in the working directory."""
    raw = {**GOOD, "space": str(REPO / "search_spaces" / "mlp.py"), "budget": {"trials": 0}}
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(raw))
    proc = _cli(["run", str(config), "--no-live"], tmp_path)
    assert proc.returncode == EXIT_BAD_INPUT, proc.stderr
    assert one_line(proc.stderr).startswith("automl-bench: error: budget.trials: ")
    assert proc.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_cli_validate_accepts_quickstart() -> None:
    proc = _cli(["validate", "configs/quickstart.yaml"], REPO)
    assert proc.returncode == 0, proc.stderr
    assert "configs/quickstart.yaml: valid" in proc.stdout
    assert proc.stderr == ""
