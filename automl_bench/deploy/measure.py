"""Measuring one model for deployment: size, FLOPs, latency, throughput, memory, export.

Discipline (as airbench and the PyTorch benchmark utilities do it): eval mode and
``inference_mode``; a warm-up before any timing; many repetitions, reported as median, p95 and
interquartile range (never the minimum); the device synchronised before each clock read; the
thread count fixed and recorded.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from automl_bench.deploy.record import DeployRecord, DeviceFigures

WARMUP = 10
MIN_REPEATS = 30
MAX_REPEATS = 1000


def size_mb(model: nn.Module) -> float:
    """The serialized state_dict, in MB (10^6 bytes)."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes / 1e6


def flops_per_example(model: nn.Module, x1: torch.Tensor) -> int:
    """FLOPs of one forward pass on one example, by torch.utils.flop_counter (a multiply-add
    counts two)."""
    from torch.utils.flop_counter import FlopCounterMode

    model.eval()
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model(x1)
    return int(counter.get_total_flops())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timings_ms(model: nn.Module, x: torch.Tensor, seconds: float) -> np.ndarray:
    """Milliseconds per forward pass on ``x``: after a warm-up, repeated for about ``seconds``
    (at least MIN_REPEATS, at most MAX_REPEATS times), synchronised before every clock read."""
    model.eval()
    out: list[float] = []
    with torch.inference_mode():
        for _ in range(WARMUP):
            model(x)
        _sync(x.device)
        deadline = time.perf_counter() + seconds
        while len(out) < MAX_REPEATS and (len(out) < MIN_REPEATS or time.perf_counter() < deadline):
            t0 = time.perf_counter()
            model(x)
            _sync(x.device)
            out.append((time.perf_counter() - t0) * 1000.0)
    return np.asarray(out)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """The profiler's native library writes start/stop lines to fd 2: keep them off the console."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def peak_mem_mb(model: nn.Module, x: torch.Tensor) -> float:
    """Peak memory of one forward pass on ``x``: parameters and buffers plus the peak of the
    tensors alive during the pass (CUDA: the allocator's peak; CPU: the profiler's allocations
    and frees, in order)."""
    model.eval()
    if x.device.type == "cuda":
        torch.cuda.synchronize(x.device)
        torch.cuda.reset_peak_memory_stats(x.device)
        with torch.inference_mode():
            model(x)
        torch.cuda.synchronize(x.device)
        return torch.cuda.max_memory_allocated(x.device) / 1e6
    from torch.profiler import ProfilerActivity, profile

    resident = sum(t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()])
    with (
        _quiet_stderr(),
        profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof,
        torch.inference_mode(),
    ):
        model(x)
    events = sorted(prof.events(), key=lambda e: e.time_range.start)
    live = peak = 0
    for event in events:
        live += event.self_cpu_memory_usage  # allocations positive, frees negative
        peak = max(peak, live)
    return (resident + peak) / 1e6


def device_figures(
    model: nn.Module, x: torch.Tensor, batch_size: int, threads: int, seconds: float
) -> DeviceFigures:
    """Batch-1 latency and throughput at ``batch_size`` on ``x``'s device."""
    device = x.device
    model = model.to(device)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        single = timings_ms(model, x[:1], seconds)
        batch = (
            x[:batch_size]
            if len(x) >= batch_size
            else x.repeat((batch_size + len(x) - 1) // len(x), *[1] * (x.dim() - 1))[:batch_size]
        )
        batched = timings_ms(model, batch, seconds)
        q25, q50, q75, q95 = np.percentile(single, [25, 50, 75, 95])
        batch_p50, batch_p95 = (float(q) for q in np.percentile(batched, [50, 95]))
        name = "cpu" if device.type == "cpu" else torch.cuda.get_device_name(device)
        return DeviceFigures(
            device=name,
            threads=threads,
            latency_ms_p50=float(q50),
            latency_ms_p95=float(q95),
            latency_ms_iqr=float(q75 - q25),
            latency_repeats=len(single),
            batch_size=batch_size,
            batch_latency_ms_p50=batch_p50,
            batch_latency_ms_p95=batch_p95,
            throughput_per_s=batch_size / (batch_p50 / 1000.0),
            peak_mem_mb=peak_mem_mb(model, batch),
        )
    finally:
        torch.set_num_threads(previous)


def export_round_trip(model: nn.Module, x1: torch.Tensor) -> tuple[bool, str | None]:
    """torch.export the model, save and load it back, and compare outputs on ``x1``."""
    model = model.eval().to("cpu")
    x1 = x1.to("cpu")
    try:
        program = torch.export.export(model, (x1,))
        buffer = io.BytesIO()
        torch.export.save(program, buffer)
        buffer.seek(0)
        loaded = torch.export.load(buffer).module()
        with torch.inference_mode():
            same = torch.allclose(loaded(x1), model(x1), rtol=1e-4, atol=1e-5)
    except Exception as exc:  # a model that does not export is a finding, not a crash
        return False, f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300]}"
    return bool(same), None if same else "the exported program's outputs differ"


def onnx_round_trip(model: nn.Module, x1: torch.Tensor) -> str:
    """With the optional ``onnx`` extra: export to ONNX, run it in onnxruntime, compare."""
    try:
        import onnxruntime  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError:
        return "not installed"
    import tempfile

    model = model.eval().to("cpu")
    x1 = x1.to("cpu")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.onnx")
            with contextlib.redirect_stdout(io.StringIO()):  # its progress lines
                torch.onnx.export(model, (x1,), path, dynamo=True, verbose=False)
            session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
            (got,) = session.run(None, {session.get_inputs()[0].name: x1.numpy()})
        with torch.inference_mode():
            expected = model(x1).numpy()
        return "ok" if np.allclose(got, expected, rtol=1e-4, atol=1e-5) else "outputs differ"
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"


def measure(
    model: nn.Module,
    x: torch.Tensor,
    *,
    batch_size: int,
    threads: int,
    seconds: float = 0.5,
    cuda: bool = False,
    onnx: bool | None = None,
) -> DeployRecord:
    """The deploy record of ``model`` on inputs ``x`` (real examples, on the CPU): on the CPU,
    and on the GPU too when ``cuda``. ``onnx``: False skips the ONNX round trip; None tries it
    when the onnx extra is installed."""
    model = model.eval().to("cpu")
    x = x.to("cpu")
    exportable, error = export_round_trip(model, x[:1])
    cpu = device_figures(model, x, batch_size, threads, seconds)
    on_gpu = None
    if cuda and torch.cuda.is_available():
        gpu = torch.device("cuda")
        on_gpu = device_figures(model.to(gpu), x.to(gpu), batch_size, threads, seconds)
        model = model.to("cpu")
    return DeployRecord(
        params=sum(p.numel() for p in model.parameters()),
        flops=flops_per_example(model, x[:1]),
        size_mb=size_mb(model),
        exportable=exportable,
        export_error=error,
        onnx="not asked" if onnx is False else onnx_round_trip(model, x[:1]),
        cpu=cpu,
        cuda=on_gpu,
    )
