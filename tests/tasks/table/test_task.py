"""A table as a task: its info, each seed's cached splits and transform, its raw rows."""

from __future__ import annotations

import multiprocessing
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from automl_bench.tasks.table import task as task_module
from automl_bench.tasks.table.spec import TableSpec
from automl_bench.tasks.table.task import TableTask, cache_key, open_table

N = 120


def write(path: Path, rows: int = N, offset: int = 0) -> str:
    lines = ["x,colour,day,shop,label"]
    for i in range(offset, offset + rows):
        colour = ("red", "green", "", "blue")[i % 4]
        day = f"2024-01-{1 + i % 28:02d}"
        lines.append(f"{(i * 7) % 13 / 2},{colour},{day},s{i % 9},{('b', 'a', 'c')[i % 3]}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture
def spec(tmp_path: Path) -> TableSpec:
    return TableSpec(write(tmp_path / "data.csv"), "label")


def test_info_classes_and_labels(spec: TableSpec, tmp_path: Path) -> None:
    task = open_table(spec)
    assert open_table(spec) is task  # cached: a worker asking again reads nothing
    assert task.classes == ("a", "b", "c")
    assert task.info.name == "table" and task.info.problem == "classification"
    assert task.info.num_classes == 3 and task.info.default_epochs == 30
    # x, day (a date: seconds), shop (9 words), colour (3 words + missing)
    assert task.info.input_shape == (2 + 9 + 4,)
    splits = task.splits(0, tmp_path / "cache")
    assert splits.y_train.dtype == np.int64 and set(splits.y_train) == {0, 1, 2}
    with pytest.raises(NotImplementedError):
        task.arrays(tmp_path)


def test_a_regression_table(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("x,w,y\n" + "".join(f"{i},{'pq'[i % 2]},{i * 0.5}\n" for i in range(40)))
    task = open_table(TableSpec(str(path), "y"))
    assert (task.info.problem, task.info.num_classes, task.classes) == ("regression", 1, ())
    splits = task.splits(0, tmp_path / "cache")
    assert splits.y_test.dtype == np.float32 and len(splits.y_test) == 8


def test_raw_rows_through_the_fitted_transform_give_the_test_features(
    spec: TableSpec, tmp_path: Path
) -> None:
    task = open_table(spec)
    rows = task.raw_rows(1, tmp_path, "test")
    assert list(rows.columns) == ["x", "day", "colour", "shop"]  # no target, no split column
    x = task.fitted_transform(1, tmp_path).transform(rows)
    np.testing.assert_allclose(x, task.splits(1, tmp_path).x_test, rtol=1e-6)
    with pytest.raises(ValueError, match="split must be one of"):
        task.raw_rows(1, tmp_path, "holdout")


def test_the_cache_is_reused_by_another_process_s_task(
    spec: TableSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = open_table(spec)
    task.prepare([0, 1], tmp_path)
    first = task.splits(0, tmp_path)
    copy = pickle.loads(pickle.dumps(task))  # what a worker gets: spec and facts, no rows
    assert copy._tables is None and copy._rows is None

    def refuse(*args: object) -> None:
        raise AssertionError("computed again")

    monkeypatch.setattr(TableTask, "_compute", refuse)
    again = copy.splits(0, tmp_path)
    np.testing.assert_array_equal(first.x_val, again.x_val)
    assert copy._rows is None  # nothing was read


def test_a_failed_write_leaves_nothing_behind(
    spec: TableSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = open_table(spec)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(task_module.np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        task.splits(0, tmp_path)
    folder = task.cache_folder(tmp_path)
    assert not [p for p in folder.iterdir() if p.name.startswith(".") or "splits" in p.name]


def _prepare(spec: TableSpec, cache: str) -> int:
    task = open_table(spec)
    task.prepare([0], Path(cache))
    return int(task.splits(0, Path(cache)).x_train.shape[0])


def test_processes_asking_at_once_each_get_whole_files(spec: TableSpec, tmp_path: Path) -> None:
    with multiprocessing.get_context("fork").Pool(3) as pool:
        counts = pool.starmap(_prepare, [(spec, str(tmp_path))] * 3)
    assert counts == [76] * 3  # 120 rows: test 24, validation 20 of the rest
    names = sorted(p.name for p in open_table(spec).cache_folder(tmp_path).iterdir())
    assert names == ["splits-0.npz", "transform-0.pkl"]


def test_the_key_changes_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    spec = TableSpec(write(path), "label")
    before = cache_key(spec)
    assert cache_key(TableSpec(spec.data, "label", metric="log_loss")) != before
    write(path, offset=1)
    os.utime(path, ns=(1, 1))
    assert cache_key(spec) != before


def test_test_data_is_the_test_split(tmp_path: Path) -> None:
    spec = TableSpec(
        write(tmp_path / "data.csv"), "label", test_data=write(tmp_path / "test.csv", rows=30)
    )
    task = open_table(spec)
    splits = task.splits(0, tmp_path)
    assert len(splits.x_test) == 30 and len(splits.x_train) + len(splits.x_val) == N
    assert len(task.raw_rows(0, tmp_path, "test")) == 30


def test_group_and_time_columns_split_the_task(tmp_path: Path) -> None:
    path = write(tmp_path / "data.csv")
    grouped = open_table(TableSpec(path, "label", group_column="shop"))
    assert "shop" not in grouped.facts.numeric + grouped.facts.categorical
    rows = {k: grouped.raw_rows(0, tmp_path, k) for k in ("train", "test")}
    assert len(rows["train"]) and len(rows["test"])
    timed = open_table(TableSpec(path, "label", time_column="day"))
    assert timed.info.input_shape == (1 + 9 + 4,)
    data = timed.load()
    assert data.by.times is not None
    split = {k: timed.raw_rows(0, tmp_path, k) for k in ("train", "test")}
    assert len(split["train"]) > len(split["test"]) > 0
