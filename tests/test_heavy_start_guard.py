"""The fast loop's guard (heavy_start_guard.py, installed by conftest.py): while FORBID names a
file, starting Ray, an MLflow tracking store or a CodeCarbon tracker raises and is logged there,
in this process and in a process started from it. Each check points FORBID at its own file inside
the test's body, so the guard's own hooks around this (fast) test see nothing started."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from heavy_start_guard import FORBID, HeavyStart


def _forbid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point FORBID at a file of this test's (the hooks set it anew before each phase)."""
    path = tmp_path / "started.log"
    monkeypatch.setenv(FORBID, str(path))
    return path


def test_starting_ray_is_refused_and_logged(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import ray

    log = _forbid(monkeypatch, tmp_path)
    with pytest.raises(HeavyStart, match="Ray started in a test not marked slow"):
        ray.init(num_cpus=1)
    assert not ray.is_initialized()
    assert log.read_text().startswith("Ray was started")


def test_opening_an_mlflow_store_is_refused_and_logged(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient

    log = _forbid(monkeypatch, tmp_path)
    with pytest.raises(HeavyStart, match="an MLflow tracking store started"):
        MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert not (tmp_path / "mlflow.db").exists()
    assert log.read_text().startswith("an MLflow tracking store was started")


def test_a_codecarbon_tracker_is_logged_though_codecarbon_swallows_the_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from codecarbon import OfflineEmissionsTracker

    log = _forbid(monkeypatch, tmp_path)
    OfflineEmissionsTracker(country_iso_code="FRA", output_dir=str(tmp_path))  # logs, goes on
    assert log.read_text().startswith("a CodeCarbon tracker was started")


def test_a_process_the_test_starts_is_guarded_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = _forbid(monkeypatch, tmp_path)
    code = "from codecarbon import OfflineEmissionsTracker; OfflineEmissionsTracker()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HeavyStart" in proc.stderr
    assert log.read_text().startswith("a CodeCarbon tracker was started (pid ")


def test_without_forbid_the_library_is_untouched_but_for_the_wrapper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(FORBID)
    import ray

    assert getattr(ray.init, "heavy_start_guard", False)
    assert ray.init.__wrapped__.__module__ == "ray._private.worker"  # type: ignore[attr-defined]


class _Item:
    """What the hooks read of a test item: its marks."""

    def __init__(self, *marks: str) -> None:
        self.marks = marks

    def get_closest_marker(self, name: str) -> object | None:
        return name if name in self.marks else None


def test_the_hooks_fail_a_fast_test_that_started_something_and_pass_a_slow_one(
    tmp_path: Path,
) -> None:
    from conftest import forbid_heavy_starts
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with (
        pytest.raises(pytest.fail.Exception, match="an MLflow tracking store was started"),
        forbid_heavy_starts(_Item(), tmp_path / "fast.log"),  # type: ignore[arg-type]
        contextlib.suppress(HeavyStart),  # as a library might swallow it
    ):
        MlflowClient(tracking_uri=uri)
    outer = os.environ.get(FORBID)  # this test's own guard
    with forbid_heavy_starts(_Item("slow"), tmp_path / "slow.log"):  # type: ignore[arg-type]
        assert os.environ.get(FORBID) == outer  # a slow test is left as it is
    assert not (tmp_path / "slow.log").exists()
