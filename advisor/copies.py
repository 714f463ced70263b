"""What every way of training a row's copies shares: the row, its batches, its loss, its early stops.

Execution ``i`` of a row builds the model after ``keras.utils.set_random_seed(seed + i)``, trains
it for at most `epochs` epochs with early stopping on the objective (Keras' `EarlyStopping`
rule, `patience` epochs without improvement) and scores it at its best epoch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np


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
        validation_split: without validation data, the share of the rows each execution holds out
            (its own rows: see `execution_data`).
        scope: a context to build and compile in (a distribution strategy's scope).
        loss_weights: per output, its loss's weight in the total (a model with several outputs).
        traced: where `advisor.vectorized` keeps the row's traced training step between calls
            with as many copies (a race's rounds of one row), so that a later round loads its
            copies' weights into it instead of tracing again; None: trace afresh each call.

    Examples:
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
    validation_split: float = 0.2
    scope: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext
    loss_weights: Any = None
    traced: dict[int, Any] | None = None


@dataclass(frozen=True)
class Execution:
    """One training of a row: its score at its best epoch, and how long it ran.

    Examples:
        >>> Execution(score=0.3, best_epoch=4, epochs=9, accuracy=0.9).epochs
        9
    """

    score: float
    best_epoch: int
    epochs: int
    accuracy: float | None = None


@dataclass(frozen=True)
class CopyData:
    """One execution's data: the rows of x it trains on, and what it is validated on (labels: an
    array, or a list with one per output; the validation rows' sample weights, or None).

    Examples:
        >>> part = CopyData(np.arange(3), [np.zeros((2, 1))], np.zeros(2))
        >>> len(part.train_rows), len(part.y_val)
        (3, 2)
    """

    train_rows: np.ndarray
    x_val: list[Any]
    y_val: Any
    weight_val: np.ndarray | None = None


def take_rows(data: Any, rows: np.ndarray) -> Any:
    """These rows of an array, of each array of a list, or None.

    Examples:
        >>> take_rows([np.arange(4), np.arange(4) * 2], np.array([1, 3])), take_rows(None, np.array([0]))
        ([array([1, 3]), array([2, 6])], None)
    """
    return None if data is None else keras.tree.map_structure(lambda a: a[rows], data)


def execution_data(
    x: list[Any],
    y: Any,
    validation: tuple[Any, ...] | None,
    validation_split: float,
    seed: int,
    sample_weight: np.ndarray | None = None,
) -> CopyData:
    """Execution `seed`'s data: the given validation data ((x, y) or (x, y, sample_weight)), or its
    own seeded hold-out of (x, y) and their sample weights.

    Without validation data each execution holds out its own `validation_split` share of the
    rows (a permutation seeded by the execution's seed; Keras' `validation_split` would take the
    last rows, and data is often sorted). Every configuration's execution ``i`` gets the same
    split, so the rows compare like for like; across executions the split varies, so a row's
    noise band includes how much its score depends on the rows held out (repeated random
    sub-sampling validation), and a verdict holds beyond one split.

    Examples:
        >>> part = execution_data([np.zeros((10, 1))], np.arange(10), None, 0.2, seed=3)
        >>> len(part.train_rows), sorted(part.train_rows.tolist() + part.y_val.tolist()) == list(range(10))
        (8, True)
    """
    rows = len(x[0])
    if validation is not None:
        return CopyData(
            np.arange(rows), as_list(validation[0]), validation[1], validation[2] if len(validation) > 2 else None
        )
    order = np.random.default_rng(seed).permutation(rows)
    held_out = order[: int(rows * validation_split)]
    return CopyData(
        np.sort(order[len(held_out) :]),
        [a[held_out] for a in x],
        take_rows(y, held_out),
        take_rows(sample_weight, held_out),
    )


def early_stop(values: Sequence[float], patience: int, higher_is_better: bool) -> tuple[int, int, bool]:
    """Keras' `EarlyStopping` rule replayed on one validation curve: (best epoch, epochs run, stopped).

    An epoch improves when it is strictly better than the best so far; training stops after
    `patience` epochs in a row without improvement. Non-finite values never improve.

    Examples:
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


def score(
    history: dict[str, list[float]], objective: str, accuracy: str, patience: int, higher_is_better: bool
) -> Execution:
    """One copy's `Execution` from its history (Keras' `fit` names): its objective at its best epoch.

    Examples:
        >>> score({"val_loss": [0.5, 0.4, 0.6]}, "val_loss", "val_accuracy", patience=5, higher_is_better=False)
        Execution(score=0.4, best_epoch=1, epochs=3, accuracy=None)
    """
    values = [float(v) for v in history[objective]]
    best_epoch, epochs, _ = early_stop(values, patience, higher_is_better)
    score = values[best_epoch] if np.isfinite(values[best_epoch]) else (-np.inf if higher_is_better else np.inf)
    return Execution(score, best_epoch, epochs, float(history[accuracy][best_epoch]) if accuracy in history else None)


class CopyCurves:
    """The copies' validation curves, epoch by epoch, with Keras' early stop replayed on each.

    Examples:
        >>> curves = CopyCurves(2, patience=1, higher_is_better=False, progress=lambda done: None)
        >>> curves.add([0.5, 0.5]), curves.add([0.6, 0.4]), curves.add([0.7, 0.3])
        (False, False, False)
        >>> curves.add([0.8, 0.4])
        True
    """

    def __init__(self, count: int, patience: int, higher_is_better: bool, progress: Callable[[int], None]) -> None:
        self.curves: list[list[float]] = [[] for _ in range(count)]
        self.patience, self.higher, self.progress = patience, higher_is_better, progress
        self.stopped = [False] * count  # per copy, whether its early stop has come

    def add(self, values: Sequence[float]) -> bool:
        """Record one epoch's values (one per copy); True once every copy has stopped."""
        for curve, value in zip(self.curves, values):
            curve.append(float(value))
        replays = [early_stop(curve, self.patience, self.higher) for curve in self.curves]
        self.progress(sum(epochs for _, epochs, _ in replays))
        self.stopped = [stopped for _, _, stopped in replays]
        return all(self.stopped)


def per_row_loss(loss: Any) -> Callable[[Any, Any], Any]:
    """The compiled loss's value for each row, unreduced (Keras' `fit` averages it over the batch).

    Examples:
        >>> rows = per_row_loss("mse")(np.zeros((3, 1)), np.ones((3, 1)))
        >>> np.asarray(rows).tolist()
        [1.0, 1.0, 1.0]
    """
    loss = keras.losses.get(loss)
    if isinstance(loss, keras.losses.Loss):
        return loss.call  # Loss.call does not reduce

    def rows(y_true: Any, y_pred: Any) -> Any:
        # As Keras matches a loss function's ranks: (n,) labels against an (n, k) output.
        if len(y_true.shape) == len(y_pred.shape) - 1:
            y_true = keras.ops.expand_dims(y_true, -1)
        return loss(y_true, y_pred)

    return rows


def as_list(x: Any) -> list[Any]:
    """`x` as a list of inputs.

    Examples:
        >>> as_list(1), as_list((1, 2))
        ([1], [1, 2])
    """
    return list(x) if isinstance(x, (list, tuple)) else [x]


def training_batches(
    x: list[Any],
    y: Any,
    rows: list[np.ndarray],
    batch_size: int,
    shuffle: bool,
    seed: int,
    stacked: bool = False,
    weights: np.ndarray | None = None,
    copy_seeds: Sequence[int] | None = None,
) -> Any:
    """The copies' training data: per batch, each copy's inputs and labels, from its own rows, in its own order.

    A `tf.data.Dataset` built once; `rows` holds each copy's training row indices (as many for
    every copy). Each epoch (each new iteration) every copy reshuffles its rows with its own seed
    (``seed + copy``, or `copy_seeds`); the rows are gathered from arrays held once. Without `shuffle` every copy
    reads its rows in order. A batch is ``(inputs, labels)``: for the fused model, every copy's
    inputs then every copy's labels, flat; `stacked`, one tensor per input and one of labels,
    copy ``i`` at index ``i`` of their first axis, and with `weights` (one per row of x) a third
    element: the rows' weights, stacked alike.

    Examples:
        >>> x = np.arange(6, dtype="float32").reshape(6, 1)
        >>> orders = [np.arange(6), np.array([5, 4, 3, 2, 1, 0])]
        >>> inputs, labels = next(iter(training_batches([x], np.arange(6), orders, 6, shuffle=False, seed=0)))
        >>> [np.asarray(order).tolist() for order in labels]
        [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0]]
    """
    import tensorflow as tf

    if len({len(r) for r in rows}) != 1:
        raise ValueError(f"training_batches: every copy needs as many rows, found {[len(r) for r in rows]}.")
    arrays, labels = [tf.constant(a) for a in x], tf.constant(y)
    orders = [tf.data.Dataset.from_tensor_slices(np.asarray(r, dtype="int64")) for r in rows]
    if shuffle:
        tf.random.set_seed(seed)
        seeds = copy_seeds if copy_seeds is not None else [seed + i for i in range(len(rows))]
        orders = [
            order.shuffle(len(r), seed=copy_seed, reshuffle_each_iteration=True)
            for copy_seed, order, r in zip(seeds, orders, rows)
        ]

    row_weights = None if weights is None else tf.constant(weights, dtype="float32")

    def gather(*indices: Any) -> tuple[Any, ...]:
        if stacked:
            rows_of_copies = tf.stack(indices)
            batch = tuple(tf.gather(a, rows_of_copies) for a in arrays), tf.gather(labels, rows_of_copies)
            return batch if row_weights is None else (*batch, tf.gather(row_weights, rows_of_copies))
        return (
            tuple(tf.gather(a, index) for index in indices for a in arrays),
            tuple(tf.gather(labels, index) for index in indices),
        )

    return tf.data.Dataset.zip(tuple(orders)).batch(batch_size).map(gather).prefetch(tf.data.AUTOTUNE)
