"""The Slurm batch templates in configs/slurm/: valid bash, flags that the installed Ray and
automl-bench know, per-job ports, and the hand-started Ray run on this machine as one node."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from repo_paths import REPO

SLURM = REPO / "configs" / "slurm"
SYMMETRIC = SLURM / "automl-bench.sbatch"
MANUAL = SLURM / "automl-bench-manual.sbatch"
BIN = Path(sys.executable).parent


@functools.cache  # each call starts Ray's command line (1-2 s of imports)
def _help(*command: str) -> str:
    proc = subprocess.run(
        [str(BIN / command[0]), *command[1:], "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return proc.stdout


def _logical_lines(script: Path) -> list[str]:
    """The script's lines with backslash continuations joined, comments dropped."""
    text = script.read_text().replace("\\\n", " ")
    return [line for line in text.splitlines() if not line.lstrip().startswith("#")]


def _flags(text: str) -> list[str]:
    return re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text)


def _after(lines: list[str], marker: str, stop: str | None = None) -> list[str]:
    """The flags after the last ``marker`` on each line holding it (up to ``stop``)."""
    found = []
    for line in lines:
        at = line.rfind(marker)
        if at < 0:
            continue
        rest = line[at + len(marker) :]
        if stop is not None and stop in rest:
            rest = rest[: rest.index(stop)]
        found += _flags(rest)
    return found


@pytest.mark.parametrize("script", [SYMMETRIC, MANUAL], ids=lambda p: p.name)
def test_the_templates_are_valid_bash(script: Path) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    proc = subprocess.run([bash, "-n", str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert script.read_text().startswith("#!/bin/bash\n")
    for directive in ("--nodes", "--cpus-per-task", "--gpus-per-node", "--time", "--output"):
        assert f"#SBATCH {directive}=" in script.read_text()


def test_symmetric_run_flags_are_in_rays_help() -> None:
    lines = _logical_lines(SYMMETRIC)
    before_separator = _after(lines, "ray symmetric-run", stop=" -- ")
    assert "--address" in before_separator and "--min-nodes" in before_separator
    sym_help, start_help = _help("ray", "symmetric-run"), _help("ray", "start")
    for flag in ("--address", "--min-nodes"):
        assert re.search(rf"^\s+{flag}(?![\w-])", sym_help, re.M), (
            f"ray symmetric-run has no {flag}"
        )
    # the rest is passed on to `ray start`, less those symmetric-run sets itself
    for flag in set(before_separator) - {"--address", "--min-nodes"}:
        assert re.search(rf"^\s+{flag}(?![\w-])", start_help, re.M), f"ray start has no {flag}"
        assert flag not in ("--head", "--node-ip-address", "--port", "--block")
    (step,) = [line for line in lines if line.startswith("srun") and "ray symmetric-run" in line]
    entrypoint = step.split(" -- ", 1)[1]
    _assert_run_flags(entrypoint, SYMMETRIC)


def test_manual_ray_start_flags_are_in_rays_help() -> None:
    lines = _logical_lines(MANUAL)
    text = MANUAL.read_text()
    used = _after(lines, "ray start") + _after(lines, "ray_node ")
    # the per-job port arrays
    used += re.findall(r"^\s+(--[a-z-]+)=\$\(\(ray_port_base", text, re.M)
    used += re.findall(r"head_ports=\((--[a-z-]+)=", text)
    for flag in ("--head", "--block", "--port", "--address", "--temp-dir", "--node-ip-address"):
        assert flag in used
    assert "--min-worker-port" in used and "--ray-client-server-port" in used
    start_help = _help("ray", "start")
    for flag in set(used):
        assert re.search(rf"^\s+{flag}(?![\w-])", start_help, re.M), f"ray start has no {flag}"
    # `ray stop` would stop every Ray of this user on the node: never called here
    assert not any(re.search(r"\bray stop\b", line) for line in lines)
    driver = [line for line in lines if line.startswith("automl-bench run")]
    assert len(driver) == 1
    _assert_run_flags(driver[0], MANUAL)


def _assert_run_flags(command: str, script: Path) -> None:
    """``automl-bench run``'s flags in ``command`` (and the tracking-server array) exist."""
    run_help = _help("automl-bench", "run")
    assert '"${tracking[@]}"' in command
    flags = _flags(command) + re.findall(r"tracking=\((--[a-z-]+) ", script.read_text())
    assert {"--ray-address", "--set", "--tracking-uri"} <= set(flags)
    for flag in flags:
        assert re.search(rf"\s{flag}(?![\w-])", run_help), f"automl-bench run has no {flag}"
    assert "output_dir=" in command


def _ports(job_id: str) -> tuple[int, int]:
    """Run the script's port snippet alone: (GCS port, first port of the job's block)."""
    text = MANUAL.read_text()
    snippet = text[text.index("# >>> ports") : text.index("# <<< ports")]
    proc = subprocess.run(
        ["bash", "-euc", snippet + 'echo "$gcs_port $ray_port_base $RAY_PORT_BLOCK"'],
        env={"PATH": os.environ["PATH"], "SLURM_JOB_ID": job_id},
        capture_output=True,
        text=True,
        check=True,
    )
    gcs, base, block = (int(x) for x in proc.stdout.split())
    # below the ephemeral range, where outgoing connections take ports (the raylet failed to
    # start here twice when its block lay in it)
    ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    assert base >= 20000 and base + block <= ephemeral_low
    return gcs, base


def test_ports_differ_between_jobs() -> None:
    one, two = _ports("4817231"), _ports("4817232")
    assert one[0] != two[0]
    assert abs(one[1] - two[1]) >= 200  # the blocks do not overlap
    assert _ports("4817231") == one  # the same job: the same ports on every node


@pytest.mark.slow
def test_manual_template_runs_here_as_one_node(
    tmp_path: Path, small_config: Callable[[str, Path], dict[str, Any]]
) -> None:
    """The whole fallback script on this machine: a one-node allocation (scontrol shimmed), its
    own Ray head on the job's ports and temp dir, the driver, then that Ray alone stopped."""
    shims = tmp_path / "bin"
    shims.mkdir()
    scontrol = shims / "scontrol"
    scontrol.write_text('#!/bin/bash\n[[ "$1 $2" == "show hostnames" ]] && echo localhost\n')
    scontrol.chmod(0o755)
    config = tmp_path / "slurm.yaml"
    config.write_text(yaml.safe_dump(small_config("slurm", tmp_path / "ignored")))
    job_id = str(900000 + os.getpid() % 100000)
    ray_tmp = Path(f"/tmp/ray-t{job_id}")
    runs = tmp_path / "runs"
    drop = ("RAY_ADDRESS", "MLFLOW_TRACKING_URI", "RAY_AUTH_TOKEN", "RAY_AUTH_MODE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        PATH=f"{shims}:{os.environ['PATH']}",
        SLURM_JOB_ID=job_id,
        SLURM_JOB_NODELIST="localhost",
        SLURM_JOB_NUM_NODES="1",
        SLURM_CPUS_PER_TASK="2",
        SLURM_SUBMIT_DIR=str(REPO),
        CONFIG=str(config),
        VENV=str(BIN.parent),
        AUTOML_BENCH_RUNS=str(runs),
        RAY_TMP=str(ray_tmp),
        RAY_JOIN_TIMEOUT="120",
    )
    proc = subprocess.run(
        ["bash", str(MANUAL)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    out = proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.returncode == 0, out
    summary = json.loads((runs / "slurm" / "summary.json").read_text())
    assert summary["cluster"]["cpus"] == 2.0
    assert summary["cluster"]["address"].endswith(f":{_ports(job_id)[0]}")
    assert summary["methods"]["random"]["studies"][0]["trials"] == 2
    assert (runs / "ray").is_dir()  # Tune's storage_path under the shared output_dir
    assert not ray_tmp.exists(), "the job's Ray temp dir is left"
    left = subprocess.run(["pgrep", "-f", str(ray_tmp)], capture_output=True, text=True)
    assert left.stdout == "", f"Ray processes left: {left.stdout}"
