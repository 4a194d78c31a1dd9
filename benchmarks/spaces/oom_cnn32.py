"""benchmarks/spaces/cnn32.py, with one training that runs out of memory for real
(benchmarks/gpu_acceptance.py, the out-of-memory check).

The final training of study seed ``OOM_SEED`` (its init seed is ``1000 + OOM_SEED``, see
``automl_bench.seeding``) first takes about half of the device's free memory and keeps it, as a
large activation would, then asks for far more than any card has: the allocator raises its own
out-of-memory error (``torch.OutOfMemoryError`` on CUDA). Every other training is cnn32's. The
trial must be recorded failed with that reason, its neighbours on the same GPU must finish, and
the next trial its (reused) worker runs must find the memory given back.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import torch
from torch import nn

from automl_bench import TaskInfo

_SPEC = importlib.util.spec_from_file_location(
    "_cnn32_for_oom", Path(__file__).resolve().parent / "cnn32.py"
)
assert _SPEC is not None and _SPEC.loader is not None
_CNN32 = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_CNN32)

OOM_SEED = 1  # the study seed whose final training runs out of memory
FINAL_OFFSET = 1_000  # automl_bench.seeding.FINAL_OFFSET
IMPOSSIBLE_BYTES = 1 << 50  # 1 PiB: more than any device holds, and within a 64-bit size
CPU_HOLD_BYTES = 64 << 20  # on the CPU (the dry run), what the failing training holds first

space = _CNN32.space
baseline: dict[str, Any] = dict(_CNN32.baseline)


class _RunsOutOfMemory(nn.Module):
    """cnn32, whose first training step holds half the free memory and then asks for 1 PiB."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            if x.device.type == "cuda":
                free, _ = torch.cuda.mem_get_info(x.device)
                held = torch.empty(free // 2, dtype=torch.uint8, device=x.device)
            else:
                held = torch.empty(CPU_HOLD_BYTES, dtype=torch.uint8)
            held.fill_(1)  # touched: the memory is really taken
            more = torch.empty(IMPOSSIBLE_BYTES, dtype=torch.uint8, device=x.device)
            return self.net(x) + 0 * (held[0] + more[0])  # never reached
        out: torch.Tensor = self.net(x)
        return out


def build(config: dict[str, Any], task: TaskInfo) -> nn.Module:
    net: nn.Module = _CNN32.build(config, task)
    if torch.initial_seed() == FINAL_OFFSET + OOM_SEED:  # this study seed's final training
        return _RunsOutOfMemory(net)
    return net
