"""The space conformance checks where users meet them: ``automl-bench validate`` and ``run``
refuse a config whose space breaks the contract, before anything starts, in one line naming
the space file, the check and what is wrong (exit code 2); ``automl-bench check`` prints one
line either way."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from repo_paths import FIXTURES, REPO
from test_testing import BROKEN_CASES

from automl_bench.cli import EXIT_BAD_INPUT, main

BROKEN = FIXTURES / "broken_spaces"
PREFIX = "automl-bench: error: "
GOOD: dict[str, Any] = {
    "experiment": "space-checks",
    "task": "digits",
    "space": "search_spaces/mlp.py",
    "methods": ["baseline", "random"],
    "seeds": [0, 1],
    "budget": {"trials": 2, "epochs": 1},
    "cost": {"country_iso_code": "FRA"},
}


def one_line(stderr: str) -> str:
    """The single non-empty line stderr must be; fails with all of stderr otherwise."""
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    assert lines[0].strip(), "the one stderr line is empty"
    return lines[0]


def config_for(folder: Path, space: Path, **changes: Any) -> tuple[Path, Path]:
    """A valid config on digits naming ``space``; returns (config, output_dir)."""
    out = folder / "runs-out"
    raw = {**GOOD, "task": "digits", "space": str(space), "output_dir": str(out), **changes}
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump(raw, sort_keys=False))
    return config, out


@pytest.mark.parametrize(("file", "check", "says"), BROKEN_CASES, ids=[c[0] for c in BROKEN_CASES])
def test_validate_refuses_a_broken_space_in_one_line(
    file: str, check: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, out = config_for(tmp_path, BROKEN / file)
    code = main(["validate", str(config)])
    captured = capsys.readouterr()
    assert code == EXIT_BAD_INPUT, captured.out + captured.err
    line = one_line(captured.err)
    assert line.startswith(f"{PREFIX}space: {file}: check '{check}' failed: "), line
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert not out.exists()


def test_validate_refuses_the_three_spaces_it_once_called_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A model with 9 outputs on digits; a '/' in a name only build reads; a build that
    raises on some configurations: each failed every trial at run time."""
    nine = tmp_path / "nine_outputs.py"
    nine.write_text(
        "from torch import nn\n\n\ndef space(trial):\n    trial.suggest_int('width', 8, 32)\n\n\n"
        "def build(config, task):\n    return nn.Linear(64, 9)\n\n\nbaseline = {'width': 16}\n"
    )
    spaces = [
        (nine, "forward_gives_logits", "expected logits of shape (7, 10)"),
        (BROKEN / "slash_name.py", "parameter_names", "'hidden/width' contains '/'"),
        (BROKEN / "build_fails_sometimes.py", "build_returns_module", "is a multiple of 20"),
    ]
    for i, (space, check, says) in enumerate(spaces):
        folder = tmp_path / f"c{i}"
        folder.mkdir()
        config, _ = config_for(folder, space)
        assert main(["validate", str(config)]) == EXIT_BAD_INPUT
        line = one_line(capsys.readouterr().err)
        assert f"space: {space.name}: check '{check}' failed: " in line and says in line, line


def test_a_reference_space_is_checked_and_named_by_its_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nan_output = str(BROKEN / "nan_output.py")
    mlp = REPO / "search_spaces" / "mlp.py"
    config, _ = config_for(tmp_path, mlp, reference_spaces=[nan_output])
    assert main(["validate", str(config)]) == EXIT_BAD_INPUT
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"{PREFIX}reference_spaces.0: nan_output.py: check 'forward_gives"), line


def test_a_bad_config_is_refused_before_the_space_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = config_for(tmp_path, BROKEN / "wrong_shape.py", budget={"trials": 0})
    assert main(["validate", str(config)]) == EXIT_BAD_INPUT
    assert one_line(capsys.readouterr().err).startswith(f"{PREFIX}budget.trials: ")


@pytest.mark.parametrize(
    ("task", "space"),
    [("sinusoid", "maml.py"), ("fewshot_mnist1d", "protonet.py"), ("digits", "mlp.py")],
)
def test_validate_says_each_space_passed(
    task: str, space: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    meta = {"sinusoid": "maml", "fewshot_mnist1d": "protonet"}
    methods = ["pretrain_finetune", meta[task]] if task in meta else GOOD["methods"]
    changes = {"task": task, "methods": methods, "seeds": [0]}
    config, out = config_for(tmp_path, REPO / "search_spaces" / space, **changes)
    assert main(["validate", str(config)]) == 0, capsys.readouterr().err
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith(f"{config}: valid; ")
    assert lines[1].startswith(f"space: {space}: OK on {task}, 8 checks passed on the baseline ")
    assert captured.err == ""
    assert not out.exists()


# --- through the real command line ----------------------------------------------------------


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``automl-bench ARGS`` in a real process, with no cluster or tracking server inherited."""
    command = [sys.executable, "-m", "automl_bench.cli", *args]
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "MLFLOW_TRACKING_URI")}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def test_the_real_cli_check_and_run_say_one_line(tmp_path: Path) -> None:
    """Two real processes (each pays the imports: the rest is tested in-process): the README's
    check command, and a run refused before anything starts."""
    config, out = config_for(tmp_path, BROKEN / "build_fails_sometimes.py")
    jobs = [
        ["check", str(BROKEN / "no_grad_forward.py"), "--task", "digits"],
        ["run", str(config), "--no-live"],
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        failed, run = pool.map(lambda args: _cli(args, tmp_path), jobs)
    assert failed.returncode == EXIT_BAD_INPUT and failed.stdout == "", failed.stderr
    assert one_line(failed.stderr).startswith(
        f"{PREFIX}space: no_grad_forward.py: check 'backward_reaches_parameters' failed: "
    )
    assert run.returncode == EXIT_BAD_INPUT and run.stdout == "", run.stderr
    assert one_line(run.stderr).startswith(
        f"{PREFIX}space: build_fails_sometimes.py: check 'build_returns_module' failed: "
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]  # nothing written
    assert not out.exists()


def test_check_says_ok_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(REPO / "search_spaces" / "maml.py"), "--task", "sinusoid"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("maml.py: OK on sinusoid, 8 checks passed on the baseline and")
    assert captured.out.count("\n") == 1 and captured.err == ""


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (["--task", "imagenet"], "task: unknown task 'imagenet'"),
        (["--task", "image_folder"], "data_dir: task 'image_folder' reads a folder"),
    ],
)
def test_check_refuses_a_bad_task_in_one_line(
    args: list[str], starts: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", str(REPO / "search_spaces" / "mlp.py"), *args])
    captured = capsys.readouterr()
    assert code == EXIT_BAD_INPUT and captured.out == ""
    assert one_line(captured.err).startswith(PREFIX + starts)


def test_check_refuses_a_missing_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", str(tmp_path / "none.py"), "--task", "digits"])
    assert code == EXIT_BAD_INPUT
    assert one_line(capsys.readouterr().err).startswith(f"{PREFIX}space: search-space file ")
