"""Deployability: would a finished model ship? Its deploy record, and the constraints it meets.

``measure`` times and sizes one model (no Ray); ``record`` holds the figures and checks them
against the config's constraints. The runner measures every final model of an experiment in one
process, on one machine, one after another.
"""

from __future__ import annotations

from automl_bench.deploy.record import Constraints, DeployRecord, DeviceFigures

__all__ = ["Constraints", "DeployRecord", "DeviceFigures"]
