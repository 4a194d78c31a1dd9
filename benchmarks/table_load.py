"""Is reading a table with pyarrow, then the shared transform, faster and smaller than pandas?

Generates a table of 1,000,000 rows x 50 columns (40 numeric, 10 categorical of 2 to 5 values,
about 2% of values missing in every column, and a target column) as a CSV file in a temporary
folder, then measures, each in a fresh process of its own so that peak memory is that process's
alone (``ru_maxrss``, the interpreter and its imports included):

- ours: what a run does for a seed, ``open_table(spec).prepare([seed], cache)``: reading with
  pyarrow (a block at a time, numbers as float32, text dictionary-encoded), every check, the
  seed's split, the ``ColumnTransformer`` fitted on the train split and applied to all three,
  and the arrays and the fitted transform written to the cache;
- pandas: ``pandas.read_csv``, the same split, the same ``ColumnTransformer`` (built outside the
  timing) fitted on train and applied to all three; no checks, nothing written.

Each is run ``--repeats`` times (2), alternately, and its fastest run is kept (a shared 2-core
machine is noisy). It prints the load-and-transform time of each and the ratio pandas / ours
(target: at least 1), and ours's peak memory against the file's size (target: at most 3x).

    python benchmarks/table_load.py [--rows 1000000] [--repeats 2]
    python benchmarks/table_load.py --smoke     # 20,000 rows, one run each: checks that it runs
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from automl_bench.tasks.table.check import TableFacts

N_NUMERIC, N_CATEGORICAL, MISSING_SHARE = 40, 10, 0.02
TARGET = "y"
SEED = 0


def generate(path: Path, rows: int, seed: int = 0) -> None:
    """The benchmark's CSV: numeric ``n0..``, categorical ``c0..`` (words), target ``y``."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {}
    for i in range(N_NUMERIC):
        values = np.round(rng.normal(i, 1 + i, rows), 4)
        columns[f"n{i}"] = pa.array(values, mask=rng.random(rows) < MISSING_SHARE)
    for i in range(N_CATEGORICAL):
        words = np.array([f"w{i}_{k}" for k in range(2 + i // 3)])
        codes = rng.integers(0, len(words), rows)
        columns[f"c{i}"] = pa.array(words[codes], mask=rng.random(rows) < MISSING_SHARE)
    columns[TARGET] = pa.array(rng.integers(0, 2, rows))
    pcsv.write_csv(pa.table(columns), path)


def facts_of_generated() -> TableFacts:
    """The facts ``check_table`` finds in a generated file, known without reading it."""
    from automl_bench.tasks.table.check import MISSING, TableFacts

    vocabularies = tuple(
        (*sorted(f"w{i}_{k}" for k in range(2 + i // 3)), MISSING) for i in range(N_CATEGORICAL)
    )
    return TableFacts(
        problem="classification",
        metric="accuracy",
        numeric=tuple(f"n{i}" for i in range(N_NUMERIC)),
        categorical=tuple(f"c{i}" for i in range(N_CATEGORICAL)),
        vocabularies=vocabularies,
        classes=(0, 1),
        n_rows=0,
        n_test_rows=0,
    )


def run_ours(path: Path, cache: Path) -> tuple[float, int]:
    """What a run does for a seed: read, check, split, fit on train, transform, write the cache."""
    from automl_bench.tasks.table.spec import TableSpec
    from automl_bench.tasks.table.task import open_table

    start = time.perf_counter()
    task = open_table(TableSpec(data=str(path), target=TARGET))
    task.prepare([SEED], cache)
    return time.perf_counter() - start, task.info.input_shape[0]


def run_pandas(path: Path, cache: Path) -> tuple[float, int]:
    """pandas.read_csv, the same split, the same transform fitted on train (nothing written)."""
    import pandas as pd

    from automl_bench.tasks.table.split import SplitBy, split_rows
    from automl_bench.tasks.table.transform import build_transform

    transform = build_transform(facts_of_generated())
    start = time.perf_counter()
    table = pd.read_csv(path)
    y = table.pop(TARGET).to_numpy()
    rows = split_rows(len(table), SplitBy(labels=y), SEED)
    x_train = transform.fit_transform(table.iloc[rows.train], y[rows.train])
    x_val = transform.transform(table.iloc[rows.val])
    transform.transform(table.iloc[rows.test])
    del x_train, x_val
    return time.perf_counter() - start, int(transform.transform(table.iloc[:1]).shape[1])


def child(which: str, path: Path) -> None:
    import pandas  # noqa: F401  (both import it: the import is not what is measured)
    import sklearn.compose  # noqa: F401

    with tempfile.TemporaryDirectory(prefix="table-load-cache-") as cache:
        seconds, width = (run_ours if which == "ours" else run_pandas)(path, Path(cache))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "width": width}))


def measure(which: str, path: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", which, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2, help="runs of each, the fastest kept")
    parser.add_argument("--smoke", action="store_true", help="20,000 rows, one run of each")
    parser.add_argument("--child", nargs=2, metavar=("WHICH", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    rows = 20_000 if args.smoke else args.rows
    repeats = 1 if args.smoke else args.repeats
    with tempfile.TemporaryDirectory(prefix="table-load-") as folder:
        path = Path(folder) / "table.csv"
        generate(path, rows)
        file_mb = path.stat().st_size / 2**20
        print(f"table: {rows:,} rows x {N_NUMERIC + N_CATEGORICAL} columns, {file_mb:.0f} MB CSV")
        runs = [(measure("ours", path), measure("pandas", path)) for _ in range(repeats)]
        ours = min((o for o, _ in runs), key=lambda r: r["seconds"])
        pandas = min((p for _, p in runs), key=lambda r: r["seconds"])
    print(f"features out: ours {ours['width']:.0f}, pandas {pandas['width']:.0f}")
    print(
        f"load+transform: ours {ours['seconds']:.2f} s, pandas {pandas['seconds']:.2f} s, "
        f"ratio pandas/ours {pandas['seconds'] / ours['seconds']:.2f} (target >= 1)"
    )
    print(
        f"peak memory (pandas): {pandas['peak_mb']:.0f} MB = "
        f"{pandas['peak_mb'] / file_mb:.1f} x the file"
    )
    print(
        f"peak memory: ours {ours['peak_mb']:.0f} MB = {ours['peak_mb'] / file_mb:.1f} x the file "
        f"({file_mb:.0f} MB); target <= 3x"
    )


if __name__ == "__main__":
    main()
