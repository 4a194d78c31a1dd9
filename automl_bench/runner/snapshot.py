"""One consistent copy of what ``--resume`` restores: Tune's trial list with the searcher's state.

Tune writes its experiment state (``experiment_state-<session>.json``, the trials and their
statuses) and the searcher's (``searcher-state-<session>.pkl``) to a staging folder, then copies
them one by one to the storage path, where ``Tuner.restore`` reads them. A driver killed during
that copy leaves a truncated file, or a trial list and a searcher state from two different saves:
a searcher waiting for a trial Tune does not know waits for ever (seen here: a 0-byte searcher
state after a SIGKILL). So each time the searcher is saved, the trial list Tune has just written
beside it and the searcher's state go together into one file, written whole and then renamed
(``snapshot.pkl`` in the run's ledger folder, on the storage side); before a resumed run restores,
that pair replaces whatever the storage path holds.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

EXPERIMENT_STATE = "experiment_state-"  # Tune's file names: <prefix><session>.<ext>
SEARCHER_STATE = "searcher-state-"
SEARCH_GEN_STATE = "search_gen_state-"


def _newest(folder: Path, prefix: str) -> Path | None:
    found = sorted(folder.glob(f"{prefix}*"))  # sessions are timestamps: the last is the newest
    return found[-1] if found else None


def write_snapshot(snapshot: Path, staging: Path, searcher_state: bytes) -> None:
    """Bundle the searcher's state with the trial list Tune wrote in ``staging`` for this save
    (and the search generator's state of the save before, which Tune writes after this)."""
    experiment = _newest(staging, EXPERIMENT_STATE)
    if experiment is None:
        return
    session = experiment.name.removeprefix(EXPERIMENT_STATE).removesuffix(".json")
    files = {
        experiment.name: experiment.read_bytes(),
        f"{SEARCHER_STATE}{session}.pkl": searcher_state,
    }
    generator = _newest(staging, SEARCH_GEN_STATE)
    if generator is not None:
        files[f"{SEARCH_GEN_STATE}{session}.json"] = generator.read_bytes()
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    partial = snapshot.with_name(f".{snapshot.name}.partial")
    partial.write_bytes(pickle.dumps(files))
    os.replace(partial, snapshot)


def put_back(snapshot: Path, experiment_dir: Path) -> bool:
    """Make ``experiment_dir`` hold the snapshot's trial list and searcher state, and no other
    saved state; False when there is no snapshot (nothing was saved: no trial ever started)."""
    if not snapshot.is_file():
        return False
    files: dict[str, bytes] = pickle.loads(snapshot.read_bytes())  # our own file, written above
    for prefix in (EXPERIMENT_STATE, SEARCHER_STATE, SEARCH_GEN_STATE):
        for stale in experiment_dir.glob(f"{prefix}*"):
            stale.unlink()
    for name, data in files.items():
        (experiment_dir / name).write_bytes(data)
    return True
