"""The resume snapshot: Tune's trial list and the searcher's state, restored as one pair."""

from __future__ import annotations

import pickle
from pathlib import Path

from automl_bench.runner.snapshot import put_back, write_snapshot


def test_a_truncated_or_newer_state_at_the_storage_path_is_replaced_by_the_pair(
    tmp_path: Path,
) -> None:
    staging, storage = tmp_path / "staging", tmp_path / "storage"
    staging.mkdir()
    storage.mkdir()
    (staging / "experiment_state-2026-11-27_10-00-00.json").write_text('{"trials": ["a"]}')
    (staging / "search_gen_state-2026-11-27_10-00-00.json").write_text('{"counter": 1}')
    snapshot = tmp_path / "ledger" / "snapshot.pkl"
    write_snapshot(snapshot, staging, pickle.dumps({"suggested": 1}))
    # a later save, cut short by the kill while Tune copied it to the storage path
    (storage / "experiment_state-2026-11-27_10-00-00.json").write_text('{"trials": ["a", "b"]}')
    (storage / "searcher-state-2026-11-27_10-00-00.pkl").write_bytes(b"")
    (storage / "experiment_state-2026-11-27_11-00-00.json").write_text('{"tri')
    (storage / "tuner.pkl").write_bytes(b"kept")
    assert put_back(snapshot, storage)
    assert sorted(p.name for p in storage.iterdir()) == [
        "experiment_state-2026-11-27_10-00-00.json",
        "search_gen_state-2026-11-27_10-00-00.json",
        "searcher-state-2026-11-27_10-00-00.pkl",
        "tuner.pkl",
    ]
    assert (storage / "experiment_state-2026-11-27_10-00-00.json").read_text() == (
        '{"trials": ["a"]}'
    )
    state = (storage / "searcher-state-2026-11-27_10-00-00.pkl").read_bytes()
    assert pickle.loads(state) == {"suggested": 1}
    assert not list(snapshot.parent.glob(".*"))  # no partial snapshot left


def test_no_snapshot_means_nothing_to_restore(tmp_path: Path) -> None:
    assert not put_back(tmp_path / "snapshot.pkl", tmp_path)
