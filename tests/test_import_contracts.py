"""The package keeps its shape: the import-linter contracts in pyproject.toml ([tool.importlinter]:
the driver's layers, only the driver reads the config, no cycles) pass as CI runs them
(``lint-imports`` from the repository root), and each breaks when an import it forbids comes back.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from repo_paths import REPO

LAYERS = "The driver's layers: each imports only the layers below it"
CONFIG = "Only the driver reads the config: the roles it wires take explicit arguments"
ACYCLIC = "No cycles: between the modules of a package, nor between its subpackages"


def test_lint_imports_keeps_every_contract() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(exe) if exe.exists() else "lint-imports", "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 3 kept, 0 broken." in proc.stdout
    for name in (LAYERS, CONFIG, ACYCLIC):
        assert f"{name} KEPT" in proc.stdout


class _GraphWithImport:
    """import-linter's graph builder, with one more import in the graph it builds."""

    def __init__(self, real: Any, importer: str, imported: str) -> None:
        self.real, self.importer, self.imported = real, importer, imported

    def build(self, **kwargs: Any) -> Any:
        graph = self.real.build(**kwargs)
        graph.add_import(importer=self.importer, imported=self.imported)
        return graph


@pytest.fixture
def broken_by(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """The report of ``lint-imports`` on the package with one more import, and whether it
    passed."""
    from importlinter import configuration
    from importlinter.application import use_cases
    from importlinter.application.app_config import settings

    configuration.configure()  # import-linter's own set-up, as lint-imports does it
    real = settings.GRAPH_BUILDER

    def check(importer: str, imported: str) -> tuple[bool, str]:
        settings.configure(GRAPH_BUILDER=_GraphWithImport(real, importer, imported))
        capsys.readouterr()
        passed = use_cases.lint_imports(str(REPO / "pyproject.toml"), cache_dir=None, no_logo=True)
        return passed, capsys.readouterr().out

    try:
        yield check
    finally:
        settings.configure(GRAPH_BUILDER=real)


@pytest.mark.parametrize(
    ("importer", "imported", "contract"),
    [
        # the two cycles issue 15 found, back again
        ("automl_bench.metric", "automl_bench.tasks.families", ACYCLIC),
        ("automl_bench.trial_job", "automl_bench.meta.trial", ACYCLIC),
        # a lower layer reaching up, and two roles the driver wires reaching each other
        ("automl_bench.cost.record", "automl_bench.runner.tuner", LAYERS),
        ("automl_bench.runner.tuner", "automl_bench.tracking", LAYERS),
        # a role handed the whole config
        ("automl_bench.methods.warmstart", "automl_bench.config", CONFIG),
    ],
)
def test_an_import_the_contracts_forbid_breaks_them(
    broken_by: Any, importer: str, imported: str, contract: str
) -> None:
    passed, report = broken_by(importer, imported)
    assert not passed
    assert f"{contract} BROKEN" in report
