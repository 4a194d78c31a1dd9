"""What produced a number: code revision, library versions, hardware."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

LIBRARIES = (
    "automl-bench",
    "torch",
    "optuna",
    "ray",
    "mlflow",
    "codecarbon",
    "scikit-learn",
    "numpy",
)


_CHECKOUT = Path(__file__).resolve().parent.parent  # the clone's root, or site-packages


def code_revision(root: Path = _CHECKOUT) -> str:
    """The git commit of the automl-bench checkout at ``root`` (``+dirty`` with local changes);
    installed from a wheel, ``automl-bench <version>``: its site-packages may lie inside another
    project's repository, whose commit is not ours; else "unknown"."""
    if not (root / ".git").exists():  # a folder (a clone) or a file (a git worktree)
        try:
            return f"automl-bench {metadata.version('automl-bench')}"
        except metadata.PackageNotFoundError:
            return "unknown"
    try:
        rev = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{rev}+dirty" if dirty else rev


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware() -> dict[str, Any]:
    import psutil
    import torch

    info: dict[str, Any] = {
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "torch_threads": torch.get_num_threads(),
        "gpus": [],
    }
    if torch.cuda.is_available():
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        info["cuda"] = torch.version.cuda
    return info


def flat_tags(hw: dict[str, Any], libs: dict[str, str], revision: str) -> dict[str, str]:
    """The same facts as MLflow tags."""
    tags = {"code_revision": revision}
    tags.update({f"version.{k}": v for k, v in libs.items()})
    tags.update({f"hardware.{k}": str(v) for k, v in hw.items()})
    return tags
