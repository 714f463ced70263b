"""`confirm()`: test the advice with a real keras-tuner search on the user's data.

Every row of the search is one hidden activation with one kernel initializer, applied to the
user's model with `apply()` and trained from fresh weights. The rows are the advice's candidates
and Keras' defaults (relu + glorot_uniform; or the caller's candidates alone), the advisor's pick
(added when missing) and the model's current configuration (the baseline: "does the change beat
what I have?"). keras-tuner runs the search with the oracles of `advisor.oracles`; each trial
trains `executions_per_trial` seeded executions (`advisor.executions`: seeds ``seed + i``, so
every row sees the same seeds and the same search gives the same numbers twice), and
`advisor.verdict` ranks the rows and judges the advice.

The data: whatever `model.fit` takes (`advisor.data`): arrays, lists and dicts of arrays, strings
for a text model, labels per output for a multi-output model, a `tf.data.Dataset` or
`keras.utils.PyDataset` of (x, y[, sample_weight]) read into memory once, `sample_weight` and
`class_weight`. Each head of a multi-output model trains with its own loss and loss weight; the
default objective is the total `val_loss`, and a head's own (``"val_<output>_loss"``,
``"val_<output>_accuracy"``) can be chosen.

Racing (the grid's default; ``race=False`` turns it off): rows train in rounds of executions, a
paired test across rows stops a row that is worse than the leader, and the race ends once the
verdict no longer depends on the executions to come (`advisor.racing`); a `budget` of executions
or wall time can end it sooner, and the result then says what it decided and what it could not.
Without racing every row trains all its executions.

Resuming: with the same `directory` and overwrite=False a search finishes only its missing
trials (a race: where it was, the rows that were out staying out). A directory that holds a
different search is refused, never deleted, unless overwrite=True. Without a `directory` the
search runs in a temporary one, removed at the end.
"""

from __future__ import annotations

import datetime
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import keras
import numpy as np

import keras_act
from keras_act.paths import writable_folder

from .advice import Advice
from .advise import advise
from .data import IN_MEMORY_LIMIT_BYTES, FitData, StreamedData, read_fit_data
from .inspection import KNOWN_ACTIVATIONS, view
from .oracles import ORACLES, Budget, RaceOracle, objective_from
from .recommend import initializer_for
from .row_training import TOGETHER_WEIGHTS_LIMIT
from .sample import is_dataset
from .search import (
    ConfirmHyperModel,
    ConfirmTuner,
    SearchProgress,
    check_directory,
    completed_executions,
    execution_scores,
    mean_accuracy,
    quiet_unless,
    write_settings,
)
from .task import training_loss
from .verdict import ConfirmResult, configuration_key, rank

EARLY_STOPPING_PATIENCE = 5
# Executions per configuration by default. Ten seeds cost what three one-by-one trainings did
# before fusing (benchmarks/confirm.py) and narrow the noise band by sqrt(10/3) = 1.8x.
FUSED_EXECUTIONS = 10
SEQUENTIAL_EXECUTIONS = 3
DEFAULT_OBJECTIVE = "val_loss"
BATCH_SIZE = 32
# Keras' out-of-the-box hidden configuration (Dense's glorot_uniform with relu). On small tabular
# data it was within noise of the best more often than relu + he_normal (benchmarks/advisor_quality.py),
# so the advice's candidates are always compared with it.
KERAS_DEFAULTS = ("relu", "glorot_uniform")


def _current_configuration(model: keras.Model) -> tuple[str, str] | None:
    """The model's most common hidden activation and initializer, when keras_act can rebuild them."""
    model_view = view(model)
    pairs = [
        (site.activation, model_view.by_name[site.weight].kernel_initializer)
        for site in model_view.hidden_sites()
        if site.weight
    ]
    pairs = [(a, i) for a, i in pairs if a in KNOWN_ACTIVATIONS and i]
    if not pairs:
        return None
    return max(set(pairs), key=pairs.count)


def _check_labels(task: str, y: np.ndarray, units: int | None, head: str = "") -> None:
    """One clear error where labels cannot train an output of this task (`head`: its name, for a
    model with several outputs)."""
    try:
        labels = y.astype("float64")
    except (TypeError, ValueError):
        raise TypeError(f"confirm: the labels{head} must be numbers, received dtype {y.dtype}.") from None
    column = labels.ndim == 1 or labels.shape[-1] == 1
    if task == "binary" and not (column and labels.min() >= 0 and labels.max() <= 1):
        raise ValueError(
            f"confirm: a binary task needs labels{head} in [0, 1], received [{labels.min():g}, {labels.max():g}]."
        )
    if task == "multiclass":
        if column and not (
            np.all(labels == np.round(labels)) and labels.min() >= 0 and (units is None or labels.max() < units)
        ):
            raise ValueError(
                f"confirm: a multiclass task needs integer labels{head} in [0, {units}), "
                f"received [{labels.min():g}, {labels.max():g}]."
            )
        if not column and units is not None and labels.shape[-1] != units:
            raise ValueError(
                f"confirm: one-hot labels{head} have {labels.shape[-1]} columns but the output has {units} units."
            )
    if task == "multilabel" and not (not column and np.all((labels == 0) | (labels == 1))):
        raise ValueError(f"confirm: a multilabel task needs multi-hot 0/1 label rows{head}.")


def _read_validation(model: keras.Model, validation_data: Any) -> FitData | StreamedData:
    if is_dataset(validation_data):
        return read_fit_data(model, validation_data, what="validation_data")
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
        return read_fit_data(model, *validation_data, what="validation_data")
    raise TypeError(
        "confirm: `validation_data` must be (x, y), (x, y, sample_weight), a tf.data.Dataset or a "
        f"keras.utils.PyDataset, as in Keras' fit; received {type(validation_data).__name__}."
    )


def _read_data(
    model: keras.Model,
    x: Any,
    y: Any,
    sample_weight: Any,
    class_weight: Any,
    steps_per_epoch: Any,
    validation_data: Any,
    validation_split: float,
) -> tuple[Any, Any, FitData]:
    """The training data, the validation data (or None) and the rows the checks and the advice
    read (a streamed dataset's first batches)."""
    data = read_fit_data(model, x, y, sample_weight, class_weight, steps_per_epoch)
    validation = None if validation_data is None else _read_validation(model, validation_data)
    streamed = isinstance(data, StreamedData)
    if streamed and validation is None:
        raise ValueError(
            f"confirm: the dataset passed as `x` holds more than {IN_MEMORY_LIMIT_BYTES >> 20} MiB, so "
            "it is streamed and cannot be split; pass `validation_data` (as Keras' fit takes no "
            "validation_split for a dataset), or a part of it (dataset.take(batches))."
        )
    if isinstance(validation, StreamedData) and not streamed:
        raise ValueError(
            f"confirm: `validation_data` holds more than {IN_MEMORY_LIMIT_BYTES >> 20} MiB; pass a "
            "part of it (dataset.take(batches))."
        )
    rows = data.sample if streamed else data
    if validation is None:
        _check_split(rows.rows, validation_split)
    return data, validation, rows


def _as_fit_arguments(data: FitData | StreamedData) -> tuple[Any, ...]:
    """(x, y) or (x, y, sample_weight) for the executions: x a list, y one array per output; a
    streamed dataset as itself, y None."""
    if isinstance(data, StreamedData):
        return data, None
    y = data.y[0] if len(data.y) == 1 else list(data.y)
    return (list(data.x), y) if data.sample_weight is None else (list(data.x), y, data.sample_weight)


def _check_split(rows: int, fraction: float) -> None:
    if not 0 < fraction < 1:
        raise ValueError(f"confirm: `validation_split` must be in (0, 1), received {fraction!r}.")
    n_val = int(rows * fraction)
    if n_val < 1 or rows - n_val < 1:
        raise ValueError(
            f"confirm: {rows} samples are too few for validation_split={fraction}: "
            "it needs at least one training and one validation row."
        )


def confirm(
    model: keras.Model,
    x: Any,
    y: Any = None,
    advice: Advice | None = None,
    candidates: list[str] | None = None,
    initializers: str | list[str] = "paired",
    tuner: str = "grid",
    executions_per_trial: int | None = None,
    epochs: int = 20,
    validation_split: float = 0.2,
    validation_data: Any = None,
    objective: Any = None,
    directory: str | Path | None = None,
    project_name: str | None = None,
    overwrite: bool = False,
    distribution_strategy: Any = None,
    seed: int = 0,
    verbose: int = 1,
    fuse_executions: bool = True,
    sample_weight: Any = None,
    class_weight: dict[Any, float] | None = None,
    steps_per_epoch: int | None = None,
    race: bool | None = None,
    budget: int | str | datetime.timedelta | None = None,
) -> ConfirmResult:
    """Search the advice's candidates with keras-tuner on (`x`, `y`) and say whether the advice holds.

    Args:
        model: the user's Sequential or Functional model (never modified).
        x: the training inputs as `model.fit` takes them: arrays (strings for a text input),
            a list or dict of arrays for several inputs; or a `tf.data.Dataset` /
            `keras.utils.PyDataset` yielding (x, y) or (x, y, sample_weight), read into memory
            once when it holds at most `keras_act.advisor.data.IN_MEMORY_LIMIT_BYTES` (1 GiB),
            else streamed: each execution's `fit` reads it batch by batch, and
            `validation_data` is then required.
        y: the labels: an array, or a dict by output name or a list for several outputs;
            None when `x` is a dataset.
        advice: `advise(model, y=y)` when None.
        candidates: hidden activation ids to compare; default `advice.candidates`, and then Keras'
            defaults (relu + glorot_uniform) are compared too.
        initializers: ``"paired"`` (the initializer that fits each activation) or a list of
            Keras initializer names to search in combination with every candidate.
        tuner: ``"grid"``, ``"random"``, ``"bayesian"`` or ``"hyperband"`` (keras-tuner's oracles;
            every one covers every configuration; Hyperband retrains the best for more epochs and
            ranks each configuration by its longest training).
        executions_per_trial: trainings per configuration (seeds ``seed + i``). None:
            `FUSED_EXECUTIONS` (10) where they train as one model (`fuse_executions` and the
            executions within `advisor.row_training.TOGETHER_WEIGHTS_LIMIT`), else `SEQUENTIAL_EXECUTIONS` (3).
        epochs: the most epochs per training; early stopping on the objective cuts bad runs short.
        validation_split: the share of (x, y) each execution holds out (a dataset's rows too, once
            read), unless `validation_data` is given: execution ``i`` of every configuration
            holds out the same rows (seeded by ``seed + i``), and the rows change from one
            execution to the next, so the noise
            band includes how much a score depends on the rows held out and the verdict holds
            beyond one split (repeated random sub-sampling validation).
        objective: what to rank by, default ``"val_loss"``: a metric name whose direction
            keras-tuner knows, or a `keras_tuner.Objective`.
        directory: where keras-tuner keeps the search. Run again with the same one (and
            `project_name`) and overwrite=False to resume. None: a temporary directory, removed
            at the end.
        project_name: the search's name inside `directory`.
        overwrite: start afresh, deleting an earlier search of the same name.
        distribution_strategy: passed to keras-tuner, e.g. `tf.distribute.MirroredStrategy()`.
        seed: the seed of the executions and of keras-tuner's sampling.
        verbose: 0 prints nothing; 1 one progress bar for the whole search and the final
            table; 2 also keras-tuner's per-trial output and how each row's executions were
            trained (`ConfirmResult.training_report`).
        fuse_executions: train a row's executions together (vectorized or fused) where
            that gives the same numbers (`advisor.executions`); False trains them one by one.
        validation_data: (x, y), (x, y, sample_weight), a dataset or a PyDataset, as in `fit`.
        sample_weight: as in Keras' `fit`; weighted executions train together where they vectorize
            (TensorFlow), else one by one.
        class_weight: as in Keras' `fit` (for one output).
        steps_per_epoch: with a dataset as `x`, read this many batches (required for a dataset
            that repeats forever).
        race: train the rows in rounds and stop a row once the verdict no longer depends on it
            (`advisor.racing`: paired tests across rows, Holm-corrected, and a forecast of the
            full search's verdict). None: race with the grid tuner, not with the others (they
            choose configurations; a race runs every one). False: every row trains all its
            executions (the full search).
        budget: stop the race once it has trained this many executions in all (an int; resumed
            ones count), or after this much wall time in this call (``"90s"``, ``"15m"``,
            ``"2h"`` or a `datetime.timedelta`; a started trial finishes). The result then says
            what was decided and what was not (`ConfirmResult.decided`, `ended_by`).

    Examples:
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
    racing = (tuner == "grid" or budget is not None) if race is None else race
    if budget is not None and not racing:
        raise ValueError("confirm: a `budget` stops a race; it cannot go with race=False.")
    if racing and tuner != "grid":
        raise ValueError(
            f"confirm: racing (race=True, or a `budget`) runs every configuration in each round, so it "
            f"needs the grid tuner (tuner='grid'); received tuner={tuner!r}."
        )
    if overwrite and directory is None:
        raise ValueError(
            "confirm: `overwrite=True` replaces the search kept in `directory`; pass a `directory` with it."
        )
    if directory is not None:
        try:
            writable_folder(directory, "directory")
        except (TypeError, ValueError) as error:
            raise type(error)(f"confirm: {error}") from None
    spending = Budget.parse(budget)
    for name, value, optional in (
        ("executions_per_trial", executions_per_trial, True),
        ("epochs", epochs, False),
        ("steps_per_epoch", steps_per_epoch, True),
    ):
        if (value is not None or not optional) and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"confirm: `{name}` must be a positive integer, received {value!r}.")
    data, validation, rows = _read_data(
        model, x, y, sample_weight, class_weight, steps_per_epoch, validation_data, validation_split
    )
    streamed = isinstance(data, StreamedData)
    # Executions train together only for one output held in memory, and weighted rows only where
    # they vectorize (advisor.row_training.Job, advisor.fused).
    weighted = rows.sample_weight is not None or (validation is not None and validation.sample_weight is not None)
    together = not streamed and len(rows.y) == 1 and (not weighted or keras.backend.backend() == "tensorflow")
    if executions_per_trial is None:
        fits = (model.count_params() if model.built else 0) * FUSED_EXECUTIONS <= TOGETHER_WEIGHTS_LIMIT
        executions_per_trial = FUSED_EXECUTIONS if fuse_executions and fits and together else SEQUENTIAL_EXECUTIONS
    heads = view(model).heads
    labels = rows.y[0] if len(heads) == 1 else {head.name: y_i for head, y_i in zip(heads, rows.y)}
    if advice is None:
        try:
            advice = advise(model, y=labels)
        except (TypeError, ValueError) as error:  # about the labels given here: say so as confirm()
            raise type(error)(re.sub(r"^advise: ", "confirm: ", str(error))) from None
    task_of = {head.name: head.task for head in advice.heads}
    tasks = [advice.task] + [task_of.get(head.name, "regression") for head in heads[1:]]
    for head, task, y_i in zip(heads, tasks, rows.y):
        _check_labels(task, y_i, head.units, f" of output {head.name!r}" if len(heads) > 1 else "")

    explicit = candidates is not None
    candidates = list(candidates) if explicit else list(advice.candidates)
    unknown = [c for c in candidates if c not in KNOWN_ACTIVATIONS]
    if unknown or not candidates:
        raise ValueError(
            f"confirm: unknown candidate id(s) {unknown}; valid ids: {', '.join(keras_act.names())} "
            "or a Keras activation name."
        )
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
    configurations = [configuration_key(*pair) for pair in pairs]

    kt_objective = objective_from(
        objective if objective is not None else DEFAULT_OBJECTIVE,
        [head.name for head in heads] if len(heads) > 1 else (),
    )
    temporary = directory is None
    directory = tempfile.mkdtemp(prefix="keras_act_confirm_") if temporary else str(directory)
    project_name = project_name or "confirm"
    settings = {
        "configurations": configurations,
        "objective": kt_objective.name,
        "epochs": epochs,
        "executions_per_trial": executions_per_trial,
        "tuner": tuner,
        "race": racing,
        "seed": seed,
        "validation": "given" if validation_data is not None else f"{validation_split} per execution",
    }
    project = Path(directory) / project_name
    check_directory(project, settings, overwrite)
    metrics = [["accuracy"] if task in ("binary", "multiclass", "multilabel") else [] for task in tasks]
    losses = [
        training_loss(model, task, head.layer, y_i, head=i)
        for i, (head, task, y_i) in enumerate(zip(heads, tasks, rows.y))
    ]
    compiled = model.get_compile_config() if getattr(model, "compiled", False) else None
    loss_weights = (compiled or {}).get("loss_weights") if len(heads) > 1 else None
    hypermodel = ConfirmHyperModel(
        model,
        advice,
        configurations,
        losses[0] if len(heads) == 1 else losses,
        metrics[0] if len(heads) == 1 else metrics,
        loss_weights,
    )
    extra = {"max_epochs": epochs} if tuner == "hyperband" else {}
    try:
        if racing:
            oracle = RaceOracle(
                kt_objective,
                configurations,
                seed,
                executions_per_trial,
                configuration_key(*advised_pair),
                configuration_key(*baseline_pair) if baseline_pair else None,
                spending,
            )
        else:
            oracle = ORACLES[tuner](kt_objective, configurations, seed, **extra)
        with quiet_unless(verbose >= 2):  # keras-tuner's "Reloading Tuner from ..."
            search = ConfirmTuner(
                oracle,
                hypermodel,
                directory=directory,
                project_name=project_name,
                overwrite=overwrite,
                distribution_strategy=distribution_strategy,
                executions=executions_per_trial,
                seed=seed,
                patience=EARLY_STOPPING_PATIENCE,
                batch_size=BATCH_SIZE,
                fuse=fuse_executions,
                validation_split=validation_split,
            )
        resumed = completed_executions(search.oracle, executions_per_trial)
        if verbose and resumed:
            print(f"confirm(): resuming the search in {project}: {resumed} execution(s) already done.")
        search.progress = SearchProgress(
            len(configurations) * executions_per_trial if tuner != "hyperband" else None, epochs, verbose, done=resumed
        )
        write_settings(project, settings)
        search.progress.start()
        try:
            search.search(
                *_as_fit_arguments(data)[:2],
                sample_weight=None if streamed else data.sample_weight,
                validation_data=None if validation is None else _as_fit_arguments(validation),
                epochs=epochs,
                verbose=2 if verbose >= 2 else 0,
            )
        finally:
            search.progress.finish()
        rows = search.finished_rows()
        if not rows:
            raise RuntimeError("confirm: no trial finished; rerun with verbose=2 to see keras-tuner's errors.")
        accuracies = {c: mean_accuracy(m) for c, m in rows.items()}
        # The race as the chief's oracle replays it (a distributed worker's client holds none).
        state = search.oracle.race()[0] if isinstance(search.oracle, RaceOracle) else None
        ended_by = (
            "decided"
            if state is not None and state.decided
            else "budget"
            if getattr(search.oracle, "cut_by_budget", False)
            else "executions"
        )
        result = rank(
            {c: execution_scores(m) for c, m in rows.items()},
            advised_pair,
            baseline_pair,
            kt_objective.direction == "max",
            kt_objective.name,
            configurations,
            {c: a for c, a in accuracies.items() if a is not None},
            len(search.ran),
            None if temporary else directory,
            race=state,
            ended_by=ended_by,
            trained=search.paths_taken(),
        )
    finally:
        if temporary:
            shutil.rmtree(directory, ignore_errors=True)
    if len(heads) > 1 and kt_objective.name in ("loss", "val_loss"):
        weights = loss_weights if loss_weights is not None else [1.0] * len(heads)
        weight_of = weights if isinstance(weights, dict) else dict(zip((h.name for h in heads), weights))
        result.details.append(
            f"{kt_objective.name} is the total over the {len(heads)} outputs: "
            + ", ".join(
                f"{head.name} ({getattr(loss, 'name', None) or getattr(loss, '__name__', loss)} x "
                f"{weight_of.get(head.name, 1.0):g})"
                for head, loss in zip(heads, losses)
            )
            + "."
        )
    if verbose:
        print(f"\n{result}")
    if verbose >= 2:
        print(f"\n{result.training_report()}")
    return result
