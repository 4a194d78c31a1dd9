"""Measuring a table's model for deployment from raw rows: the fitted transform and the model
together, as they would answer a request, in a deploy record like a network's.

A table's models (a scikit-learn estimator, or a network) take the transformed features, but a
deployed model is sent raw rows: its latency, memory and size include the transform. The same
discipline as :mod:`automl_bench.deploy.measure`: a warm-up, then many repetitions reported as
median, p95 and interquartile range; batch-1 latency is one raw row per call (the calls cycle
through the rows, each a one-row DataFrame sliced before the clock starts); the throughput is at
the deployment batch size; the threads are fixed (threadpoolctl and torch) and given back.

What each figure is:

- ``size_mb``: an estimator's pipeline pickled; a network's transform pickled plus its
  ``state_dict`` saved by torch;
- ``params``, ``flops``: the model's, not the transform's (a network's parameters and FLOPs on one
  transformed row; an estimator's as :mod:`automl_bench.deploy.estimator_figures` estimates
  them);
- ``peak_mem_mb``, best effort: what the model holds (an estimator: its pipeline's pickle; a
  network: its transform's pickle) plus the peak of the allocations of one prediction at the
  deployment batch size as ``tracemalloc`` sees them (NumPy's arrays included), and, for a
  network, its parameters and activations as :func:`automl_bench.deploy.measure.peak_mem_mb`
  counts them (torch's tensors are not traced by tracemalloc);
- ``exportable``/``onnx``: an estimator's whole pipeline, transform included, exported with
  skl2onnx and checked in onnxruntime (:mod:`automl_bench.deploy.sklearn_onnx`); ``exportable``
  is that round trip being ``"ok"``. A network is exported as :func:`automl_bench.deploy.measure.
  measure` does it (torch.export, and ONNX), on one transformed row: its transform stays in
  Python.
"""

from __future__ import annotations

import contextlib
import pickle
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from automl_bench.deploy.measure import (
    MAX_REPEATS,
    MIN_REPEATS,
    WARMUP,
    export_round_trip,
    flops_per_example,
    onnx_round_trip,
    peak_mem_mb,
    size_mb,
)
from automl_bench.deploy.record import DeployRecord, DeviceFigures

if TYPE_CHECKING:
    import pandas as pd

SINGLE_ROWS = 64  # distinct one-row frames the batch-1 calls cycle through
ONNX_ROWS = 2000  # the first rows, on which an ONNX export is compared with the model
NOT_ASKED = "not asked"


class RowModel(Protocol):
    """A model that answers raw rows (the transform's input)."""

    def predict(self, rows: pd.DataFrame) -> Any: ...


@dataclass(frozen=True)
class EstimatorOnRows:
    """A fitted transform and a fitted scikit-learn estimator.

    ``predict`` hands the estimator the transformed rows as float32, as it was fitted and
    tested (a task's splits are float32): a tree's split thresholds sit between float32 values,
    so float64 features would move some rows across them. ``pipeline`` is the two as one
    scikit-learn Pipeline, what is pickled and exported to ONNX (which computes in float32).
    """

    transform: Any  # the fitted ColumnTransformer
    estimator: Any
    pipeline: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from sklearn.pipeline import Pipeline

        steps = [("transform", self.transform), ("model", self.estimator)]
        object.__setattr__(self, "pipeline", Pipeline(steps))

    def predict(self, rows: pd.DataFrame) -> Any:
        return self.estimator.predict(self.transform.transform(rows).astype(np.float32))


@dataclass(frozen=True)
class NetOnRows:
    """A fitted transform and a trained network: the transformed rows as a float32 tensor,
    through the network in eval mode under ``inference_mode``."""

    transform: Any  # the fitted ColumnTransformer
    net: nn.Module

    def __post_init__(self) -> None:
        self.net.eval()

    def features(self, rows: pd.DataFrame) -> torch.Tensor:
        """The transformed rows, as the network takes them."""
        x = self.transform.transform(rows)
        x = x.toarray() if hasattr(x, "toarray") else x  # a sparse one-hot output
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))

    def predict(self, rows: pd.DataFrame) -> torch.Tensor:
        with torch.inference_mode():
            out: torch.Tensor = self.net(self.features(rows))
            return out


def measure_rows(
    model: EstimatorOnRows | NetOnRows,
    rows: pd.DataFrame,
    *,
    batch_size: int,
    threads: int,
    seconds: float = 0.5,
    onnx: bool | None = None,
) -> DeployRecord:
    """The deploy record of ``model`` answering the raw ``rows`` (real rows, e.g. the test
    split's), on the CPU. ``onnx``: False skips the ONNX round trip ("not asked"); None or True
    tries it ("not installed" without the onnx extra)."""
    if len(rows) == 0:
        raise ValueError("measure_rows needs at least one row")
    with fixed_threads(threads):
        cpu = row_figures(model, rows, batch_size, threads, seconds)
        if isinstance(model, NetOnRows):
            return _net_record(model, rows, cpu, onnx)
        return _estimator_record(model, rows, cpu, onnx, threads)


@contextlib.contextmanager
def fixed_threads(threads: int) -> Iterator[None]:
    """``threads`` for BLAS/OpenMP pools (threadpoolctl) and torch's intra-op pool; given back
    after."""
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(previous)


def row_figures(
    model: RowModel, rows: pd.DataFrame, batch_size: int, threads: int, seconds: float
) -> DeviceFigures:
    """Batch-1 latency (one raw row per call) and throughput at ``batch_size`` raw rows."""
    singles = [rows.iloc[[i]] for i in range(min(len(rows), SINGLE_ROWS))]
    batch = batch_of(rows, batch_size)
    single = timings_ms(model.predict, singles, seconds)
    batched = timings_ms(model.predict, [batch], seconds)
    q25, q50, q75, q95 = np.percentile(single, [25, 50, 75, 95])
    batch_p50, batch_p95 = (float(q) for q in np.percentile(batched, [50, 95]))
    return DeviceFigures(
        device="cpu",
        threads=threads,
        latency_ms_p50=float(q50),
        latency_ms_p95=float(q95),
        latency_ms_iqr=float(q75 - q25),
        latency_repeats=len(single),
        batch_size=batch_size,
        batch_latency_ms_p50=batch_p50,
        batch_latency_ms_p95=batch_p95,
        throughput_per_s=batch_size / (batch_p50 / 1000.0),
        peak_mem_mb=_resident_mb(model) + traced_peak_mb(model.predict, batch),
    )


def batch_of(rows: pd.DataFrame, batch_size: int) -> pd.DataFrame:
    """``batch_size`` rows: the first ones, repeated when there are fewer."""
    import pandas as pd

    repeats = -(-batch_size // len(rows))
    return pd.concat([rows] * repeats, ignore_index=True).iloc[:batch_size]


def timings_ms(
    predict: Callable[[Any], object], inputs: Sequence[Any], seconds: float
) -> npt.NDArray[np.float64]:
    """Milliseconds per call of ``predict``, cycling through ``inputs``: after WARMUP calls,
    repeated for about ``seconds`` (at least MIN_REPEATS, at most MAX_REPEATS calls)."""
    for i in range(WARMUP):
        predict(inputs[i % len(inputs)])
    out: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(out) < MAX_REPEATS and (len(out) < MIN_REPEATS or time.perf_counter() < deadline):
        x = inputs[len(out) % len(inputs)]
        t0 = time.perf_counter()
        predict(x)
        out.append((time.perf_counter() - t0) * 1000.0)
    return np.asarray(out)


def traced_peak_mb(call: Callable[[Any], object], x: Any) -> float:
    """The peak of the Python and NumPy allocations ``call(x)`` makes, above what was already
    allocated, as tracemalloc sees them (torch's tensors are not traced)."""
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        call(x)
        return max(0, tracemalloc.get_traced_memory()[1] - base) / 1e6
    finally:
        if not tracing:
            tracemalloc.stop()


def _resident_mb(model: RowModel) -> float:
    """What the model holds while it answers, best effort: an estimator's pipeline pickled; a
    network's transform pickled (its parameters are counted with its activations)."""
    if isinstance(model, EstimatorOnRows):
        return len(pickle.dumps(model.pipeline, protocol=pickle.HIGHEST_PROTOCOL)) / 1e6
    if isinstance(model, NetOnRows):
        return len(pickle.dumps(model.transform, protocol=pickle.HIGHEST_PROTOCOL)) / 1e6
    return 0.0


def _estimator_record(
    model: EstimatorOnRows, rows: pd.DataFrame, cpu: DeviceFigures, onnx: bool | None, threads: int
) -> DeployRecord:
    from automl_bench.deploy.estimator_figures import estimator_flops, estimator_params
    from automl_bench.deploy.sklearn_onnx import pipeline_round_trip

    round_trip = (
        NOT_ASKED if onnx is False else pipeline_round_trip(model, rows.iloc[:ONNX_ROWS], threads)
    )
    return DeployRecord(
        params=estimator_params(model.estimator),
        flops=estimator_flops(model.estimator),
        size_mb=_resident_mb(model),
        exportable=round_trip == "ok",
        export_error=None if round_trip == "ok" else f"ONNX round trip: {round_trip}",
        onnx=round_trip,
        cpu=cpu,
    )


def _net_record(
    model: NetOnRows, rows: pd.DataFrame, cpu: DeviceFigures, onnx: bool | None
) -> DeployRecord:
    x1 = model.features(rows.iloc[:1])
    batch = model.features(batch_of(rows, cpu.batch_size))
    exportable, error = export_round_trip(model.net, x1)
    figures = replace(cpu, peak_mem_mb=cpu.peak_mem_mb + peak_mem_mb(model.net, batch))
    return DeployRecord(
        params=sum(p.numel() for p in model.net.parameters()),
        flops=flops_per_example(model.net, x1),
        size_mb=_resident_mb(model) + size_mb(model.net),
        exportable=exportable,
        export_error=error,
        onnx=NOT_ASKED if onnx is False else onnx_round_trip(model.net, x1),
        cpu=figures,
    )
