"""The bridge between `confirm()` and keras-tuner: the HyperModel, the Tuner, the settings file.

keras-tuner runs the search: one trial per configuration (Hyperband: per configuration and
budget), resumable from its directory, distributable over a chief and workers. A trial trains
the row's executions with `advisor.executions` and reports each execution's score.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np

from ._tuner_compat import DeclaresSpace, is_worker, tuner_file
from .advice import Advice
from .apply import apply
from .executions import train_executions
from .oracles import ACCURACY_PREFIX, EXECUTION_PREFIX, executions_of, last_values, save_state
from .row_training import RowTraining
from .verdict import SEPARATOR, PathTaken, paths_taken

SETTINGS_FILE = "keras_act_confirm.json"
TRAINING_FILE = "keras_act_training.json"  # in each trial's folder: how its executions were trained


class ConfirmHyperModel(kt.HyperModel):
    """One search row = `apply(model, advice with that activation and initializer)`.

    Examples:
        >>> import keras
        >>> from keras_act.advisor import advise
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
        ...                           keras.layers.Dense(1)])
        >>> hypermodel = ConfirmHyperModel(model, advise(model, task="regression"),
        ...                                ["tanh + glorot_uniform"], "mse", [])
        >>> type(hypermodel.model_for("tanh + glorot_uniform").layers[0].activation).__name__
        'Tanh'
    """

    def __init__(
        self,
        model: keras.Model,
        advice: Advice,
        configurations: list[str],
        loss: Any,
        metrics: Any,
        loss_weights: Any = None,
    ) -> None:
        super().__init__()
        self.model, self.advice, self.configurations = model, advice, configurations
        self.loss, self.metrics, self.loss_weights = loss, metrics, loss_weights

    def declare_hyperparameters(self, hp: kt.HyperParameters) -> None:
        hp.Choice("configuration", self.configurations)

    def model_for(self, configuration: str) -> keras.Model:
        """The user's model with this configuration's hidden activation and initializer, uncompiled."""
        candidate, initializer = configuration.split(SEPARATOR)
        return apply(
            self.model, dataclasses.replace(self.advice, hidden_activation=candidate, hidden_initializer=initializer)
        )

    def optimizer(self) -> Any:
        """A fresh copy of the user's compiled optimizer (Adam when the model is not compiled)."""
        if getattr(self.model, "compiled", False) and self.model.optimizer is not None:
            return keras.optimizers.deserialize(keras.optimizers.serialize(self.model.optimizer))
        return keras.optimizers.Adam()

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        built = self.model_for(hp.Choice("configuration", self.configurations))
        built.compile(optimizer=self.optimizer(), loss=self.loss, metrics=self.metrics, loss_weights=self.loss_weights)
        return built


class SearchProgress:
    """One Keras progress bar over the whole search: executions trained, of the most it can train.

    A trial's epochs move the bar by fractions of an execution, and a clock redraws it every
    `TICK_SECONDS` (elapsed time, ETA) while a model compiles, so it never stands still for long.
    A racing search shows the rows still racing, and ends short of its total when rows drop out.

    Examples:
        >>> progress = SearchProgress(total=12, epochs=10, verbose=0)
        >>> progress.trial_done(3, racing=4); progress.done
        3
    """

    TICK_SECONDS = 2.0
    UNIT = "execution"

    def __init__(self, total: int | None, epochs: int, verbose: int, done: int = 0) -> None:
        self.total, self.epochs, self.done = total, epochs, done
        self.current: float = done
        self.verbose = verbose
        interactive = getattr(sys.stdout, "isatty", lambda: False)()
        self.bar = keras.utils.Progbar(
            total,
            verbose=1 if verbose else 0,
            interval=0.1 if interactive else self.TICK_SECONDS / 2,
            unit_name=self.UNIT,
        )
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._clock: threading.Thread | None = None
        if verbose and done:
            self._show(done)

    def _show(self, current: float, finalize: bool = False) -> None:
        with self._lock:
            self.current = current
            self.bar.update(current, finalize=finalize)

    def _tick(self) -> None:
        while not self._stop.wait(self.TICK_SECONDS):
            self._show(self.current)

    def start(self) -> None:
        """Start the clock that redraws the bar (verbose only)."""
        if self.verbose and keras.backend.backend() == "tensorflow":
            from keras_act._tf_fast import xla_available

            # XLA logs its start-up once per process (TensorFlow's INFO lines, shown unless
            # TF_CPP_MIN_LOG_LEVEL hides them): set it off now, before the bar, not through it.
            xla_available()
        if self.verbose and self._clock is None:
            self._clock = threading.Thread(target=self._tick, name="confirm-progress", daemon=True)
            self._clock.start()

    def epochs_done(self, copy_epochs: int, budget: int, executions: int) -> None:
        """Inside a trial of `executions` executions of at most `budget` epochs: `copy_epochs`
        epochs are done, summed over its executions."""
        self._show(self.done + min(0.99 * executions, copy_epochs / max(1, budget)))

    def trial_done(self, executions: int, racing: int | None = None) -> None:
        """A trial of `executions` executions finished; `racing`: the rows still racing."""
        self.done += executions
        if racing is not None:
            # Keras' bar prints its values as floats; the rows racing ride on the unit's name.
            self.bar.unit_name = f"{self.UNIT} - rows racing: {racing}" if racing else f"{self.UNIT} - race decided"
        if self.total is None or self.done < self.total:
            self._show(self.done)

    def finish(self) -> None:
        """Stop the clock and draw the bar's last state."""
        self._stop.set()
        if self._clock is not None:
            self._clock.join()
        if self.verbose:
            self._show(self.done, finalize=True)


class ConfirmTuner(DeclaresSpace, kt.Tuner):
    """keras-tuner's Tuner, training each trial's executions with `train_executions`."""

    def __init__(
        self,
        *args: Any,
        executions: int,
        seed: int,
        patience: int,
        batch_size: int,
        fuse: bool,
        validation_split: float,
        progress: SearchProgress | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.executions, self.seed, self.patience = executions, seed, patience
        self.validation_split = validation_split
        self.batch_size, self.fuse, self.progress = batch_size, fuse, progress
        self.ran: dict[str, dict[str, float]] = {}
        self.traced: dict[str, dict[int, Any]] = {}  # per configuration, its traced steps (RowTraining.traced)

    def save(self) -> None:
        # keras-tuner's own save, with its files written whole (a kill mid-write cannot leave a
        # search that does not resume).
        if not is_worker(self):
            self.oracle.save()
        save_state(tuner_file(self), self.get_state())

    def declare_space(self) -> None:
        """Declare the one hyperparameter (keras-tuner's space hook calls this)."""
        # keras-tuner builds the model to discover conditional hyperparameters; there are none.
        hp = self.oracle.get_space()
        self.hypermodel.declare_hyperparameters(hp)
        self.oracle.update_space(hp)

    def run_trial(
        self,
        trial: Any,
        x: Any,
        y: Any,
        validation_data: Any = None,
        epochs: int = 1,
        verbose: int = 0,
        sample_weight: Any = None,
        **_: Any,
    ) -> dict[str, float]:
        objective = self.oracle.objective
        values = trial.hyperparameters.values
        budget = int(values.get("tuner/epochs", epochs))  # Hyperband's budget for this round
        hypermodel: ConfirmHyperModel = self.hypermodel
        configuration = values["configuration"]
        strategy = self.distribution_strategy
        spec = RowTraining(
            build=lambda: hypermodel.model_for(configuration),
            loss=hypermodel.loss,
            metrics=hypermodel.metrics,
            optimizer=hypermodel.optimizer,
            objective=objective.name,
            higher_is_better=objective.direction == "max",
            epochs=budget,
            batch_size=self.batch_size,
            patience=self.patience,
            validation_split=self.validation_split,
            loss_weights=hypermodel.loss_weights,
            scope=strategy.scope if strategy else contextlib.nullcontext,
            # A race trains a row in rounds: each round reuses the row's traced step.
            traced=self.traced.setdefault(configuration, {}) if "first_execution" in values else None,
        )
        # A racing search's trial trains executions first .. first + count - 1 of the row (seeds
        # seed + i); any other trains all of them.
        first = int(values.get("first_execution", 0))
        count = int(values.get("executions", self.executions))
        progress = (lambda done: self.progress.epochs_done(done, budget, count)) if self.progress else None
        # Without validation data each execution holds out its own rows (advisor.row_training.execution_data).
        executions = train_executions(
            spec,
            (x, y, *(validation_data or (None, None))),
            count,
            self.seed + first,
            fuse=self.fuse,
            on_epoch=progress,
            sample_weight=sample_weight,
        )
        scores = [e.score for e in executions]
        metrics = {objective.name: float(np.mean(scores))}
        metrics.update({f"{EXECUTION_PREFIX}{first + i}": score for i, score in enumerate(scores)})
        metrics.update(
            {f"{ACCURACY_PREFIX}{first + i}": e.accuracy for i, e in enumerate(executions) if e.accuracy is not None}
        )
        self.ran[trial.trial_id] = metrics
        how = [{"path": e.path, "refused": dict(e.refused)} for e in executions]
        (Path(self.get_trial_dir(trial.trial_id)) / TRAINING_FILE).write_text(json.dumps(how))
        return metrics

    def on_trial_end(self, trial: Any) -> None:
        super().on_trial_end(trial)
        race = getattr(self.oracle, "race", None)  # a race's oracle (a worker's client has none)
        racing = race()[0].racing if race else None
        if racing is not None:
            # A row that races no more frees its traced steps (its stacked executions, their optimizer state).
            for configuration in [c for c in self.traced if c not in racing]:
                del self.traced[configuration]
        if self.progress:
            ran = self.ran.get(trial.trial_id)
            self.progress.trial_done(
                len(executions_of(ran)) if ran else self.executions, racing=len(racing) if racing is not None else None
            )

    def finished_rows(self) -> dict[str, dict[str, float]]:
        """Per configuration, its finished executions' metrics (``execution_<i>``, and
        ``accuracy_of_execution_<i>`` for classification), merged over its trials (a race's
        rounds; resumed ones too). Hyperband: those of its longest training."""
        found: dict[str, dict[str, float]] = {}
        for configuration, trials in self._finished_trials().items():
            for trial in trials:
                found.setdefault(configuration, {}).update(
                    {n: v for n, v in last_values(trial).items() if n.startswith((EXECUTION_PREFIX, ACCURACY_PREFIX))}
                )
        if not found and self.ran:
            for tid, metrics in self.ran.items():
                found.setdefault(self._configuration_of(tid), {}).update(metrics)
        return found

    def paths_taken(self) -> dict[str, tuple[PathTaken, ...]]:
        """Per configuration, how the executions of `finished_rows` were trained, from each
        trial's record (a trial of an older search has none)."""
        trial_ids = {c: [t.trial_id for t in trials] for c, trials in self._finished_trials().items()}
        if not trial_ids:
            for tid in self.ran:
                trial_ids.setdefault(self._configuration_of(tid), []).append(tid)
        taken = {}
        for configuration, ids in trial_ids.items():
            records = []
            for tid in ids:
                record = Path(self.get_trial_dir(tid)) / TRAINING_FILE
                if record.exists():
                    records += [(e["path"], e["refused"]) for e in json.loads(record.read_text())]
            taken[configuration] = paths_taken(records)
        return taken

    def _configuration_of(self, trial_id: str) -> str:
        return self.oracle.get_trial(trial_id).hyperparameters.values["configuration"]

    def _finished_trials(self) -> dict[str, list[Any]]:
        """Per configuration, its completed trials (Hyperband: those of its longest training)."""
        try:
            trials = self.oracle.get_best_trials(num_trials=10_000)
        except Exception:  # a distributed worker after the chief has gone: what it ran itself
            trials = []
        found: dict[str, list[Any]] = {}
        budgets: dict[str, int] = {}
        for trial in sorted(trials, key=lambda t: int(t.hyperparameters.values.get("tuner/epochs", 0))):
            configuration = trial.hyperparameters.values.get("configuration")
            budget = int(trial.hyperparameters.values.get("tuner/epochs", 0))
            if trial.status != "COMPLETED":
                continue
            if budgets.get(configuration, budget) < budget:
                found.pop(configuration)  # a longer Hyperband training replaces the shorter ones
            budgets[configuration] = budget
            found.setdefault(configuration, []).append(trial)
        return found


def execution_scores(metrics: dict[str, float]) -> list[float]:
    """A configuration's per-execution scores, in seed order.

    Examples:
        >>> execution_scores({"val_loss": 0.2, "execution_1": 0.3, "execution_0": 0.1})
        [0.1, 0.3]
    """
    return [score for _, score in sorted(executions_of(metrics).items())]


def mean_accuracy(metrics: dict[str, float]) -> float | None:
    """The mean over a configuration's executions of their accuracy at the best epoch (None
    when the task reports no accuracy).

    Examples:
        >>> mean_accuracy({"execution_0": 0.1, "accuracy_of_execution_0": 0.9, "accuracy_of_execution_1": 0.7})
        0.8
    """
    accuracies = list(executions_of(metrics, ACCURACY_PREFIX).values())
    return float(np.mean(accuracies)) if accuracies else None


def check_directory(project: Path, settings: dict[str, Any], overwrite: bool) -> None:
    """Refuse a project directory that holds something other than this same search.

    Examples:
        >>> import tempfile
        >>> check_directory(Path(tempfile.mkdtemp()) / "new", {"tuner": "grid"}, overwrite=False)
    """
    if overwrite or not project.exists():
        return
    saved_file = project / SETTINGS_FILE
    if not saved_file.exists():
        raise ValueError(
            f"confirm: {project} holds something other than a confirm() search; pass "
            "another `directory`, or `overwrite=True` to replace it."
        )
    saved = json.loads(saved_file.read_text())
    if saved != settings:
        changed = sorted(key for key in settings if saved.get(key) != settings[key])
        raise ValueError(
            f"confirm: {project} holds a different search (differs in: {', '.join(changed)}); "
            "its results are kept. Pass another `directory`, or `overwrite=True` to replace it."
        )


def write_settings(project: Path, settings: dict[str, Any]) -> None:
    """Record what this search is, so that a rerun can tell whether it may resume it."""
    project.mkdir(parents=True, exist_ok=True)
    (project / SETTINGS_FILE).write_text(json.dumps(settings, indent=1))


@contextlib.contextmanager
def quiet_unless(verbose: bool) -> Iterator[None]:
    """Swallow keras-tuner's own prints (e.g. "Reloading Tuner from ...") unless `verbose`."""
    if verbose:
        yield
        return
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def completed_executions(oracle: Any, executions: int) -> int:
    """How many executions a (resumed) oracle's finished trials trained (a race's trial trains
    part of a row; any other trial, `executions`); 0 for a distributed worker's client.

    Examples:
        >>> completed_executions(object(), executions=10)
        0
    """
    trials = getattr(oracle, "trials", None) or {}  # a worker's OracleClient holds none
    return sum(
        int(t.hyperparameters.values.get("executions", executions)) for t in trials.values() if t.status == "COMPLETED"
    )
