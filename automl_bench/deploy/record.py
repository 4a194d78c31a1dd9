"""A deploy record: what a final model weighs, how fast it answers, whether it exports, and
whether it meets the config's constraints."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Constraints:
    """Limits a deployable model must meet; None: no limit. Latency is p95 at batch size 1 on
    the ``target`` device."""

    max_latency_ms_p95: float | None = None
    max_size_mb: float | None = None
    max_params: int | None = None
    max_flops: int | None = None
    export_required: bool = False
    target: str = "cpu"  # cpu | cuda: where the latency limit applies

    def describe(self) -> str:
        """The limits in words ("p95 <= 5 ms (cpu), size <= 1 MB, exports"); "" for none."""
        words = []
        if self.max_latency_ms_p95 is not None:
            words.append(f"p95 <= {self.max_latency_ms_p95:g} ms ({self.target})")
        if self.max_size_mb is not None:
            words.append(f"size <= {self.max_size_mb:g} MB")
        if self.max_params is not None:
            words.append(f"params <= {self.max_params:,}")
        if self.max_flops is not None:
            words.append(f"FLOPs <= {self.max_flops:,}")
        if self.export_required:
            words.append("exports")
        return ", ".join(words)


@dataclass(frozen=True)
class DeviceFigures:
    """Timings on one device. Latencies in ms at batch size 1 over many repetitions, with the
    interquartile range as their spread; throughput at the deployment batch size."""

    device: str  # "cpu" or the GPU's name
    threads: int  # torch's intra-op threads during the measurement
    latency_ms_p50: float
    latency_ms_p95: float
    latency_ms_iqr: float
    latency_repeats: int
    batch_size: int
    batch_latency_ms_p50: float
    throughput_per_s: float
    peak_mem_mb: float  # parameters plus the activations' peak at the deployment batch size
    # p95 at the deployment batch size (None in a record written before it was measured)
    batch_latency_ms_p95: float | None = None


@dataclass(frozen=True)
class DeployRecord:
    # A net's figures; a table's scikit-learn model (``deploy/rows.py``): its nodes or
    # coefficients, an estimate of its operations, the pickled pipeline, the ONNX round trip
    params: int
    flops: int  # per prediction (one example), counted by torch.utils.flop_counter
    size_mb: float  # the serialized state_dict (a table's model: with its transform)
    exportable: bool  # torch.export round trip gives the same outputs
    export_error: str | None = None
    onnx: str = "not installed"  # "ok", "not installed", or what went wrong
    cpu: DeviceFigures | None = None
    cuda: DeviceFigures | None = None
    broken: tuple[str, ...] = ()  # the constraints it breaks, each with its figures
    feasible: bool = True

    def checked(self, limits: Constraints) -> DeployRecord:
        """This record with ``feasible`` and ``broken`` set against ``limits``."""
        broken = []
        figures = self.cuda if limits.target == "cuda" else self.cpu
        if limits.max_latency_ms_p95 is not None:
            if figures is None:
                broken.append(f"latency on {limits.target}: not measured (no {limits.target} here)")
            elif figures.latency_ms_p95 > limits.max_latency_ms_p95:
                broken.append(
                    f"latency_ms_p95 {figures.latency_ms_p95:.3g} > {limits.max_latency_ms_p95:g}"
                    f" ({limits.target})"
                )
        if limits.max_size_mb is not None and self.size_mb > limits.max_size_mb:
            broken.append(f"size_mb {self.size_mb:.3g} > {limits.max_size_mb:g}")
        if limits.max_params is not None and self.params > limits.max_params:
            broken.append(f"params {self.params:,} > {limits.max_params:,}")
        if limits.max_flops is not None and self.flops > limits.max_flops:
            broken.append(f"flops {self.flops:,} > {limits.max_flops:,}")
        if limits.export_required and not self.exportable:
            broken.append(f"not exportable: {self.export_error or 'outputs differ'}")
        return replace(self, broken=tuple(broken), feasible=not broken)

    def to_dict(self) -> dict[str, Any]:
        """The DEPLOY shape of summary.json."""
        out = asdict(self)
        out["broken"] = list(self.broken)
        return out

    def to_metrics(self) -> dict[str, float]:
        """``deploy_*`` metrics for MLflow; device figures end in ``_cpu`` or ``_cuda``."""
        out = {
            "deploy_params": float(self.params),
            "deploy_flops": float(self.flops),
            "deploy_size_mb": self.size_mb,
            "deploy_exportable": float(self.exportable),
            "deploy_feasible": float(self.feasible),
        }
        for name, figures in (("cpu", self.cpu), ("cuda", self.cuda)):
            if figures is None:
                continue
            for key, value in asdict(figures).items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    out[f"deploy_{key}_{name}"] = float(value)
        return out

    def to_tags(self) -> dict[str, str]:
        tags = {
            "deploy_feasible": str(self.feasible).lower(),
            "deploy_onnx": self.onnx,
        }
        if self.broken:
            tags["deploy_broken"] = "; ".join(self.broken)
        if self.export_error:
            tags["deploy_export_error"] = self.export_error
        for name, figures in (("cpu", self.cpu), ("cuda", self.cuda)):
            if figures is not None:
                tags[f"deploy_device_{name}"] = figures.device
        return tags
