"""Loaded at start-up by every Python process a test starts (conftest.py puts this folder on
PYTHONPATH): installs heavy_start_guard, which is inert unless the test is not marked slow, then
runs the sitecustomize this one shadows, if the interpreter has one."""

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

_here = Path(__file__).resolve().parent


def _load(name: str, path: Path) -> None:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if name == "heavy_start_guard":
            module.install()


_load("heavy_start_guard", _here.parent / "heavy_start_guard.py")
_rest = [p for p in sys.path if Path(p or ".").resolve() != _here]
_shadowed = importlib.machinery.PathFinder.find_spec("sitecustomize", _rest)
if _shadowed is not None and _shadowed.origin is not None:
    _load("_shadowed_sitecustomize", Path(_shadowed.origin))
