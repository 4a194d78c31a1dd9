"""The GPU acceptance run (issue 17): every GPU figure in one go, a table of pass / fail last.

Run it through ``bash benchmarks/gpu_acceptance.sh`` on a machine with one NVIDIA GPU and the
stack installed (sized for about 10 minutes on one H100 or H200). Each step runs in a process of
its own; its details go under ``$OUT`` (default runs/gpu_acceptance), and a step that breaks is a
failed line, not the end of the run:

1. the card, its driver and the versions of the stack;
2. a ~10 s training burst: CodeCarbon's GPU energy against NVML's counter (within 2 %);
3. packing: 8 small trials on one GPU against one at a time (``scaling.py --packing``):
   throughput >= 4x, node energy per trial <= 0.3x; and, from the one-at-a-time level, the
   per-trial fixed overhead on its reused worker, one search trial's end of training to the
   next trial's start of training (<= 0.5 s, the median);
4. the trainer against a plain DataLoader fp32 loop (``trainer_speed.py``): >= 1.4x;
5. configs/nb201_cifar10.yaml with every method at a small budget, on synthetic data in
   CIFAR-10's layout: no failed trial; DARTS' time per epoch, second order against first; the
   derived cells and their skip connections; then the baseline cell's deploy record at batch 1
   and batch 1024 (8 CPU threads), GPU against CPU;
6. a real out-of-memory error in one of 4 packed trials (benchmarks/spaces/oom_cnn32.py): it is
   recorded failed with its reason, its neighbours finish, the next trial on its worker runs;
   and the packed run's attribution, phases + idle against the node's energy (within 5 %);
7. the A/A cost check on the GPU: the baseline's configuration, trained again right after it,
   costs the same (energy and wall-clock, geometric mean over seeds, within +-10 %).

``--smoke-on-cpu`` measures nothing about a GPU: every step at a tiny size on the CPU (no NVML),
so that a renamed field or option fails in CI and not on the next GPU machine. Its figures mean
nothing and its targets are not judged.

    bash benchmarks/gpu_acceptance.sh
    bash benchmarks/gpu_acceptance.sh --smoke-on-cpu
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
STACK = ("torch", "ray", "optuna", "mlflow", "codecarbon", "scikit-learn")
NAN = float("nan")
SMOKE_BATCH = 64  # the deployment batch of the smoke's deploy lines (its test split holds 80)


@dataclass(frozen=True)
class Line:
    """One row of the table: a figure, its target, and whether it holds (None: not judged)."""

    figure: str
    value: str
    target: str = ""
    passed: bool | None = None


@dataclass
class Run:
    out: Path
    smoke: bool
    lines: list[Line] = field(default_factory=list)

    def add(self, figure: str, value: str, target: str = "", passed: bool | None = None) -> None:
        self.lines.append(Line(figure, value, target, None if self.smoke else passed))


def _python(args: list[str], log: Path, timeout: float = 600, ok: tuple[int, ...] = (0,)) -> str:
    """Run ``python ARGS`` from the repository root; its output goes to ``log`` and is
    returned; RuntimeError with the output's tail when its exit code is not in ``ok``."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("OUT", None)
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode not in ok:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        raise RuntimeError(f"{args[0]} exited {proc.returncode}: {' | '.join(tail)}")
    return proc.stdout


def _last_json(text: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
    return found


def _run_config(run: Run, name: str, config: dict[str, Any], failing: bool = False) -> Path:
    """automl-bench run on ``config`` (written under OUT/name); returns its experiment folder.
    ``failing``: some trials are meant to fail (the CLI's exit code 3 is expected)."""
    folder = run.out / name
    folder.mkdir(parents=True, exist_ok=True)
    config = {**config, "experiment": name, "output_dir": str(folder / "runs")}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    ok = (0, 3) if failing else (0,)  # 3: the run finished, some trials failed
    _python(["-m", "automl_bench.cli", "run", str(path), "--no-live"], folder / "run.log", ok=ok)
    return folder / "runs" / name


def trial_runs(db: Path, experiment: str | None = None) -> list[dict[str, Any]]:
    """Every trial run in an MLflow SQLite store (of one experiment, when named): status, tags
    and latest metrics, read through MLflow's client."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{db.resolve()}")
    ids = [
        e.experiment_id
        for e in client.search_experiments()
        if experiment is None or e.name == experiment
    ]
    runs = client.search_runs(ids, max_results=50_000) if ids else []
    return [
        {"status": r.info.status, "tags": dict(r.data.tags), "metrics": dict(r.data.metrics)}
        for r in runs
        if "trial_id" in r.data.tags
    ]


# -- the steps ---------------------------------------------------------------------------------


def card(run: Run) -> None:
    import torch

    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        driver = _python(
            ["-c", "import pynvml as n; n.nvmlInit(); print(n.nvmlSystemGetDriverVersion())"],
            run.out / "driver.log",
        ).strip()
    else:
        name, driver = "no GPU (smoke on the CPU: nothing about a GPU is measured)", "-"
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in STACK)
    run.add("card", name)
    run.add("driver, Python", f"{driver}, Python {sys.version.split()[0]}")
    run.add("stack", versions)


def burst(run: Run) -> None:
    args = ["--smoke-on-cpu"] if run.smoke else ["--seconds", "10"]
    found = _last_json(_python([str(BENCH / "gpu_energy.py"), *args], run.out / "burst.log"))
    ratio = float(found.get("ratio", NAN))
    run.add(
        "GPU energy: CodeCarbon J / NVML counter J",
        f"{ratio:.4f}",
        "1 +- 2 %",
        abs(ratio - 1) <= 0.02,
    )


def packing(run: Run) -> None:
    out = run.out / "packing"
    args = [str(BENCH / "scaling.py"), "--packing", "--out", str(out)]
    if run.smoke:
        args += [
            "--allow-cpu",
            "--concurrency",
            "1",  # one level (CI's time): the ratios are 1 by construction
            "--trials",
            "2",
            "--epochs",
            "1",
            "--images",
            "500",
        ]
    else:
        args += ["--trials", "8", "--epochs", "4", "--images", "10000"]
    _python(args, out / "packing.log", timeout=900)
    rows = json.loads((out / "packing.json").read_text())
    one, packed = rows[0], rows[-1]

    def per_trial(r: dict[str, Any]) -> tuple[float, float]:
        ran = r["trials"] + 2  # the search trials and the two final trainings
        return ran / r["trials_wall_s"], r["node_kwh"] / ran

    (t1, e1), (tn, en) = per_trial(one), per_trial(packed)
    level = packed["level"]
    run.add(
        f"packing {level}/GPU: throughput vs 1 at a time", f"{tn / t1:.2f}x", ">= 4x", tn / t1 >= 4
    )
    run.add(
        f"packing {level}/GPU: node energy per trial vs 1",
        f"{en / e1:.2f}x",
        "<= 0.3x",
        en / e1 <= 0.3,
    )
    gaps = reused_worker_gaps(trial_runs(out / "mlflow.db", f"scaling-{one['level']}"))
    median = statistics.median(gaps) if gaps else NAN
    run.add(
        "per-trial fixed overhead, reused worker (median s)",
        f"{median:.3f} ({len(gaps)} gaps)",
        "<= 0.5 s",
        median <= 0.5,
    )


def reused_worker_gaps(runs: list[dict[str, Any]]) -> list[float]:
    """Seconds from a search trial's end of training to the start of training of the next
    trial on the same worker process."""
    by_worker: dict[float, list[dict[str, float]]] = {}
    for r in runs:
        m = r["metrics"]
        if {"worker_pid", "train_start_unix"} <= set(m):
            entry = {**m, "search": 1.0 if r["tags"].get("phase") == "search" else 0.0}
            by_worker.setdefault(m["worker_pid"], []).append(entry)
    gaps = []
    for trials in by_worker.values():
        trials.sort(key=lambda m: m["train_start_unix"])
        for prev, nxt in itertools.pairwise(trials):
            if prev["search"] and "train_end_unix" in prev:
                gaps.append(nxt["train_start_unix"] - prev["train_end_unix"])
    return gaps


def trainer(run: Run) -> None:
    args = [str(BENCH / "trainer_speed.py")] + (["--smoke"] if run.smoke else [])
    found = _last_json(_python(args, run.out / "trainer.log"))
    run.add(
        "trainer vs plain DataLoader fp32 (images/s)",
        f"{found['speedup']:.2f}x",
        ">= 1.4x",
        found["speedup"] >= 1.4,
    )


def cifar_layout(run: Run) -> Path:
    """A synthetic CIFAR-10 folder, written once per run."""
    per_batch = "80" if run.smoke else "2000"
    printed = _python(
        [str(BENCH / "cifar_layout.py"), str(run.out / "data"), "--per-batch", per_batch],
        run.out / "data.log",
    )
    return Path(printed.strip().splitlines()[-1])


def _gpu_resources(run: Run, per_gpu: int) -> dict[str, Any]:
    if run.smoke:
        return {"cpus_per_trial": 1, "max_concurrent_trials": 2}
    return {"cpus_per_trial": 2, "trials_per_gpu": per_gpu, "max_concurrent_trials": per_gpu}


def nb201(run: Run, data: Path) -> None:
    config = yaml.safe_load((ROOT / "configs" / "nb201_cifar10.yaml").read_text())
    config.update(
        data_dir=str(data),
        seeds=[0],
        budget={"trials": 1 if run.smoke else 2, "epochs": 1 if run.smoke else 2},
        resources=_gpu_resources(run, 4),
        deploy={"onnx": False},  # at the default batch: the deploy check is its own step
    )
    if run.smoke:  # fewer methods, and the deploy lines from this run (CI's time)
        config["methods"] = ["baseline", "random", "darts", "darts2"]
        config["deploy"]["batch_size"] = SMOKE_BATCH
    exp = _run_config(run, "nb201", _smoke_space(run, config))
    runs = trial_runs(exp.parent / "mlflow.db")
    failed = [r for r in runs if r["tags"].get("trial_status") == "failed"]
    run.add(
        f"NB-201, {len(config['methods'])} methods: trials run, failed",
        f"{len(runs)}, {len(failed)}",
        "0 failed",
        not failed and len(runs) > 0,
    )
    for reason in {r["tags"].get("failure_reason", "?")[:70] for r in failed}:
        run.add("  failed because", reason)
    darts_lines(run, runs)
    if run.smoke:
        deploy_lines(run, json.loads((exp / "summary.json").read_text()), SMOKE_BATCH)


def _smoke_space(run: Run, config: dict[str, Any]) -> dict[str, Any]:
    """On the CPU, a tiny NB-201 (NB-201's supernet trains in float32 at batch 256: 13 GB)."""
    if run.smoke:
        config["space"] = str(ROOT / "tests" / "fixtures" / "tiny_nb201.py")
    return config


def deploy_on_cuda(run: Run, data: Path) -> None:
    """The NB-201 baseline cell's deploy record at batch 1 and 1024, on the GPU and the CPU."""
    batch = 1024
    config = yaml.safe_load((ROOT / "configs" / "nb201_cifar10.yaml").read_text())
    config.update(
        data_dir=str(data),
        methods=["baseline"],
        seeds=[0],
        budget={"trials": 1, "epochs": 1},
        resources=_gpu_resources(run, 1),
        deploy={"batch_size": batch, "threads": 8, "onnx": False},
    )
    exp = _run_config(run, "deploy", config)
    deploy_lines(run, json.loads((exp / "summary.json").read_text()), batch)


def darts_lines(run: Run, runs: list[dict[str, Any]]) -> None:
    per_epoch: dict[str, float] = {}
    for r in runs:
        method, m = r["tags"].get("method"), r["metrics"]
        if method in ("darts", "darts2") and r["tags"].get("phase") == "search":
            per_epoch[method] = m.get("wall_s", NAN) / max(1.0, m.get("epochs_run", 1.0))
            cell = json.loads(r["tags"].get("derived_config", "{}"))
            edges = ", ".join(str(v) for k, v in sorted(cell.items()) if k.startswith("edge"))
            skips = int(m.get("skip_connect_edges", -1))
            run.add(f"  {method} derived cell (skip connections: {skips})", edges or "-")
    ratio = per_epoch.get("darts2", NAN) / per_epoch.get("darts", NAN)
    run.add(
        "DARTS s per epoch, 2nd / 1st order",
        f"{per_epoch.get('darts2', NAN):.2f} / {per_epoch.get('darts', NAN):.2f} = {ratio:.2f}x",
        "both ran",
        not math.isnan(ratio),
    )


def deploy_lines(run: Run, summary: dict[str, Any], batch: int) -> None:
    deploy = summary["methods"]["baseline"]["studies"][0].get("deploy") or {}
    cpu, cuda = deploy.get("cpu") or {}, deploy.get("cuda") or {}
    for label, key in (("batch 1", "latency_ms_p95"), (f"batch {batch}", "batch_latency_ms_p95")):
        gpu_ms, cpu_ms = cuda.get(key, NAN), cpu.get(key, NAN)
        run.add(
            f"deploy p95 ms at {label}, GPU / CPU (baseline cell)",
            f"{gpu_ms:.3f} / {cpu_ms:.3f}",
            "both measured",
            not (math.isnan(gpu_ms) or math.isnan(cpu_ms)),
        )


def out_of_memory(run: Run, data: Path) -> None:
    seeds = list(range(3 if run.smoke else 8))  # OOM_SEED is 1
    exp = _run_config(
        run,
        "oom",
        {
            "task": "cifar10",
            "data_dir": str(data),
            "space": str(BENCH / "spaces" / "oom_cnn32.py"),
            "methods": ["baseline"],
            "seeds": seeds,
            "budget": {"trials": 1, "epochs": 1 if run.smoke else 3},
            "resources": _gpu_resources(run, 4),
            "deploy": {"onnx": False},
            "cost": {"country_iso_code": "FRA"},
        },
        failing=True,
    )
    runs = sorted(
        trial_runs(exp.parent / "mlflow.db"),
        key=lambda r: r["metrics"].get("train_start_unix", 0.0),
    )
    failed = [r for r in runs if r["tags"].get("trial_status") == "failed"]
    ok = [r for r in runs if r["tags"].get("trial_status") == "ok"]
    reason = failed[0]["tags"].get("failure_reason", "") if failed else ""
    shown = reason[max(0, reason.find("memory") - 30) :]  # the allocator's words
    oom = len(failed) == 1 and failed[0]["tags"].get("seed") == "1" and "memory" in reason
    run.add("OOM: the failing trial recorded failed, with", shown[:70] or "-", "seed 1 only", oom)
    run.add(
        "OOM: its neighbours finished",
        f"{len(ok)} of {len(seeds) - 1}",
        "all",
        len(ok) == len(seeds) - 1,
    )
    run.add(
        "OOM: the next trial on its worker",
        next_on_worker(runs, failed),
        "ok",
        next_on_worker(runs, failed) == "ok",
    )
    ratio = json.loads((exp / "summary.json").read_text())["cost"]["attribution"]["ratio"]
    run.add(
        "packed 4/GPU: (phases + idle) / node energy",
        f"{ratio:.4f}",
        "1 +- 5 %",
        abs(ratio - 1) <= 0.05,
    )


def next_on_worker(runs: list[dict[str, Any]], failed: list[dict[str, Any]]) -> str:
    if len(failed) != 1:
        return "-"
    pid = failed[0]["metrics"].get("worker_pid")
    start = failed[0]["metrics"].get("train_start_unix", 0.0)
    after = [
        r
        for r in runs
        if r["metrics"].get("worker_pid") == pid
        and r["metrics"].get("train_start_unix", 0.0) > start
    ]
    return after[0]["tags"].get("trial_status", "?") if after else "none ran"


def a_a(run: Run) -> None:
    seeds = list(range(1 if run.smoke else 4))
    resources: dict[str, Any] = {"max_concurrent_trials": 1}
    if not run.smoke:
        resources["gpus_per_trial"] = 1
    exp = _run_config(
        run,
        "aa",
        {
            "task": "mnist1d",
            "space": str(ROOT / "tests" / "fixtures" / "cnn1d_aa.py"),
            "methods": ["baseline", "defaults"],
            "seeds": seeds,
            "budget": {"trials": 1, "epochs": 1 if run.smoke else 8},
            "resources": resources,
            "deploy": {"onnx": False},
            "cost": {"country_iso_code": "FRA"},
        },
    )
    rows = list(csv.DictReader((exp / "results.csv").open()))
    by = {(r["method"], int(r["seed"])): r for r in rows}
    for column in ("final_energy_kwh", "final_wall_s"):
        logs = [
            math.log(float(by["defaults", s][column]) / float(by["baseline", s][column]))
            for s in seeds
        ]
        ratio = math.exp(sum(logs) / len(logs))
        run.add(
            f"A/A: {column}, defaults / baseline",
            f"{ratio:.3f}",
            "1 +- 10 %",
            abs(ratio - 1) <= 0.10,
        )


def _step(run: Run, name: str, action: Callable[[], None]) -> None:
    started = time.monotonic()
    try:
        action()
    except Exception as exc:  # one step that breaks is a failed line; the others still run
        run.lines.append(Line(f"{name}: did not finish", str(exc)[:200], "", False))
    print(f"{name}: {time.monotonic() - started:.0f} s", flush=True)


def print_table(run: Run) -> None:
    marks = {True: "pass", False: "FAIL", None: ""}
    width = max(len(line.figure) for line in run.lines)
    print(f"\n{'figure':<{width}}  {'value':<28} {'target':<14} result")
    for line in run.lines:
        print(f"{line.figure:<{width}}  {line.value:<28} {line.target:<14} {marks[line.passed]}")
    failed = sum(line.passed is False for line in run.lines)
    print(
        f"\ngpu acceptance: {failed} failed line(s)" + (" (smoke: not judged)" if run.smoke else "")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke-on-cpu", action="store_true", help="tiny, on the CPU")
    args = parser.parse_args()
    default = Path(tempfile.mkdtemp()) if args.smoke_on_cpu else ROOT / "runs" / "gpu_acceptance"
    run = Run(Path(os.environ.get("OUT") or default).resolve(), args.smoke_on_cpu)
    run.out.mkdir(parents=True, exist_ok=True)
    _step(run, "card", lambda: card(run))
    _step(run, "burst", lambda: burst(run))
    _step(run, "packing", lambda: packing(run))
    _step(run, "trainer", lambda: trainer(run))
    data = cifar_layout(run)
    _step(run, "nb201", lambda: nb201(run, data))
    if not run.smoke:  # the smoke's deploy lines come from its NB-201 run
        _step(run, "deploy", lambda: deploy_on_cuda(run, data))
    _step(run, "oom", lambda: out_of_memory(run, data))
    _step(run, "a/a", lambda: a_a(run))
    print_table(run)
    (run.out / "table.json").write_text(json.dumps([line.__dict__ for line in run.lines]))
    failed_steps = [line for line in run.lines if line.figure.endswith("did not finish")]
    return 1 if failed_steps else 0


if __name__ == "__main__":
    sys.exit(main())
