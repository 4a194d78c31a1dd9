"""Writes a synthetic folder in CIFAR-10's python layout (``cifar-10-batches-py``): five
training batches, ``test_batch`` and ``batches.meta``, pickled as the official files are (dicts
with byte-string keys, protocol 2), holding random images and balanced labels. It stands in for
CIFAR-10 where the real set is not on disk: to validate ``configs/nb201_cifar10.yaml`` in CI,
and for the GPU acceptance run on synthetic data. Its accuracies mean nothing.

    python benchmarks/cifar_layout.py OUT [--per-batch 10000] [--seed 0]

OUT is the folder that will hold ``cifar-10-batches-py``; the path of that folder is printed.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

FOLDER = "cifar-10-batches-py"
NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer"]
NAMES += [b"dog", b"frog", b"horse", b"ship", b"truck"]
PIXELS = 3 * 32 * 32


def write_cifar_layout(out: Path, per_batch: int = 10_000, seed: int = 0) -> Path:
    """``out/cifar-10-batches-py`` with ``per_batch`` random images a batch; returns its path."""
    rng = np.random.default_rng(seed)
    root = out / FOLDER
    root.mkdir(parents=True, exist_ok=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = [int(v) for v in rng.permutation(np.arange(per_batch) % len(NAMES))]
        batch = {
            b"batch_label": name.encode(),
            b"labels": labels,
            b"data": rng.integers(0, 256, size=(per_batch, PIXELS), dtype=np.uint8),
            b"filenames": [f"synthetic_{i}.png".encode() for i in range(per_batch)],
        }
        (root / name).write_bytes(pickle.dumps(batch, protocol=2))
    meta = {b"num_cases_per_batch": per_batch, b"label_names": NAMES, b"num_vis": PIXELS}
    (root / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the folder that will hold cifar-10-batches-py")
    parser.add_argument("--per-batch", type=int, default=10_000, help="images per batch")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(write_cifar_layout(args.out.resolve(), args.per_batch, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
