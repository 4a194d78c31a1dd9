"""An image task read from a user's folder, end to end: an ImageFolder of PNG files, the NB-201
cell space, a real run; and a malformed folder refused before anything starts."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from repo_paths import REPO


def _image_folder(root: Path, classes: int = 3, per_class: int = 20) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in range(classes):
        (root / f"class_{c}").mkdir(parents=True)
        for i in range(per_class):  # each class a different mean brightness: learnable
            pixels = np.clip(rng.normal(60 + 70 * c, 20, (8, 8, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels, "RGB").save(root / f"class_{c}" / f"{i}.png")
    return root


@pytest.mark.slow
def test_a_run_on_an_image_folder(
    tmp_path: Path, repo_root: Path, run_cli: Callable[..., Any]
) -> None:
    data = _image_folder(tmp_path / "images")
    out = tmp_path / "runs"
    config = {
        "experiment": "folder",
        "task": "image_folder",
        "data_dir": str(data),
        "space": str(repo_root / "tests" / "fixtures" / "tiny_nb201.py"),
        "methods": ["baseline", "random"],
        "seeds": [0],
        "budget": {"trials": 2, "epochs": 4},
        "deploy": {"onnx": False},
        "output_dir": str(out),
    }
    run_cli(config, tmp_path)
    summary = json.loads((out / "folder" / "summary.json").read_text())
    for label in ("baseline", "random"):
        (study,) = summary["methods"][label]["studies"]
        assert study["test_metric"] is not None, label
        assert study["deploy"]["params"] > 0 and study["deploy"]["cpu"]["latency_ms_p95"] > 0
    # the hand-designed cell learns the brightness classes (a sampled cell may not, in 4 epochs)
    assert summary["methods"]["baseline"]["studies"][0]["test_metric"] > 0.5


def test_a_malformed_folder_is_refused_before_anything_starts(tmp_path: Path) -> None:
    data = _image_folder(tmp_path / "images", classes=2, per_class=2)
    (data / "class_1" / "0.png").write_bytes(b"not a png")
    out = tmp_path / "runs"
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "experiment": "folder",
                "task": "image_folder",
                "data_dir": str(data),
                "space": "search_spaces/nb201.py",
                "methods": ["baseline"],
                "seeds": [0],
                "output_dir": str(out),
            }
        )
    )
    for command in ("validate", "run"):
        proc = subprocess.run(
            [sys.executable, "-m", "automl_bench.cli", command, str(config)],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("automl-bench: error: data_dir: ")
        assert proc.stderr.count("\n") == 1 and "0.png" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert not out.exists()
