"""The executions of one search row: independent, seeded trainings of the same model.

Execution ``i`` of a row builds the model after ``keras.utils.set_random_seed(seed + i)``, trains
it for at most `epochs` epochs with early stopping on the objective and scores it at its best
epoch (`advisor.copies`). Three ways to train them, with the same numbers:

- **vectorized** (TensorFlow's default): one model's graph mapped over the copies' stacked
  weights (`advisor.vectorized`); one trace the size of one model.
- **fused** (the other backends' default, and TensorFlow's where vectorizing does not apply): the
  copies are one Keras model, one build, one compile, one fit. Each copy keeps its own seeded
  weights (drawn exactly as the one-by-one path draws them), its own loss and its own batches: a
  `tf.data` pipeline, built once, reshuffles each copy's rows with its own seed every epoch. The
  copies share no weight, and the optimizer's update of a weight reads only that weight's
  gradient, so each copy trains as it would alone. Each copy's early stop is replayed from its
  own validation curve; the fit ends when every copy has stopped.
- **one by one**: a `fit()` per execution. Used where neither would give the same numbers (an
  optimizer that clips the global norm of all gradients together; for the fused model, a loss
  objective with regularization losses, which its per-copy losses leave out), for models with
  several outputs (Keras' `fit` weighs each output's loss), for sample weights where the copies
  do not vectorize (the fused copies' own losses are unweighted), for
  a dataset too large to hold (`keras_act.advisor.data.StreamedData`, which each `fit` reads batch by
  batch), for models too large to copy (`FUSED_WEIGHTS_LIMIT`), and on request.

Measured in benchmarks/confirm.py (one training costs mostly overhead on small data).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from ._keras_compat import as_input_structure, build_metrics_first
from .copies import (
    CopyCurves,
    CopyData,
    Execution,
    RowTraining,
    as_list,
    execution_data,
    per_row_loss,
    score,
    take_rows,
    training_batches,
)
from .data import StreamedData
from .sample import holds_text, with_text_as_tensors
from .vectorized import fit_vectorized, vectorizes

# The most weights one fused model holds (all its copies together); larger models train in
# groups of copies, or one by one. 20M float32 weights with Adam's two slots is under 1 GB.
FUSED_WEIGHTS_LIMIT = 20_000_000
COPY_NAME = "execution_{}"


def copy_metric(name: str, index: int) -> str:
    """The name Keras gives metric `name` of copy `index` in a fused model.

    Examples:
        >>> copy_metric("val_loss", 2), copy_metric("accuracy", 0)
        ('val_execution_2_loss', 'execution_0_accuracy')
    """
    copy = COPY_NAME.format(index)
    return f"val_{copy}_{name[4:]}" if name.startswith("val_") else f"{copy}_{name}"


def train_executions(
    spec: RowTraining,
    data: tuple[Any, ...],
    executions: int,
    seed: int,
    fuse: bool = True,
    on_epoch: Callable[[int], None] | None = None,
    sample_weight: np.ndarray | None = None,
) -> list[Execution]:
    """Train `executions` seeded copies of the row's model; their scores, in seed order.

    Args:
        spec: what to build and how to train it.
        data: (x, y, x_val, y_val[, validation sample weights]); x a NumPy array or a list of
            them (one per input), y an array or a list of them (one per output). With x_val and
            y_val None, each execution holds out its own `spec.validation_split` of (x, y)
            (`advisor.copies.execution_data`). A `StreamedData` as x (y None) is read by each
            execution's `fit`, and so may x_val be (y_val None).
        executions: how many copies (seeds ``seed``, ``seed + 1``, ...).
        fuse: train the copies together (vectorized or fused) where that gives the same numbers
            (see the module docstring); False trains them one by one.
        on_epoch: called with the number of copy-epochs finished so far (progress).
        sample_weight: one weight per row of x, or None.

    Examples:
        >>> x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
        >>> y = x.sum(axis=1, keepdims=True)
        >>> spec = RowTraining(lambda: keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
        ...                    "mse", [], keras.optimizers.Adam, "val_loss", False, epochs=2)
        >>> len(train_executions(spec, (x, y, x, y), executions=3, seed=0))
        3
    """
    if isinstance(data[0], StreamedData):
        return _train_streamed(spec, data, executions, seed, on_epoch)
    x, y = as_list(data[0]), data[1]
    validation = None if data[2] is None else tuple(data[2:])
    parts = [
        execution_data(x, y, validation, spec.validation_split, seed + i, sample_weight) for i in range(executions)
    ]
    optimizer = spec.optimizer()  # read for its settings only
    # The norm of all copies' gradients together would scale each copy's step; the copies' own
    # losses are one output's, unweighted.
    weighted = sample_weight is not None or parts[0].weight_val is not None
    together = (
        fuse and executions > 1 and not getattr(optimizer, "global_clipnorm", None) and not isinstance(y, (list, tuple))
    )
    vectorized = together and vectorizes(spec, optimizer)
    together = together and (vectorized or not weighted)  # the fused copies' losses are unweighted
    results: list[Execution] = []
    done = 0
    while len(results) < executions:
        # Fresh names and graph per group, without clear_session's full garbage collection
        # (0.2-1 s a call, Keras' advice for a short loop; Python's collector frees the cycles).
        keras.backend.clear_session(free_memory=False)
        first = len(results)
        copies = _build_copies(spec, seed, first, 1)
        group = 1
        if together:
            group = max(1, min(executions - first, FUSED_WEIGHTS_LIMIT // max(1, copies[0].count_params())))
            # A fused copy's own loss leaves its weights' regularization out (the fused run checks
            # for any other missing term itself, _losses_add_up).
            together = group > 1 and (vectorized or spec.objective not in ("loss", "val_loss") or not copies[0].losses)
            if together:
                copies += _build_copies(spec, seed, first + 1, group - 1)

        def progress(copy_epochs: int) -> None:
            if on_epoch is not None:
                on_epoch(done + copy_epochs)

        own = parts[first : first + len(copies)]
        trained = (
            _fit_together(spec, copies, x, y, own, seed + first, vectorized, progress, sample_weight)
            if together
            else None
        )
        if trained is None:  # one by one, or a loss term found that the fused copies miss
            together = False
            trained = [_fit_alone(spec, copies[0], x, y, own[0], progress, sample_weight)]
        results += trained
        done += sum(e.epochs for e in trained)
    return results


def _fit_together(
    spec: RowTraining,
    copies: list[keras.Model],
    x: list[Any],
    y: Any,
    parts: list[CopyData],
    seed: int,
    vectorized: bool,
    progress: Callable[[int], None],
    sample_weight: np.ndarray | None = None,
) -> list[Execution] | None:
    histories = fit_vectorized(spec, copies, x, y, parts, seed, progress, sample_weight) if vectorized else None
    if histories is not None:
        return [score(h, spec.objective, "val_accuracy", spec.patience, spec.higher_is_better) for h in histories]
    if sample_weight is not None or parts[0].weight_val is not None:
        return None  # the fused copies' own losses are unweighted
    if spec.objective in ("loss", "val_loss") and any(c.losses for c in copies):
        return None  # the vectorized path would have counted them; the fused model cannot
    return _fit_fused(spec, copies, x, y, parts, seed, progress)


def _build_copies(spec: RowTraining, seed: int, first: int, count: int) -> list[keras.Model]:
    copies = []
    with spec.scope():
        for index in range(first, first + count):
            keras.utils.set_random_seed(seed + index)
            copies.append(spec.build())
    return copies


def _fit_alone(
    spec: RowTraining,
    model: keras.Model,
    x: list[Any],
    y: Any,
    part: CopyData,
    progress: Callable[[int], None],
    sample_weight: np.ndarray | None = None,
) -> Execution:
    rows = part.train_rows
    validation = (with_text_as_tensors(as_input_structure(model, part.x_val)), part.y_val) + (
        () if part.weight_val is None else (part.weight_val,)
    )
    return _fit_one(
        spec,
        model,
        progress,
        x=with_text_as_tensors(as_input_structure(model, take_rows(x, rows))),
        y=take_rows(y, rows),
        sample_weight=take_rows(sample_weight, rows),
        validation_data=validation,
        batch_size=spec.batch_size,
        shuffle=spec.shuffle,
    )


def _train_streamed(
    spec: RowTraining, data: tuple[Any, ...], executions: int, seed: int, on_epoch: Callable[[int], None] | None
) -> list[Execution]:
    """One `fit` per execution on the user's dataset, read batch by batch (it is not held)."""
    streamed: StreamedData = data[0]
    results: list[Execution] = []
    for index in range(executions):
        keras.backend.clear_session(free_memory=False)
        done = sum(e.epochs for e in results)

        def progress(copy_epochs: int) -> None:
            if on_epoch is not None:
                on_epoch(done + copy_epochs)

        model = _build_copies(spec, seed, index, 1)[0]
        validation = (
            data[2].dataset
            if isinstance(data[2], StreamedData)
            else (with_text_as_tensors(as_input_structure(model, data[2])), *data[3:])
        )
        results.append(
            _fit_one(
                spec,
                model,
                progress,
                x=streamed.dataset,
                steps_per_epoch=streamed.steps,
                class_weight=streamed.class_weight,
                validation_data=validation,
            )
        )
    return results


def _fit_one(spec: RowTraining, model: keras.Model, progress: Callable[[int], None], **data: Any) -> Execution:
    """Compile `model` and `fit` it on `data` (fit's own arguments), with Keras' early stop."""
    with spec.scope():
        model.compile(optimizer=spec.optimizer(), loss=spec.loss, metrics=spec.metrics, loss_weights=spec.loss_weights)
    stop = keras.callbacks.EarlyStopping(
        monitor=spec.objective, mode="max" if spec.higher_is_better else "min", patience=spec.patience
    )
    epochs = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: progress(epoch + 1))
    history = model.fit(**data, epochs=spec.epochs, callbacks=[stop, epochs], verbose=0).history
    if spec.objective not in history:
        raise ValueError(
            f"confirm: training reports no {spec.objective!r} to rank by; it reports "
            f"{', '.join(sorted(history))}. Pass one of them as `objective`."
        )
    return score(history, spec.objective, "val_accuracy", spec.patience, spec.higher_is_better)


class _UntilEveryCopyStopped(keras.callbacks.Callback):
    """Stops the fused fit once Keras' early-stopping rule has stopped every copy."""

    def __init__(self, monitors: list[str], curves: CopyCurves) -> None:
        super().__init__()
        self.monitors, self.curves = monitors, curves

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.curves.add([logs.get(monitor, np.nan) for monitor in self.monitors]):
            self.model.stop_training = True


def _fit_fused(
    spec: RowTraining,
    copies: list[keras.Model],
    x: list[Any],
    y: Any,
    parts: list[CopyData],
    seed: int,
    progress: Callable[[int], None],
) -> list[Execution] | None:
    """Train the copies as one model; None when its losses show terms the copies' own losses miss."""
    import tensorflow as tf

    count = len(copies)
    with spec.scope():
        inputs, outputs = [], []
        for index, copy in enumerate(copies):
            copy.name = COPY_NAME.format(index)
            own = [
                keras.Input(shape=t.shape[1:], dtype=t.dtype, name=f"{copy.name}_input_{j}")
                for j, t in enumerate(copy.inputs)
            ]
            inputs += own
            outputs.append(copy(as_input_structure(copy, own)))
        fused = keras.Model(inputs, outputs)
        # Keras' own per-output loss of a multi-output model averages batches without weighting
        # them by size (a short last batch counts in full); the copies' objective is the loss's
        # mean over rows, as a lone model's loss is.
        fused.compile(
            optimizer=spec.optimizer(),
            loss=[spec.loss] * count,
            metrics=[[*spec.metrics, _mean_loss(spec.loss)] for _ in copies],
            # XLA's compile of the fused graph costs more than it saves on small data
            # (a 10-copy MLP on 455 rows: 13.2 s vs 12.0 s for 20 epochs).
            jit_compile=False if keras.backend.backend() == "tensorflow" else "auto",
        )
        if not any(holds_text(a) for a in x):  # (the metrics cannot be built on strings)
            build_metrics_first(fused, (tuple(a[:1] for _ in copies for a in x), tuple(y[:1] for _ in copies), None))
    train = training_batches(x, y, [p.train_rows for p in parts], spec.batch_size, spec.shuffle, seed)
    validation = (
        tf.data.Dataset.from_tensor_slices((tuple(a for p in parts for a in p.x_val), tuple(p.y_val for p in parts)))
        .batch(spec.batch_size)
        .cache()
    )
    monitors = [copy_metric(_own_objective(spec.objective), i) for i in range(count)]
    watcher = _UntilEveryCopyStopped(monitors, CopyCurves(count, spec.patience, spec.higher_is_better, progress))
    history = fused.fit(
        train, validation_data=validation, epochs=spec.epochs, callbacks=[watcher], shuffle=False, verbose=0
    ).history
    if spec.objective in ("loss", "val_loss") and not _losses_add_up(history, count, spec.objective):
        return None
    return [
        score(history, monitors[i], copy_metric("val_accuracy", i), spec.patience, spec.higher_is_better)
        for i in range(count)
    ]


OWN_LOSS = "own_loss"


def _mean_loss(loss: Any) -> Any:
    """The loss as a metric: its per-row values averaged over every row of the epoch."""
    return keras.metrics.MeanMetricWrapper(per_row_loss(loss), name=OWN_LOSS)


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
