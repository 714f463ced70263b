"""What every way of training a row's executions shares: the row, its batches, its loss, its early
stops, and the interface each way of training (`TrainingPath`) offers `train_executions`.

Execution ``i`` of a row builds the model after ``keras.utils.set_random_seed(seed + i)``, trains
it for at most `epochs` epochs with early stopping on the objective (Keras' `EarlyStopping`
rule, `patience` epochs without improvement) and scores it at its best epoch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import keras
import numpy as np

from .data import StreamedData

# The most weights the executions trained together hold, all of them together; larger models
# train in groups of executions, or one by one. 20M float32 weights with Adam's two slots is
# under 1 GB.
TOGETHER_WEIGHTS_LIMIT = 20_000_000


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
            with as many executions (a race's rounds of one row), so that a later round loads its
            executions' weights into it instead of tracing again; None: trace afresh each call.

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
    """One training of a row: its score at its best epoch, how long it ran, and how it was trained.

    Attributes:
        score: the objective at the best epoch.
        best_epoch, epochs: the best epoch (from 0) and the epochs run.
        accuracy: the validation accuracy at the best epoch (classification), or None.
        path: the `TrainingPath` that trained it (``"vectorized"``, ``"fused"``, ``"one by one"``).
        refused: each earlier path's name and why it could not train this execution.

    Examples:
        >>> Execution(score=0.3, best_epoch=4, epochs=9, accuracy=0.9).epochs
        9
    """

    score: float
    best_epoch: int
    epochs: int
    accuracy: float | None = None
    path: str = ""
    refused: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ExecutionData:
    """One execution's data: the rows of x it trains on, and what it is validated on (labels: an
    array, or a list with one per output; the validation rows' sample weights, or None).

    Examples:
        >>> own = ExecutionData(np.arange(3), [np.zeros((2, 1))], np.zeros(2))
        >>> len(own.train_rows), len(own.y_val)
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
) -> ExecutionData:
    """Execution `seed`'s data: the given validation data ((x, y) or (x, y, sample_weight)), or its
    own seeded hold-out of (x, y) and their sample weights.

    Without validation data each execution holds out its own `validation_split` share of the
    rows (a permutation seeded by the execution's seed; Keras' `validation_split` would take the
    last rows, and data is often sorted). Every configuration's execution ``i`` gets the same
    split, so the rows compare like for like; across executions the split varies, so a row's
    noise band includes how much its score depends on the rows held out (repeated random
    sub-sampling validation), and a verdict holds beyond one split.

    Examples:
        >>> own = execution_data([np.zeros((10, 1))], np.arange(10), None, 0.2, seed=3)
        >>> len(own.train_rows), sorted(own.train_rows.tolist() + own.y_val.tolist()) == list(range(10))
        (8, True)
    """
    rows = len(x[0])
    if validation is not None:
        return ExecutionData(
            np.arange(rows), as_list(validation[0]), validation[1], validation[2] if len(validation) > 2 else None
        )
    order = np.random.default_rng(seed).permutation(rows)
    held_out = order[: int(rows * validation_split)]
    return ExecutionData(
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
    """One execution's `Execution` from its history (Keras' `fit` names): its objective at its best epoch.

    Examples:
        >>> score({"val_loss": [0.5, 0.4, 0.6]}, "val_loss", "val_accuracy", patience=5, higher_is_better=False)
        Execution(score=0.4, best_epoch=1, epochs=3, accuracy=None, path='', refused=())
    """
    values = [float(v) for v in history[objective]]
    best_epoch, epochs, _ = early_stop(values, patience, higher_is_better)
    score = values[best_epoch] if np.isfinite(values[best_epoch]) else (-np.inf if higher_is_better else np.inf)
    return Execution(score, best_epoch, epochs, float(history[accuracy][best_epoch]) if accuracy in history else None)


class ExecutionCurves:
    """The executions' validation curves, epoch by epoch, with Keras' early stop replayed on each.

    Examples:
        >>> curves = ExecutionCurves(2, patience=1, higher_is_better=False, progress=lambda done: None)
        >>> curves.add([0.5, 0.5]), curves.add([0.6, 0.4]), curves.add([0.7, 0.3])
        (False, False, False)
        >>> curves.add([0.8, 0.4])
        True
    """

    def __init__(self, count: int, patience: int, higher_is_better: bool, progress: Callable[[int], None]) -> None:
        self.curves: list[list[float]] = [[] for _ in range(count)]
        self.patience, self.higher, self.progress = patience, higher_is_better, progress
        self.stopped = [False] * count  # per execution, whether its early stop has come

    def add(self, values: Sequence[float]) -> bool:
        """Record one epoch's values (one per execution); True once every execution has stopped."""
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
    seeds: Sequence[int] | None = None,
) -> Any:
    """The executions' training data: per batch, each one's inputs and labels, from its own rows, in its own order.

    A `tf.data.Dataset` built once; `rows` holds each execution's training row indices (as many
    for every execution). Each epoch (each new iteration) every execution reshuffles its rows with
    its own seed (``seed + i``, or `seeds`); the rows are gathered from arrays held once. Without
    `shuffle` every execution reads its rows in order. A batch is ``(inputs, labels)``: for the
    fused model, every execution's inputs then every execution's labels, flat; `stacked`, one
    tensor per input and one of labels, execution ``i`` at index ``i`` of their first axis, and with `weights` (one per row of x) a third
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
        raise ValueError(f"training_batches: every execution needs as many rows, found {[len(r) for r in rows]}.")
    arrays, labels = [tf.constant(a) for a in x], tf.constant(y)
    orders = [tf.data.Dataset.from_tensor_slices(np.asarray(r, dtype="int64")) for r in rows]
    if shuffle:
        tf.random.set_seed(seed)
        seeds = seeds if seeds is not None else [seed + i for i in range(len(rows))]
        orders = [
            order.shuffle(len(r), seed=own_seed, reshuffle_each_iteration=True)
            for own_seed, order, r in zip(seeds, orders, rows)
        ]

    row_weights = None if weights is None else tf.constant(weights, dtype="float32")

    def gather(*indices: Any) -> tuple[Any, ...]:
        if stacked:
            rows_of_executions = tf.stack(indices)
            batch = tuple(tf.gather(a, rows_of_executions) for a in arrays), tf.gather(labels, rows_of_executions)
            return batch if row_weights is None else (*batch, tf.gather(row_weights, rows_of_executions))
        return (
            tuple(tf.gather(a, index) for index in indices for a in arrays),
            tuple(tf.gather(labels, index) for index in indices),
        )

    return tf.data.Dataset.zip(tuple(orders)).batch(batch_size).map(gather).prefetch(tf.data.AUTOTUNE)


class Refused(Exception):
    """A `TrainingPath` found, while training, that it cannot train these executions (the message
    says why); `train_executions` tries the next path."""


class Job:
    """The executions of a row that one `TrainingPath` is asked to train: from ``first`` on.

    Holds what each path reads to decide whether it can run (the data, the optimizer's
    settings, how many executions may train together) and builds each execution's seeded model.

    Examples:
        >>> x = np.zeros((10, 2), "float32")
        >>> spec = RowTraining(lambda: keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
        ...                    "mse", [], keras.optimizers.Adam, "val_loss", False, epochs=1)
        >>> job = Job(spec, [x], x[:, :1], [execution_data([x], x[:, :1], None, 0.2, s) for s in (4, 5)], 4)
        >>> job.count, job.together(), len(job.models(2))
        (2, 2, 2)
    """

    def __init__(
        self,
        spec: RowTraining,
        x: list[Any] | StreamedData,
        y: Any,
        own_data: Sequence[ExecutionData],
        seed: int,
        count: int | None = None,
        sample_weight: np.ndarray | None = None,
        validation: tuple[Any, ...] | None = None,
        fuse: bool = True,
    ) -> None:
        """`own_data` holds each execution's data (none for a streamed `x`, which `count`
        counts); `seed` is the first execution's; `validation` the data as given (for a
        streamed `x`); `fuse` False asks for the executions one by one."""
        self.spec, self.x, self.y, self.own_data, self.seed = spec, x, y, list(own_data), seed
        self.count = len(self.own_data) if count is None else count
        self.sample_weight, self.validation, self.fuse = sample_weight, validation, fuse
        self.optimizer = spec.optimizer()  # read for its settings only
        self._first: keras.Model | None = None  # the first execution's model, unused so far

    @property
    def streamed(self) -> bool:
        """Whether x is a dataset each `fit` reads batch by batch (`StreamedData`)."""
        return isinstance(self.x, StreamedData)

    @property
    def weighted(self) -> bool:
        """Whether rows carry sample weights (training or validation)."""
        return self.sample_weight is not None or any(d.weight_val is not None for d in self.own_data)

    def first_model(self) -> keras.Model:
        """The first execution's model, built once; the next `models` call hands it out."""
        if self._first is None:
            self._first = self._build(self.seed)
        return self._first

    def models(self, count: int) -> list[keras.Model]:
        """The first `count` executions' seeded models, fresh (never trained)."""
        first, self._first = self._first, None
        return [
            first if (index == 0 and first is not None) else self._build(self.seed + index) for index in range(count)
        ]

    def together(self) -> int:
        """How many executions fit in one model of `TOGETHER_WEIGHTS_LIMIT` weights (at most `count`)."""
        return max(1, min(self.count, TOGETHER_WEIGHTS_LIMIT // max(1, self.first_model().count_params())))

    def refusal_to_train_together(self) -> str | None:
        """Why these executions cannot train together (any way), or None."""
        if not self.fuse:
            return "one by one on request (fuse_executions=False)"
        if self.streamed:
            return "the data is streamed: each execution's fit reads it batch by batch"
        if self.count == 1:
            return "one execution to train"
        if isinstance(self.y, (list, tuple)):
            return "the model has several outputs (Keras' fit weighs each output's loss)"
        if getattr(self.optimizer, "global_clipnorm", None):
            return "the optimizer clips the global norm of all gradients together (global_clipnorm)"
        if self.together() == 1:
            return (
                f"one model holds {self.first_model().count_params():,} weights: "
                f"{TOGETHER_WEIGHTS_LIMIT:,} (TOGETHER_WEIGHTS_LIMIT) hold one at a time"
            )
        return None

    def _build(self, seed: int) -> keras.Model:
        with self.spec.scope():
            keras.utils.set_random_seed(seed)
            return self.spec.build()


class TrainingPath(Protocol):
    """One way of training a row's executions, as `advisor.executions.train_executions` tries them.

    `refusal(job)` says why the path cannot train `job` here (None: it can); `train(job,
    progress)` trains the first executions of the job (at least one; as many as the path trains
    at once), calls `progress` with the epochs they have run so far, and raises `Refused` when it
    finds out while training that it cannot.
    """

    name: str

    def refusal(self, job: Job) -> str | None: ...

    def train(self, job: Job, progress: Callable[[int], None]) -> list[Execution]: ...
