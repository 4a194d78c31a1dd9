#!/usr/bin/env bash
# The GPU acceptance run (issue 17): packing, per-trial overhead, the trainer's speed, NB-201 with
# every method, a real out-of-memory error, deploy records on CUDA, GPU energy against NVML and the
# A/A cost check, in one go, with a table of figure / target / pass last (benchmarks/gpu_acceptance.py
# says what each line measures). About 10 minutes on one H100 or H200, with the stack installed;
# details go to $OUT (default runs/gpu_acceptance).
#
#   bash benchmarks/gpu_acceptance.sh                 # on a machine with an NVIDIA GPU
#   bash benchmarks/gpu_acceptance.sh --smoke-on-cpu  # the same steps, tiny, on the CPU (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
exec python benchmarks/gpu_acceptance.py "$@"
