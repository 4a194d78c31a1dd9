"""How far each way of measuring energy can be off: a relative band per measurement method.

The bands are deliberately wide where the figure is a model rather than a measurement:
- ``nvml``: the GPU's own energy counter. Yang et al. (SC 2024, "Accurate and Convenient Energy
  Measurements for GPUs") found NVIDIA's on-board sensor within about 5% of external meters once
  its averaging window is respected; +-5%.
- ``rapl``: Intel/AMD package counters; tracked external meters within a few percent for the
  package domain, but miss the board and fans (Khan et al., ACM TOMPECS 2018); +-10%.
- ``tdp-estimate``: CodeCarbon's TDP x load model without a counter. Software power meters
  compared against external meters disagree with them widely (Jay et al., "An experimental
  comparison of software-based power meters: focus on CPU and GPU", CCGrid 2023), and a model
  that reads no counter at all is further off still; a band we chose wide: +-40%.
- ``constant``: one fixed power figure, load ignored; +-50%.
- ``estimate`` (RAM): CodeCarbon's watts-per-GB model; +-40%.
- ``none``: nothing measured, nothing charged; the band is zero and the words say "not measured".
"""

from __future__ import annotations

from collections.abc import Mapping

RELATIVE_BAND: dict[str, float] = {
    "nvml": 0.05,
    "rapl": 0.10,
    "tdp-estimate": 0.40,
    "constant": 0.50,
    "estimate": 0.40,
    "none": 0.0,
    "mixed": 0.50,  # a sum over different methods: the widest band that any of them has
}


def band(energy_kwh: Mapping[str, float], measured: Mapping[str, str]) -> tuple[float, float]:
    """(low, high) kWh for energies by part (``cpu``, ``gpu``, ``ram``) measured as ``measured``."""
    low = high = 0.0
    for part, kwh in energy_kwh.items():
        rel = RELATIVE_BAND.get(measured.get(part, "none"), RELATIVE_BAND["mixed"])
        low += kwh * (1.0 - rel)
        high += kwh * (1.0 + rel)
    return low, high


def describe(measured: Mapping[str, str]) -> str:
    """One line for tags and tables: ``cpu tdp-estimate +-40%; gpu nvml +-5%; ...``."""
    words = []
    for part in ("cpu", "gpu", "ram"):
        how = measured.get(part)
        if how is None:
            continue
        if how == "none":
            words.append(f"{part} not measured")
        elif how == "mixed":
            words.append(f"{part} measured in several ways (bands as measured)")
        else:
            words.append(f"{part} {how} +-{RELATIVE_BAND.get(how, 0.5) * 100:.0f}%")
    return "; ".join(words)
