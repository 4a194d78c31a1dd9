"""``--tracking-uri`` against a real MLflow tracking server whose backend store is a real
PostgreSQL server (Debian's ``postgresql`` package), both started here on loopback.

The binaries are required, not optional: without them this test fails (CI installs them).
PostgreSQL refuses to run as root, so as root it runs as the ``postgres`` user the package
creates."""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

RunCli = Callable[..., "subprocess.CompletedProcess[str]"]
SmallConfig = Callable[[str, Path], dict[str, Any]]

pytestmark = pytest.mark.slow

MISSING = "PostgreSQL's server binaries are missing: apt-get install -y postgresql"


def _postgres_bin() -> Path:
    """The folder holding initdb and pg_ctl: Debian's newest version, else the PATH's."""
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    found = debian[-1] if debian else shutil.which("pg_ctl")
    if found is None or not (Path(found).parent / "initdb").exists():
        pytest.fail(MISSING)
    return Path(found).parent


@pytest.fixture()
def postgres(free_port: Callable[[], int]) -> Iterator[str]:
    """A PostgreSQL server on 127.0.0.1 with an empty ``mlflow`` database; yields its URI."""
    import psycopg

    bindir = _postgres_bin()
    # Not under pytest's tmp_path: that is private to root, and the unix socket's path must be
    # short. mkdtemp's folder is private to its owner, who becomes the server's user.
    base = Path(tempfile.mkdtemp(prefix="pg-"))
    as_user: list[str] = []
    if os.getuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail(f"running as root and there is no postgres user: {MISSING}")
        os.chown(base, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", free_port()
    server = f"postgresql://mlflow@127.0.0.1:{port}"

    def pg(*args: str) -> None:
        proc = subprocess.run(
            [*as_user, *args], cwd=base, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    started = False
    try:
        pg(
            str(bindir / "initdb"),
            "-D", str(data),
            "-U", "mlflow",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off"
        started = True
        pg(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-o", options,
           "-w", "-t", "60", "start")  # fmt: skip
        # autocommit: CREATE DATABASE runs outside a transaction
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE mlflow")
        yield f"{server}/mlflow"
    finally:
        if started:
            subprocess.run(
                [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                cwd=base,
                capture_output=True,
                timeout=120,
            )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture()
def mlflow_server(
    postgres: str, tmp_path: Path, free_port: Callable[[], int]
) -> Iterator[tuple[str, str]]:
    """An MLflow tracking server storing runs in ``postgres``; yields (its URL, the DB's URI)."""
    port = free_port()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlflow",
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--backend-store-uri",
                # the driver named: SQLAlchemy's default for postgresql:// changed in 2.1
                postgres.replace("postgresql://", "postgresql+psycopg://"),
                "--artifacts-destination",
                str(tmp_path / "server-artifacts"),
                "--workers",  # one client (the driver): the default 4 only slow the start
                "1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, "mlflow server exited:\n" + log.read_text()[-3000:]
            assert time.monotonic() < deadline, "mlflow server not up:\n" + log.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        yield url, postgres
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_runs_are_recorded_in_postgres(
    mlflow_server: tuple[str, str], tmp_path: Path, run_cli: RunCli, small_config: SmallConfig
) -> None:
    import psycopg
    from mlflow.tracking import MlflowClient

    url, database = mlflow_server
    out = tmp_path / "runs"
    run_cli(small_config("on-postgres", out), tmp_path, "--tracking-uri", url)
    assert not (out / "mlflow.db").exists()  # nothing went to the local default store
    summary = json.loads((out / "on-postgres" / "summary.json").read_text())
    assert summary["tracking_uri"] == url

    client = MlflowClient(tracking_uri=url)
    experiment = client.get_experiment_by_name("on-postgres")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    parents = [
        r
        for r in runs
        if "mlflow.parentRunId" not in r.data.tags and r.data.tags.get("level") != "experiment"
    ]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    # two studies, their trials (2 search + 1 final, 1 final), and the experiment's totals run
    assert len(parents) == 2 and len(children) == (2 + 1) + 1 and len(runs) == 2 + 4 + 1
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {p.info.run_id for p in parents}
    for run in runs:
        assert run.info.status == "FINISHED"
    for parent in parents:
        assert "config.json" in [a.path for a in client.list_artifacts(parent.info.run_id)]
    accuracies = [
        r.data.metrics["test_accuracy"] for r in children if "test_accuracy" in r.data.metrics
    ]
    assert len(accuracies) >= 2 and all(0.0 <= a <= 1.0 for a in accuracies)

    # The same runs, read from PostgreSQL itself rather than through the server.
    with psycopg.connect(database) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT r.run_uuid, r.status FROM runs r JOIN experiments e"
            " ON r.experiment_id = e.experiment_id WHERE e.name = %s",
            ("on-postgres",),
        )
        rows = cur.fetchall()
        cur.execute(
            "SELECT count(*) FROM metrics WHERE key = 'test_accuracy' AND run_uuid = ANY(%s)",
            ([r.info.run_id for r in runs],),
        )
        (accuracy_rows,) = cur.fetchone() or (0,)
    assert sorted(run_id for run_id, _ in rows) == sorted(r.info.run_id for r in runs)
    assert {status for _, status in rows} == {"FINISHED"}
    assert accuracy_rows >= len(accuracies)
