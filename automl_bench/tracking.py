"""MLflow: the only module that imports mlflow.

One experiment per config, one parent run per study (method x seed), one child run per trial.
Only the driver writes, through an explicit client (no global active run): trials never open
the store, so a SQLite file sees one writer, and the store, experiment and parent runs exist
before any trial starts.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PARENT_TAG = "mlflow.parentRunId"
# MLflow 3's UI opens an experiment on its GenAI "Traces" overview unless this tag says the
# experiment holds training runs (the values its UI knows: genai_development,
# custom_model_development); then it opens on the runs table.
KIND_TAG = "mlflow.experimentKind"
TRAINING_RUNS = "custom_model_development"
# MLflow 3.17's own UI (3.17.2) goes further: it picks the page an experiment opens on from its
# workflow type (the link's workflowType, else the browser's last choice, GenAI at first), and
# its runs table shows no metric until one is chosen. A link with workflowType=machine_learning
# and viewStateShareKey (a view its Share button saves as an experiment tag) opens on the runs
# table with the metric columns.
VIEW_KEY = "automl-bench"
VIEW_TAG = f"mlflow.sharedViewState.{VIEW_KEY}"
UI_METRICS = ("energy_kwh", "usd", "co2_kg", "wall_s", "trials", "failed", "final_failed")

# No network at run time: MLflow 3 sends usage telemetry unless told not to (the UI's server,
# started from this process, inherits it).
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")


@dataclass(frozen=True)
class TrialRun:
    """A trial's MLflow run as the store has it."""

    trial_id: str
    run_id: str
    status: str  # RUNNING, FINISHED, FAILED, KILLED
    start_ms: int | None
    end_ms: int | None

    @property
    def ended(self) -> bool:
        """It ended on its own (FINISHED or FAILED): its trial is not to be run again."""
        return self.status in ("FINISHED", "FAILED")


@dataclass(frozen=True)
class RunsPage:
    """An experiment's runs table in MLflow's UI."""

    experiment: str
    experiment_id: str

    def url(self, base: str) -> str:
        """Its link under the UI at ``base`` (``http://127.0.0.1:5000``)."""
        return (
            f"{base}/#/experiments/{self.experiment_id}/runs?workflowType=machine_learning"
            f"&viewStateShareKey={VIEW_KEY}"
        )


def prepare_ui(uri: str) -> list[RunsPage]:
    """Ready every experiment with runs in the store at ``uri`` for MLflow's UI: the kind tag
    (for a store written before it was set) and the shared view of its runs table; their
    pages."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    pages: list[RunsPage] = []
    token: str | None = None
    while True:
        page = client.search_experiments(max_results=1000, page_token=token)
        for found in page:
            runs = client.search_runs([found.experiment_id], max_results=200)
            if not runs:
                continue
            if KIND_TAG not in found.tags:
                client.set_experiment_tag(found.experiment_id, KIND_TAG, TRAINING_RUNS)
            keys = {key for run in runs for key in run.data.metrics}
            client.set_experiment_tag(found.experiment_id, VIEW_TAG, json.dumps(_view(keys)))
            pages.append(RunsPage(found.name, found.experiment_id))
        token = page.token
        if not token:
            return pages


def _view(metric_keys: set[str]) -> dict[str, Any]:
    """The runs table's columns: the validation and test scores, then the cost and the count."""
    scores = sorted(
        k for k in metric_keys if k.startswith(("val_", "test_")) and not k.endswith("_loss")
    )
    shown = scores + [k for k in UI_METRICS if k in metric_keys]
    return {"selectedColumns": [f"metrics.`{key}`" for key in shown]}


def default_tracking_uri(output_dir: Path) -> str:
    """SQLite under ``output_dir``, as an absolute URI (Ray trials run in other directories)."""
    return f"sqlite:///{(output_dir / 'mlflow.db').resolve()}"


class Tracking:
    def __init__(self, uri: str, experiment: str, artifact_root: Path) -> None:
        """``artifact_root`` holds a new experiment's artifacts for a local store (SQLite); a
        tracking server keeps them where it is configured to."""
        from mlflow.tracking import MlflowClient

        # After the import: mlflow sets up its own loggers when imported.
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)

        self.uri = uri
        self.client = MlflowClient(tracking_uri=uri)
        found = self.client.get_experiment_by_name(experiment)
        if found is not None:
            self.experiment_id: str = found.experiment_id
        elif uri.startswith(("http://", "https://")):
            self.experiment_id = self.client.create_experiment(experiment)
        else:
            artifact_root.mkdir(parents=True, exist_ok=True)
            self.experiment_id = self.client.create_experiment(
                experiment, artifact_location=artifact_root.resolve().as_uri()
            )
        # new experiments and ones an older automl-bench created alike
        self.client.set_experiment_tag(self.experiment_id, KIND_TAG, TRAINING_RUNS)

    def set_experiment_tags(self, tags: Mapping[str, Any]) -> None:
        for key, value in tags.items():
            self.client.set_experiment_tag(self.experiment_id, key, str(value))

    def start_run(
        self,
        name: str,
        tags: Mapping[str, Any],
        params: Mapping[str, Any] | None = None,
        parent_run_id: str | None = None,
    ) -> str:
        from mlflow.entities import Param

        all_tags = {k: str(v) for k, v in tags.items()}
        if parent_run_id is not None:
            all_tags[PARENT_TAG] = parent_run_id
        run = self.client.create_run(self.experiment_id, run_name=name, tags=all_tags)
        run_id: str = run.info.run_id
        if params:
            self.client.log_batch(
                run_id, params=[Param(str(k), str(v)[:6000]) for k, v in params.items()]
            )
        return run_id

    def end_run(
        self,
        run_id: str,
        status: str = "FINISHED",
        metrics: Mapping[str, float] | None = None,
        history: list[tuple[int, Mapping[str, float]]] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Log what the run ended with (and its per-step history) in one batch, then close it.

        ``status``: FINISHED, FAILED or KILLED.
        """
        from mlflow.entities import Metric, RunTag

        now = int(time.time() * 1000)
        batch = [
            Metric(key, float(value), now, step)
            for step, values in history or []
            for key, value in values.items()
        ]
        batch += [Metric(key, float(value), now, 0) for key, value in (metrics or {}).items()]
        run_tags = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
        for i in range(0, max(len(batch), 1), 1000):  # MLflow takes 1,000 metrics a batch
            self.client.log_batch(
                run_id, metrics=batch[i : i + 1000], tags=run_tags if i == 0 else []
            )
        self.client.set_terminated(run_id, status=status)

    def log(self, run_id: str, metrics: Mapping[str, float], tags: Mapping[str, Any]) -> None:
        """Add metrics and tags to a run, open or ended (a final run's deploy record)."""
        from mlflow.entities import Metric, RunTag

        now = int(time.time() * 1000)
        self.client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
            tags=[RunTag(k, str(v)) for k, v in tags.items()],
        )

    def log_artifact(self, run_id: str, path: Path, folder: str | None = None) -> None:
        self.client.log_artifact(run_id, str(path), folder)

    def reopen(self, run_id: str) -> None:
        """Mark a run RUNNING again (a study parent run that ``--resume`` goes on logging under)."""
        self.client.update_run(run_id, status="RUNNING")

    def trial_runs(self, parent_run_ids: set[str]) -> list[TrialRun]:
        """Every trial run under these parent runs: what an earlier driver of the run logged."""
        found: list[TrialRun] = []
        token: str | None = None
        while True:
            page = self.client.search_runs([self.experiment_id], max_results=1000, page_token=token)
            for run in page:
                tags = run.data.tags
                if tags.get(PARENT_TAG) in parent_run_ids and "trial_id" in tags:
                    found.append(
                        TrialRun(
                            tags["trial_id"],
                            run.info.run_id,
                            run.info.status,
                            run.info.start_time,
                            run.info.end_time,
                        )
                    )
            token = page.token
            if not token:
                return found

    def summary_run(self) -> str | None:
        """The newest run of this experiment tagged ``level=experiment`` (its summary run)."""
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string="tags.level = 'experiment'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        return runs[0].info.run_id if runs else None
