"""``pip install .`` (not editable) into a fresh venv, then from an empty folder: the price table,
the built-in spaces and the example configs are found, and ``automl-bench init`` writes a starter
that validates. The venv reaches this environment's dependencies through a path entry, never its
editable automl_bench (whose finder only a .pth file of this environment installs)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from repo_paths import REPO

# what a wheel is built from: the working tree's sources, copied so the build writes nothing here
SOURCES = ("pyproject.toml", "setup.py", "README.md", "automl_bench", "search_spaces", "configs")
SHIPPED_SPACES = ["cnn1d.py", "maml.py", "mlp.py", "nb201.py", "protonet.py", "tabular.py"]


def _quiet(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of this working tree, as ``pip wheel .`` builds it (offline, no isolation)."""
    src = tmp_path_factory.mktemp("src")
    junk = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=junk)
        else:
            shutil.copy2(REPO / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    pip = (sys.executable, "-m", "pip")
    _quiet(*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w", out, src)
    (built,) = out.glob("automl_bench-*.whl")
    return built


def test_the_wheel_ships_the_spaces_the_configs_and_the_price_table(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for space in SHIPPED_SPACES:
        assert f"automl_bench/search_spaces/{space}" in names
    for config in ("prices.yaml", "quickstart.yaml", "slurm/automl-bench.sbatch"):
        assert f"automl_bench/configs/{config}" in names
    assert not any(n.startswith(("search_spaces/", "configs/", "tests/")) for n in names)


def _fresh_venv(root: Path, wheel: Path) -> Path:
    """A venv holding only the wheel; the dependencies come from this environment's folders."""
    venv = root / "venv"
    _quiet(sys.executable, "-m", "venv", "--without-pip", venv)
    (site,) = venv.glob("lib/python*/site-packages")
    deps = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    (site / "deps.pth").write_text("".join(f"{path}\n" for path in deps))
    _quiet(venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel)
    return venv


@pytest.mark.slow  # four fresh interpreters that import torch: about 20 s on 2 cores
def test_a_wheel_install_works_from_an_empty_folder(wheel: Path, tmp_path: Path) -> None:
    venv = _fresh_venv(tmp_path, wheel)
    here = tmp_path / "empty"
    here.mkdir()
    show = "import automl_bench; print(automl_bench.__file__)"
    where = _quiet(venv / "bin" / "python", "-c", show, cwd=here)
    assert Path(where.stdout.strip()).is_relative_to(venv)  # the wheel's copy, not this checkout
    cli = venv / "bin" / "automl-bench"
    said = _quiet(cli, "init", "mine", cwd=here).stdout
    assert "automl-bench run mine/experiment.yaml" in said
    assert "valid;" in _quiet(cli, "validate", "mine/experiment.yaml", cwd=here).stdout
    # built-in spaces by name and by path, the default price table, a shipped example config
    (here / "builtin.yaml").write_text(
        "experiment: b\ntask: mnist1d\nspace: mlp\nreference_spaces: [search_spaces/cnn1d.py]\n"
        "methods: [baseline]\nseeds: [0]\n"
    )
    assert "valid;" in _quiet(cli, "validate", "builtin.yaml", cwd=here).stdout
    assert "valid;" in _quiet(cli, "validate", "configs/quickstart.yaml", cwd=here).stdout
    assert sorted(p.name for p in here.iterdir()) == ["builtin.yaml", "mine"]  # nothing else
