"""The code revision a run records: this checkout's commit, or the installed version."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

import pytest
from repo_paths import REPO

from automl_bench.provenance import code_revision


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="not a git clone")
def test_a_checkout_records_its_commit() -> None:
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert code_revision(REPO).removesuffix("+dirty") == head


def test_an_install_inside_another_repository_records_its_version(tmp_path: Path) -> None:
    """A venv's site-packages inside a user's project: that project's commit is not ours."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    site = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    assert code_revision(site) == f"automl-bench {metadata.version('automl-bench')}"
