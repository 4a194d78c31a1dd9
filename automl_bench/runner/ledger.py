"""The trial ledger: every trial's closing result, written by the trial itself before it reports.

Ray Tune saves its experiment state (trial statuses and the searcher) every ten seconds or so, so
a driver killed between two saves leaves trials that had finished marked as still running; on
``--resume`` Tune starts them again. A trial started again finds its closing result here and
reports it at once instead of training a second time: no finished trial is run twice, whenever the
driver died. Each entry is one JSON file per trial id (written whole, then renamed), and the final
model beside it, under the Tune experiment's folder, which on a cluster is a shared path.

A trial stopped by a scheduler also writes its closing here: the driver settles stopped trials
after the run, from what they deposited on their node's meter, and a killed driver's meters are
gone; this is where a resumed driver finds them. A stopped trial is not replayed (Tune's
restored scheduler has forgotten its decision, so it runs again from the start).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

_MODEL = ".model"


class Ledger:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _entry(self, trial_id: str) -> Path:
        return self.folder / f"{trial_id}.json"

    def record(self, trial_id: str, closing: dict[str, Any], model_dir: Path | None) -> None:
        """Keep ``closing`` (and a copy of the final model in ``model_dir``) for ``trial_id``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if model_dir is not None:
            kept = self.folder / f"{trial_id}{_MODEL}"
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(model_dir, kept)
        partial = self.folder / f".{trial_id}.json.partial"
        partial.write_text(json.dumps(closing, default=str))
        os.replace(partial, self._entry(trial_id))  # an entry is there whole, or not at all

    def closing(self, trial_id: str) -> dict[str, Any] | None:
        """The closing result ``trial_id`` left, if any."""
        try:
            found: dict[str, Any] = json.loads(self._entry(trial_id).read_text())
        except (OSError, ValueError):
            return None
        return found

    def replay(self, trial_id: str) -> tuple[dict[str, Any], Path | None] | None:
        """The closing result and model of a trial that ended on its own (ok or failed), to be
        reported again instead of running it again; None for one that never ended or was
        stopped by a scheduler."""
        closing = self.closing(trial_id)
        if closing is None or closing.get("trial_status") not in ("ok", "failed"):
            return None
        model = self.folder / f"{trial_id}{_MODEL}"
        return closing, model if model.is_dir() else None

    def stopped(self, trial_ids: set[str]) -> dict[str, dict[str, Any]]:
        """The closing results of those of ``trial_ids`` a scheduler stopped."""
        found = {t: self.closing(t) for t in trial_ids}
        return {
            t: c for t, c in found.items() if c is not None and c.get("trial_status") == "stopped"
        }
