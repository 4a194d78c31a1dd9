"""Bad input, fuzzed: a generated corpus of malformed configs, search-space files and data folders.

The rule (see test_bad_input.py for the hand-written cases): each is refused before anything
starts, with one line ``automl-bench: error: <field>: ...`` on stderr, exit code 2, no traceback,
nothing written to output_dir. The corpus is generated from two valid configs (a classification
one on task wine, a meta-learning one on task sinusoid) by a seeded ``random.Random``, so it is
the same on every run; every case runs in-process through ``main(["validate", ...])``, and a
handful through the real CLI.

Where a mutation may or may not leave a valid config (random byte flips, random ``--set``), the
oracle is weaker: exit 0 with nothing on stderr, or a refusal as above; never a traceback.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import random
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image

from automl_bench.cli import EXIT_BAD_INPUT, main
from automl_bench.config import MAX_SEED

REPO = Path(__file__).resolve().parent.parent
PRICES = str(REPO / "configs" / "prices.yaml")
PREFIX = "automl-bench: error: "
SEED = 20260807  # the corpus's seed: change it to fuzz elsewhere, keep it to reproduce

GOOD: dict[str, Any] = {
    "experiment": "fuzz",
    "task": "wine",
    "space": str(REPO / "search_spaces" / "mlp.py"),
    "methods": ["baseline", "random"],
    "seeds": [0, 1],
    "budget": {"trials": 2, "epochs": 1},
    "resources": {"cpus_per_trial": 1.0, "gpus_per_trial": 0.0, "max_concurrent_trials": 2},
    "cost": {"country_iso_code": "FRA", "prices": PRICES, "gpu_hour": "aws-p5.48xlarge"},
    "deploy": {
        "batch_size": 64,
        "threads": 1,
        "target": "cpu",
        "constraints": {"max_latency_ms_p95": 50.0, "max_params": 100000, "export_required": False},
    },
    "verdict": {"rope_points": 1.0, "value_usd_per_point_per_million": 10.0},
    "search": {"cost_objective": "params", "warmstart_top": 5},
    "tracking": {"uri": None},
    "output_dir": "runs-out",  # relative: under the test's own folder, its working directory
}
META: dict[str, Any] = {
    "experiment": "fuzz-meta",
    "task": "sinusoid",
    "space": str(REPO / "search_spaces" / "maml.py"),
    "methods": ["pretrain_finetune", "maml"],
    "seeds": [0],
    "meta": {
        "iterations": 10,
        "k_shot": 10,
        "test_k_shot": 5,
        "n_way": 5,
        "test_tasks": 600,
        "eval_steps": [1, 5],
        "primary_steps": 5,
        "tasks_served": 1000,
        "log_every": 5,
    },
    "verdict": {"rope_points": 0.05},
    "cost": {"country_iso_code": "FRA", "prices": PRICES},
    "output_dir": "runs-out",
}
BASES = {"wine": GOOD, "meta": META}
REQUIRED = ("experiment", "task", "space", "methods", "seeds")
SECTIONS = (
    "budget",
    "resources",
    "cost",
    "deploy",
    "deploy.constraints",
    "verdict",
    "search",
    "meta",
    "tracking",
)

NAN, INF = float("nan"), float("inf")
LONG = "x" * 5000
UNICODE = "ünïcödé ☃ 数据 \u202e"
CONTAINERS: list[Any] = [[1, 2], [], {"a": 1}, {}]
STRINGS: list[Any] = ["many", "", UNICODE, LONG, "1e8", "nul\x00byte"]
# what each kind of field must refuse (a value valid for it is never listed)
POS_INT = [*STRINGS, 2.5, 1.0, True, False, 0, -1, -(10**30), NAN, INF, *CONTAINERS]
POS_FLOAT = [*STRINGS, True, 0, 0.0, -1, -0.5, -(10**30), NAN, INF, -INF, *CONTAINERS]
NONNEG_FLOAT = [*STRINGS, True, -1, -1e-9, NAN, INF, -INF, *CONTAINERS]
BOOL = ["yes", "true", "", 1, 0, 1.5, NAN, *CONTAINERS]
NAME = [3, 2.5, True, NAN, *CONTAINERS, LONG, UNICODE, "", "nul\x00byte", "no-such-thing"]
PATH = [3, True, *CONTAINERS, LONG, UNICODE + ".py", "no/such/file.py", "nul\x00byte.py", "/"]
PRICE = [-1, -0.01, NAN, INF, True, *CONTAINERS, "no-such-row", LONG, UNICODE]
SECTION = [3, "x", LONG, [], [{}], True, NAN, 2.5]
TEXT_ONLY = [3, 2.5, True, *CONTAINERS]  # a str field that takes any text

# (dotted path, invalid values, may it be null, which base)
FIELDS: list[tuple[str, list[Any], bool, str]] = [
    ("experiment", [*NAME[:-1], "../escape", "a/b", "-lead", "x" * 101], False, "wine"),
    ("task", [*NAME, "imagenet", "WINE"], False, "wine"),
    ("space", PATH, False, "wine"),
    ("output_dir", TEXT_ONLY, False, "wine"),
    ("data_dir", [*TEXT_ONLY, LONG, "no/such/folder"], True, "wine"),
    ("budget.trials", POS_INT, True, "wine"),
    ("budget.epochs", POS_INT, True, "wine"),
    ("resources.cpus_per_trial", POS_FLOAT, False, "wine"),
    ("resources.gpus_per_trial", NONNEG_FLOAT, False, "wine"),
    ("resources.max_concurrent_trials", POS_INT, True, "wine"),
    ("cost.country_iso_code", [*NAME, "usa", "XYZ"], False, "wine"),
    ("cost.prices", PATH, False, "wine"),
    ("cost.gpu_hour", PRICE, False, "wine"),
    ("cost.cpu_hour", PRICE, False, "wine"),
    ("cost.electricity", PRICE, True, "wine"),
    ("cost.carbon_intensity", PRICE, True, "wine"),
    ("cost.pue", [*PRICE, 0.5], False, "wine"),
    ("deploy.batch_size", POS_INT, False, "wine"),
    ("deploy.threads", POS_INT, False, "wine"),
    ("deploy.target", [*NAME, "tpu", "CPU"], False, "wine"),
    ("deploy.constraints.max_latency_ms_p95", POS_FLOAT, True, "wine"),
    ("deploy.constraints.max_size_mb", POS_FLOAT, True, "wine"),
    ("deploy.constraints.max_params", POS_INT, True, "wine"),
    ("deploy.constraints.max_flops", POS_INT, True, "wine"),
    ("deploy.constraints.export_required", BOOL, False, "wine"),
    ("deploy.onnx", BOOL, True, "wine"),
    ("verdict.rope_points", NONNEG_FLOAT, False, "wine"),
    ("verdict.value_usd_per_point_per_million", NONNEG_FLOAT, False, "wine"),
    ("verdict.deployment_predictions", POS_FLOAT, False, "wine"),
    ("search.cost_objective", [*NAME, "latency"], False, "wine"),
    ("search.warmstart_from", [3, "earlier", [3], [None], {"a": 1}, True], False, "wine"),
    ("search.warmstart_top", POS_INT, False, "wine"),
    ("tracking.uri", TEXT_ONLY, True, "wine"),
    (
        "methods",
        [
            "baseline",
            [],
            [3],
            [None],
            [["baseline"]],
            ["baseline", "baseline"],
            ["random"],
            ["baseline", "darts-typo"],
            ["baseline", "maml"],
            ["baseline", LONG],
            {"a": 1},
            3,
        ],
        False,
        "wine",
    ),
    (
        "seeds",
        [
            "0",
            [],
            [-1],
            [0, 0],
            [MAX_SEED],
            [2**40],
            [10**30],
            [1.5],
            [True],
            [None],
            [[0]],
            list(range(101)),
            [NAN],
            {"a": 1},
            3,
            [UNICODE],
        ],
        False,
        "wine",
    ),
    ("reference_spaces", ["x.py", [3], [None], ["no/such.py"], {}, [LONG], 3], False, "wine"),
    ("meta.iterations", POS_INT, False, "meta"),
    ("meta.k_shot", POS_INT, False, "meta"),
    ("meta.test_k_shot", POS_INT, True, "meta"),
    ("meta.n_way", [*POS_INT, 1], False, "meta"),
    ("meta.test_tasks", [*POS_INT, 599, 1], False, "meta"),
    ("meta.eval_steps", [[], [-1, 5], [5, 5], "5", [1.5], [[5]], [True], 5, {}], False, "meta"),
    ("meta.primary_steps", [*POS_INT[:-4], 7, 10, -5], False, "meta"),
    ("meta.tasks_served", POS_INT, True, "meta"),
    ("meta.log_every", POS_INT, False, "meta"),
    (
        "methods",
        [["maml"], ["pretrain_finetune", "nsga2"], ["pretrain_finetune", "darts"]],
        False,
        "meta",
    ),
    ("task", ["fewshot_no_such", "Sinusoid"], False, "meta"),
    ("space", ["search_spaces/no_maml.py"], False, "meta"),
]


# the field a refusal names, where a check of several fields names their section
FIELD_NAMED = {"meta.eval_steps": "meta", "meta.primary_steps": "meta", "data_dir": "data_dir"}


@dataclass(frozen=True)
class Case:
    id: str
    text: str | bytes  # the config file
    field: str | None = None  # the field the line must name (None: any)
    overrides: tuple[str, ...] = ()
    strict: bool = True  # False: valid (exit 0) is allowed too; a crash never is
    files: tuple[tuple[str, bytes], ...] = ()  # written next to the config (a table's file)


def _copy(base: dict[str, Any]) -> dict[str, Any]:
    return yaml.safe_load(yaml.safe_dump(base))  # type: ignore[no-any-return]


def _set(raw: dict[str, Any], path: str, value: Any) -> None:
    node = raw
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def _dump(raw: dict[str, Any]) -> str:
    return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:12]}..{len(text)}"


def config_cases() -> list[Case]:
    rng = random.Random(SEED)
    cases: list[Case] = []
    # a field with a value of a wrong type or out of range
    for path, values, nullable, base in FIELDS:
        for value in [*values, *([] if nullable else [None])]:
            raw = _copy(BASES[base])
            _set(raw, path, value)
            field = FIELD_NAMED.get(path, path)
            cases.append(Case(f"{base}:{path}={_short(value)}", _dump(raw), field))
    # a required key left out
    for base, good in BASES.items():
        for key in REQUIRED:
            raw = _copy(good)
            del raw[key]
            cases.append(Case(f"{base}:drop:{key}", _dump(raw), key))
    # unknown keys at every level, named at random
    alphabet = "abcdefghijklmnopqrstuvwxyz_"
    odd_keys: list[Any] = [3, None, True, "", " ", UNICODE, "x" * 300, "trials ", "Trials"]
    for base, good in BASES.items():
        for section in ("", *SECTIONS):
            keys = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))]
            keys += rng.sample(odd_keys, 3)
            for key in keys:
                raw = _copy(good)
                node = raw
                for part in section.split(".") if section else []:
                    node = node.setdefault(part, {})
                node[key] = rng.choice([1, "x", None, [1], {"a": 1}])
                field = f"{section}." if section else None
                cases.append(
                    Case(f"{base}:unknown:{section or 'top'}:{_short(key)}", _dump(raw), field)
                )
    # a section of the wrong type
    for base, good in BASES.items():
        for section in SECTIONS:
            for value in rng.sample(SECTION, 4):
                raw = _copy(good)
                _set(raw, section, value)
                cases.append(Case(f"{base}:section:{section}={_short(value)}", _dump(raw), section))
    # files that are no mapping, not YAML, or not text
    not_a_mapping = ["", "\n\n", "# only a comment\n", "---\n", "...\n", "~\n", "null\n", "3\n"]
    not_a_mapping += [
        "just words\n",
        "- a\n- b\n",
        "[1, 2]\n",
        '"quoted"\n',
        "\ufeff\n",
        "!!set {a}",
    ]
    not_a_mapping += ["a: 1\n---\nb: 2\n"]  # two documents
    for i, text in enumerate(not_a_mapping):
        cases.append(Case(f"text:not-a-mapping:{i}", text, "config"))
    invalid = ["a: [unclosed\n", "a: {b: 1\n", "a: b: c\n", "\ta: 1\n", "a:\n  - 1\n b: 2\n"]
    invalid += ["a: 'open\n", "key: value\n  bad indent: 1\n", "*undefined\n", "a: &x 1\nb: *y\n"]
    invalid += ["%YAML 9.9\n---\na: 1\n", "a: 1\x07\n", "@reserved: 1\n", "a: !!int abc\n"]
    invalid += ["a: !!float zz\n", "a: !!timestamp nope\n", "a: !!int 0x\n", "? [a, b]\n: 1\n"]
    for i, text in enumerate(invalid):
        cases.append(Case(f"text:invalid-yaml:{i}", text, "config"))
    for i in range(12):  # binary garbage, random lengths
        data = rng.randbytes(rng.randint(1, 400))
        cases.append(Case(f"bytes:random:{i}", data, "config"))
    for i, data in enumerate(
        [
            b"\x00" * 64,
            b"\xff\xfe" + "experiment: x\n".encode("utf-16-le"),
            b"\x89PNG\r\n\x1a\n",
            b"PK\x03\x04" + bytes(range(256)),
            b"experiment: \xc3(\n",
            b"\xef\xbb\xbf\xef\xbb\xbf",
        ]
    ):
        cases.append(Case(f"bytes:fixed:{i}", data, "config"))
    # a valid config cut short: seeds, required, comes last and in flow style
    good_text = _dump({k: v for k, v in GOOD.items() if k != "seeds"}) + "seeds: [0, 1]\n"
    cut = len(good_text) - 2
    for i, at in enumerate(sorted(rng.sample(range(cut), 25))):
        cases.append(Case(f"text:truncated:{i}@{at}", good_text[:at]))
    # structures nested deeply: deeper than the parser's recursion, or merely deep
    for depth in (50, 400, 3000):
        cases.append(Case(f"deep:flow-list:{depth}", "experiment: " + "[" * depth + "]" * depth))
        cases.append(Case(f"deep:flow-map:{depth}", "seeds: " + "{a: " * depth + "1" + "}" * depth))
        raw = _copy(GOOD)
        nested: Any = 1
        for _ in range(depth):
            nested = [nested]
        raw["budget"]["trials"] = nested
        text = "\n".join(
            f"{k}: {yaml.safe_dump(v, default_flow_style=True).strip()}"
            for k, v in raw.items()
            if k != "budget"
        )
        text += "\nbudget: {trials: " + "[" * depth + "1" + "]" * depth + "}\n"
        cases.append(Case(f"deep:in-budget:{depth}", text))
    block = "".join("  " * i + "a:\n" for i in range(300)) + "  " * 300 + "1\n"
    cases.append(Case("deep:block-map:300", block))
    # aliases that multiply (a "billion laughs"): must be refused quickly, with a short line
    laughs = "x0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        laughs += f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n"
    body = _dump({k: v for k, v in GOOD.items() if k not in ("seeds", "experiment", "methods")})
    for key in ("seeds", "experiment", "methods"):
        rest = {
            k: v for k, v in GOOD.items() if k in ("seeds", "experiment", "methods") and k != key
        }
        cases.append(
            Case(
                f"aliases:laughs:{key}",
                laughs.replace("x0:", "x0:", 1) + body + _dump(rest) + f"{key}: *a8\n",
            )
        )
        cases.append(
            Case(
                f"aliases:laughs-unknown:{key}",
                body + _dump({k: v for k, v in GOOD.items() if k not in body}) + laughs,
            )
        )
    # duplicate keys, at the top and in sections, same value or not
    for base, good in BASES.items():
        text = _dump(good)
        for key in rng.sample(list(good), 4):
            line = _dump({key: good[key]})
            cases.append(Case(f"{base}:duplicate:{key}", text + line, "config"))
        for section in ("budget", "meta", "cost"):
            if section in good:
                dup = _dump({k: v for k, v in good.items() if k != section})
                inner = next(iter(good[section]))
                dup += f"{section}:\n  {inner}: 1\n  {inner}: 1\n"
                cases.append(Case(f"{base}:duplicate:{section}.{inner}", dup, "config"))
    # tags: python objects (safe_load must refuse them) and safe tags of the wrong type
    body = _dump({k: v for k, v in GOOD.items() if k != "seeds"})
    tags = [
        "!!python/object/apply:os.system ['echo pwned']",
        "!!python/object:__main__.Evil {}",
        "!!python/name:os.system",
        "!!python/module:os",
        "!!python/tuple [0, 1]",
        "!!python/object/new:builtins.list [[0]]",
        "!!binary aGVsbG8=",
        "!!set {0, 1}",
        "!!omap [{a: 0}]",
        "!!pairs [{a: 0}]",
        "!!timestamp 2024-01-01",
        "2024-01-01",
        "!custom [0, 1]",
        "!!str [0, 1]",
    ]
    for i, tag in enumerate(tags):
        cases.append(Case(f"tag:{i}:{tag.split()[0]}", body + f"seeds: {tag}\n"))
        cases.append(
            Case(
                f"tag:{i}:experiment",
                _dump({k: v for k, v in GOOD.items() if k != "experiment"})
                + f"experiment: {tag}\n",
            )
        )
    # cross-field: each field fine, together not
    together: list[tuple[str, str, dict[str, Any]]] = [
        ("wine", "search.warmstart_from", {"methods": ["baseline", "warmstart"]}),
        ("wine", "methods", {"methods": ["baseline", "darts"]}),
        ("wine", "reference_spaces.0", {"reference_spaces": ["search_spaces/mlp.py"]}),
        ("wine", "data_dir", {"task": "image_folder"}),
        ("wine", "data_dir", {"task": "cifar10"}),
        ("meta", "meta", {"meta": {"eval_steps": [1, 5], "primary_steps": 10}}),
        ("meta", "methods", {"methods": ["pretrain_finetune", "baseline"]}),
        ("meta", "methods", {"task": "fewshot_mnist1d"}),
        ("meta", "methods", {"task": "wine"}),
    ]
    for i, (base, field, changes) in enumerate(together):
        raw = _copy(BASES[base])
        raw.update(changes)
        cases.append(Case(f"{base}:together:{i}", _dump(raw), field))
    # random byte flips of a valid file: valid or refused, never a crash
    for base, good in BASES.items():
        data = bytearray(_dump(good).encode())
        for i in range(15):
            flipped = bytearray(data)
            for _ in range(rng.randint(1, 4)):
                flipped[rng.randrange(len(flipped))] = rng.randrange(256)
            cases.append(Case(f"{base}:flip:{i}", bytes(flipped), strict=False))
    return cases


SET_GARBAGE = [
    "budget.trials=many",
    "budget.trials=.inf",
    "budget.trials=1e400",
    "budget.trials=-0",
    "=",
    "",
    "budget",
    ".=1",
    "budget..trials=1",
    "seeds.0=1",
    "experiment.x=1",
    "budget.trials.x=1",
    "seeds=[0",
    "seeds=!!python/object/apply:os.system [ls]",
    "seeds=" + "[" * 3000 + "]" * 3000,
    "seeds={a: " * 400 + "1" + "}" * 400,
    "x" * 10000 + "=1",
    f"{UNICODE}=1",
    "resources.cpus_per_trial=.nan",
    "seeds=[1, 1]",
    f"seeds=[{2**40}]",
    "methods=[]",
    "methods=null",
    "budget=null",
    "cost.gpu_hour=-1",
    "output_dir=[1]",
    "space=/dev/null",
    "space=/",
    "space=/etc/hostname",
    "space=" + LONG,
    "data_dir=/dev/null",
    "data_dir=" + LONG,
    "cost.prices=/dev/null",
    "cost.prices=/",
    "task=\x00",
    "seeds=[0, 1]\nexperiment: x",
    "experiment=a: b: c",
    "experiment={a: 1, a: 2}",
]


def set_cases() -> list[Case]:
    rng = random.Random(SEED + 1)
    text = _dump(GOOD)
    cases = [
        Case(f"set:{i}:{_short(item)}", text, overrides=(item,))
        for i, item in enumerate(SET_GARBAGE)
    ]
    # a good override, then a bad one: the bad one still counts
    cases += [
        Case(f"set:after-good:{i}", text, overrides=("budget.trials=3", item))
        for i, item in enumerate(SET_GARBAGE[:5])
    ]
    paths = [path for path, *_ in FIELDS if not path.startswith("meta.")]
    pool = [
        *STRINGS[:3],
        "[",
        "]",
        "{",
        "}",
        ":",
        "- x",
        "!!binary x",
        "&a",
        "*a",
        ".nan",
        "null",
        "1",
        "0",
    ]
    for i in range(25):  # random paths and random YAML: valid or refused, never a crash
        value = "".join(rng.choice(pool) for _ in range(rng.randint(1, 4)))
        item = f"{rng.choice(paths)}={value}"
        cases.append(Case(f"set:random:{i}", text, overrides=(item,), strict=False))
    return cases


def _unique(cases: list[Case]) -> list[Case]:
    """Ids made unique (two values may print alike) by their position."""
    seen: set[str] = set()
    out = []
    for i, case in enumerate(cases):
        if case.id in seen:
            case = dataclasses.replace(case, id=f"{case.id}#{i}")
        seen.add(case.id)
        out.append(case)
    return out


CONFIG_CASES = _unique(config_cases() + set_cases())


def check_refused(code: int, out: str, err: str, output_dir: Path, field: str | None) -> None:
    """Exit 2, one line naming ``field`` (when given), nothing on stdout, nothing written."""
    shown = f"exit {code}\nstdout: {out[-500:]!r}\nstderr: {err[-2000:]!r}"
    assert "Traceback" not in err, shown
    assert code == EXIT_BAD_INPUT, shown
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), shown
    assert lines[0].startswith(PREFIX) and len(lines[0]) > len(PREFIX) + 3, shown
    assert len(lines[0]) < 2000, f"a refusal line of {len(lines[0])} characters"
    if field is not None:
        assert lines[0].startswith(PREFIX + field), shown
    assert out == "", shown
    assert not output_dir.exists(), f"{output_dir} was written\n{shown}"


def validate(
    config: Path, overrides: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    args = ["validate", str(config)]
    for item in overrides:
        args += ["--set", item]
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory: output_dir (runs-out, or runs by default) would land here."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def nothing_written(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == ["config.yaml"]
    assert not (REPO / "runs-out").exists()


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c.id for c in CONFIG_CASES])
def test_config_fuzz_is_refused_with_one_line(
    case: Case, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = in_tmp / "config.yaml"
    config.write_bytes(case.text.encode() if isinstance(case.text, str) else case.text)
    code, stdout, stderr = validate(config, case.overrides, capsys)
    if not case.strict and code == 0:
        assert stderr == "" and "valid" in stdout
    else:
        check_refused(code, stdout, stderr, in_tmp / "runs-out", case.field)
    nothing_written(in_tmp)


@pytest.mark.parametrize("base", list(BASES))
def test_the_base_configs_are_valid(
    base: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each mutation starts from a valid config, so it is refused for its own change only."""
    config = in_tmp / "config.yaml"
    config.write_text(_dump(BASES[base]))
    code, stdout, stderr = validate(config, (), capsys)
    assert code == 0, stderr
    assert "valid" in stdout and stderr == ""
    nothing_written(in_tmp)


# --- search-space files ---------------------------------------------------------------------

SPACE_HEAD = """\
from typing import Any

import torch


def space(trial: Any) -> dict[str, Any]:
    trial.suggest_int("width", 4, 64)
    trial.suggest_categorical("act", ["relu", "tanh"])
    return {}


def build(config: dict[str, Any], task: Any) -> torch.nn.Module:
    return torch.nn.Linear(13, task.num_classes)


baseline = {"width": 16, "act": "relu"}
"""


def space_cases() -> list[tuple[str, str]]:
    """(id, file text): each a user's space file with one thing wrong."""
    rng = random.Random(SEED + 2)
    cases = []
    syntax = ["def broken(:\n", "x = (\n", "  indented = 1\n", "return 3\n", "class:\n", "\x00\n"]
    syntax += ["print 'py2'\n", "f'{'\n", "if True:\npass\n"]
    cases += [(f"syntax:{i}", SPACE_HEAD + s) for i, s in enumerate(syntax)]
    at_import = ["import no_such_module_anywhere", "from torch import no_such_name", "1 / 0"]
    at_import += [
        "undefined_name",
        "raise RuntimeError('needs\\na GPU')",
        "import sys; sys.exit(0)",
    ]
    at_import += ["import sys; sys.exit('a message')", "raise SystemExit(3)", "assert False, 'no'"]
    at_import += [
        "class E(BaseException): pass\nraise E('not an Exception')",
        "raise GeneratorExit",
    ]
    at_import += ["raise MemoryError", "raise RecursionError", "def f(): f()\nf()", "[].pop()"]
    at_import += ["import os; os.chdir('/no/such/dir')", "raise ValueError('x' * 100000)"]
    cases += [(f"import:{i}", SPACE_HEAD + s + "\n") for i, s in enumerate(at_import)]
    parts = {
        "space": ("def space(", "def _space("),
        "build": ("def build(", "def _build("),
        "baseline": ("baseline = ", "_baseline = "),
    }
    for n in range(1, 4):  # every subset of the three parts left out
        for gone in __import__("itertools").combinations(parts, n):
            text = SPACE_HEAD
            for name in gone:
                text = text.replace(*parts[name])
            cases.append((f"missing:{'+'.join(gone)}", text))
    not_callable = ["3", "None", "'build'", "[build]", "object()", "{'a': 1}"]
    for i, value in enumerate(not_callable):
        cases.append((f"build-not-callable:{i}", SPACE_HEAD + f"build = {value}\n"))
        cases.append((f"space-not-callable:{i}", SPACE_HEAD + f"space = {value}\n"))
    for i, value in enumerate(["[16, 'relu']", "None", "'width=16'", "3", "{16, 'relu'}"]):
        cases.append((f"baseline-not-a-dict:{i}", SPACE_HEAD + f"baseline = {value}\n"))
    for i, value in enumerate(["[]", "3", "'x'"]):
        cases.append((f"defaults-not-a-dict:{i}", SPACE_HEAD + f"defaults = {value}\n"))
        cases.append((f"supernet-not-callable:{i}", SPACE_HEAD + f"supernet = {value}\n"))
    outside = [{"width": 3}, {"width": 65}, {"width": 16.5}, {"width": "16"}, {"act": "gelu"}]
    outside += [{"act": None}, {"act": ["relu"]}, {"extra": 1}, {"width": True}, {"width": NAN}]
    for i, change in enumerate(outside):
        base = {"width": 16, "act": "relu", **change}
        cases.append((f"baseline-outside:{i}", SPACE_HEAD + f"baseline = {base!r}\n"))
    for i, key in enumerate(rng.sample(["width", "act"], 2)):
        cases.append((f"baseline-missing-key:{i}", SPACE_HEAD + f"baseline.pop({key!r})\n"))
    returned = ["[1]", "3", "'x'", "(1, 2)", "{1, 2}", "print"]
    raised = ["RuntimeError('boom')", "SystemExit(1)", "KeyError('k')", "StopIteration"]
    raised += ["type('E', (BaseException,), {})()", "RecursionError"]
    for i, value in enumerate(returned):
        code = SPACE_HEAD.replace("    return {}\n", f"    return {value}\n")
        cases.append((f"space-returns:{i}", code))
    for i, value in enumerate(raised):
        code = SPACE_HEAD.replace("    return {}\n", f"    raise {value}\n")
        cases.append((f"space-raises:{i}", code))
    bad_calls = ['trial.suggest_int("width", 64, 4)', 'trial.suggest_float("lr", 0, 1, log=True)']
    bad_calls += ['trial.suggest_categorical("c", [])', "trial.no_such_method()"]
    bad_calls += ['trial.suggest_int("width", 4, 8)']  # the same name, another range
    for i, call in enumerate(bad_calls):
        code = SPACE_HEAD.replace("    return {}\n", f"    {call}\n    return {{}}\n")
        cases.append((f"space-bad-call:{i}", code))
    return cases


SPACE_CASES = space_cases()


def _space_config(folder: Path, space: str) -> Path:
    config = folder / "config.yaml"
    config.write_text(_dump({**GOOD, "space": space}))
    return config


@pytest.mark.parametrize(("name", "code"), SPACE_CASES, ids=[n for n, _ in SPACE_CASES])
def test_space_file_fuzz_is_refused(
    name: str, code: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a fresh name per case: a space file is imported once per path and process
    space = in_tmp / f"space_{name.replace(':', '_').replace('+', '_')}.py"
    space.write_text(code)
    config = _space_config(in_tmp, str(space))
    code_, stdout, stderr = validate(config, (), capsys)
    check_refused(code_, stdout, stderr, in_tmp / "runs-out", "space")
    assert sorted(p.name for p in in_tmp.iterdir()) == sorted(["config.yaml", space.name])


def test_space_file_raising_keyboard_interrupt_is_an_interruption(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not refused as bad input: a KeyboardInterrupt is what Ctrl-C raises, and the two cannot
    be told apart. Still one line, no traceback, nothing written; exit code 130."""
    space = in_tmp / "space_interrupts.py"
    space.write_text(SPACE_HEAD + "raise KeyboardInterrupt\n")
    code, stdout, stderr = validate(_space_config(in_tmp, str(space)), (), capsys)
    assert code == 130 and stderr == "automl-bench: interrupted\n" and stdout == ""
    assert sorted(p.name for p in in_tmp.iterdir()) == ["config.yaml", space.name]


def _not_a_space_file(folder: Path) -> list[tuple[str, str]]:
    (folder / "notes.txt").write_text("space = 1\n")
    (folder / "space.PY").write_text(SPACE_HEAD)
    (folder / "compiled.pyc").write_bytes(b"\x00\x01garbage")
    (folder / "dir.py").mkdir()
    (folder / "loop.py").symlink_to(folder / "loop.py")
    (folder / "dangling.py").symlink_to(folder / "nowhere.py")
    (folder / "binary.py").write_bytes(bytes(range(256)))
    (folder / "latin1.py").write_bytes("x = 'é'\n".encode("latin-1"))
    (folder / "empty.py").write_text("")
    names = ["notes.txt", "space.PY", "compiled.pyc", "dir.py", "loop.py", "dangling.py"]
    names += ["binary.py", "latin1.py", "empty.py", ".", "/dev/null", "/proc/self/status"]
    return [(n, n if n.startswith("/") else str(folder / n)) for n in names]


def test_things_that_are_not_a_space_file_are_refused(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spaces = in_tmp / "spaces"
    spaces.mkdir()
    for name, path in _not_a_space_file(spaces):
        config = _space_config(in_tmp, path)
        code, stdout, stderr = validate(config, (), capsys)
        try:
            check_refused(code, stdout, stderr, in_tmp / "runs-out", "space")
        except AssertionError as exc:
            raise AssertionError(f"space {name}: {exc}") from None
    assert sorted(p.name for p in in_tmp.iterdir()) == ["config.yaml", "spaces"]


# --- data folders ---------------------------------------------------------------------------


def _png(path: Path, size: tuple[int, int] = (4, 4), mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, 128).save(path)


def _good_images(root: Path) -> None:
    for cls in ("cat", "dog"):
        for i in range(2):
            _png(root / cls / f"{i}.png")


def _cifar(root: Path) -> None:
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(10, 3072), dtype=np.uint8)
        batch = {b"labels": list(range(10)), b"data": data}
        (root / name).write_bytes(pickle.dumps(batch, protocol=2))
    meta = {b"label_names": [f"c{i}".encode() for i in range(10)]}
    (root / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))


def _truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


class _Evil:
    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, ("echo pwned",))


# (id, task, how to break a good folder)
FOLDER_CASES: list[tuple[str, str, Callable[[Path], object]]] = [
    ("img:empty", "image_folder", lambda r: [p.unlink() for p in r.rglob("*.png")]),
    (
        "img:no-folder",
        "image_folder",
        lambda r: ([__import__("shutil").rmtree(r), r.mkdir(), (r / "a.png").write_bytes(b"")]),
    ),
    (
        "img:files-not-classes",
        "image_folder",
        lambda r: [__import__("shutil").rmtree(r), _png(r / "a.png"), _png(r / "b.png")],
    ),
    ("img:one-class", "image_folder", lambda r: __import__("shutil").rmtree(r / "dog")),
    ("img:garbage-png", "image_folder", lambda r: (r / "cat" / "0.png").write_bytes(b"\x00" * 9)),
    ("img:empty-png", "image_folder", lambda r: (r / "dog" / "1.png").write_bytes(b"")),
    ("img:truncated-png", "image_folder", lambda r: _truncate(r / "cat" / "1.png", 0.6)),
    ("img:text-as-jpg", "image_folder", lambda r: (r / "dog" / "x.jpg").write_text("hi")),
    ("img:other-size", "image_folder", lambda r: _png(r / "dog" / "big.png", (9, 9))),
    ("img:16-bit", "image_folder", lambda r: _png(r / "dog" / "i.png", (4, 4), "I;16")),
    (
        "img:only-subfolders",
        "image_folder",
        lambda r: (
            [
                (r / "dog" / "0.png").rename(r / "0.png"),
                (r / "dog" / "1.png").unlink(),
                _png(r / "dog" / "sub" / "0.png"),
            ]
        ),
    ),
    ("img:class-is-a-loop", "image_folder", lambda r: (r / "loop").symlink_to(r / "loop")),
    (
        "img:image-is-a-loop",
        "image_folder",
        lambda r: (r / "cat" / "l.png").symlink_to(r / "cat" / "l.png"),
    ),
    (
        "img:split-mismatch",
        "image_folder",
        lambda r: (
            [
                __import__("shutil").copytree(r, r.parent / "t"),
                (r / "train").mkdir(),
                *[(r / c).rename(r / "train" / c) for c in ("cat", "dog")],
                (r.parent / "t").rename(r / "test"),
                (r / "test" / "dog").rename(r / "test" / "cow"),
            ]
        ),
    ),
    (
        "data-dir-is-a-file",
        "image_folder",
        lambda r: [__import__("shutil").rmtree(r), r.write_text("x")],
    ),
    ("cifar:empty", "cifar10", lambda r: [p.unlink() for p in r.iterdir()]),
    ("cifar:missing-batch", "cifar10", lambda r: (r / "data_batch_3").unlink()),
    ("cifar:truncated-batch", "cifar10", lambda r: _truncate(r / "data_batch_2", 0.5)),
    ("cifar:truncated-meta", "cifar10", lambda r: _truncate(r / "batches.meta", 0.5)),
    ("cifar:text-batch", "cifar10", lambda r: (r / "test_batch").write_text("not a pickle")),
    ("cifar:empty-batch", "cifar10", lambda r: (r / "data_batch_5").write_bytes(b"")),
    (
        "cifar:evil-batch",
        "cifar10",
        lambda r: (r / "data_batch_1").write_bytes(pickle.dumps(_Evil(), protocol=2)),
    ),
    (
        "cifar:list-batch",
        "cifar10",
        lambda r: (r / "data_batch_4").write_bytes(pickle.dumps([1, 2], protocol=2)),
    ),
    (
        "cifar:wrong-shape",
        "cifar10",
        lambda r: (r / "data_batch_4").write_bytes(
            pickle.dumps({b"labels": [0], b"data": np.zeros((1, 7), np.uint8)}, protocol=2)
        ),
    ),
    (
        "cifar:bad-label",
        "cifar10",
        lambda r: (r / "test_batch").write_bytes(
            pickle.dumps({b"labels": [99], b"data": np.zeros((1, 3072), np.uint8)}, protocol=2)
        ),
    ),
    (
        "cifar:meta-9-names",
        "cifar10",
        lambda r: (r / "batches.meta").write_bytes(
            pickle.dumps({b"label_names": [b"a"] * 9}, protocol=2)
        ),
    ),
    (
        "cifar:batch-is-a-folder",
        "cifar10",
        lambda r: [(r / "data_batch_1").unlink(), (r / "data_batch_1").mkdir()],
    ),
    (
        "cifar:batch-is-a-loop",
        "cifar10",
        lambda r: (
            [(r / "data_batch_1").unlink(), (r / "data_batch_1").symlink_to(r / "data_batch_1")]
        ),
    ),
]


def _folder_config(folder: Path, task: str) -> tuple[Path, Path]:
    data = folder / "data"
    if task == "cifar10":
        _cifar(data)
    else:
        _good_images(data)
    config = folder / "config.yaml"
    config.write_text(_dump({**GOOD, "task": task, "data_dir": str(data)}))
    return config, data


@pytest.mark.parametrize("task", ["image_folder", "cifar10"])
def test_the_good_folders_are_valid(
    task: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = _folder_config(in_tmp, task)
    code, _, stderr = validate(config, (), capsys)
    assert code == 0, stderr
    assert sorted(p.name for p in in_tmp.iterdir()) == ["config.yaml", "data"]


@pytest.mark.parametrize(("name", "task", "damage"), FOLDER_CASES, ids=[c[0] for c in FOLDER_CASES])
def test_data_folder_fuzz_is_refused(
    name: str,
    task: str,
    damage: Callable[[Path], object],
    in_tmp: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, data = _folder_config(in_tmp, task)
    damage(data)
    code, stdout, stderr = validate(config, (), capsys)
    check_refused(code, stdout, stderr, in_tmp / "runs-out", "data_dir")
    assert sorted(p.name for p in in_tmp.iterdir()) == ["config.yaml", "data"]


# --- tables (task: table): the table: section, and the CSV or Parquet file it names ----------

TABLE_CSV = "table.csv"
TABLE_PARQUET = "table.parquet"
TABLE: dict[str, Any] = {
    **GOOD,
    "experiment": "fuzz-table",
    "task": "table",
    "space": "tabular",
    "table": {"data": TABLE_CSV, "target": "label"},
}
TABLE_HEADER = ["id", "amount", "count", "colour", "day", "shop", "label"]


def _table_rows() -> list[list[str]]:
    """A good table: a float with gaps, a small int, a categorical with gaps, a time, a group and
    a two-class text target."""
    rng = random.Random(SEED + 3)
    colours = ["red", "green", "blue", ""]
    rows = []
    for i in range(40):
        amount = "" if i % 7 == 3 else f"{rng.uniform(0, 100):.2f}"
        label = ["no", "yes"][i % 2] if i < 2 else rng.choice(["no", "yes"])
        rows.append([str(i), amount, str(i % 6), colours[i % 4], str(1000 + i), f"s{i % 5}", label])
    return rows


def _csv_bytes(rows: list[list[str]], header: list[str] = TABLE_HEADER) -> bytes:
    return "".join(",".join(row) + "\n" for row in [header, *rows]).encode()


def _with_column(name: str, value: Callable[[int, str], str]) -> bytes:
    """The good table with column ``name``'s values replaced: ``value(row, old)``."""
    at = TABLE_HEADER.index(name)
    rows = [list(row) for row in TABLE_ROWS]
    for i, row in enumerate(rows):
        row[at] = value(i, row[at])
    return _csv_bytes(rows)


def _parquet_bytes(columns: dict[str, Any], **options: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(columns), sink, **options)
    return bytes(sink.getvalue().to_pybytes())


TABLE_ROWS = _table_rows()
TABLE_GOOD = _csv_bytes(TABLE_ROWS)
TABLE_FILES = ((TABLE_CSV, TABLE_GOOD),)
TEXT_NAMES = [3, 2.5, True, NAN, *CONTAINERS, "", UNICODE, "nul\x00byte", "no-such-column"]

# (dotted path, invalid values, may it be null): each on the table base, with its good CSV
TABLE_FIELDS: list[tuple[str, list[Any], bool]] = [
    ("table.data", [*PATH, "", "example:", "example:nope", "example:Diabetes", "x.parquet"], False),
    ("table.target", [*TEXT_NAMES, "Label", " label", LONG], False),
    ("table.test_data", [*PATH, "", "/dev/null", "example:diabetes"], True),
    ("table.problem", [*NAME, "Regression", "regression", "ranking"], True),
    ("table.metric", [*NAME, "rmse", "mae", "r2", "Accuracy", "f1", "auc"], True),
    ("table.split.group_column", [*TEXT_NAMES, "label", LONG], True),
    ("table.split.time_column", [*TEXT_NAMES, "label", "amount", LONG], True),
    (
        "table.reference_models",
        ["linear", [3], [None], ["xgboost"], ["linear", "linear"], [LONG], {"a": 1}, 3, [[]]],
        False,
    ),
    ("table.tuned", BOOL, False),
    ("table.reference", [3, True, *CONTAINERS, "", "nope", "tpe", "Linear", LONG], True),
]
# each field fine, together not: (the field named, changes to the table: section)
TABLE_TOGETHER: list[tuple[str, dict[str, Any]]] = [
    ("table.metric", {"metric": "rmse"}),  # a text target: classification
    ("table.metric", {"problem": "classification", "metric": "mae"}),
    ("table.metric", {"target": "amount", "metric": "accuracy"}),  # floats: regression
    ("table.metric", {"target": "amount", "problem": "regression", "metric": "log_loss"}),
    ("table.metric", {"target": "count", "metric": "r2"}),  # a few integers: classification
    ("table.metric", {"target": "day", "metric": "roc_auc"}),  # 40 integers: regression
    ("table.problem", {"problem": "regression"}),  # a text target
    ("table.problem", {"target": "colour", "problem": "regression"}),
    ("table.split.time_column", {"split": {"group_column": "shop", "time_column": "day"}}),
    ("table.split.group_column", {"split": {"group_column": "label"}}),
    ("table.split.time_column", {"split": {"time_column": "label"}}),
    ("table.split.time_column", {"split": {"time_column": "amount"}}),  # values missing
    ("table.reference", {"reference_models": [], "reference": "linear"}),
    ("table.reference", {"reference_models": ["linear"], "reference": "random_forest"}),
]


def _ragged_short(rows: list[list[str]]) -> bytes:
    return _csv_bytes([*rows[:5], rows[5][:-2], *rows[6:]])


def _latin1(text: str) -> bytes:
    return text.encode("latin-1")


def _good_parquet(**options: Any) -> bytes:
    return _parquet_bytes(
        {
            "amount": [float(r[1]) if r[1] else None for r in TABLE_ROWS],
            "colour": [r[3] or None for r in TABLE_ROWS],
            "label": [r[6] for r in TABLE_ROWS],
        },
        **options,
    )


TABLE_PARQUET_GOOD = _good_parquet()


def _empty_parquet() -> bytes:
    import pyarrow as pa

    return _parquet_bytes({"x": pa.array([], pa.float64()), "label": pa.array([], pa.int64())})


def table_file_cases() -> list[tuple[str, str, bytes, str]]:
    """(id, file name, its bytes, the field named): the table's file with one thing wrong."""
    rows, good, pq = TABLE_ROWS, TABLE_GOOD, TABLE_PARQUET_GOOD
    text = good.decode()
    csv = [
        ("ragged:long-row", good + b"40,1.0,2,red,1040,s0,no,extra\n"),
        ("ragged:short-row", _ragged_short(rows)),
        ("ragged:open-quote", good + b'40,"1.0,2,red,1040,s0,no\n'),
        ("ragged:semicolons", good + b"40;1.0;2;red;1040;s0;no\n"),
        ("utf8:header", _latin1(text.replace("colour", "couleur_é", 1))),
        ("utf8:value", _latin1(text.replace("green", "vert foncé"))),
        ("utf8:one-value", good + _latin1("40,1.0,2,ros\xe9,1040,s0,no\n")),
        ("utf8:target", _latin1(text.replace(",no\n", ",nön\n"))),
        ("utf8:numbers", good + b"40,1.\xff,2,red,1040,s0,no\n"),
        ("utf8:utf-16", text.encode("utf-16")),
        ("empty:file", b""),
        ("empty:header-only", _csv_bytes([])),
        ("empty:blank-lines", b"\n\n\n"),
        ("empty:column", _with_column("amount", lambda i, v: "")),
        ("empty:target", _with_column("label", lambda i, v: "")),
        ("empty:only-target", ("label\n" + "".join(r[6] + "\n" for r in rows)).encode()),
        ("mixed:words-in-numbers", _with_column("amount", lambda i, v: "lots" if i == 17 else v)),
        ("mixed:numbers-in-words", _with_column("colour", lambda i, v: "7" if i == 9 else v)),
        ("mixed:id", _with_column("id", lambda i, v: "x" if i == 5 else v)),
        ("one-class:target", _with_column("label", lambda i, v: "yes")),
        ("one-class:target-after-gaps", _with_column("label", lambda i, v: "yes" if i else "")),
        ("names:duplicate", good.replace(b"count,", b"amount,", 1)),
        ("names:no-target", good.replace(b"label\n", b"labels\n", 1)),
        ("not-csv:parquet", pq),
        ("not-csv:zeros", bytes(512)),
    ]
    parquet = [
        ("parquet:text", good),
        ("parquet:empty", b""),
        ("parquet:magic-only", b"PAR1"),
        ("parquet:truncated", pq[: len(pq) * 2 // 3]),
        ("parquet:tail", pq[len(pq) // 3 :]),
        ("parquet:zeroed-middle", pq[:40] + bytes(80) + pq[120:]),
        ("parquet:garbage-between-magic", b"PAR1" + bytes(range(256)) * 2 + b"PAR1"),
        ("parquet:one-class", _parquet_bytes({"amount": [1.0, 2.0, 3.0], "label": ["a"] * 3})),
        (
            "parquet:null-column",
            _parquet_bytes({"x": [1.0, 2.0], "gone": [None, None], "label": [0, 1]}),
        ),
        ("parquet:mixed", _parquet_bytes({"code": ["1", "x", "2", "y"], "label": [0, 1, 0, 1]})),
        ("parquet:list-column", _parquet_bytes({"x": [[1], [2]], "label": [0, 1]})),
        ("parquet:binary-column", _parquet_bytes({"x": [b"\xff", b"\x00"], "label": [0, 1]})),
        ("parquet:no-rows", _empty_parquet()),
        ("parquet:binary-dictionary", _binary_dictionary_parquet()),
        (
            "parquet:non-utf8-name",
            _good_parquet(store_schema=False).replace(b"amount", b"amoun\xdd"),
        ),
    ]
    target = "table.data"
    return [(i, TABLE_CSV, data, target) for i, data in csv] + [
        (i, TABLE_PARQUET, data, target) for i, data in parquet
    ]


def _binary_dictionary_parquet() -> bytes:
    """A categorical column of bytes (pandas' category of bytes, say): read back as a
    dictionary of binary values, not text."""
    import pyarrow as pa

    words = pa.array([b"\xff", b"\xfe"] * 2).dictionary_encode()
    return _parquet_bytes({"x": words, "label": [0, 1] * 2})


# which field a file case names, where it is not table.data
TABLE_FILE_FIELDS = {
    "one-class:target": "table.target",
    "one-class:target-after-gaps": "table.target",
    "parquet:one-class": "table.target",
    "names:no-target": "table.target",
}


def table_cases() -> list[Case]:
    rng = random.Random(SEED + 4)
    cases: list[Case] = []
    for path, values, nullable in TABLE_FIELDS:
        for value in [*values, *([] if nullable else [None])]:
            raw = _copy(TABLE)
            _set(raw, path, value)
            cases.append(Case(f"table:{path}={_short(value)}", _dump(raw), path, files=TABLE_FILES))
    for key in ("data", "target"):
        raw = _copy(TABLE)
        del raw["table"][key]
        cases.append(Case(f"table:drop:{key}", _dump(raw), f"table.{key}", files=TABLE_FILES))
    raw = _copy(TABLE)
    del raw["table"]
    cases.append(Case("table:drop:table", _dump(raw), "table:", files=TABLE_FILES))
    for task in ("wine", "image_folder", "sinusoid"):  # a table: section on another task
        cases.append(Case(f"table:task={task}", _dump({**_copy(TABLE), "task": task}), "table:"))
    alphabet = "abcdefghijklmnopqrstuvwxyz_"
    odd_keys: list[Any] = [3, None, True, "", " ", UNICODE, "x" * 300, "target ", "Target"]
    for section in ("table", "table.split"):
        keys = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))]
        for key in [*keys, *rng.sample(odd_keys, 4)]:
            raw = _copy(TABLE)
            _set(raw, f"{section}.{key}", rng.choice([1, "x", None, [1], {"a": 1}]))
            cases.append(
                Case(
                    f"table:unknown:{section}:{_short(key)}",
                    _dump(raw),
                    f"{section}.",
                    files=TABLE_FILES,
                )
            )
        for value in [None, *rng.sample(SECTION, 4)]:
            if section == "table.split" and value is None:
                value = "null"  # table.split: null is refused as a text; "null" as a word
            raw = _copy(TABLE)
            _set(raw, section, value)
            field = f"{section}:" if section == "table" else section
            cases.append(
                Case(
                    f"table:section:{section}={_short(value)}", _dump(raw), field, files=TABLE_FILES
                )
            )
    for i, (field, changes) in enumerate(TABLE_TOGETHER):
        raw = _copy(TABLE)
        raw["table"].update(changes)
        cases.append(Case(f"table:together:{i}", _dump(raw), field, files=TABLE_FILES))
    # the file: broken in one way each
    for case_id, name, data, field in table_file_cases():
        raw = _copy(TABLE)
        raw["table"]["data"] = name
        field = TABLE_FILE_FIELDS.get(case_id, field)
        cases.append(Case(f"table:file:{case_id}", _dump(raw), field, files=((name, data),)))
    # test_data: missing, another file's columns, broken like data
    test_files: list[tuple[str, bytes]] = [
        ("missing", b""),
        ("other-columns", TABLE_GOOD.replace(b"colour", b"shade", 1)),
        ("unseen-class", TABLE_GOOD + b"40,1.0,2,red,1040,s0,maybe\n"),
        ("ragged", TABLE_GOOD + b"1,2\n"),
        ("not-parquet", TABLE_GOOD),
        ("non-utf8", TABLE_GOOD + _latin1("40,1.0,2,ros\xe9,1040,s0,no\n")),
        ("header-only", _csv_bytes([])),
        ("kind-changed", _with_column("colour", lambda i, v: str(i))),
    ]
    for case_id, data in test_files:
        name = "test.parquet" if case_id == "not-parquet" else "test.csv"
        raw = _copy(TABLE)
        raw["table"]["test_data"] = name
        files = TABLE_FILES if case_id == "missing" else (*TABLE_FILES, (name, data))
        cases.append(Case(f"table:test_data:{case_id}", _dump(raw), "table.test_data", files=files))
    # --set on the table: section
    text = _dump(TABLE)
    table_sets = [
        ("table.metric=rmse", "table.metric"),
        ("table.target=nope", "table.target"),
        ("table.data=nope.csv", "table.data"),
        ("table=null", "table:"),
        ("table=[]", "table:"),
        ("table.split.time_column=label", "table.split.time_column"),
        ("table.tuned=maybe", "table.tuned"),
        ("table.nope=1", "table.nope"),
        ("task=wine", "table:"),
    ]
    for i, (item, field) in enumerate(table_sets):
        cases.append(Case(f"table:set:{i}", text, field, (item,), files=TABLE_FILES))
    paths = [path for path, *_ in TABLE_FIELDS]
    pool = ["[", "]", "{", "}", ":", "- x", "null", "1", "label", "amount", "rmse", "accuracy", ""]
    for i in range(10):  # random table paths and random YAML: valid or refused, never a crash
        value = "".join(rng.choice(pool) for _ in range(rng.randint(1, 3)))
        item = f"{rng.choice(paths)}={value}"
        cases.append(
            Case(f"table:set:random:{i}", text, overrides=(item,), strict=False, files=TABLE_FILES)
        )
    # random byte flips of the good CSV: valid or refused, never a crash
    for i in range(20):
        flipped = bytearray(TABLE_GOOD)
        for _ in range(rng.randint(1, 4)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        cases.append(
            Case(f"table:flip:{i}", text, strict=False, files=((TABLE_CSV, bytes(flipped)),))
        )
    return _unique(cases)


TABLE_CASES = table_cases()
# Refusals missing or wrong in modules this file's owner does not own; each is reported, and its
# mark goes once it is fixed (strict: a case that starts passing fails, to say so).
TABLE_GAPS: dict[str, str] = {}


def _table_params() -> list[Any]:
    return [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(strict=True, reason=TABLE_GAPS[case.id])]
            if case.id in TABLE_GAPS
            else [],
        )
        for case in TABLE_CASES
    ]


def _write_table_case(folder: Path, case: Case) -> Path:
    for name, data in case.files:
        (folder / name).write_bytes(data)
    config = folder / "config.yaml"
    config.write_bytes(case.text.encode() if isinstance(case.text, str) else case.text)
    return config


@pytest.mark.parametrize(
    ("files", "data"),
    [
        pytest.param(TABLE_FILES, TABLE_CSV, id="csv"),
        pytest.param(((TABLE_PARQUET, TABLE_PARQUET_GOOD),), TABLE_PARQUET, id="parquet"),
    ],
)
def test_the_table_base_is_valid(
    files: tuple[tuple[str, bytes], ...],
    data: str,
    in_tmp: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each table case starts from this valid config and file, so it is refused for its change."""
    raw = _copy(TABLE)
    raw["table"]["data"] = data
    config = _write_table_case(in_tmp, Case("base", _dump(raw), files=files))
    code, stdout, stderr = validate(config, (), capsys)
    assert code == 0, stderr
    assert "valid" in stdout and stderr == ""
    assert sorted(p.name for p in in_tmp.iterdir()) == sorted(["config.yaml", data])


@pytest.mark.parametrize("case", _table_params())
def test_table_fuzz_is_refused_with_one_line(
    case: Case, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_table_case(in_tmp, case)
    code, stdout, stderr = validate(config, case.overrides, capsys)
    if not case.strict and code == 0:
        assert stderr == "" and "valid" in stdout
    else:
        check_refused(code, stdout, stderr, in_tmp / "runs-out", case.field)
    assert sorted(p.name for p in in_tmp.iterdir()) == sorted(
        ["config.yaml", *(name for name, _ in case.files)]
    )


# --- through the real CLI: no traceback escapes at the process level -------------------------

CLI_IDS = [
    "deep:flow-list:3000",
    "aliases:laughs:seeds",
    "wine:duplicate:budget.trials",
    "tag:0:!!python/object/apply:os.system",
    "wine:space='xxxxxxxxxxx..5002",
    "text:invalid-yaml:12",
    "bytes:random:0",
]


# The fast loop runs three of these processes (about 1 s of CPU each), the slow run the rest.
FAST_CLI_IDS = ["deep:flow-list:3000", "bytes:random:0"]


@pytest.mark.parametrize(
    "case_ids",
    [
        pytest.param(FAST_CLI_IDS, id="few"),
        pytest.param(
            [i for i in CLI_IDS if i not in FAST_CLI_IDS], id="rest", marks=pytest.mark.slow
        ),
    ],
)
def test_real_cli_refuses_with_one_line(tmp_path: Path, case_ids: list[str]) -> None:
    by_id = {c.id: c for c in CONFIG_CASES}
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "MLFLOW_TRACKING_URI")}
    jobs = []
    for i, case_id in enumerate(case_ids):
        folder = tmp_path / f"c{i}"
        folder.mkdir()
        config = folder / "config.yaml"
        text = by_id[case_id].text
        config.write_bytes(text.encode() if isinstance(text, str) else text)
        jobs.append((case_id, folder, ["run", str(config), "--no-live"]))
    if case_ids == FAST_CLI_IDS:
        space = tmp_path / "space_base_exception.py"
        space.write_text(SPACE_HEAD + "class E(BaseException): pass\nraise E('x')\n")
        folder = tmp_path / "space"
        folder.mkdir()
        config = _space_config(folder, str(space))
        jobs.append(("space-base-exception", folder, ["run", str(config)]))

    def cli(job: tuple[str, Path, list[str]]) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "automl_bench.cli", *job[2]]
        return subprocess.run(
            command, cwd=job[1], capture_output=True, text=True, timeout=120, env=env
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        procs = list(pool.map(cli, jobs))
    for (case_id, folder, _), proc in zip(jobs, procs, strict=True):
        try:
            check_refused(proc.returncode, proc.stdout, proc.stderr, folder / "runs-out", None)
            assert sorted(p.name for p in folder.iterdir()) == ["config.yaml"]
        except AssertionError as exc:
            raise AssertionError(f"{case_id}: {exc}") from None
