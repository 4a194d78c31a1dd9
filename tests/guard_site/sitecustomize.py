"""Loaded at start-up by every Python process a test starts (conftest.py puts this folder on
PYTHONPATH): installs heavy_start_guard, which is inert unless the test is not marked slow."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "heavy_start_guard", Path(__file__).resolve().parent.parent / "heavy_start_guard.py"
)
if _spec is not None and _spec.loader is not None:
    _guard = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_guard)
    _guard.install()
