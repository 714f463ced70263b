"""`confirm()`: test the advice with a real keras-tuner search on the user's data.

Every row of the search is one hidden activation with one kernel initializer, applied to the
user's model with `apply()` and trained from fresh weights. The rows are the advice's candidates
and Keras' defaults (relu + glorot_uniform; or the caller's candidates alone), the advisor's pick
(added when missing) and the model's current configuration (the baseline: "does the change beat
what I have?"). keras-tuner runs the search (`kt.Tuner` with an oracle of
its own, or the grid oracle below); each trial trains `executions_per_trial` times, with
`keras.utils.set_random_seed(seed + execution)` before each, so every row sees the same seeds and
the same search gives the same numbers twice.

Decision rule ("not significantly worse"): with >= 2 executions, a row is within noise of the
best when its mean is no more than `NOISE_STANDARD_ERRORS` (2) pooled standard errors,
sqrt(se_best^2 + se_row^2) with se = std / sqrt(n), from the best's mean: about a 95% two-sided
z-test, the same "2 standard errors" yardstick the advisor's quality benchmark uses. With one
execution there is no test: the means decide, and the report says so.

Resuming: the grid oracle here derives the next configuration from the trials on disk alone
(keras-tuner 1.4.8's `GridSearchOracle` keeps an in-memory linked list that is not saved and
raises `KeyError` when a search resumes, keras-team/keras-tuner#1055), so `overwrite=False`
with the same `directory` and `project_name` finishes only the missing trials. A directory that
holds a different search is refused, never deleted, unless `overwrite=True`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np

import keras_act
from advisor.advice import Advice
from advisor.analyze import advise
from advisor.inspection import KNOWN_ACTIVATIONS, view
from advisor.rebuild import apply
from advisor.recommend import initializer_for
from advisor.sample import prepare_sample
from advisor.task import output_layer, training_loss

NOISE_STANDARD_ERRORS = 2.0
EARLY_STOPPING_PATIENCE = 5
DEFAULT_OBJECTIVE = "val_loss"
SETTINGS_FILE = "keras_act_confirm.json"
BATCH_SIZE = 32
# Keras' out-of-the-box hidden configuration (Dense's glorot_uniform with relu). On small tabular
# data it was within noise of the best more often than relu + he_normal (benchmarks/advisor_quality.py),
# so the advice's candidates are always compared with it.
KERAS_DEFAULTS = ("relu", "glorot_uniform")
_SEPARATOR = " + "


def _key(candidate: str, initializer: str) -> str:
    return f"{candidate}{_SEPARATOR}{initializer}"


@dataclass(frozen=True)
class ConfirmRow:
    """One configuration of the search and how it scored.

    Example:
        >>> row = ConfirmRow("relu", "he_normal", 0.31, 0.02, [0.3, 0.33, 0.3], 1, True, False)
        >>> row.executions
        3
    """

    candidate: str
    initializer: str
    mean: float
    std: float
    scores: list[float]
    rank: int
    advised: bool
    baseline: bool
    accuracy: float | None = None

    @property
    def executions(self) -> int:
        """How many trainings the scores come from."""
        return len(self.scores)

    @property
    def standard_error(self) -> float:
        """std / sqrt(executions) (0 with a single execution)."""
        return self.std / math.sqrt(self.executions) if self.executions > 1 else 0.0


@dataclass
class ConfirmResult:
    """The ranking of a `confirm()` search and its verdict on the advice.

    Attributes:
        ranking: rows, best first.
        objective: the objective's name, e.g. ``"val_loss"``.
        higher_is_better: whether larger objective values are better.
        best, advised, baseline: the winning row, the advisor's pick, the model's current one.
        confirmed: the advised row is best, or within noise of it (see the module docstring).
        tested: whether a significance test was possible (>= 2 executions per row).
        trials_run: trials trained in this call; the rest were resumed from `directory`.
        directory: where the search lives (pass it again with overwrite=False to resume).
    """

    ranking: list[ConfirmRow]
    objective: str
    higher_is_better: bool
    best: ConfirmRow
    advised: ConfirmRow | None
    baseline: ConfirmRow | None
    confirmed: bool
    tested: bool
    trials_run: int
    directory: str
    verdict: str = ""
    details: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict."""
        data = dataclasses.asdict(self)
        return json.loads(json.dumps(data, default=float))

    def __str__(self) -> str:
        header = (f"{'rank':>4}  {'candidate':<12}{'initializer':<16}{self.objective + ' mean ± std':>24}"
                  f"{'executions':>12}{'accuracy':>10}  ")
        lines = [f"confirm(): {len(self.ranking)} configurations ranked by {self.objective} "
                 f"({'higher' if self.higher_is_better else 'lower'} is better)", header]
        for row in self.ranking:
            flags = ", ".join(name for name, on in (("advised", row.advised), ("yours", row.baseline)) if on)
            accuracy = "" if row.accuracy is None else f"{row.accuracy:.3f}"
            lines.append(f"{row.rank:>4}  {row.candidate:<12}{row.initializer:<16}"
                         f"{f'{row.mean:.4f} ± {row.std:.4f}':>24}{row.executions:>12}{accuracy:>10}  {flags}")
        lines += ["", self.verdict, *self.details]
        return "\n".join(lines)

    def plot(self, path: str | Path) -> Path:
        """Draw the ranking (mean ± std per configuration) into a PNG (needs matplotlib)."""
        from keras_act._plotting import pyplot

        plt = pyplot()
        rows = self.ranking
        figure, axis = plt.subplots(figsize=(max(6.0, 1.1 * len(rows)), 3.8))
        colors = ["tab:green" if r.advised else "tab:orange" if r.baseline else "tab:blue" for r in rows]
        axis.bar(range(len(rows)), [r.mean for r in rows], yerr=[r.std for r in rows], color=colors, capsize=4)
        axis.set_xticks(range(len(rows)), [f"{r.candidate}\n{r.initializer}" for r in rows], fontsize=8)
        axis.set_ylabel(self.objective)
        axis.set_title("confirm(): green = advised, orange = yours (mean ± std)", fontsize=10)
        figure.tight_layout()
        path = Path(path)
        figure.savefig(path, dpi=110)
        plt.close(figure)
        return path


class _CoversEveryConfiguration:
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

    def reload(self) -> None:
        # keras-tuner saves a trial's file and the oracle's state one after the other, so a search
        # killed between the two loses a started trial (saved RUNNING, not in the state's ongoing
        # trials) or retrains a finished one (saved COMPLETED, still ongoing in the state). The
        # trials' own files decide: every unfinished trial is retried, no finished one.
        super().reload()  # type: ignore[misc]
        finished = (kt.engine.trial.TrialStatus.COMPLETED, kt.engine.trial.TrialStatus.FAILED)
        retry = [tid for tid in self._retry_queue if self.trials[tid].status not in finished]
        retry += [tid for tid, trial in self.trials.items()
                  if trial.status == kt.engine.trial.TrialStatus.RUNNING and tid not in retry]
        self._retry_queue = retry

    def _untried(self) -> list[str]:
        tried = {t.hyperparameters.values.get("configuration") for t in self.trials.values()}
        return [c for c in self.configurations if c not in tried]

    def _next(self) -> dict[str, Any]:
        untried = self._untried()
        if untried:
            return {"status": kt.engine.trial.TrialStatus.RUNNING, "values": {"configuration": untried[0]}}
        if self.ongoing_trials:
            return {"status": kt.engine.trial.TrialStatus.IDLE, "values": None}
        return {"status": kt.engine.trial.TrialStatus.STOPPED, "values": None}

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        response = super().populate_space(trial_id)  # type: ignore[misc]
        status, values = response["status"], response.get("values") or {}
        if "tuner/trial_id" in values or status == kt.engine.trial.TrialStatus.IDLE:
            return response  # Hyperband promotes a trial to more epochs; or waits for other workers
        untried = self._untried()
        if status == kt.engine.trial.TrialStatus.RUNNING and untried:
            if values.get("configuration") not in untried:
                values["configuration"] = untried[0]  # keeps Hyperband's bracket keys
            return response
        if status == kt.engine.trial.TrialStatus.RUNNING and self.repeats_allowed:
            return response
        # keras-tuner's random sampler stops the search after 20 draws of tried values, which
        # happens with untried ones left (seen on resume: one of 5 configurations never ran).
        return self._next()


class _GridOracle(_CoversEveryConfiguration, kt.Oracle):
    """Every configuration once, in order, derived from the saved trials alone (resumable)."""

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        return self._next()


class _RandomOracle(_CoversEveryConfiguration, kt.oracles.RandomSearchOracle):
    """keras-tuner's random search over the configurations."""


class _BayesianOracle(_CoversEveryConfiguration, kt.oracles.BayesianOptimizationOracle):
    """keras-tuner's Bayesian optimization over the configurations."""


class _HyperbandOracle(_CoversEveryConfiguration, kt.oracles.HyperbandOracle):
    """keras-tuner's Hyperband: short trainings first, the best ones retrained for more epochs."""

    repeats_allowed = True

    def __init__(self, objective: Any, configurations: list[str], seed: int, **kwargs: Any) -> None:
        super().__init__(objective, configurations, seed, **kwargs)
        # Enough Hyperband iterations that their first rounds cover every configuration (a small
        # max_epochs gives brackets of a single trial).
        per_iteration = sum(self._get_size(bracket, 0) for bracket in range(self._get_num_brackets()))
        self.hyperband_iterations = math.ceil(len(configurations) / per_iteration)

    def _random_values(self) -> dict[str, str]:
        # keras-tuner's sampler gives up (and stops the search) once every value has been drawn,
        # before any trial is promoted; a bracket may need more first-round trials than there are
        # configurations. Untried ones first, then the least trained again on the new budget.
        untried = self._untried()
        if untried:
            return {"configuration": untried[0]}
        counts = Counter(t.hyperparameters.values.get("configuration") for t in self.trials.values())
        return {"configuration": min(self.configurations, key=lambda c: counts[c])}


ORACLES = {"grid": _GridOracle, "random": _RandomOracle, "bayesian": _BayesianOracle,
           "hyperband": _HyperbandOracle}


class _ConfirmHyperModel(kt.HyperModel):
    def __init__(self, model: keras.Model, advice: Advice, configurations: list[str], loss: Any,
                 metrics: list[str]) -> None:
        super().__init__()
        self.model, self.advice, self.configurations = model, advice, configurations
        self.loss, self.metrics = loss, metrics

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        candidate, initializer = hp.Choice("configuration", self.configurations).split(_SEPARATOR)
        trial_advice = dataclasses.replace(self.advice, hidden_activation=candidate,
                                           hidden_initializer=initializer)
        built = apply(self.model, trial_advice)
        optimizer = (keras.optimizers.deserialize(keras.optimizers.serialize(self.model.optimizer))
                     if getattr(self.model, "compiled", False) and self.model.optimizer is not None
                     else keras.optimizers.Adam())
        built.compile(optimizer=optimizer, loss=built.loss if built.compiled else self.loss,
                      metrics=self.metrics)
        return built


class _ConfirmTuner(kt.Tuner):
    """keras-tuner's Tuner, with seeded executions and every execution's score reported."""

    def __init__(self, *args: Any, executions: int, seed: int, patience: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.executions, self.seed, self.patience = executions, seed, patience
        self.ran: dict[str, dict[str, float]] = {}

    def run_trial(self, trial: Any, x: Any, y: Any, **fit_kwargs: Any) -> dict[str, float]:
        objective = self.oracle.objective
        scores, accuracies = [], []
        if "tuner/epochs" in trial.hyperparameters.values:  # Hyperband's budget for this round
            fit_kwargs["epochs"] = trial.hyperparameters.values["tuner/epochs"]
        for execution in range(self.executions):
            keras.backend.clear_session()
            keras.utils.set_random_seed(self.seed + execution)
            scope = self.distribution_strategy.scope() if self.distribution_strategy else contextlib.nullcontext()
            with scope:
                model = self.hypermodel.build(trial.hyperparameters)
            stop = keras.callbacks.EarlyStopping(monitor=objective.name, mode=objective.direction,
                                                 patience=self.patience)
            fit_kwargs["verbose"] = 2 if fit_kwargs.get("verbose", 0) >= 2 else 0
            history = model.fit(x, y, callbacks=[stop], **fit_kwargs).history
            values = np.asarray(history[objective.name], dtype="float64")
            values = np.where(np.isfinite(values), values, np.inf if objective.direction == "min" else -np.inf)
            best_epoch = int(np.argmax(values) if objective.direction == "max" else np.argmin(values))
            scores.append(float(values[best_epoch]))
            if "val_accuracy" in history:
                accuracies.append(float(history["val_accuracy"][best_epoch]))
        metrics = {objective.name: float(np.mean(scores))}
        metrics.update({f"execution_{i}": score for i, score in enumerate(scores)})
        if accuracies:
            metrics["accuracy_at_best"] = float(np.mean(accuracies))
        self.ran[trial.trial_id] = metrics
        return metrics


def _current_configuration(model: keras.Model) -> tuple[str, str] | None:
    """The model's most common hidden activation and initializer, when keras_act can rebuild them."""
    model_view = view(model)
    pairs = [(site.activation, model_view.by_name[site.weight].kernel_initializer)
             for site in model_view.hidden_sites() if site.weight]
    pairs = [(a, i) for a, i in pairs if a in KNOWN_ACTIVATIONS and i]
    if not pairs:
        return None
    return max(set(pairs), key=pairs.count)


def _check_labels(task: str, y: np.ndarray, units: int | None) -> None:
    labels = y.astype("float64")
    column = labels.ndim == 1 or labels.shape[-1] == 1
    if task == "binary" and not (column and labels.min() >= 0 and labels.max() <= 1):
        raise ValueError(f"confirm: a binary task needs labels in [0, 1], received [{labels.min():g}, {labels.max():g}].")
    if task == "multiclass":
        if column and not (np.all(labels == np.round(labels)) and labels.min() >= 0
                           and (units is None or labels.max() < units)):
            raise ValueError(f"confirm: a multiclass task needs integer labels in [0, {units}), "
                             f"received [{labels.min():g}, {labels.max():g}].")
        if not column and units is not None and labels.shape[-1] != units:
            raise ValueError(f"confirm: one-hot labels have {labels.shape[-1]} columns but the output has {units} units.")
    if task == "multilabel" and not (not column and np.all((labels == 0) | (labels == 1))):
        raise ValueError("confirm: a multilabel task needs multi-hot 0/1 label rows.")


def _split(x: np.ndarray, y: np.ndarray, fraction: float, seed: int) -> tuple[Any, Any, Any, Any]:
    if not 0 < fraction < 1:
        raise ValueError(f"confirm: `validation_split` must be in (0, 1), received {fraction!r}.")
    rows = len(y)
    n_val = int(rows * fraction)
    if n_val < 1 or rows - n_val < 1:
        raise ValueError(f"confirm: {rows} samples are too few for validation_split={fraction}: "
                         "it needs at least one training and one validation row.")
    # A seeded shuffle first: Keras' own validation_split takes the last rows, and data is often sorted.
    order = np.random.default_rng(seed).permutation(rows)
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]


def _check_directory(project: Path, settings: dict[str, Any], overwrite: bool) -> None:
    if overwrite or not project.exists():
        return
    saved_file = project / SETTINGS_FILE
    if not saved_file.exists():
        raise ValueError(f"confirm: {project} holds something other than a confirm() search; pass "
                         "another directory/project_name, or overwrite=True to replace it.")
    saved = json.loads(saved_file.read_text())
    if saved != settings:
        changed = sorted(key for key in settings if saved.get(key) != settings[key])
        raise ValueError(f"confirm: {project} holds a different search (differs in: {', '.join(changed)}); "
                         "its results are kept. Pass another directory/project_name, or overwrite=True.")


def confirm(
    model: keras.Model,
    x: Any,
    y: Any,
    advice: Advice | None = None,
    candidates: list[str] | None = None,
    initializers: str | list[str] = "paired",
    tuner: str = "grid",
    executions_per_trial: int = 3,
    epochs: int = 20,
    validation_split: float = 0.2,
    validation_data: tuple[Any, Any] | None = None,
    objective: Any = None,
    directory: str | Path | None = None,
    project_name: str | None = None,
    overwrite: bool = False,
    distribution_strategy: Any = None,
    seed: int = 0,
    verbose: int = 1,
) -> ConfirmResult:
    """Search the advice's candidates with keras-tuner on (`x`, `y`) and say whether the advice holds.

    Args:
        model: the user's Sequential or Functional model (never modified).
        x, y: training data (NumPy arrays).
        advice: `advise(model, y=y)` when None.
        candidates: hidden activation ids to compare; default `advice.candidates`, and then Keras'
            defaults (relu + glorot_uniform) are compared too.
        initializers: ``"paired"`` (the initializer that fits each activation) or a list of
            Keras initializer names to search in combination with every candidate.
        tuner: ``"grid"``, ``"random"``, ``"bayesian"`` or ``"hyperband"`` (keras-tuner's oracles;
            every one covers every configuration; Hyperband retrains the best for more epochs and
            ranks each configuration by its longest training).
        executions_per_trial: trainings per configuration (seeds ``seed + i``).
        epochs: the most epochs per training; early stopping on the objective cuts bad runs short.
        validation_split: the share of (x, y) held out (after a seeded shuffle), unless
            `validation_data` is given.
        objective: what to rank by, default ``"val_loss"``; any keras-tuner objective.
        directory, project_name: where keras-tuner keeps the search; a temporary directory
            when None. Run again with the same ones and overwrite=False to resume.
        overwrite: start afresh, deleting an earlier search of the same name.
        distribution_strategy: passed to keras-tuner, e.g. `tf.distribute.MirroredStrategy()`.
        seed: the seed of the executions and of keras-tuner's sampling.
        verbose: 0 silent; 1 keras-tuner's own trial output and the final table; 2 also each
            training's epochs.

    Example:
        >>> import keras, numpy as np
        >>> x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
        >>> y = (x[:, 0] > 0).astype("float32")
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
        ...                           keras.layers.Dense(1, activation="sigmoid")])
        >>> result = confirm(model, x, y, candidates=["relu", "tanh"], executions_per_trial=1,
        ...                  epochs=2, verbose=0)  # doctest: +SKIP
        >>> [row.candidate for row in result.ranking]  # doctest: +SKIP
        ['tanh', 'relu']
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"confirm expects a keras.Model, received {type(model).__name__}.")
    if tuner not in ORACLES:
        raise ValueError(f"confirm: `tuner` must be one of {', '.join(ORACLES)}, received {tuner!r}.")
    for name, value in (("executions_per_trial", executions_per_trial), ("epochs", epochs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"confirm: `{name}` must be a positive integer, received {value!r}.")
    if y is None:
        raise ValueError("confirm: `y` (the labels) is required.")
    if len(getattr(model, "outputs", None) or ()) > 1:
        raise ValueError(f"confirm: the model has {len(model.outputs)} outputs; confirm() searches models "
                         "with one output. advise() and apply() handle every head; confirm a single-"
                         "output version of the model (its body and one head).")
    x, y = prepare_sample(model, x, y, max_samples=max(1, len(np.asarray(y))))  # checks only, no cut
    if validation_data is not None:
        x_val, y_val = prepare_sample(model, validation_data[0], validation_data[1],
                                      max_samples=len(np.asarray(validation_data[1])))
        x_train, y_train = x, y
    else:
        x_train, y_train, x_val, y_val = _split(x, y, validation_split, seed)
    advice = advice if advice is not None else advise(model, y=y)
    output = output_layer(model)
    _check_labels(advice.task, y, output.units if output else None)

    explicit = candidates is not None
    candidates = list(candidates) if explicit else list(advice.candidates)
    unknown = [c for c in candidates if c not in KNOWN_ACTIVATIONS]
    if unknown or not candidates:
        raise ValueError(f"confirm: unknown candidate id(s) {unknown}; valid ids: {', '.join(keras_act.names())} "
                         "or a Keras activation name.")
    if initializers == "paired":
        pairs = [(c, initializer_for(c)) for c in candidates]
    else:
        for name in initializers:
            try:
                keras.initializers.get(name)
            except (ValueError, TypeError) as error:
                raise ValueError(f"confirm: unknown initializer {name!r} in `initializers`.") from error
        pairs = [(c, i) for c in candidates for i in initializers]
    advised_pair = (advice.hidden_activation, advice.hidden_initializer)
    baseline_pair = _current_configuration(model)
    # The advice's candidates also meet Keras' defaults, what most models start from.
    extra_pairs = [] if explicit else [KERAS_DEFAULTS]
    for pair in (advised_pair, baseline_pair, *extra_pairs):
        if pair is not None and pair not in pairs:
            pairs.append(pair)
    configurations = [_key(*pair) for pair in pairs]

    objective = objective or DEFAULT_OBJECTIVE
    objective_name = objective if isinstance(objective, str) else objective.name
    directory = str(directory) if directory is not None else tempfile.mkdtemp(prefix="keras_act_confirm_")
    project_name = project_name or "confirm"
    settings = {"configurations": configurations, "objective": objective_name, "epochs": epochs,
                "executions_per_trial": executions_per_trial, "tuner": tuner, "seed": seed}
    project = Path(directory) / project_name
    _check_directory(project, settings, overwrite)

    classification = advice.task in ("binary", "multiclass", "multilabel")
    hypermodel = _ConfirmHyperModel(model, advice, configurations,
                                     training_loss(model, advice.task, output, y),
                                     ["accuracy"] if classification else [])
    kt_objective = objective if not isinstance(objective, str) else kt.Objective(
        objective, "max" if "acc" in objective or "auc" in objective else "min")
    extra = {"max_epochs": epochs} if tuner == "hyperband" else {}
    oracle = ORACLES[tuner](kt_objective, configurations, seed, **extra)
    search = _ConfirmTuner(oracle, hypermodel, directory=directory, project_name=project_name,
                           overwrite=overwrite, distribution_strategy=distribution_strategy,
                           executions=executions_per_trial, seed=seed, patience=EARLY_STOPPING_PATIENCE)
    project.mkdir(parents=True, exist_ok=True)
    (project / SETTINGS_FILE).write_text(json.dumps(settings, indent=1))
    # keras-tuner prints its own trial summaries when verbose; per-epoch fit output only from verbose=2.
    search.search(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs,
                  batch_size=BATCH_SIZE, verbose=verbose)
    result = _result(search, configurations, advised_pair, baseline_pair, objective_name, directory)
    if verbose:
        print(f"\n{result}")
    return result


def _rows_from_trials(search: _ConfirmTuner, objective: str) -> dict[str, dict[str, float]]:
    """Per configuration, the metrics of its finished trial (all of them, resumed ones too)."""
    try:
        trials = search.oracle.get_best_trials(num_trials=10_000)
    except Exception:  # a distributed worker after the chief has gone: what it ran itself
        trials = []
    found: dict[str, dict[str, float]] = {}
    budgets: dict[str, int] = {}
    for trial in trials:  # best first; per configuration, its longest training (Hyperband)
        configuration = trial.hyperparameters.values.get("configuration")
        budget = int(trial.hyperparameters.values.get("tuner/epochs", 0))
        if trial.status != "COMPLETED" or budgets.get(configuration, -1) >= budget:
            continue
        budgets[configuration] = budget
        names = [n for n in trial.metrics.metrics if n == objective or n.startswith("execution_")
                 or n == "accuracy_at_best"]
        found[configuration] = {n: trial.metrics.get_last_value(n) for n in names}
    if not found and search.ran:
        trial_values = {tid: search.oracle.get_trial(tid).hyperparameters.values["configuration"]
                        for tid in search.ran}
        found = {trial_values[tid]: metrics for tid, metrics in search.ran.items()}
    return found


def _result(search: _ConfirmTuner, configurations: list[str], advised_pair: tuple[str, str],
            baseline_pair: tuple[str, str] | None, objective: str, directory: str) -> ConfirmResult:
    higher = search.oracle.objective.direction == "max"
    metrics = _rows_from_trials(search, objective)
    if not metrics:
        raise RuntimeError("confirm: no trial finished; see keras-tuner's output above for the errors.")
    unsorted = []
    for configuration, values in metrics.items():
        candidate, initializer = configuration.split(_SEPARATOR)
        scores = [values[k] for k in sorted(values, key=lambda n: int(n.split("_")[1]) if n.startswith("execution_") else -1)
                  if k.startswith("execution_")]
        unsorted.append((candidate, initializer, scores, values.get("accuracy_at_best")))
    unsorted.sort(key=lambda row: np.mean(row[2]) * (-1 if higher else 1))
    ranking = [
        ConfirmRow(candidate, initializer, float(np.mean(scores)),
                   float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0, scores, rank,
                   (candidate, initializer) == advised_pair, (candidate, initializer) == baseline_pair, accuracy)
        for rank, (candidate, initializer, scores, accuracy) in enumerate(unsorted, start=1)
    ]
    best = ranking[0]
    advised = next((r for r in ranking if r.advised), None)
    baseline = next((r for r in ranking if r.baseline), None)
    tested = best.executions > 1
    confirmed, details = False, []
    if advised is not None:
        confirmed, line = _within_noise(advised, best, tested)
        details.append(line)
    verdict = _verdict(advised, best, baseline, confirmed, tested)
    if baseline is not None and advised is not None and baseline is not advised:
        details.append(_baseline_line(advised, baseline, tested))
    missing = [c for c in configurations if c not in metrics]
    if missing:
        details.append(f"Not finished: {', '.join(missing)}.")
    return ConfirmResult(ranking, objective, higher, best, advised, baseline, confirmed, tested,
                         len(search.ran), directory, verdict, details)


def _pooled_se(a: ConfirmRow, b: ConfirmRow) -> float:
    return math.sqrt(a.standard_error ** 2 + b.standard_error ** 2)


def _within_noise(row: ConfirmRow, best: ConfirmRow, tested: bool) -> tuple[bool, str]:
    gap = abs(row.mean - best.mean)
    if row is best:
        return True, "The advised configuration is the best."
    if not tested:
        return False, (f"One execution per configuration: no significance test; by the means the advised "
                       f"one is {gap:.4f} behind the best.")
    limit = NOISE_STANDARD_ERRORS * _pooled_se(row, best)
    return gap <= limit, (f"Gap to the best: {gap:.4f}; {NOISE_STANDARD_ERRORS:g} pooled standard errors: "
                          f"{limit:.4f} -> {'within noise' if gap <= limit else 'significantly worse'}.")


def _verdict(advised: ConfirmRow | None, best: ConfirmRow, baseline: ConfirmRow | None,
             confirmed: bool, tested: bool) -> str:
    if advised is None:
        return "The advised configuration did not finish; no verdict."
    name = f"{advised.candidate} with {advised.initializer}"
    if advised is best:
        return f"Confirmed: the advice ({name}) ranked first."
    if confirmed:
        return (f"Confirmed: the advice ({name}) is within noise of the best "
                f"({best.candidate} with {best.initializer}).")
    return (f"Not confirmed: {best.candidate} with {best.initializer} beat the advice ({name})"
            + (" significantly." if tested else " (by the means; no test with one execution)."))


def _baseline_line(advised: ConfirmRow, baseline: ConfirmRow, tested: bool) -> str:
    better = (advised.rank < baseline.rank)
    gap = abs(advised.mean - baseline.mean)
    significant = tested and gap > NOISE_STANDARD_ERRORS * _pooled_se(advised, baseline)
    yours = f"your current {baseline.candidate} with {baseline.initializer}"
    if better and significant:
        return f"The advised change beats {yours} (rank {baseline.rank}) by {gap:.4f}: worth making."
    if not better and significant:
        return f"Keep yours: {yours} beats the advice by {gap:.4f}."
    return f"The advised change and {yours} are within noise of each other: keep yours unless you want the change."
