"""The table of verdict rules in docs/verdict.md against the code's calls, rule by rule.

Each rule of the table ("The call" in docs/verdict.md) gets a case built to meet that rule and
none before it; the code must give the table's call. Reordering the table, or the code's rules,
or changing a call in one of them, fails here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
from repo_paths import REPO

from automl_bench.analysis.intervals import Interval
from automl_bench.analysis.verdict import BreakEven, VerdictSettings, _call

VERDICT_DOC = REPO / "docs" / "verdict.md"
SETTINGS = VerdictSettings(rope_points=1.0, deployment_predictions=1e8)
Case = tuple[Interval, BreakEven, bool]  # delta, break-even, feasible


def _delta(low: float | None, high: float | None, n: int = 5) -> Interval:
    estimate = (low + high) / 2 if low is not None and high is not None else 2.0
    return Interval(estimate, low, high, "anytime-valid", n)


SOON, LATE = BreakEven(1e4, 1e3, 1e5), BreakEven(1e9, 1e9, math.inf)

# rule number -> a case that meets that rule and none before it
CASES: dict[int, Case] = {
    1: (_delta(2.0, 4.0), SOON, False),
    2: (_delta(None, None, n=1), SOON, True),
    3: (_delta(-2.7, 0.8), BreakEven(math.inf, 2e6, math.inf), True),
    4: (_delta(-3.0, 1.5), BreakEven(math.inf, 3e8, math.inf), True),
    5: (_delta(-1.0, 6.0), BreakEven(5e5, 1e4, math.inf), True),
    6: (_delta(2.0, 4.0), SOON, True),
    7: (_delta(2.0, 4.0), BreakEven(1e7, 1e6, 5e8), True),
}


def documented_rules() -> list[tuple[int, str, str]]:
    """(rule, when, call) rows of the rules table in docs/verdict.md."""
    text = VERDICT_DOC.read_text()
    section = text[text.index("## The call") : text.index("## A forecast when undecided")]
    rows = re.findall(r"^\| (\d+) \| (.+?) \| ([a-z ]+) \|$", section, flags=re.MULTILINE)
    return [(int(rule), when, call) for rule, when, call in rows]


def test_the_docs_list_every_rule_once_in_order() -> None:
    rules = documented_rules()
    assert [rule for rule, _, _ in rules] == sorted(CASES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_the_code_calls_each_rule_as_the_docs_say(rule: int) -> None:
    expected = {r: call for r, _, call in documented_rules()}[rule]
    delta, n_star, feasible = CASES[rule]
    call, _ = _call(delta, n_star, feasible, ["params 2 > 1"], SETTINGS)
    assert call == expected, (rule, call)


def _first_rule_met(case: Case) -> int:
    """Which rule of the table a case meets first, judged from the table's own conditions."""
    delta, n_star, feasible = case
    rope, volume = SETTINGS.rope_points, SETTINGS.deployment_predictions
    conditions: list[Callable[[], bool]] = [
        lambda: not feasible,
        lambda: delta.high is None,
        lambda: (delta.high or 0.0) <= rope,
        lambda: (n_star.optimistic or 0.0) > volume,
        lambda: (delta.low or 0.0) <= rope,
        lambda: (n_star.pessimistic or math.inf) <= volume,
        lambda: True,
    ]
    return next(i for i, met in enumerate(conditions, start=1) if met())


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_case_meets_its_rule_first(rule: int) -> None:
    assert _first_rule_met(CASES[rule]) == rule


def test_a_straddling_interval_that_never_pays_off_is_not_worth_it() -> None:
    """The order matters: an interval across the ROPE whose best case pays off too late is
    "not worth it" (rule 4), not "inconclusive" (rule 5)."""
    call, why = _call(*CASES[4], [], SETTINGS)
    assert call == "not worth it" and "best case pays off after" in why
