"""The fused path: a row's executions as one Keras model, one build, one compile, one fit.

Each execution keeps its own seeded weights (drawn exactly as the one-by-one path draws them),
its own loss and its own batches: a `tf.data` pipeline, built once, reshuffles each execution's
rows with its own seed every epoch. The executions share no weight, and the optimizer's update of
a weight reads only that weight's gradient, so each trains as it would alone. Each execution's
early stop is replayed from its own validation curve; the fit ends when every one has stopped.

The other backends' way of training executions together, and TensorFlow's where vectorizing is
refused (`advisor.vectorized`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from ._keras_compat import as_input_structure, build_metrics_first
from .row_training import (
    Execution,
    ExecutionCurves,
    ExecutionData,
    Job,
    Refused,
    RowTraining,
    per_row_loss,
    score,
    training_batches,
)
from .sample import holds_text

EXECUTION_NAME = "execution_{}"
OWN_LOSS = "own_loss"


def execution_metric(name: str, index: int) -> str:
    """The name Keras gives metric `name` of execution `index` in the fused model.

    Examples:
        >>> execution_metric("val_loss", 2), execution_metric("accuracy", 0)
        ('val_execution_2_loss', 'execution_0_accuracy')
    """
    execution = EXECUTION_NAME.format(index)
    return f"val_{execution}_{name[4:]}" if name.startswith("val_") else f"{execution}_{name}"


class Fused:
    """The fused `TrainingPath`: as many executions as fit together, as one Keras model.

    Examples:
        >>> FUSED.name
        'fused'
    """

    name = "fused"

    def refusal(self, job: Job) -> str | None:
        """Why the job's executions cannot train fused, or None."""
        together = job.refusal_to_train_together()
        if together is not None:
            return together
        if job.weighted:
            return "the rows carry sample weights, and the fused model's per-execution losses are unweighted"
        if job.spec.objective in ("loss", "val_loss") and job.first_model().losses:
            return (
                "the objective is the loss and the model has regularization losses, "
                "which the fused model's per-execution losses leave out"
            )
        return None

    def train(self, job: Job, progress: Callable[[int], None]) -> list[Execution]:
        """Train `job.together()` executions as one model; raises `Refused` when its total loss shows
        a term the executions' own losses miss."""
        count = job.together()
        return fit_fused(job.spec, job.models(count), job.x, job.y, job.own_data[:count], job.seed, progress)


FUSED = Fused()


class _UntilEveryExecutionStopped(keras.callbacks.Callback):
    """Stops the fused fit once Keras' early-stopping rule has stopped every execution."""

    def __init__(self, monitors: list[str], curves: ExecutionCurves) -> None:
        super().__init__()
        self.monitors, self.curves = monitors, curves

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.curves.add([logs.get(monitor, np.nan) for monitor in self.monitors]):
            self.model.stop_training = True


def fit_fused(
    spec: RowTraining,
    models: list[keras.Model],
    x: list[Any],
    y: Any,
    own_data: list[ExecutionData],
    seed: int,
    progress: Callable[[int], None],
) -> list[Execution]:
    """Train the executions' models as one model; their executions, in seed order.

    Raises `Refused` when the fused model's total loss is not the sum of the executions' own
    (a loss term added in `call`, such as an activity regularizer, with the loss as objective).

    Examples:
        >>> x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
        >>> row = RowTraining(lambda: keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
        ...                   "mse", [], keras.optimizers.Adam, "val_loss", False, epochs=2)
        >>> own_data = [ExecutionData(np.arange(32), [x], x[:, :1])] * 2
        >>> models = [row.build(), row.build()]
        >>> [e.epochs for e in fit_fused(row, models, [x], x[:, :1], own_data, 0, lambda done: None)]
        [2, 2]
    """
    import tensorflow as tf

    count = len(models)
    with spec.scope():
        inputs, outputs = [], []
        for index, model in enumerate(models):
            model.name = EXECUTION_NAME.format(index)
            own = [
                keras.Input(shape=t.shape[1:], dtype=t.dtype, name=f"{model.name}_input_{j}")
                for j, t in enumerate(model.inputs)
            ]
            inputs += own
            outputs.append(model(as_input_structure(model, own)))
        fused = keras.Model(inputs, outputs)
        # Keras' own per-output loss of a multi-output model averages batches without weighting
        # them by size (a short last batch counts in full); the executions' objective is the
        # loss's mean over rows, as a lone model's loss is.
        fused.compile(
            optimizer=spec.optimizer(),
            loss=[spec.loss] * count,
            metrics=[[*spec.metrics, _mean_loss(spec.loss)] for _ in models],
            # XLA's compile of the fused graph costs more than it saves on small data
            # (a 10-execution MLP on 455 rows: 13.2 s vs 12.0 s for 20 epochs).
            jit_compile=False if keras.backend.backend() == "tensorflow" else "auto",
        )
        if not any(holds_text(a) for a in x):  # (the metrics cannot be built on strings)
            build_metrics_first(fused, (tuple(a[:1] for _ in models for a in x), tuple(y[:1] for _ in models), None))
    train = training_batches(x, y, [d.train_rows for d in own_data], spec.batch_size, spec.shuffle, seed)
    validation = (
        tf.data.Dataset.from_tensor_slices(
            (tuple(a for d in own_data for a in d.x_val), tuple(d.y_val for d in own_data))
        )
        .batch(spec.batch_size)
        .cache()
    )
    monitors = [execution_metric(_own_objective(spec.objective), i) for i in range(count)]
    watcher = _UntilEveryExecutionStopped(
        monitors, ExecutionCurves(count, spec.patience, spec.higher_is_better, progress)
    )
    history = fused.fit(
        train, validation_data=validation, epochs=spec.epochs, callbacks=[watcher], shuffle=False, verbose=0
    ).history
    if spec.objective in ("loss", "val_loss") and not _losses_add_up(history, count, spec.objective):
        raise Refused(
            "its total loss is not the sum of the executions' own losses (a loss term added in call, "
            "such as an activity regularizer)"
        )
    return [
        score(history, monitors[i], execution_metric("val_accuracy", i), spec.patience, spec.higher_is_better)
        for i in range(count)
    ]


def _mean_loss(loss: Any) -> Any:
    """The loss as a metric: its per-row values averaged over every row of the epoch."""
    return keras.metrics.MeanMetricWrapper(per_row_loss(loss), name=OWN_LOSS)


def _own_objective(objective: str) -> str:
    """The executions' metric that stands for `objective` ("val_loss" -> "val_own_loss")."""
    if objective in ("loss", "val_loss"):
        return objective.replace("loss", OWN_LOSS)
    return objective


def _losses_add_up(history: dict[str, list[float]], count: int, objective: str) -> bool:
    """Whether the fused total loss is the sum of the executions' own (no loss term they miss)."""
    total = history["val_loss" if objective.startswith("val_") else "loss"][0]
    own = sum(history[execution_metric(_own_objective(objective), i)][0] for i in range(count))
    return bool(np.isclose(total, own, rtol=1e-4, atol=1e-6))
