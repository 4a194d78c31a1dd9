from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import heavy_start_guard
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent

# The fast loop's guard (heavy_start_guard.py): a test not marked slow that starts Ray, an MLflow
# tracking store or a CodeCarbon tracker, here or in a process it starts, fails.
heavy_start_guard.install()
_GUARD_SITE = Path(__file__).resolve().parent / "guard_site"
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(_GUARD_SITE), *filter(None, [os.environ.get("PYTHONPATH")])]
)
_HEAVY_LOG = Path(tempfile.mkdtemp(prefix="automl-bench-heavy-")) / "started.log"


@contextmanager
def forbid_heavy_starts(item: pytest.Item, log: Path = _HEAVY_LOG) -> Iterator[None]:
    """Around a phase of ``item``: unless it is marked slow, a start logged to ``log`` fails it."""
    if item.get_closest_marker("slow") is not None:
        yield
        return
    log.write_text("")
    before = os.environ.get(heavy_start_guard.FORBID)
    os.environ[heavy_start_guard.FORBID] = str(log)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(heavy_start_guard.FORBID, None)
        else:
            os.environ[heavy_start_guard.FORBID] = before
    started = log.read_text()
    if started:
        pytest.fail(f"not marked slow, yet {started.splitlines()[0]}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    with forbid_heavy_starts(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with forbid_heavy_starts(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    with forbid_heavy_starts(item):
        return (yield)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def free_port() -> Callable[[], int]:
    """A function giving a TCP port free on loopback right now."""
    return _free_port


def _run_cli(
    config: dict[str, Any],
    folder: Path,
    *args: str,
    env: dict[str, str] | None = None,
    prefix: tuple[str, ...] = (),
    expect_rc: int = 0,
) -> subprocess.CompletedProcess[str]:
    """Write ``config`` to ``folder`` and run ``automl-bench run`` on it in a real process,
    from the repository root, with no cluster or tracking server inherited from the caller.
    ``prefix`` goes before the command (a wrapper such as ``unshare``); ``expect_rc``: the exit
    code it must end with (3: finished, with failed trials)."""
    path = folder / f"{config['experiment']}.yaml"
    path.write_text(yaml.safe_dump(config))
    drop = ("RAY_ADDRESS", "MLFLOW_TRACKING_URI")
    full_env = {k: v for k, v in os.environ.items() if k not in drop}
    full_env.update({"PYTHONUNBUFFERED": "1", **(env or {})})
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "automl_bench.cli", "run", str(path), "--no-live", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env=full_env,
    )
    assert proc.returncode == expect_rc, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="session")
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return _run_cli


def _small_config(experiment: str, out: Path) -> dict[str, Any]:
    """Two studies on wine: a baseline and a random search of two trials, two epochs each."""
    return {
        "experiment": experiment,
        "task": "wine",
        "space": "search_spaces/mlp.py",
        "methods": ["baseline", "random"],
        "seeds": [0],
        "budget": {"trials": 2, "epochs": 2},
        "output_dir": str(out),
    }


@pytest.fixture(scope="session")
def small_config() -> Callable[[str, Path], dict[str, Any]]:
    return _small_config


@pytest.fixture(scope="session")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The end-to-end experiment (tests/e2e_setup.py), run once for every test that reads it."""
    from e2e_setup import run_e2e

    return run_e2e(tmp_path_factory.mktemp("e2e"), REPO, _run_cli)
