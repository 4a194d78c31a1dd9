"""Optuna samplers that Ray Tune can save with its experiment state.

Tune pickles the searcher, and with it every study's sampler, into the experiment's state (and
``--resume`` reads it back). Optuna 5's genetic samplers (``NSGAIISampler``) hold a thread lock,
which does not pickle: the copy here leaves the lock out and gets a fresh one when read back.
"""

from __future__ import annotations

import threading
from typing import Any

import optuna


class NSGAIISampler(optuna.samplers.NSGAIISampler):
    """Optuna's NSGA-II sampler, picklable."""

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_thread_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._thread_lock = threading.Lock()
