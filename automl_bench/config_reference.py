"""The configuration reference (docs/configuration.md), generated from the config models.

``python -m automl_bench.config_reference`` prints it; ``python -m automl_bench.config_reference
docs/configuration.md`` writes it. Each section is one model of ``automl_bench.config``: its
docstring, then one row per field with its type, default, allowed values and ``description``.
A test compares the file with what this module renders, so the reference cannot go stale.
"""

from __future__ import annotations

import inspect
import re
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from automl_bench.config import ExperimentConfig
from automl_bench.methods import METHODS
from automl_bench.tasks import FOLDER_TASKS, TABLE, TASKS
from automl_bench.tasks.families import META_FAMILIES

COMMAND = "python -m automl_bench.config_reference docs/configuration.md"

INTRO = f"""\
# Configuration reference

<!-- Generated from the models in automl_bench/config.py by `{COMMAND}`.
     Edit the models' docstrings and `description=` texts, then run it again. -->

A config file is YAML that maps one-to-one onto these sections. A key that is not listed here
is refused, and so is a value of the wrong type or outside the allowed range: the error names
the field and what it allows, in one line, before anything starts (exit code 2).
`automl-bench run CONFIG --set budget.trials=8` overrides any field (the value is read as YAML,
never evaluated). `automl-bench validate CONFIG` checks a config and its search spaces without
running anything. An annotated example is `configs/quickstart.yaml`; every file in `configs/` is
one more.
"""

_SIMPLE_TYPES = {int: "integer", float: "number", str: "string", bool: "true / false"}
_BOUNDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
# fields whose values a registry holds, not a type: the registry's names are what they allow
_REGISTERED = {
    "task": lambda: [*TASKS, *FOLDER_TASKS, *META_FAMILIES, TABLE],
    "methods": lambda: list(METHODS),
}


def section_models(
    model: type[BaseModel] = ExperimentConfig, path: str = ""
) -> Iterator[tuple[str, type[BaseModel]]]:
    """(dotted path, model) for the model and every section nested in it, depth first."""
    yield path, model
    for name, field in model.model_fields.items():
        for nested in _models_in(field.annotation):
            yield from section_models(nested, f"{path}.{name}" if path else name)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def anchor(heading: str) -> str:
    """The anchor a Markdown renderer (GitHub's rule) gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _heading(path: str) -> str:
    return f"`{path}`" if path else "Top level"


def type_name(annotation: Any, path: str) -> str:
    """A field's type in words; a nested section links to its own heading."""
    if annotation is type(None):
        return "null"
    if annotation in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[annotation]
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        words = re.sub(r"(?<!^)([A-Z])", r" \1", annotation.__name__).lower()
        return f"[{words}](#{anchor(_heading(path))})"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list of {type_name(args[0], path)}s"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a, path) for a in args)
    return str(annotation)


def allowed(field: FieldInfo, path: str = "") -> str:
    """The field's bounds, patterns and registered names in words ("> 0", "at least 1 item")."""
    words: list[str] = []
    if path in _REGISTERED:
        words.append("one of " + ", ".join(_REGISTERED[path]()))
    for item in field.metadata:
        for attribute, sign in _BOUNDS.items():
            bound = getattr(item, attribute, None)
            if bound is not None:
                words.append(f"{sign} {bound:g}")
        if isinstance(item, annotated_types.MinLen):
            words.append(f"at least {item.min_length} item" + "s" * (item.min_length != 1))
        if isinstance(item, annotated_types.MaxLen):
            words.append(f"at most {item.max_length} characters")
        pattern = getattr(item, "pattern", None)
        if pattern is not None:
            words.append(f"matches `{pattern}`")
    return ", ".join(words)


def default_text(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    return _value_text(value)


def _value_text(value: Any) -> str:
    if isinstance(value, BaseModel):
        return "-"
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, list):
        return "`[" + ", ".join(str(v) for v in value) + "]`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _docstring(model: type[BaseModel]) -> str:
    """The model's own docstring (not BaseModel's), with reST literals as Markdown ones."""
    doc = model.__dict__.get("__doc__") or ""
    return inspect.cleandoc(doc).replace("``", "`")


def render_section(path: str, model: type[BaseModel]) -> str:
    lines = [f"## {_heading(path)}", ""]
    doc = _docstring(model)
    if doc:
        lines += [doc, ""]
    lines += ["| field | type | default | allowed | what it holds |", "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        dotted = f"{path}.{name}" if path else name
        cells = [
            f"`{name}`",
            type_name(field.annotation, dotted),
            default_text(field),
            allowed(field, dotted),
            field.description or "",
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def render() -> str:
    """The whole reference, as docs/configuration.md holds it."""
    sections = [render_section(path, model) for path, model in section_models()]
    return "\n".join([INTRO, *sections])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if not args:
        sys.stdout.write(text)
        return 0
    Path(args[0]).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
