"""keras-tuner's oracles, with the workarounds a `confirm()` search needs.

These are the places that break on a keras-tuner upgrade (written against 1.4.8):

- Grid: keras-tuner's `GridSearchOracle` keeps an in-memory linked list that is not saved and
  raises `KeyError` when a search resumes (keras-team/keras-tuner#1055); `GridOracle` derives the
  next configuration from the trials on disk alone.
- Coverage: the Bayesian oracle can propose a configuration it already tried, and the random
  sampler gives up after 20 repeated draws with configurations left; every oracle here covers
  every configuration.
- Hyperband: its sampler stops once every value has been drawn, before any trial is promoted.
- Resume: a trial's file and the oracle's state are saved one after the other; `reload()` lets the
  trials' own files decide what is finished. keras-tuner writes its JSON files in place, so a kill
  mid-write leaves a truncated file that no resume can read; here every file is written whole or
  not at all (`save_state`).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras_tuner as kt

from ._tuner_compat import (
    ChoosesValues,
    SavesTrialFiles,
    TrialStatus,
    hyperband_first_round_trials,
    infer_metric_direction,
    oracle_file,
    retry_queue,
    set_retry_queue,
    trial_file,
)
from .racing import RaceState, judge, round_schedule

# A trial's metrics per execution: its score as "execution_<i>" and, for classification, its
# accuracy at the best epoch as "accuracy_of_execution_<i>"; i is its index in seed order.
EXECUTION_PREFIX = "execution_"
ACCURACY_PREFIX = "accuracy_of_execution_"


def executions_of(metrics: dict[str, float], prefix: str = EXECUTION_PREFIX) -> dict[int, float]:
    """A trial's per-execution values (scores, or accuracies with `ACCURACY_PREFIX`) by execution index.

    Examples:
        >>> executions_of({"val_loss": 0.2, "execution_1": 0.3, "execution_0": 0.1})
        {1: 0.3, 0: 0.1}
    """
    return {
        int(name[len(prefix) :]): float(value)
        for name, value in metrics.items()
        if name.startswith(prefix) and name[len(prefix) :].isdigit()
    }


def last_values(trial: Any) -> dict[str, float]:
    """A trial's metrics, each its last reported value."""
    return {name: trial.metrics.get_last_value(name) for name in trial.metrics.metrics}


def save_state(path: str, state: dict[str, Any]) -> None:
    """Write keras-tuner's JSON state to `path` whole or not at all (a temporary file, then a rename).

    confirm() searches live in local directories (`search.check_directory`).

    Examples:
        >>> directory = tempfile.mkdtemp()
        >>> save_state(os.path.join(directory, "oracle.json"), {"ongoing_trials": {}})
        >>> os.listdir(directory)
        ['oracle.json']
    """
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=directory, suffix=".partial", delete=False) as handle:
        json.dump(state, handle)
    os.replace(handle.name, path)  # atomic: a reader sees the old file or the new one


class _SavesWhole(SavesTrialFiles):
    """Oracle mixin: state and trial files written whole, and a resume that trusts the trials' files."""

    def save(self) -> None:
        save_state(oracle_file(self), self.get_state())  # type: ignore[attr-defined]

    def save_trial_file(self, trial: Any) -> None:
        """Write the trial's file whole (keras-tuner's own hook calls this)."""
        save_state(trial_file(self, trial.trial_id), trial.get_state())

    def reload(self) -> None:
        # keras-tuner saves a trial's file and the oracle's state one after the other, so a search
        # killed between the two loses a started trial (saved RUNNING, not in the state's ongoing
        # trials) or retrains a finished one (saved COMPLETED, still ongoing in the state). The
        # trials' own files decide: every unfinished trial is retried, no finished one.
        super().reload()  # type: ignore[misc]
        finished = (TrialStatus.COMPLETED, TrialStatus.FAILED)
        retry = [tid for tid in retry_queue(self) if self.trials[tid].status not in finished]
        retry += [tid for tid, trial in self.trials.items() if trial.status == TrialStatus.RUNNING and tid not in retry]
        set_retry_queue(self, retry)


class _CoversEveryConfiguration(_SavesWhole):
    """Oracle mixin: a new trial gets an untried configuration while any is left.

    keras-tuner's Bayesian oracle can propose a configuration it already tried (measured here: 6
    trials over 6 configurations covered only 5); such a proposal gets the first untried
    configuration instead, so the ranking always covers every candidate. Once all are tried,
    oracles that do not train a configuration twice stop; Hyperband goes on, since it retrains
    the best configurations for more epochs.
    """

    repeats_allowed = False

    def __init__(self, objective: Any, configurations: list[str], seed: int, **kwargs: Any) -> None:
        if not self.repeats_allowed:
            kwargs["max_trials"] = len(configurations)
        super().__init__(objective=objective, seed=seed, **kwargs)  # type: ignore[call-arg]
        self.configurations = configurations

    def _untried(self) -> list[str]:
        tried = {t.hyperparameters.values.get("configuration") for t in self.trials.values()}
        return [c for c in self.configurations if c not in tried]

    def _next(self) -> dict[str, Any]:
        untried = self._untried()
        if untried:
            return {"status": TrialStatus.RUNNING, "values": {"configuration": untried[0]}}
        if self.ongoing_trials:
            return {"status": TrialStatus.IDLE, "values": None}
        return {"status": TrialStatus.STOPPED, "values": None}

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        response = super().populate_space(trial_id)  # type: ignore[misc]
        status, values = response["status"], response.get("values") or {}
        if "tuner/trial_id" in values or status == TrialStatus.IDLE:
            return response  # Hyperband promotes a trial to more epochs; or waits for other workers
        untried = self._untried()
        if status == TrialStatus.RUNNING and untried:
            if values.get("configuration") not in untried:
                values["configuration"] = untried[0]  # keeps Hyperband's bracket keys
            return response
        if status == TrialStatus.RUNNING and self.repeats_allowed:
            return response
        # keras-tuner's random sampler stops the search after 20 draws of tried values, which
        # happens with untried ones left (seen on resume: one of 5 configurations never ran).
        return self._next()


class GridOracle(_CoversEveryConfiguration, kt.Oracle):
    """Every configuration once, in order, derived from the saved trials alone (resumable)."""

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        return self._next()


class RandomOracle(_CoversEveryConfiguration, kt.oracles.RandomSearchOracle):
    """keras-tuner's random search over the configurations."""


class BayesianOracle(_CoversEveryConfiguration, kt.oracles.BayesianOptimizationOracle):
    """keras-tuner's Bayesian optimization over the configurations."""


class HyperbandOracle(ChoosesValues, _CoversEveryConfiguration, kt.oracles.HyperbandOracle):
    """keras-tuner's Hyperband: short trainings first, the best ones retrained for more epochs."""

    repeats_allowed = True

    def __init__(self, objective: Any, configurations: list[str], seed: int, **kwargs: Any) -> None:
        super().__init__(objective, configurations, seed, **kwargs)
        # Enough Hyperband iterations that their first rounds cover every configuration (a small
        # max_epochs gives brackets of a single trial).
        self.hyperband_iterations = math.ceil(len(configurations) / hyperband_first_round_trials(self))

    def next_values(self) -> dict[str, str]:
        """A new first-round trial's configuration (keras-tuner's sampler hook calls this)."""
        # keras-tuner's sampler gives up (and stops the search) once every value has been drawn,
        # before any trial is promoted; a bracket may need more first-round trials than there are
        # configurations. Untried ones first, then the least trained again on the new budget.
        untried = self._untried()
        if untried:
            return {"configuration": untried[0]}
        counts = Counter(t.hyperparameters.values.get("configuration") for t in self.trials.values())
        return {"configuration": min(self.configurations, key=lambda c: counts[c])}


@dataclass(frozen=True)
class Budget:
    """What a racing search may spend: executions in all (resumed ones count), and seconds of this
    call's wall time; None: no limit.

    Examples:
        >>> Budget.parse(40), Budget.parse("15m").seconds, Budget.parse(None)
        (Budget(executions=40, seconds=None), 900.0, Budget(executions=None, seconds=None))
    """

    executions: int | None = None
    seconds: float | None = None

    UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}

    @classmethod
    def parse(cls, budget: Any) -> Budget:
        """An int: executions; a string with a unit ("90s", "15m", "2h") or a `timedelta`: wall time."""
        if budget is None:
            return cls()
        if isinstance(budget, datetime.timedelta):
            seconds = budget.total_seconds()
        elif isinstance(budget, int) and not isinstance(budget, bool):
            if budget < 1:
                raise ValueError(f"confirm: `budget` in executions must be at least 1, received {budget}.")
            return cls(executions=budget)
        elif isinstance(budget, str) and budget.strip().isdigit():
            return cls.parse(int(budget))
        elif isinstance(budget, str) and budget.strip()[-1:] in cls.UNITS:
            try:
                seconds = float(budget.strip()[:-1]) * cls.UNITS[budget.strip()[-1]]
            except ValueError:
                seconds = math.nan
        else:
            seconds = math.nan
        if not seconds > 0 or math.isinf(seconds):
            raise ValueError(
                f"confirm: `budget` must be a number of executions (40) or a wall time with a unit "
                f"('90s', '15m', '2h'), received {budget!r}."
            )
        return cls(seconds=float(seconds))


class RaceOracle(_SavesWhole, kt.Oracle):
    """Statistical racing over the configurations (`advisor.racing`): rows train in rounds of
    seeded executions, and a row stops once the verdict no longer depends on it.

    A trial is one row's executions of one round: ``configuration``, ``first_execution`` and
    ``executions``. The race is replayed from the finished trials alone, so a killed search
    resumes where it was, with the rows that were out staying out, and keras-tuner's chief and
    workers share it (a worker waits while a round's last trials run).
    """

    IDLE_WAIT_SECONDS = 0.2

    def __init__(
        self,
        objective: Any,
        configurations: list[str],
        seed: int,
        max_executions: int,
        advised: str | None,
        baseline: str | None,
        budget: Budget = Budget(),
    ) -> None:
        super().__init__(objective=objective, seed=seed)
        self.configurations, self.max_executions = configurations, max_executions
        self.advised, self.baseline, self.budget = advised, baseline, budget
        self.deadline = None if budget.seconds is None else time.monotonic() + budget.seconds
        self.cut_by_budget = False

    def _started(self) -> tuple[dict[str, dict[int, float]], dict[str, int], set[str]]:
        """Per configuration: finished executions' scores by index, executions started (running or
        finished), and the configurations with a failed trial (they leave the race)."""
        scores: dict[str, dict[int, float]] = {c: {} for c in self.configurations}
        started: Counter[str] = Counter()
        failed = set()
        for trial in self.trials.values():
            values = trial.hyperparameters.values
            configuration = values.get("configuration")
            if configuration not in scores:
                continue
            if trial.status == TrialStatus.FAILED:
                failed.add(configuration)
                continue
            started[configuration] += int(values.get("executions", 0))
            if trial.status == TrialStatus.COMPLETED:
                scores[configuration].update(executions_of(last_values(trial)))
        return scores, dict(started), failed

    def race(self) -> tuple[RaceState, list[tuple[str, int, int]]]:
        """The race replayed from the trials: its state after the last complete round, and the
        executions the current round still needs started, as (configuration, first, count)."""
        scores, started, failed = self._started()
        higher = self.objective.direction == "max"
        state = RaceState(racing=[c for c in self.configurations if c not in failed])
        racing = state.racing
        for target in round_schedule(self.max_executions):
            missing = [(c, started.get(c, 0), target - started.get(c, 0)) for c in racing if started.get(c, 0) < target]
            if missing or any(len(scores[c]) < target for c in racing):
                return state, missing
            truncated = {
                c: [scores[c][i] for i in sorted(scores[c])][:target] for c in self.configurations if c not in failed
            }
            state = judge(truncated, self.advised, self.baseline, higher, self.max_executions, state)
            racing = state.racing
            if not racing:
                break
        else:
            state.racing = []
        return state, []

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        _, missing = self.race()
        if missing:
            configuration, first, count = missing[0]
            spent = sum(
                int(t.hyperparameters.values.get("executions", 0))
                for t in self.trials.values()
                if t.status != TrialStatus.FAILED
            )
            over = (self.budget.executions is not None and spent + count > self.budget.executions) or (
                self.deadline is not None and time.monotonic() >= self.deadline
            )
            if not over:
                return {
                    "status": TrialStatus.RUNNING,
                    "values": {"configuration": configuration, "first_execution": first, "executions": count},
                }
            self.cut_by_budget = True
        if self.ongoing_trials:
            # keras-tuner asks again at once; a short wait keeps an idle worker from spinning.
            time.sleep(self.IDLE_WAIT_SECONDS)
            return {"status": TrialStatus.IDLE, "values": None}
        return {"status": TrialStatus.STOPPED, "values": None}


ORACLES = {"grid": GridOracle, "random": RandomOracle, "bayesian": BayesianOracle, "hyperband": HyperbandOracle}


def objective_from(objective: Any, output_names: Sequence[str] = ()) -> Any:
    """A `keras_tuner.Objective`: given, or named, with the direction keras-tuner infers for the
    name; an output's own metric (``"val_<output>_accuracy"``) as its metric's.

    Examples:
        >>> objective_from("val_accuracy").direction
        'max'
        >>> objective_from("val_kind_accuracy", output_names=["kind", "price"]).direction
        'max'
    """
    if isinstance(objective, kt.Objective):
        return objective
    if not isinstance(objective, str):
        raise TypeError(
            f"confirm: `objective` must be a metric name or a keras_tuner.Objective, "
            f"received {type(objective).__name__}."
        )
    direction = infer_metric_direction(objective)
    for name in output_names:
        for prefix in (f"val_{name}_", f"{name}_"):
            if direction is None and objective.startswith(prefix):
                direction = infer_metric_direction(
                    ("val_" if prefix.startswith("val_") else "") + objective[len(prefix) :]
                )
    if direction is None:
        raise ValueError(
            f"confirm: cannot tell whether {objective!r} is better high or low; pass "
            f"keras_tuner.Objective({objective!r}, direction='min' or 'max')."
        )
    return kt.Objective(objective, direction)
