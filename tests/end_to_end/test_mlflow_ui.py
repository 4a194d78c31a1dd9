"""`automl-bench ui` in a real browser: Debian's Chromium, headless, through its ChromeDriver,
on the MLflow store of the end-to-end experiment (tests/e2e_setup.py). The link the command
prints opens the experiment on its runs table, not on MLflow's GenAI overview: the study
(parent) runs, each trial (child) run under its study, and the metric columns."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from repo_paths import REPO

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("AUTOML_BENCH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("AUTOML_BENCH_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = Path(os.environ.get("AUTOML_BENCH_SCREENSHOTS", REPO / "runs" / "screenshots"))
METRIC_COLUMNS = {"val_accuracy", "test_accuracy", "energy_kwh", "usd", "wall_s", "failed"}
NAME_CELL = "[role=gridcell][col-id='attributes.`Run Name`']"
VAL_CELL = "[role=gridcell][col-id='metrics.`val_accuracy`']"
UI = (sys.executable, "-m", "automl_bench.cli", "ui")
UI_WAIT_S = 180  # a cold MLflow server (four workers) and its first page, on 2 busy cores


def _link(printed: Path, experiment: str, deadline: float) -> str:
    """The runs link `automl-bench ui` printed for ``experiment``."""
    while time.monotonic() < deadline:
        for line in printed.read_text().splitlines():
            if line.strip().startswith(f"{experiment}: http://"):
                return line.split(": ", 1)[1].strip()
        time.sleep(0.5)
    raise AssertionError(f"no link for {experiment}: {printed.read_text()[-2000:]}")


def _wait_for_server(base: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("the MLflow UI did not answer")


@pytest.fixture()
def ui(
    experiment: dict[str, Any], free_port: Callable[[], int], tmp_path: Path
) -> Iterator[str]:
    """`automl-bench ui` over the end-to-end store; the link it printed for e2e."""
    port, printed = free_port(), tmp_path / "ui.out"
    with printed.open("w") as out:
        proc = subprocess.Popen(
            [*UI, "--runs-dir", str(experiment["out"]), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the server and its workers: one group, ended below
        )
    try:
        deadline = time.monotonic() + UI_WAIT_S
        link = _link(printed, "e2e", deadline)
        _wait_for_server(f"http://127.0.0.1:{port}", deadline)
        yield link
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=60)


def _browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look for a driver online
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--window-size=2400,1000",
    ):
        options.add_argument(flag)
    # No skip: a browser that cannot start fails this test.
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


def _study_runs(out: Path) -> dict[str, list[str]]:
    """Each study (parent) run's name -> its trials' (child) run names, from the store."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    found = client.get_experiment_by_name("e2e")
    assert found is not None
    runs = client.search_runs([found.experiment_id], max_results=1000)
    names = {r.info.run_id: r.info.run_name for r in runs}
    studies: dict[str, list[str]] = {}
    for run in runs:
        if run.data.tags.get("level") == "experiment":
            continue
        parent = run.data.tags.get("mlflow.parentRunId")
        if parent is None:
            studies.setdefault(run.info.run_name, [])
        else:
            studies.setdefault(names[parent], []).append(run.info.run_name)
    return studies


def _texts(driver: Any, selector: str) -> list[str]:
    """The text of every element ``selector`` finds, read at one moment (the grid redraws)."""
    script = "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText);"
    return list(driver.execute_script(script, selector))


def test_the_ui_opens_on_the_runs_table(experiment: dict[str, Any], ui: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    studies = _study_runs(experiment["out"])
    driver = _browser()
    try:
        driver.get(ui)
        wait = WebDriverWait(driver, UI_WAIT_S)

        def headers(d: Any) -> set[str]:
            return set(_texts(d, "[role=columnheader]"))

        def names(d: Any) -> set[str]:
            return {text.splitlines()[-1] for text in _texts(d, NAME_CELL) if text}

        # the metric columns, without choosing them
        wait.until(lambda d: headers(d) >= METRIC_COLUMNS)
        assert "/runs" in driver.current_url and "overview" not in driver.current_url
        # every study's parent run
        wait.until(lambda d: names(d) >= set(studies))
        # a study's trials, under it once unfolded
        study = "random/seed=0"
        unfold = f"//a[normalize-space()='{study}']/ancestor::*[@role='gridcell']//button"
        driver.find_element(By.XPATH, unfold).click()
        assert len(studies[study]) == 3  # two search trials and the final training
        wait.until(lambda d: names(d) >= set(studies[study]))
        values = [v.strip() for v in _texts(driver, VAL_CELL)]
        assert any(v.startswith("0.") for v in values), values
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / "mlflow_ui.png"
        assert driver.save_screenshot(str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        driver.quit()
