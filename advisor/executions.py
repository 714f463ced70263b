"""The executions of one search row: independent, seeded trainings of the same model.

Execution ``i`` of a row builds the model after ``keras.utils.set_random_seed(seed + i)``, trains
it for at most `epochs` epochs with early stopping on the objective (Keras' `EarlyStopping`
rule, `patience` epochs without improvement) and scores it at its best epoch. Two ways to train
them, with the same numbers:

- **fused** (the default): the copies are one Keras model, one build, one compile, one fit. Each
  copy keeps its own seeded weights (drawn exactly as the one-by-one path draws them), its own
  loss and its own batches: a `tf.data` pipeline, built once, reshuffles each copy's rows with its
  own seed every epoch. The copies share no weight, and the optimizer's update of a weight reads
  only that weight's gradient, so each copy trains as it would alone. Each copy's early stop is
  replayed from its own validation curve; the fit ends when every copy has stopped.
- **one by one**: a `fit()` per execution. Used where fusing would not give the same numbers (an
  optimizer that clips the global norm of all gradients together; a loss objective with
  regularization losses, which the per-copy losses leave out), for models too large to copy
  (`FUSED_WEIGHTS_LIMIT`), and on request.

Measured in benchmarks/confirm.py (one training costs mostly overhead on small data).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Sequence

import keras
import numpy as np

# The most weights one fused model holds (all its copies together); larger models train in
# groups of copies, or one by one. 20M float32 weights with Adam's two slots is under 1 GB.
FUSED_WEIGHTS_LIMIT = 20_000_000
COPY_NAME = "execution_{}"


@dataclass(frozen=True)
class RowTraining:
    """How each execution of a row is built and trained.

    Attributes:
        build: returns a fresh, uncompiled model; its weights are drawn from Keras' global seed.
        loss, metrics: compiled into each execution (its own loss, its own metrics).
        optimizer: returns a fresh optimizer.
        objective: the metric to early-stop on and score by (``"val_loss"``, ``"val_accuracy"``...).
        higher_is_better: the objective's direction.
        epochs, batch_size, patience: the training budget and early-stopping patience.
        shuffle: reshuffle the training rows every epoch (off: every execution sees the rows in order).
        scope: a context to build and compile in (a distribution strategy's scope).

    Example:
        >>> spec = RowTraining(build=lambda: keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
        ...                    loss="mse", metrics=[], optimizer=keras.optimizers.Adam,
        ...                    objective="val_loss", higher_is_better=False, epochs=3)
        >>> spec.batch_size
        32
    """

    build: Callable[[], keras.Model]
    loss: Any
    metrics: Sequence[str]
    optimizer: Callable[[], Any]
    objective: str
    higher_is_better: bool
    epochs: int
    batch_size: int = 32
    patience: int = 5
    shuffle: bool = True
    scope: Callable[[], ContextManager[Any]] = contextlib.nullcontext


@dataclass(frozen=True)
class Execution:
    """One training of a row: its score at its best epoch, and how long it ran.

    Example:
        >>> Execution(score=0.3, best_epoch=4, epochs=9, accuracy=0.9).epochs
        9
    """

    score: float
    best_epoch: int
    epochs: int
    accuracy: float | None = None


def early_stop(values: Sequence[float], patience: int, higher_is_better: bool) -> tuple[int, int, bool]:
    """Keras' `EarlyStopping` rule replayed on one validation curve: (best epoch, epochs run, stopped).

    An epoch improves when it is strictly better than the best so far; training stops after
    `patience` epochs in a row without improvement. Non-finite values never improve.

    Example:
        >>> early_stop([0.5, 0.4, 0.45, 0.46, 0.3], patience=2, higher_is_better=False)
        (1, 4, True)
        >>> early_stop([0.5, 0.4, 0.45], patience=2, higher_is_better=False)
        (1, 3, False)
    """
    best_epoch, best, wait = 0, None, 0
    for epoch, value in enumerate(values):
        if np.isfinite(value) and (best is None or (value > best if higher_is_better else value < best)):
            best_epoch, best, wait = epoch, value, 0
        else:
            wait += 1
            if wait >= patience:
                return best_epoch, epoch + 1, True
    return best_epoch, len(values), False


def _score(history: dict[str, list[float]], objective: str, accuracy: str, patience: int,
           higher_is_better: bool) -> Execution:
    values = [float(v) for v in history[objective]]
    best_epoch, epochs, _ = early_stop(values, patience, higher_is_better)
    score = values[best_epoch] if np.isfinite(values[best_epoch]) else (-np.inf if higher_is_better else np.inf)
    return Execution(score, best_epoch, epochs,
                     float(history[accuracy][best_epoch]) if accuracy in history else None)


def copy_metric(name: str, index: int) -> str:
    """The name Keras gives metric `name` of copy `index` in a fused model.

    Example:
        >>> copy_metric("val_loss", 2), copy_metric("accuracy", 0)
        ('val_execution_2_loss', 'execution_0_accuracy')
    """
    copy = COPY_NAME.format(index)
    return f"val_{copy}_{name[4:]}" if name.startswith("val_") else f"{copy}_{name}"


def train_executions(spec: RowTraining, data: tuple[Any, Any, Any, Any], executions: int, seed: int,
                     fuse: bool = True, verbose: int = 0,
                     on_epoch: Callable[[int], None] | None = None) -> list[Execution]:
    """Train `executions` seeded copies of the row's model; their scores, in seed order.

    Args:
        spec: what to build and how to train it.
        data: (x_train, y_train, x_val, y_val); x a NumPy array or a list of them (one per input).
        executions: how many copies (seeds ``seed``, ``seed + 1``, ...).
        fuse: train the copies as one model where that gives the same numbers (see the module
            docstring); False trains them one by one.
        verbose: 2 prints Keras' per-epoch lines.
        on_epoch: called with the number of copy-epochs finished so far (progress).

    Example:
        >>> x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
        >>> y = x.sum(axis=1, keepdims=True)
        >>> spec = RowTraining(lambda: keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
        ...                    "mse", [], keras.optimizers.Adam, "val_loss", False, epochs=2)
        >>> len(train_executions(spec, (x, y, x, y), executions=3, seed=0))
        3
    """
    train_inputs = _as_list(data[0])
    fusable = fuse and executions > 1 and _fuses_exactly(spec)
    results: list[Execution] = []
    done = 0
    while len(results) < executions:
        keras.backend.clear_session()
        first = len(results)
        copies = _build_copies(spec, seed, first, 1)
        group = 1
        if fusable:
            weights = max(1, copies[0].count_params())
            group = max(1, min(executions - first, FUSED_WEIGHTS_LIMIT // weights))
            if group > 1 and _fuses_exactly(spec, copies[0]):
                copies += _build_copies(spec, seed, first + 1, group - 1)
            else:
                group, fusable = 1, False

        def progress(copy_epochs: int) -> None:
            if on_epoch is not None:
                on_epoch(done + copy_epochs)

        trained = (_fit_fused(spec, copies, (train_inputs, *data[1:]), seed + first, verbose, progress)
                   if group > 1 else None)
        if trained is None:  # one by one, or extra losses found in the fused run
            trained = [_fit_alone(spec, copies[0], (train_inputs, *data[1:]), verbose, progress)]
            copies = copies[:1]
        results += trained
        done += sum(e.epochs for e in trained)
    return results


def _as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _build_copies(spec: RowTraining, seed: int, first: int, count: int) -> list[keras.Model]:
    copies = []
    with spec.scope():
        for index in range(first, first + count):
            keras.utils.set_random_seed(seed + index)
            copies.append(spec.build())
    return copies


def _fuses_exactly(spec: RowTraining, model: keras.Model | None = None) -> bool:
    """Whether one fused fit gives each copy exactly what it would get alone."""
    optimizer = spec.optimizer()
    if getattr(optimizer, "global_clipnorm", None):
        return False  # the norm of all copies' gradients together would scale each copy's step
    # A copy's own loss in a fused model leaves its weights' regularization out; the fused run
    # checks for any other missing term itself (_losses_add_up).
    return model is None or spec.objective not in ("loss", "val_loss") or not model.losses


def _fit_alone(spec: RowTraining, model: keras.Model, data: tuple[list[Any], Any, Any, Any], verbose: int,
               progress: Callable[[int], None]) -> Execution:
    x, y, x_val, y_val = data
    with spec.scope():
        model.compile(optimizer=spec.optimizer(), loss=spec.loss, metrics=list(spec.metrics))
    stop = keras.callbacks.EarlyStopping(monitor=spec.objective, mode="max" if spec.higher_is_better else "min",
                                         patience=spec.patience)
    epochs = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: progress(epoch + 1))
    history = model.fit(x if len(x) > 1 else x[0], y, validation_data=(_unlist(x_val), y_val),
                        epochs=spec.epochs, batch_size=spec.batch_size, shuffle=spec.shuffle,
                        callbacks=[stop, epochs], verbose=2 if verbose >= 2 else 0).history
    return _score(history, spec.objective, "val_accuracy", spec.patience, spec.higher_is_better)


def _unlist(x: Any) -> Any:
    x = _as_list(x)
    return x if len(x) > 1 else x[0]


class _UntilEveryCopyStopped(keras.callbacks.Callback):
    """Stops the fused fit once Keras' early-stopping rule has stopped every copy."""

    def __init__(self, monitors: list[str], patience: int, higher_is_better: bool,
                 progress: Callable[[int], None]) -> None:
        super().__init__()
        self.monitors, self.patience, self.higher = monitors, patience, higher_is_better
        self.curves: list[list[float]] = [[] for _ in monitors]
        self.progress = progress

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        for curve, monitor in zip(self.curves, self.monitors):
            curve.append(float(logs.get(monitor, np.nan)))
        replays = [early_stop(curve, self.patience, self.higher) for curve in self.curves]
        self.progress(sum(epochs for _, epochs, _ in replays))
        if all(stopped for _, _, stopped in replays):
            self.model.stop_training = True


def _fit_fused(spec: RowTraining, copies: list[keras.Model], data: tuple[list[Any], Any, Any, Any], seed: int,
               verbose: int, progress: Callable[[int], None]) -> list[Execution] | None:
    """Train the copies as one model; None when its losses show terms the copies' own losses miss."""
    import tensorflow as tf

    x, y, x_val, y_val = data
    x_val = _as_list(x_val)
    count = len(copies)
    with spec.scope():
        inputs, outputs = [], []
        for index, copy in enumerate(copies):
            copy.name = COPY_NAME.format(index)
            own = [keras.Input(shape=t.shape[1:], dtype=t.dtype, name=f"{copy.name}_input_{j}")
                   for j, t in enumerate(copy.inputs)]
            inputs += own
            outputs.append(copy(own if len(own) > 1 else own[0]))
        fused = keras.Model(inputs, outputs)
        # Keras' own per-output loss of a multi-output model averages batches without weighting
        # them by size (a short last batch counts in full); the copies' objective is the loss's
        # mean over rows, as a lone model's loss is.
        fused.compile(optimizer=spec.optimizer(), loss=[spec.loss] * count,
                      metrics=[[*spec.metrics, _mean_loss(spec.loss)] for _ in copies],
                      # XLA's compile of the fused graph costs more than it saves on small data
                      # (a 10-copy MLP on 455 rows: 13.2 s vs 12.0 s for 20 epochs).
                      jit_compile=False if keras.backend.backend() == "tensorflow" else "auto")
        # Keras' TensorFlow trainer builds the metrics inside the first traced step, and
        # tf.function then traces that step twice (1.5 s of the 10-copy MLP's 12 s); build them
        # first. A private hook of Keras: without it the fit is only slower.
        symbolic_build = getattr(fused, "_symbolic_build", None)
        if symbolic_build is not None:
            symbolic_build(data_batch=(tuple(a[:1] for _ in copies for a in x), tuple(y[:1] for _ in copies), None))
    train = training_batches(x, y, count, spec.batch_size, spec.shuffle, seed)
    validation = tf.data.Dataset.from_tensor_slices((tuple(x_val), y_val)).batch(spec.batch_size).map(
        lambda xs, ys: (tuple(xs) * count, (ys,) * count)).cache()
    monitors = [copy_metric(_own_objective(spec.objective), i) for i in range(count)]
    watcher = _UntilEveryCopyStopped(monitors, spec.patience, spec.higher_is_better, progress)
    history = fused.fit(train, validation_data=validation, epochs=spec.epochs, callbacks=[watcher],
                        shuffle=False, verbose=2 if verbose >= 2 else 0).history
    if spec.objective in ("loss", "val_loss") and not _losses_add_up(history, count, spec.objective):
        return None
    return [_score(history, monitors[i], copy_metric("val_accuracy", i), spec.patience, spec.higher_is_better)
            for i in range(count)]


def training_batches(x: list[Any], y: Any, copies: int, batch_size: int, shuffle: bool, seed: int) -> Any:
    """The fused model's training data: per batch, each copy's inputs and labels, its own order.

    A `tf.data.Dataset` built once. Each epoch (each new iteration) every copy reshuffles its row
    indices with its own seed (``seed + copy``); the rows are gathered from arrays held once.
    Without `shuffle` every copy reads the rows in order.

    Example:
        >>> x = np.arange(6, dtype="float32").reshape(6, 1)
        >>> inputs, labels = next(iter(training_batches([x], np.arange(6), 2, 6, shuffle=False, seed=0)))
        >>> [np.asarray(order).tolist() for order in labels]
        [[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]]
    """
    import tensorflow as tf

    rows = len(y)
    arrays, labels = [tf.constant(a) for a in x], tf.constant(y)
    orders = [tf.data.Dataset.range(rows) for _ in range(copies)]
    if shuffle:
        tf.random.set_seed(seed)
        orders = [order.shuffle(rows, seed=seed + i, reshuffle_each_iteration=True) for i, order in enumerate(orders)]

    def gather(*indices: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        return (tuple(tf.gather(a, index) for index in indices for a in arrays),
                tuple(tf.gather(labels, index) for index in indices))

    return tf.data.Dataset.zip(tuple(orders)).batch(batch_size).map(gather).prefetch(tf.data.AUTOTUNE)


OWN_LOSS = "own_loss"


def _mean_loss(loss: Any) -> Any:
    """The loss as a metric: its per-row values averaged over every row of the epoch."""
    loss = keras.losses.get(loss)
    if isinstance(loss, keras.losses.Loss):
        return keras.metrics.MeanMetricWrapper(loss.call, name=OWN_LOSS)  # Loss.call does not reduce

    def per_row(y_true: Any, y_pred: Any) -> Any:
        # As Keras matches a loss function's ranks: (n,) labels against an (n, k) output.
        if len(y_true.shape) == len(y_pred.shape) - 1:
            y_true = keras.ops.expand_dims(y_true, -1)
        return loss(y_true, y_pred)

    return keras.metrics.MeanMetricWrapper(per_row, name=OWN_LOSS)


def _own_objective(objective: str) -> str:
    """The copies' metric that stands for `objective` ("val_loss" -> "val_own_loss")."""
    if objective in ("loss", "val_loss"):
        return objective.replace("loss", OWN_LOSS)
    return objective


def _losses_add_up(history: dict[str, list[float]], count: int, objective: str) -> bool:
    """Whether the fused total loss is the sum of the copies' own (no loss term the copies miss)."""
    total = history["val_loss" if objective.startswith("val_") else "loss"][0]
    parts = sum(history[copy_metric(_own_objective(objective), i)][0] for i in range(count))
    return bool(np.isclose(total, parts, rtol=1e-4, atol=1e-6))
