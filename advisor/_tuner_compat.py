"""The keras-tuner internals the advisor relies on, in one place (checked against 1.4.7-1.4.8).

keras-tuner exports no API for these; if a release moves one, this module is the one to change.
The oracles in `advisor.oracles` also override two private hooks, `Oracle._save_trial` (to write
trial files atomically) and `HyperbandOracle._random_values` (so that every configuration is
tried): keras-tuner calls them by those names.
"""

from __future__ import annotations

from typing import Any

import keras_tuner as kt

# A trial's status values (RUNNING, IDLE, COMPLETED, ...): `kt.engine.trial` is not exported.
TrialStatus = kt.engine.trial.TrialStatus


def infer_metric_direction(metric: str) -> str | None:
    """keras-tuner's own guess of a metric's direction ("min", "max" or None when unknown).

    Examples:
        >>> infer_metric_direction("val_loss"), infer_metric_direction("val_accuracy")
        ('min', 'max')
    """
    return kt.engine.metrics_tracking.infer_metric_direction(metric)


def oracle_file(oracle: Any) -> str:
    """The path of the oracle's state file (`oracle.json`)."""
    return oracle._get_oracle_fname()


def trial_file(oracle: Any, trial_id: str) -> str:
    """The path of a trial's state file (`trial.json` in its folder)."""
    import os

    return os.path.join(oracle._get_trial_dir(trial_id), "trial.json")


def retry_queue(oracle: Any) -> list[str]:
    """The trial ids the oracle will hand out again before new ones (reload fills it)."""
    return oracle._retry_queue


def set_retry_queue(oracle: Any, trial_ids: list[str]) -> None:
    """Replace the oracle's retry queue."""
    oracle._retry_queue = trial_ids


def hyperband_first_round_trials(oracle: Any) -> int:
    """How many trials one Hyperband iteration starts in its brackets' first rounds."""
    return sum(oracle._get_size(bracket, 0) for bracket in range(oracle._get_num_brackets()))
