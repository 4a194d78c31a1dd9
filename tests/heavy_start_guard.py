"""The fast loop's guard: a test not marked ``slow`` may not start Ray, open an MLflow tracking
store or construct a CodeCarbon tracker, neither in its own process nor in one it starts.

``install()`` puts a finder first on ``sys.meta_path``; when one of the modules in ``TARGETS`` is
imported, the finder replaces the named function with one that, while the environment variable
``FORBID`` names a file, appends what was started to that file and raises ``HeavyStart``. The
line in the file counts even where the library catches the error. conftest.py sets ``FORBID``
around each phase of a test not marked slow and fails the test if the file is not empty; it puts
``guard_site/`` on ``PYTHONPATH``, whose ``sitecustomize.py`` calls ``install()`` in every Python
process a test starts. Standard library only: any interpreter can load this file.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

FORBID = "AUTOML_BENCH_TEST_FORBID_HEAVY"

# module -> (the function it defines, dotted inside the module; what calling it starts)
TARGETS = {
    "ray._private.worker": ("init", "Ray"),
    "mlflow.tracking._tracking_service.registry": (
        "TrackingStoreRegistry.get_store",
        "an MLflow tracking store",
    ),
    "codecarbon.emissions_tracker": ("BaseEmissionsTracker.__init__", "a CodeCarbon tracker"),
}


class HeavyStart(RuntimeError):
    """Ray, MLflow or CodeCarbon was started by a test not marked slow."""


def _guarded(original: Callable[..., Any], what: str) -> Callable[..., Any]:
    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        log = os.environ.get(FORBID)
        if log:
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"{what} was started (pid {os.getpid()})\n")
            raise HeavyStart(f"{what} started in a test not marked slow: mark it slow")
        return original(*args, **kwargs)

    guarded.__dict__["heavy_start_guard"] = True
    return guarded


def _patch(module: ModuleType) -> None:
    dotted, what = TARGETS[module.__name__]
    *owners, name = dotted.split(".")
    owner: Any = module
    for part in owners:
        owner = getattr(owner, part)
    original = getattr(owner, name)
    if not getattr(original, "heavy_start_guard", False):
        setattr(owner, name, _guarded(original, what))


class _Finder(importlib.abc.MetaPathFinder):
    """Finds a target module as the path finder does, and patches it once it has run."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in TARGETS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run_module = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run_module(module)
            _patch(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Guard the targets already imported, and those imported from now on."""
    for name in TARGETS:
        if name in sys.modules:
            _patch(sys.modules[name])
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
