"""A user's table as a task: its info, and each seed's splits, transform and raw rows, cached.

``open_table(spec)`` checks the files (every refusal is ``check``'s) and returns a ``TableTask``;
it is cached, so a worker calling it again costs nothing. A seed's splits are computed once and
kept under ``cache_dir/tables/<key>/``, the key made from the spec and each file's size and
modification time (an edited file gets a new key). Every file there is written to a temporary
name and moved into place (``os.replace``), so several worker processes asking for the same seed
at once each find either nothing or a whole file; what they write is the same, the seed fixing it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from automl_bench.tasks.base import TaskArrays, TaskInfo
from automl_bench.tasks.splits import Splits
from automl_bench.tasks.table.check import TableFacts, check_tables, label_values, read_spec
from automl_bench.tasks.table.spec import CLASSIFICATION, TableSpec
from automl_bench.tasks.table.split import RowSplit, SplitBy, split_rows
from automl_bench.tasks.table.transform import build_transform, frame, output_width

if TYPE_CHECKING:
    import pandas as pd

CACHE_FORMAT = "table-v1"  # part of the cache key: a change of what is cached changes it
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class TableRows:
    """A table's rows as the transform and the splits need them (read only on a cache miss)."""

    features: pd.DataFrame  # data's feature columns, the transform's input
    y: npt.NDArray[Any]  # class codes (int64) or targets (float32)
    by: SplitBy
    test_features: pd.DataFrame | None = None  # test_data's, where given
    y_test: npt.NDArray[Any] | None = None


class TableTask:
    """A checked table: ``info`` for the search spaces, and per seed its splits and transform."""

    def __init__(
        self,
        spec: TableSpec,
        facts: TableFacts,
        tables: tuple[pa.Table, pa.Table | None] | None = None,
    ) -> None:
        self.spec = spec
        self.facts = facts
        self._tables = tables  # the tables check_table read, used once on the first cache miss
        self._rows: TableRows | None = None
        classification = facts.problem == CLASSIFICATION
        self.info = TaskInfo(
            name="table",
            input_shape=(output_width(facts),),
            num_classes=len(facts.classes) if classification else 1,
            default_trials=20,
            default_epochs=30,
            problem=facts.problem,
        )

    def __reduce__(self) -> tuple[Callable[..., TableTask], tuple[TableSpec, TableFacts]]:
        return (TableTask, (self.spec, self.facts))  # never the rows: a worker reads its own

    @property
    def classes(self) -> tuple[Any, ...]:
        """The target's raw labels in code order (classification); () for regression."""
        return self.facts.classes

    def arrays(self, cache_dir: Path) -> TaskArrays:
        raise NotImplementedError(
            "a table's data comes per seed: TableTask.splits(seed, cache_dir)"
        )

    def cache_folder(self, cache_dir: Path) -> Path:
        return Path(cache_dir) / "tables" / cache_key(self.spec)

    def prepare(self, seeds: Iterable[int], cache_dir: Path) -> None:
        """Compute (or find) each seed's splits and transform in the cache."""
        for seed in seeds:
            self._stored(seed, cache_dir)

    def splits(self, seed: int, cache_dir: Path) -> Splits:
        """The transformed train / validation / test arrays at ``seed``."""
        stored = _read(self._stored(seed, cache_dir), _ARRAYS)
        return Splits(*(stored[k] for k in _ARRAYS))

    def fitted_transform(self, seed: int, cache_dir: Path) -> Any:
        """The ``ColumnTransformer`` fitted on ``seed``'s train split (raw rows -> features)."""
        self._stored(seed, cache_dir)
        with (self.cache_folder(cache_dir) / f"transform-{seed}.pkl").open("rb") as file:
            return pickle.load(file)

    def raw_rows(self, seed: int, cache_dir: Path, split: str = "test") -> pd.DataFrame:
        """The raw feature rows of one split at ``seed``: what ``fitted_transform`` takes."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
        rows = _read(self._stored(seed, cache_dir), [f"rows_{split}"])[f"rows_{split}"]
        loaded = self.load()
        source = (
            loaded.test_features if split == "test" and loaded.test_features is not None else None
        )
        table = loaded.features if source is None else source
        return table.iloc[rows].reset_index(drop=True)

    def _stored(self, seed: int, cache_dir: Path) -> Path:
        """``seed``'s arrays in the cache (computed first where they are not there yet)."""
        path = self.cache_folder(cache_dir) / f"splits-{seed}.npz"
        if not path.exists() or not (path.parent / f"transform-{seed}.pkl").exists():
            self._compute(seed, path)
        return path

    def _compute(self, seed: int, path: Path) -> None:
        loaded = self.load()
        n_test = None if loaded.test_features is None else len(loaded.test_features)
        rows = split_rows(len(loaded.features), loaded.by, seed, n_test)
        transform = build_transform(self.facts)
        train, y_train = loaded.features.iloc[rows.train], loaded.y[rows.train]
        x_train = _float32(transform.fit_transform(train, y_train))
        del train  # a copy of the train rows: gone before the other splits are transformed
        arrays = {
            "x_train": x_train,
            "y_train": y_train,
            "x_val": _float32(transform.transform(loaded.features.iloc[rows.val])),
            "y_val": loaded.y[rows.val],
            **self._test_arrays(transform, rows),
            **{f"rows_{k}": getattr(rows, k) for k in SPLITS},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic(path.parent / f"transform-{seed}.pkl", lambda f: pickle.dump(transform, f))
        _atomic(path, lambda f: np.savez(f, **arrays))

    def _test_arrays(self, transform: Any, rows: RowSplit) -> dict[str, npt.NDArray[Any]]:
        loaded = self.load()
        if loaded.test_features is not None and loaded.y_test is not None:
            return {
                "x_test": _float32(transform.transform(loaded.test_features)),
                "y_test": loaded.y_test,
            }
        return {
            "x_test": _float32(transform.transform(loaded.features.iloc[rows.test])),
            "y_test": loaded.y[rows.test],
        }

    def load(self) -> TableRows:
        """The rows of data (and test_data), read once per process and kept."""
        if self._rows is None:
            self._rows = self._read_rows()
        return self._rows

    def _read_rows(self) -> TableRows:
        data, test = self._tables if self._tables is not None else read_spec(self.spec)
        self._tables = None  # the frames below replace the tables
        spec, facts = self.spec, self.facts
        rows = TableRows(
            features=frame(data, facts),
            y=targets(data.column(spec.target), facts),
            by=split_by(spec, facts, data),
            test_features=None if test is None else frame(test, facts),
            y_test=None if test is None else targets(test.column(spec.target), facts),
        )
        del data, test
        pa.default_memory_pool().release_unused()  # the tables' memory, back to the system
        return rows


_ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


def _read(path: Path, keys: Iterable[str]) -> dict[str, npt.NDArray[Any]]:
    with np.load(path) as stored:
        return {k: stored[k] for k in keys}


def _float32(x: Any) -> npt.NDArray[np.float32]:
    return np.ascontiguousarray(x, dtype=np.float32)


def _atomic(path: Path, write: Callable[[Any], None]) -> None:
    """Write ``path`` through a temporary file in its folder, moved into place when whole."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache to share
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cache_key(spec: TableSpec) -> str:
    """The spec and each file's size and modification time, hashed: a changed file, a new key."""
    files = [spec.data] + ([spec.test_data] if spec.test_data else [])
    stats = [(os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in files]
    text = json.dumps([CACHE_FORMAT, dataclasses.asdict(spec), stats], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def targets(column: pa.ChunkedArray, facts: TableFacts) -> npt.NDArray[Any]:
    """Class codes 0..K-1 in the order of ``facts.classes``, or float32 regression targets."""
    values = label_values(column)
    if facts.problem != CLASSIFICATION:
        return np.asarray(values.cast(pa.float64()).to_numpy(), dtype=np.float32)
    classes = pa.array(list(facts.classes)).cast(values.type)
    codes = pc.index_in(values, value_set=classes)
    return np.asarray(codes.to_numpy(), dtype=np.int64)


def split_by(spec: TableSpec, facts: TableFacts, data: pa.Table) -> SplitBy:
    """What ``data``'s splits keep together or in order."""
    labels = targets(data.column(spec.target), facts) if facts.problem == CLASSIFICATION else None
    groups = times = None
    if spec.group_column is not None:
        encoded = pc.dictionary_encode(data.column(spec.group_column)).combine_chunks()
        groups = np.asarray(encoded.indices.fill_null(-1).to_numpy(), dtype=np.int64)
    if spec.time_column is not None:
        times = _sortable(data.column(spec.time_column))
    return SplitBy(labels=labels, groups=groups, times=times)


def _sortable(column: pa.ChunkedArray) -> npt.NDArray[Any]:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
    elif pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        column = column.cast(pa.timestamp("ns"), safe=False).cast(pa.int64())
    elif pa.types.is_temporal(kind):
        column = column.cast(pa.int64(), safe=False)
    return np.asarray(column.to_numpy(zero_copy_only=False))


@functools.lru_cache(maxsize=8)
def open_table(spec: TableSpec) -> TableTask:
    """The checked table of ``spec`` (a ``ConfigError`` for any problem), cached per process."""
    data, test = read_spec(spec)
    facts = check_tables(spec, data, test)
    return TableTask(spec, facts, (data, test))
