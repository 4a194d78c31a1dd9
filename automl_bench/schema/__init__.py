"""The typed records of an experiment's results, owned here and nowhere else: summary.json is
written from them and read back through them (``load_summary``)."""

from __future__ import annotations

from automl_bench.schema.cost import (
    Attribution,
    Cost,
    Energy,
    ExperimentCost,
    NodeCost,
    PriceTable,
)
from automl_bench.schema.files import load_summary, summary_from_dict, write_summary_json
from automl_bench.schema.method import DeploySummary, MeanCI, Method, MethodCost
from automl_bench.schema.study import Deploy, Failure, MetaFigures, MetaStep, ParetoTrial, Study
from automl_bench.schema.summary import (
    SCHEMA_VERSION,
    AnalysisBlock,
    AnytimeCurve,
    Benchmark,
    Budget,
    ConstantReference,
    LookRecord,
    LooksBlock,
    MetaRatios,
    OrderRatios,
    ParetoFront,
    ReferenceBlock,
    Summary,
)
from automl_bench.schema.verdict import (
    BreakEven,
    Estimate,
    Forecast,
    Score,
    Verdict,
    VerdictSettings,
)

__all__ = [
    "SCHEMA_VERSION",
    "AnalysisBlock",
    "AnytimeCurve",
    "Attribution",
    "Benchmark",
    "BreakEven",
    "Budget",
    "ConstantReference",
    "Cost",
    "Deploy",
    "DeploySummary",
    "Energy",
    "Estimate",
    "ExperimentCost",
    "Failure",
    "Forecast",
    "LookRecord",
    "LooksBlock",
    "MeanCI",
    "MetaFigures",
    "MetaRatios",
    "MetaStep",
    "Method",
    "MethodCost",
    "NodeCost",
    "OrderRatios",
    "ParetoFront",
    "ParetoTrial",
    "PriceTable",
    "ReferenceBlock",
    "Score",
    "Study",
    "Summary",
    "Verdict",
    "VerdictSettings",
    "load_summary",
    "summary_from_dict",
    "write_summary_json",
]
