"""The keras-tuner internals the advisor relies on, in one place (checked against 1.4.7-1.4.8).

keras-tuner exports no API for these; if a release moves one, this module is the one to change.
Three private hooks keras-tuner calls by name are overridden here, each in a mixin that hands
the call to a public method of the advisor's class: `Oracle._save_trial` (trial files written
whole), `Oracle._random_values` (every configuration tried) and `Tuner._populate_initial_space`
(the search space declared without building a model).
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


def tuner_file(tuner: Any) -> str:
    """The path of the tuner's own state file."""
    return tuner._get_tuner_fname()


def is_worker(tuner: Any) -> bool:
    """Whether this tuner is a worker of keras-tuner's chief/worker distribution."""
    return tuner._is_worker()


class SavesTrialFiles:
    """Oracle mixin: keras-tuner saves each trial through `_save_trial`; this calls
    `save_trial_file(trial)` instead."""

    def _save_trial(self, trial: Any) -> None:
        self.save_trial_file(trial)  # type: ignore[attr-defined]


class ChoosesValues:
    """Oracle mixin: keras-tuner's random, Bayesian and Hyperband oracles draw a trial's values
    through `_random_values`; this calls `next_values()` instead."""

    def _random_values(self) -> dict[str, Any] | None:
        return self.next_values()  # type: ignore[attr-defined]


class DeclaresSpace:
    """Tuner mixin: keras-tuner discovers the search space by building a model in
    `_populate_initial_space`; this calls `declare_space()` instead."""

    def _populate_initial_space(self) -> None:
        self.declare_space()  # type: ignore[attr-defined]
