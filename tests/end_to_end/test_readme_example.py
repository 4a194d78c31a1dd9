"""The README's custom search space, as written there: the file passes the README's check
command (one OK line), a broken copy fails it in one line, the config validates, and a
(shortened) run finishes with its report."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from repo_paths import REPO

from automl_bench import check_search_space
from automl_bench.cli import main
from automl_bench.experiment import prepare


def _block(readme: str, first_line: str) -> str:
    """The fenced code block whose first line is ``first_line``."""
    for match in re.finditer(r"```[a-z]*\n(.*?)```", readme, re.DOTALL):
        if match.group(1).startswith(first_line):
            return match.group(1)
    raise AssertionError(f"no block starting with {first_line!r} in README.md")


@pytest.fixture()
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The README's space and config, written into an empty folder that is the working one."""
    monkeypatch.chdir(tmp_path)
    readme = (REPO / "README.md").read_text()
    (tmp_path / "my_mlp.py").write_text(_block(readme, "# my_mlp.py"))
    (tmp_path / "my_experiment.yaml").write_text(_block(readme, "# my_experiment.yaml"))
    return tmp_path


def _check_command() -> list[str]:
    """The README's check command, as arguments of ``automl-bench``."""
    block = _block((REPO / "README.md").read_text(), "automl-bench check ")
    return block.splitlines()[0].split()[1:]


def test_the_example_space_passes_the_checks_and_its_config_validates(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    check_search_space(example / "my_mlp.py", task="digits")
    assert main(_check_command()) == 0
    out = capsys.readouterr().out
    assert out.startswith("my_mlp.py: OK on digits") and out.count("\n") == 1
    prepared = prepare(example / "my_experiment.yaml")
    assert prepared.config.methods == ["baseline", "random", "tpe", "rea", "asha"]
    assert prepared.spaces["my_mlp"].baseline["width_0"] == 100


def test_a_broken_copy_of_it_is_refused_with_the_reason(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from automl_bench.testing import SearchSpaceCheckError

    broken = example / "my_mlp.py"
    broken.write_text(
        broken.read_text().replace(
            "layers.append(nn.Linear(width, task.num_classes))",
            "layers.append(nn.Linear(width, task.num_classes + 1))",
        )
    )
    with pytest.raises(SearchSpaceCheckError) as info:
        check_search_space(broken, task="digits")
    message = str(info.value)
    assert "\n" not in message and "my_mlp.py" in message and "(7, 11)" in message
    assert main(_check_command()) == 2
    captured = capsys.readouterr()
    assert captured.err == f"automl-bench: error: {message}\n" and captured.out == ""


@pytest.mark.slow
def test_the_example_runs_to_its_report(example: Path, run_cli: Callable[..., Any]) -> None:
    config = yaml.safe_load((example / "my_experiment.yaml").read_text())
    config.update(
        seeds=[0],
        budget={"trials": 2, "epochs": 2},
        methods=["baseline", "rea"],
        space=str(example / "my_mlp.py"),
        output_dir=str(example / "runs"),
    )
    run_cli(config, example)
    summary = json.loads((example / "runs" / "my_mlp" / "summary.json").read_text())
    assert summary["methods"]["rea"]["studies"][0]["test_metric"] > 0.5
    assert (example / "runs" / "my_mlp" / "report.html").is_file()
