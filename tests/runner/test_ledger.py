"""The trial ledger: what a trial leaves before it reports, and what a resumed trial replays."""

from __future__ import annotations

from pathlib import Path

from automl_bench.runner.ledger import Ledger


def test_a_trial_that_ended_is_replayed_with_its_model(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger")
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.pt").write_bytes(b"weights")
    closing = {"trial_status": "ok", "test_accuracy": 0.9, "epoch_history": [{"epoch": 1}]}
    ledger.record("a_00001", closing, model)
    model.joinpath("model.pt").unlink()  # the trial removes its own copy once reported
    found = ledger.replay("a_00001")
    assert found is not None
    replayed, kept = found
    assert replayed == closing
    assert kept is not None and (kept / "model.pt").read_bytes() == b"weights"
    assert not list(ledger.folder.glob(".*"))  # no partial entry left behind


def test_a_failed_trial_is_replayed_and_a_stopped_one_is_run_again(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger")
    ledger.record("a_00002", {"trial_status": "failed", "failure_reason": "NaN loss"}, None)
    ledger.record("a_00003", {"trial_status": "stopped", "epochs_run": 3}, None)
    failed = ledger.replay("a_00002")
    assert failed is not None and failed == (
        {"trial_status": "failed", "failure_reason": "NaN loss"},
        None,
    )
    assert ledger.replay("a_00003") is None  # stopped: its scheduler's decision is not kept
    assert ledger.replay("a_00004") is None  # never ended
    assert ledger.stopped({"a_00002", "a_00003", "a_00004"}) == {
        "a_00003": {"trial_status": "stopped", "epochs_run": 3}
    }


def test_an_entry_rewritten_keeps_the_last_closing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger")
    ledger.record("a_00005", {"trial_status": "failed", "failure_reason": "first"}, None)
    ledger.record("a_00005", {"trial_status": "ok"}, None)
    assert ledger.closing("a_00005") == {"trial_status": "ok"}
