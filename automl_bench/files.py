"""Writing an experiment's files: atomically (a reader never sees half a file), and moving an
earlier run's files to history/ before a new run writes its own."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

# what a run writes into runs/<experiment>/, moved to history/ by the next run
RUN_FILES = (
    "summary.json",
    "summary.csv",
    "results.csv",
    "trials.jsonl",
    "report.html",
    "report.md",
    "plots",
)


def atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; these are results to share
    os.replace(tmp, path)


def _stamp(previous: Path) -> str:
    """The earlier run's ``created`` time (its file's time when unreadable), as a file name."""
    try:
        stamp = str(json.loads(previous.read_text())["created"])
    except (ValueError, KeyError, TypeError):
        stamp = str(previous.stat().st_mtime_ns)
    return "".join(c if c.isalnum() else "-" for c in stamp)


def archive_previous(exp_dir: Path) -> None:
    """Move an earlier run's summary, results, trial log and report to history/, stamped with
    its time."""
    exp_dir.mkdir(parents=True, exist_ok=True)
    previous = exp_dir / "summary.json"
    if not previous.exists():
        return
    stamp = _stamp(previous)
    history = exp_dir / "history"
    history.mkdir(exist_ok=True)
    for name in RUN_FILES:
        if (exp_dir / name).exists():
            os.replace(exp_dir / name, history / f"{stamp}-{name}")
