"""Country codes CodeCarbon knows a grid carbon intensity for (read from its bundled table)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def known_countries() -> frozenset[str]:
    """ISO 3166-1 alpha-3 codes in CodeCarbon's offline energy-mix table; no network, no tracker."""
    table = resources.files("codecarbon").joinpath("data/private_infra/global_energy_mix.json")
    return frozenset(json.loads(table.read_text()))
