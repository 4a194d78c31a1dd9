"""The hard end of a trial's time limit (``budget.trial_timeout_s``), on its worker.

A trial checks its own limit at each epoch or meta-iteration and stops itself (``trial.py``:
the interrupt). One that cannot (stuck inside one epoch, in a C call, in a user's ``build``) is
killed: ``KILL_GRACE_S`` after its limit (at most the limit itself again) this thread writes the
trial's failure, with the time it used, to Ray's cluster-wide key-value store and ends the
worker process (``os._exit``). Tune sees a lost worker and starts the trial again
(``FailureConfig``); the new attempt finds the failure under its trial id and reports it at once,
without training, so a timed-out trial is recorded failed, once, and never run twice. What it
spent until the kill stays in the node's "unclosed" line (its window never closed).
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

KILL_GRACE_S = 60.0  # after the limit, before the kill (at most the limit itself)
_NAMESPACE = "automl-bench-timeouts"


def grace(limit_s: float) -> float:
    return min(KILL_GRACE_S, limit_s)


def killed_result(trial_id: str) -> dict[str, Any] | None:
    """The closing result of an earlier attempt of ``trial_id`` that was killed, if any."""
    from ray.experimental.internal_kv import _internal_kv_get

    raw = _internal_kv_get(trial_id, namespace=_NAMESPACE)
    return json.loads(raw) if raw else None


def forget_killed(trial_id: str) -> None:
    from ray.experimental.internal_kv import _internal_kv_del

    _internal_kv_del(trial_id, namespace=_NAMESPACE)


class Watchdog:
    """Kills this worker process if the trial is still running ``limit + grace`` seconds after
    ``start``; ``done()`` stands it down."""

    def __init__(self, trial_id: str, phase: str, limit_s: float) -> None:
        self.trial_id, self.phase, self.limit_s = trial_id, phase, limit_s
        self.started = time.monotonic()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="trial-watchdog")
        self._thread.start()

    def done(self) -> None:
        self._done.set()

    def _watch(self) -> None:
        if self._done.wait(self.limit_s + grace(self.limit_s)):
            return
        from ray.experimental.internal_kv import _internal_kv_put

        used = time.monotonic() - self.started
        closing = {
            "phase": self.phase,
            "trial_status": "failed",
            "failure_reason": (
                f"TrialTimeout: killed after {used:.1f} s: it did not stop within "
                f"{grace(self.limit_s):g} s of its {self.limit_s:g} s limit"
            ),
            "wall_s": used,
            "timed_out": True,
        }
        _internal_kv_put(self.trial_id, json.dumps(closing), namespace=_NAMESPACE)
        os._exit(1)  # the hard end: Tune sees a lost worker and retries, which finds the above
