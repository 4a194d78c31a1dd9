"""``automl-bench`` ends its process without the interpreter's teardown (``cli.run``): what a
normal exit would do first still happens, and the exit code is main's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# main is replaced by one that leaves a thread writing a file after it returns, with an exit
# handler and unflushed output behind it
_SCRIPT = """
import atexit, sys, threading, time
from pathlib import Path
from automl_bench import cli

def late_write():
    time.sleep(0.5)
    Path(sys.argv[1]).write_text("written")

def main():
    threading.Thread(target=late_write).start()
    atexit.register(lambda: print("exit handler ran", flush=True))
    sys.stdout.write("no newline, not flushed")
    return int(sys.argv[2])

cli.main = main
cli.run()
"""


def _run(tmp_path: Path, code: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path / "late.txt"), str(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_threads_end_handlers_run_and_output_is_flushed_before_the_process_ends(
    tmp_path: Path,
) -> None:
    proc = _run(tmp_path, 0)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "late.txt").read_text() == "written"  # the thread was waited for
    assert proc.stdout == "no newline, not flushedexit handler ran\n"


def test_the_exit_code_is_mains(tmp_path: Path) -> None:
    assert _run(tmp_path, 3).returncode == 3
