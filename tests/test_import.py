from __future__ import annotations

import subprocess
import sys


def test_importing_the_package_starts_nothing_heavy() -> None:
    code = (
        "import sys, automl_bench, automl_bench.config, automl_bench.experiment; "
        "print(sorted(m for m in ('ray', 'mlflow', 'codecarbon') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
