"""Where a file named in a config (or on the command line) is found: the user's own path first,
then the copy shipped inside the package.

The repository's top-level ``search_spaces/`` and ``configs/`` folders ship as the subpackages
``automl_bench.search_spaces`` and ``automl_bench.configs`` (setup.py maps them), so the built-in
spaces, the example configs and the price table are found from any folder, after ``pip install .``
as after ``pip install -e .``. A bare built-in name (``mlp``, ``prices``, ``quickstart``) means the
shipped copy.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Literal

from automl_bench.errors import ConfigError

Shipped = Literal["search_spaces", "configs", "prices"]


@dataclass(frozen=True)
class _Kind:
    package: str  # the subpackage the repository's folder ships as
    folder: str  # the folder's name in the repository
    suffix: str
    what: str  # in a message about a missing file


_KINDS: dict[Shipped, _Kind] = {
    "search_spaces": _Kind("automl_bench.search_spaces", "search_spaces", ".py", "built-in spaces"),
    "configs": _Kind("automl_bench.configs", "configs", ".yaml", "shipped example configs"),
    "prices": _Kind("automl_bench.configs", "configs", ".yaml", "shipped price table"),
}
PRICE_TABLE = "prices"  # configs/prices.yaml: the price table, the one shipped yaml not a config
_SHOWN = reprlib.Repr()  # what a message quotes of a value: bounded
_SHOWN.maxstring = 80


def shipped_folder(kind: Shipped) -> Path:
    """The folder of the shipped copies: in the installed package, or this checkout's own folder
    in an editable install."""
    return Path(str(files(_KINDS[kind].package)))


def builtin_names(kind: Shipped) -> list[str]:
    """The names a config may give bare: ``mlp`` for the shipped ``search_spaces/mlp.py``."""
    found = shipped_folder(kind).glob(f"*{_KINDS[kind].suffix}")
    names = sorted(p.stem for p in found if not p.stem.startswith("_"))
    if kind == "search_spaces":
        return names
    return [n for n in names if (n == PRICE_TABLE) == (kind == "prices")]


def _shipped_candidate(value: Path, kind: Shipped) -> Path | None:
    """The shipped copy a relative path may mean: ``mlp``, ``mlp.py`` or ``search_spaces/mlp.py``
    (any folder named ``search_spaces``) all mean the shipped ``mlp.py``."""
    folder, suffix = _KINDS[kind].folder, _KINDS[kind].suffix
    if value.parent != Path(".") and value.parent.name != folder:
        return None
    return shipped_folder(kind) / (value.name if value.suffix else value.name + suffix)


def _user_candidates(value: Path, config_path: Path) -> list[Path]:
    """The working directory, the config file's folder, and that folder's parent (the project
    root, for configs/x.yaml naming search_spaces/x.py): each once."""
    if value.is_absolute():
        return [value]
    folder = config_path.resolve().parent
    bases = (Path.cwd().resolve(), folder, folder.parent)
    return list(dict.fromkeys(base / value for base in bases))


def _existing(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, RuntimeError):  # a name too long, a symlink loop: not a file here
        return False


def _first(
    value: str, tried: list[Path], field: str, shipped: Shipped | None, relative_to: str
) -> Path:
    """A bare built-in name of ``shipped`` (``mlp``); else the first of ``tried`` that exists;
    else the shipped copy the path may mean. Raises ConfigError."""
    path = Path(value).expanduser()
    if shipped is not None and value in builtin_names(shipped):
        return shipped_folder(shipped) / (value + _KINDS[shipped].suffix)
    fallback = None if shipped is None or path.is_absolute() else _shipped_candidate(path, shipped)
    for candidate in [*tried, *([fallback] if fallback else [])]:
        if _existing(candidate):
            return candidate.resolve()
    raise ConfigError(field, _missing(value, tried, shipped, relative_to))


def _missing(value: str, tried: list[Path], shipped: Shipped | None, relative_to: str) -> str:
    """Each folder looked in, once, and the fix."""
    folders = ", ".join(dict.fromkeys(str(p.parent) for p in tried))
    message = f"file {_SHOWN.repr(value)} does not exist (looked in {folders}"
    if shipped is None:
        return f"{message}); give an absolute path, or one relative to {relative_to}"
    what, names = _KINDS[shipped].what, ", ".join(builtin_names(shipped))
    return (
        f"{message}, and the {what} in {shipped_folder(shipped)}); give an absolute path, one "
        f"relative to {relative_to}, or a built-in name: {names}"
    )


def resolve_path(value: str, config_path: Path, field: str, shipped: Shipped | None = None) -> Path:
    """The file (or folder) a config names, as an absolute path. Raises ConfigError naming
    ``field``, each folder looked in once, and the fix.

    Tried in order: a bare built-in name of ``shipped`` (``mlp``); the path relative to the
    working directory, to the config file's folder, and to that folder's parent; then the shipped
    copy of ``shipped`` (``search_spaces/mlp.py`` or ``mlp.py``: the shipped ``mlp.py``)."""
    tried = _user_candidates(Path(value).expanduser(), config_path)
    return _first(value, tried, field, shipped, "the working directory or the config file")


def find_config(value: str | Path) -> Path:
    """The config file given on the command line: relative to the working directory, else a
    shipped example (``quickstart`` or ``configs/quickstart.yaml``). Raises ConfigError."""
    text = str(value)
    tried = [Path.cwd().resolve() / Path(text).expanduser()]
    return _first(text, tried, "config", "configs", "the working directory")
