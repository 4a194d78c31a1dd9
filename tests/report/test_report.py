"""The report of the end-to-end experiment: files, MLflow artifacts, `report` and `compare` from
the command line, and the HTML opened in a real headless Chromium (Debian's, installed by
.ci/run): the test fails, it does not skip, when the browser cannot start."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from repo_paths import REPO

from automl_bench.report.build import HTML, MARKDOWN, PLOTS
from automl_bench.report.plots import CAPTIONS

pytestmark = pytest.mark.slow

CALLS = {"worth it", "not worth it", "inconclusive", "not deployable"}
CHROMIUM = os.environ.get("AUTOML_BENCH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("AUTOML_BENCH_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = Path(
    os.environ.get(
        "AUTOML_BENCH_SCREENSHOTS", REPO / "runs" / "screenshots"
    )
)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "automl_bench.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_run_writes_the_report_and_logs_it_to_the_summary_run(
    experiment: dict[str, Any],
) -> None:
    import matplotlib.image
    from mlflow.tracking import MlflowClient

    exp_dir = experiment["out"] / "e2e"
    html = (exp_dir / HTML).read_text()
    markdown = (exp_dir / MARKDOWN).read_text()
    methods = experiment["summary"]["methods"]
    for label in methods:
        assert f'data-method="{label}"' in html and f"| {label} |" in markdown
    # self-contained: every image is embedded, nothing is fetched from elsewhere
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<script" not in html and "<link" not in html and "url(" not in html
    assert not (exp_dir / PLOTS / "looks.png").exists()  # a fixed list of seeds: one look
    for name in [n for n in CAPTIONS if n != "looks"]:
        png = exp_dir / PLOTS / f"{name}.png"
        pixels = matplotlib.image.imread(png)
        assert pixels.shape[0] > 200 and pixels.shape[1] > 400, name
        assert pixels.std() > 0.05, f"{name} is blank"
        assert f"![{name}]({PLOTS}/{name}.png)" in markdown
    assert "How each figure was computed" in html and "anytime-valid" in html
    assert f"report: {exp_dir / HTML}" in experiment["stdout"]
    # the summary run holds the report, its plots and the long-format results
    client = MlflowClient(tracking_uri=experiment["summary"]["tracking_uri"])
    run_id = experiment["summary"]["summary_run_id"]
    run = client.get_run(run_id)
    assert run.data.tags["level"] == "experiment"
    logged = {a.path for a in client.list_artifacts(run_id, "report")}
    assert {f"report/{n}" for n in (HTML, MARKDOWN, "results.csv", "trials.jsonl")} <= logged
    plots = {a.path for a in client.list_artifacts(run_id, "report/plots")}
    assert plots == {f"report/plots/{name}.png" for name in CAPTIONS if name != "looks"}
    for label in methods:
        if label == "baseline":
            continue
        name = label.replace(":", "-")
        assert run.data.metrics[f"verdict/{name}/normalised_score"] == pytest.approx(
            methods[label]["normalised_score"]["estimate"]
        )


def test_report_and_compare_from_the_command_line(
    experiment: dict[str, Any], tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(experiment["out"] / "e2e", runs / "e2e")
    shutil.copytree(experiment["out"] / "e2e", runs / "e2e-copy")
    (runs / "e2e" / HTML).unlink()
    # the store the run used is not here: the report is written all the same, and says so
    proc = _cli(
        "report",
        "e2e",
        "--runs-dir",
        str(runs),
        "--tracking-uri",
        "sqlite:///" + str(tmp_path / "absent.db"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert (runs / "e2e" / HTML).is_file() and "not logged" in proc.stdout
    # recomputed from results.csv: the same calls as the run printed
    html = (runs / "e2e" / HTML).read_text()
    for label, method in experiment["summary"]["methods"].items():
        if "verdict" in method:
            assert re.search(
                rf'data-method="{re.escape(label)}"[^>]*>.*?<td class="call">'
                rf"{re.escape(method['verdict']['call'])}</td>",
                html,
            ), label
    proc = _cli("compare", "e2e", str(runs / "e2e-copy"), "--runs-dir", str(runs), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in runs.glob("compare-*"))
    assert written == ["compare-e2e-e2e.html", "compare-e2e-e2e.md"]
    table = (runs / "compare-e2e-e2e.md").read_text()
    for label in experiment["summary"]["methods"]:
        assert table.count(f"| {label} |") == 2, label
    # an experiment that is not there: one line, exit code 2, nothing written
    before = sorted(p.name for p in runs.iterdir())
    proc = _cli("report", "nope", "--runs-dir", str(runs), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "EXPERIMENT" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in runs.iterdir()) == before


def test_the_report_in_a_real_browser(experiment: dict[str, Any]) -> None:
    """Debian's Chromium, headless, through its ChromeDriver: the verdict table and every plot
    are visible, nothing was fetched from outside the file, and a screenshot is kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look for a driver online
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    # No skip: a browser that cannot start fails this test.
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        exp_dir = experiment["out"] / "e2e"
        driver.get((exp_dir / HTML).as_uri())
        methods = experiment["summary"]["methods"]
        table = driver.find_element(By.ID, "verdict")
        assert table.is_displayed()
        rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert {r.get_attribute("data-method") for r in rows} == set(methods) - {"baseline"}
        for r in rows:
            call = r.find_element(By.CSS_SELECTOR, "td.call")
            assert call.is_displayed() and call.text in CALLS
            label = r.get_attribute("data-method")
            assert label is not None and call.text == methods[label]["verdict"]["call"]
        images = driver.find_elements(By.CSS_SELECTOR, "img.plot")
        assert {i.get_attribute("id") for i in images} == {
            f"plot-{n}" for n in CAPTIONS if n != "looks"
        }
        for image in images:
            driver.execute_script("arguments[0].scrollIntoView();", image)
            complete, width, height = driver.execute_script(
                "const i = arguments[0]; return [i.complete, i.naturalWidth, i.naturalHeight];",
                image,
            )
            assert complete and width > 400 and height > 200, image.get_attribute("id")
            assert image.is_displayed() and image.size["width"] > 300
        fetched = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name);"
        )
        assert all(not str(u).startswith(("http:", "https:")) for u in fetched), fetched
        height = int(driver.execute_script("return document.documentElement.scrollHeight;"))
        driver.set_window_size(1400, min(height + 100, 16000))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / "report.png"
        assert driver.save_screenshot(str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    finally:
        driver.quit()
