#!/usr/bin/env bash
# Every GPU check of the cost accounting, in one go (run on a GPU machine where automl-bench is
# installed with Ray, Optuna, MLflow and CodeCarbon):
#  1. a ~10 s training burst: the tool's GPU energy against NVML's counter delta (target: 2%);
#  2. 4 trials packed on one GPU (0.25 GPU each) through the real stack (Ray Tune, MLflow,
#     the node meter): trials' energy + idle / overhead against the node's measured energy
#     (target: 5%), and the node's GPU energy against NVML's counter over the whole run;
#  3. from the same run's deploy records: batch-1 and batch-1024 latency on the GPU (and the CPU)
#     for the baseline's and the best found models.
# Prints a short table last; details go to $OUT (or ./runs/gpu_check).
#
# --smoke-on-cpu measures nothing about a GPU: the same steps on the CPU at a tiny size (no
# nvidia-smi, no NVML counter, the quickstart at one seed and 1 trial x 1 epoch, output in a
# temporary folder), so that a renamed field or option fails in CI, not on the next GPU machine.
set -euo pipefail
smoke=0
if [ "${1:-}" = "--smoke-on-cpu" ]; then smoke=1; fi
if [ "$smoke" = 1 ]; then out=$(mktemp -d); else out=${OUT:-runs/gpu_check}; fi
mkdir -p "$out"
read_counter() {
  if [ "$smoke" = 1 ]; then echo 0; return; fi
  python -c "import pynvml as n; n.nvmlInit(); print(n.nvmlDeviceGetTotalEnergyConsumption(n.nvmlDeviceGetHandleByIndex(0)))"
}
if [ "$smoke" = 1 ]; then
  echo "smoke on the CPU: no GPU is measured" | tee "$out/card.txt"
  python benchmarks/gpu_energy.py --smoke-on-cpu | tee "$out/burst.log"
  run_args=(--set "seeds=[0]" --set budget.trials=1 --set budget.epochs=1)
else
  nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader | tee "$out/card.txt"
  python benchmarks/gpu_energy.py --seconds 10 | tee "$out/burst.log"
  run_args=(--set resources.gpus_per_trial=0.25 --set resources.cpus_per_trial=2
    --set resources.max_concurrent_trials=4 --set budget.epochs=20)
fi
before=$(read_counter)
python -m automl_bench.cli run configs/quickstart.yaml --no-live \
  --set output_dir="$out/runs" --set deploy.batch_size=1024 "${run_args[@]}" \
  > "$out/packed.log" 2>&1 || { tail -40 "$out/packed.log"; exit 1; }
after=$(read_counter)
tail -12 "$out/packed.log"
python - "$out" "$before" "$after" <<'PY'
import json, sys
from pathlib import Path
out, before, after = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
nan = float("nan")
div = lambda a, b: a / b if b else nan  # no GPU (the smoke on the CPU): no ratio
burst = {"card": "-", "torch": "-", "driver": "-", "ratio": nan, "nvml_delta_j": nan}
burst.update(json.loads((out / "burst.log").read_text().strip().splitlines()[-1]))
s = json.loads((out / "runs" / "quickstart" / "summary.json").read_text())
c = s["cost"]
node_gpu_j = c["node"]["energy_kwh"]["gpu"] * 3.6e6
trials_gpu_j = sum(c[p]["energy_kwh"]["gpu"] for p in ("search", "final", "inference")) * 3.6e6
idle_gpu_j = c["idle"]["energy_kwh"]["gpu"] * 3.6e6
packed = {
    "trials": sum(st["trials"] + 1 for m in s["methods"].values() for st in m["studies"]),
    "node_kwh": c["attribution"]["node_kwh"],
    "phases_plus_idle_over_node": c["attribution"]["ratio"],
    "node_gpu_j": node_gpu_j,
    "trials_gpu_j": trials_gpu_j,
    "idle_gpu_j": idle_gpu_j,
    "gpu_trials_plus_idle_over_node": div(trials_gpu_j + idle_gpu_j, node_gpu_j),
    "nvml_delta_whole_run_j": (after - before) / 1000,
    "node_gpu_over_nvml_whole_run": div(node_gpu_j, (after - before) / 1000),
    "measured": c["node"]["measured"],
    "wall_s": s["wall_s"],
}
(out / "packed.json").write_text(json.dumps(packed, indent=1))
print()
print(f"card: {burst['card']}, torch {burst['torch']}, driver {burst['driver']}")
print(f"{'check':<58} {'value':>12} target")
print(f"{'burst: tool GPU J / NVML counter delta J':<58} {burst['ratio']:>12.5f} within 2%")
print(f"{'  tool GPU J, NVML J, seconds':<58} {burst['tool_gpu_j']:.1f}, {burst['nvml_delta_j']:.1f}, {burst['seconds']:.1f}")
print(f"{'packed 4/GPU: (phases + idle) / node energy':<58} {packed['phases_plus_idle_over_node']:>12.5f} within 5%")
print(f"{'packed 4/GPU: GPU (trials + idle) / node GPU':<58} {packed['gpu_trials_plus_idle_over_node']:>12.5f} within 5%")
print(f"{'  trials GPU J, idle GPU J, node GPU J':<58} {trials_gpu_j:.0f}, {idle_gpu_j:.0f}, {node_gpu_j:.0f}")
print(f"{'packed: node GPU J / NVML delta over the whole CLI run':<58} {packed['node_gpu_over_nvml_whole_run']:>12.4f} (<1: Ray start/stop unmetered)")
print()
print("deploy records (seed 0): latency ms p50 / p95 at batch 1, p50 at batch 1024")
for label in s["methods"]:
    d = s["methods"][label]["studies"][0]["deploy"] or {}
    for dev in ("cuda", "cpu"):
        f = d.get(dev)
        if f:
            print(f"  {label:<9} {f['device']:<14} {f['latency_ms_p50']:.3f} / {f['latency_ms_p95']:.3f}"
                  f"  batch {f['batch_size']}: {f['batch_latency_ms_p50']:.3f} ms, {f['throughput_per_s']:,.0f}/s")
PY
