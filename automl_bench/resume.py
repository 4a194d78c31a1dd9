"""What ``automl-bench run CONFIG --resume`` carries on from: the run state of an unfinished run.

A run writes ``runs/<experiment>/run_state.json`` once its MLflow parent runs exist, before any
trial starts, and removes it when its summary is written. The file left behind by a killed driver
names the Tune run to restore, the study parent runs to go on logging under, when the run was
first started, and the config it ran with: ``--resume`` refuses a different config, since the
trials already finished were run under the old one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from automl_bench.errors import ConfigError

STATE_FILE = "run_state.json"


@dataclass(frozen=True)
class RunState:
    tune_name: str  # the Tune run under <output_dir>/ray/
    created: str  # when the run was first started (UTC, ISO 8601)
    config: str  # the validated config, as JSON (Prepared.config_text)
    parents: dict[str, str]  # study key -> its MLflow parent run id
    tracking_uri: str
    resumed: list[str] = field(default_factory=list)  # when each --resume started (UTC)
    # study keys per look (``looks``); its first look's Tune run is ``tune_name``, look k's
    # ``<tune_name>-look<k>``
    looks: list[list[str]] = field(default_factory=list)


def state_path(exp_dir: Path) -> Path:
    return exp_dir / STATE_FILE


def write_state(exp_dir: Path, state: RunState) -> None:
    partial = exp_dir / f".{STATE_FILE}.partial"
    partial.write_text(json.dumps(asdict(state), indent=2))
    os.replace(partial, state_path(exp_dir))


def clear_state(exp_dir: Path) -> None:
    state_path(exp_dir).unlink(missing_ok=True)


def interrupted(exp_dir: Path) -> bool:
    """An earlier run of this experiment was left unfinished in ``exp_dir``."""
    return state_path(exp_dir).is_file()


def load_state(exp_dir: Path, config_text: str, study_keys: list[str]) -> RunState:
    """The unfinished run to resume in ``exp_dir``; ConfigError (field ``--resume``) when there
    is none, or it ran a different config. Reads only."""
    path = state_path(exp_dir)
    if not path.is_file():
        raise ConfigError(
            "--resume",
            f"no unfinished run of this experiment in {exp_dir} (a run that finished, or never "
            "started, has nothing to resume): run it without --resume",
        )
    try:
        raw = json.loads(path.read_text())
        state = RunState(**raw)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(
            "--resume", f"{path} cannot be read ({exc}): run without --resume"
        ) from None
    if state.config != config_text:
        old, new = json.loads(state.config), json.loads(config_text)
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        raise ConfigError(
            "--resume",
            f"the config differs from the unfinished run's in {', '.join(changed)}: resume "
            "with the config it was started with, or run without --resume to start afresh",
        )
    missing = sorted(set(study_keys) - set(state.parents))
    if missing:
        raise ConfigError("--resume", f"{path} has no MLflow run for study {missing[0]}")
    return state


def resumed_now(state: RunState) -> RunState:
    """``state`` with this resume's start added."""
    return replace(state, resumed=[*state.resumed, datetime.now(UTC).isoformat()])
