"""Cost totals: a study's cost per phase, and the experiment's lines (per phase, deploy
measurement, idle / overhead, unclosed windows, the nodes), which must add up to what the node
meters measured."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from automl_bench.cost.node_meter import NodeTotals
from automl_bench.cost.prices import Prices
from automl_bench.cost.record import CostRecord, total


@dataclass(frozen=True)
class StudyCosts:
    """A study's cost per phase: search (every search trial plus its sampler's work), final
    training, inference (the measured window), and the predictions made in that window."""

    search: CostRecord
    final: CostRecord
    inference: CostRecord
    predictions: int

    @property
    def inference_per_1k(self) -> CostRecord:
        return per_1k(self.inference, self.predictions)


def per_1k(record: CostRecord, predictions: int) -> CostRecord:
    return record.scaled(1000.0 / predictions) if predictions > 0 else CostRecord()


@dataclass(frozen=True)
class NodeLines:
    """One node's meter, priced: what it measured, its idle share, its windows never closed."""

    node: CostRecord
    idle: CostRecord
    unclosed: CostRecord
    unclosed_count: int


@dataclass(frozen=True)
class ExperimentTotals:
    """The experiment's cost lines; ``phases``: search, final and inference over every study."""

    phases: dict[str, CostRecord]
    deploy: CostRecord
    idle: CostRecord
    unclosed: CostRecord
    node: CostRecord
    nodes: dict[str, NodeLines]
    gpu_mismatch: str | None

    @property
    def attributed_kwh(self) -> float:
        return sum(p.energy_kwh for p in self.phases.values())

    @property
    def ratio(self) -> float | None:
        """(phases + deploy + idle + unclosed) / what the nodes measured."""
        accounted = (
            self.attributed_kwh
            + self.deploy.energy_kwh
            + self.idle.energy_kwh
            + self.unclosed.energy_kwh
        )
        return accounted / self.node.energy_kwh if self.node.energy_kwh > 0 else None


def node_lines(node_totals: Mapping[str, NodeTotals], prices: Prices) -> dict[str, NodeLines]:
    return {
        node_id: NodeLines(
            prices.record(t.node, t.measured),
            prices.record(t.idle, t.measured),
            prices.record(t.open_windows, t.measured),
            t.open_count,
        )
        for node_id, t in node_totals.items()
    }


def experiment_totals(
    studies: Iterable[StudyCosts],
    node_totals: Mapping[str, NodeTotals],
    prices: Prices,
    gpus_used: Iterable[str],
    deploy: CostRecord | None = None,
) -> ExperimentTotals:
    """Totals per phase over ``studies``, the nodes' lines priced, and a warning when the GPUs
    used are not the price table's."""
    costs = list(studies)
    nodes = node_lines(node_totals, prices)
    return ExperimentTotals(
        phases={
            "search": total(c.search for c in costs),
            "final": total(c.final for c in costs),
            "inference": total(c.inference for c in costs),
        },
        deploy=deploy or CostRecord(),
        idle=total(n.idle for n in nodes.values()),
        unclosed=total(n.unclosed for n in nodes.values()),
        node=total(n.node for n in nodes.values()),
        nodes=nodes,
        gpu_mismatch=prices.gpu_mismatch(set(gpus_used)),
    )
