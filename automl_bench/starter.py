"""``automl-bench init DIR``: a starter search space and a config that runs it, written into a
folder of one's own. The space is a copy of the built-in ``mlp.py``; the config runs it on
MNIST-1D (built-in data, generated on the first run) next to its baseline, in a minute or two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from automl_bench.errors import ConfigError
from automl_bench.locate import shipped_folder

SPACE_FILE = "my_space.py"
CONFIG_FILE = "experiment.yaml"
_STARTED_FROM = "mlp.py"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")  # what ExperimentConfig.experiment takes

_SPACE_HEADER = f"""\
# Your search space, started by `automl-bench init` from the built-in {_STARTED_FROM}.
# Edit space() (what a search may choose), build() (the model a choice makes) and baseline (your
# hand-designed choice, which every search is held against). Check it with
# `automl-bench validate` on the config next to this file.

"""

_CONFIG = """\
# Written by `automl-bench init`. Does a search beat your hand-designed model on MNIST-1D, and at
# what cost? Check it: automl-bench validate {config}
#          Run it:   automl-bench run {config}
# Results are written under runs/ in the folder you run it from.
experiment: {experiment}
task: mnist1d                  # built-in data, generated on the first run
space: {space}              # next to this file; a built-in space by name also works (cnn1d, mlp)
methods: [baseline, random]    # your baseline, and a random search over your space
seeds: [0, 1, 2]               # three: the seed interval is bounded from 3 seeds on
budget:
  trials: 3                    # search trials per method and seed
  epochs: 3                    # per trial, and for the final training
resources:
  cpus_per_trial: 1
  gpus_per_trial: 0
"""


@dataclass(frozen=True)
class Starter:
    """The two files ``init`` wrote."""

    space: Path
    config: Path


def experiment_name(folder: Path) -> str:
    """The folder's name, where a config takes it as an experiment name; else a plain one."""
    name = folder.resolve().name
    return name if _NAME.match(name) else "my_experiment"


def write_starter(folder: Path) -> Starter:
    """Write the starter space and config into ``folder`` (made if missing). Raises ConfigError,
    writing nothing, when ``folder`` is a file or already holds either of them."""
    space, config = folder / SPACE_FILE, folder / CONFIG_FILE
    if folder.exists() and not folder.is_dir():
        raise ConfigError("DIR", f"{str(folder)!r} is a file; give a folder (new or existing)")
    present = [p.name for p in (space, config) if p.exists()]
    if present:
        raise ConfigError(
            "DIR",
            f"{str(folder)!r} already holds {' and '.join(present)}; init writes nothing over "
            "your files: give a new folder, or move them",
        )
    built_in = (shipped_folder("search_spaces") / _STARTED_FROM).read_text(encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    space.write_text(_SPACE_HEADER + built_in, encoding="utf-8")
    text = _CONFIG.format(config=config, experiment=experiment_name(folder), space=SPACE_FILE)
    config.write_text(text, encoding="utf-8")
    return Starter(space, config)
