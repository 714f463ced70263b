"""The vectorized path: one model's graph mapped over the executions' stacked weights (TensorFlow).

The fused Keras model (`advisor.fused`) holds one graph per execution, and TensorFlow traces and
runs each: on a 10-execution MLP that is ~4,800 ops, 5 s of tracing per row. Here the executions'
weights are stacked along a new first axis (execution ``i`` at index ``i``), and one model's
forward pass is mapped over them with `tf.vectorized_map`: one trace the size of one model,
batched kernels.

Each execution still trains as it would alone: its own seeded weights (drawn by building it), its
own batches (`training_batches`, stacked), its own loss (the compiled loss, mean over the batch,
plus its own regularization losses), and an optimizer whose update of a weight reads only that
weight's gradient (`ELEMENTWISE_OPTIMIZERS`, no per-variable norm clipping), so one update of the
stacked weights is every execution's own update. Validation scores each execution with the
compiled loss and metrics, on every row, as Keras' `fit` does.

Where any of that does not hold, `VECTORIZED.refusal` says so, or `fit_vectorized` raises
`Refused` with the reason, and `train_executions` tries the next path.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np

from keras_act._messages import quoted

from ._keras_compat import as_input_structure
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

# Optimizers whose step for a weight reads only that weight's own gradient and slots; Lamb and
# Adafactor use per-variable norms, Muon orthogonalizes whole matrices: stacked, they would mix
# the executions. Exact types: a subclass may override the update.
ELEMENTWISE_OPTIMIZERS = (
    keras.optimizers.SGD,
    keras.optimizers.Adam,
    keras.optimizers.AdamW,
    keras.optimizers.RMSprop,
    keras.optimizers.Adagrad,
    keras.optimizers.Adadelta,
    keras.optimizers.Adamax,
    keras.optimizers.Nadam,
    keras.optimizers.Ftrl,
    keras.optimizers.Lion,
)


def vectorizing_refusal(spec: RowTraining, optimizer: Any) -> str | None:
    """Why `fit_vectorized` cannot train the row's executions (not TensorFlow, an optimizer that
    mixes them...), or None.

    Examples:
        >>> row = RowTraining(lambda: None, "mse", [], keras.optimizers.Adam, "val_loss", False, epochs=1)
        >>> (vectorizing_refusal(row, keras.optimizers.Adam()) is None) == (keras.backend.backend() == "tensorflow")
        True
        >>> vectorizing_refusal(row, keras.optimizers.Adam(clipnorm=1.0)) is not None
        True
    """
    backend = keras.backend.backend()
    if backend != "tensorflow":
        return f"it needs the TensorFlow backend (this is {backend})"
    if type(optimizer) not in ELEMENTWISE_OPTIMIZERS:
        return (
            f"the optimizer {type(optimizer).__name__} is not one whose update of a weight reads only "
            "that weight (ELEMENTWISE_OPTIMIZERS)"
        )
    if getattr(optimizer, "clipnorm", None) or getattr(optimizer, "global_clipnorm", None):
        return "the optimizer clips gradient norms: a norm over a stacked weight would take in every execution"
    if keras.config.dtype_policy().name == "mixed_float16":
        return "the mixed_float16 policy: Keras would scale the loss, and this loop does not"
    if not (spec.objective == "loss" or spec.objective.startswith("val_")):
        return f"the objective {spec.objective!r} is a training metric other than the loss, which it does not track"
    import tensorflow as tf

    with spec.scope():
        if tf.distribute.has_strategy():
            return "a distribution strategy is in use"
    return None


class Vectorized:
    """The vectorized `TrainingPath`: as many executions as fit together, in one stacked model.

    Examples:
        >>> VECTORIZED.name
        'vectorized'
    """

    name = "vectorized"

    def refusal(self, job: Job) -> str | None:
        """Why the job's executions cannot train vectorized, or None."""
        return job.refusal_to_train_together() or vectorizing_refusal(job.spec, job.optimizer)

    def train(self, job: Job, progress: Callable[[int], None]) -> list[Execution]:
        """Train `job.together()` executions at once; raises `Refused` when they cannot be mapped over."""
        count = job.together()
        histories = fit_vectorized(
            job.spec, job.models(count), job.x, job.y, job.own_data[:count], job.seed, progress, job.sample_weight
        )
        spec = job.spec
        return [score(h, spec.objective, "val_accuracy", spec.patience, spec.higher_is_better) for h in histories]


VECTORIZED = Vectorized()


def fit_vectorized(
    spec: RowTraining,
    models: list[keras.Model],
    x: list[Any],
    y: Any,
    own_data: list[ExecutionData],
    seed: int,
    progress: Callable[[int], None],
    sample_weight: np.ndarray | None = None,
    after_epoch: Callable[[Callable[[list[Any]], np.ndarray]], None] | None = None,
) -> list[dict[str, list[float]]]:
    """Train the executions' models together; each one's history (Keras' `fit` names).

    Args:
        spec: the row's `RowTraining`.
        models: each execution's seeded, built, uncompiled model (the same architecture).
        x, y: the rows (x as a list, one array per input).
        own_data: each execution's training rows and validation data.
        seed: the first execution's seed (execution ``i`` shuffles with ``seed + i``).
        progress: called with the execution-epochs done so far.
        sample_weight: one weight per row of x, or None. As in Keras' `fit`, a batch's loss is
            the mean over its rows of loss x weight, and so is the validation loss (the
            `weight_val` of `own_data`); validation metrics are weighted means.
        after_epoch: called after each epoch's validation with a function that predicts: given
            inputs (a list, one array per input), every execution's outputs, execution ``i`` at
            index ``i`` (the activation atlas scores a test split at each execution's best epoch
            with it).

    Raises:
        Refused: off TensorFlow, when the models do not all have the same variables, when a weight
            gets a sparse gradient, when the models' layers cannot be mapped over (tracing the
            step fails), or when the objective is not a metric this loop logs.

    Examples:
        >>> x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
        >>> row = RowTraining(lambda: keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
        ...                   "mse", [], keras.optimizers.Adam, "val_loss", False, epochs=2)
        >>> models = [row.build() for _ in range(3)]
        >>> own_data = [ExecutionData(np.arange(32), [x], x[:, :1])] * 3
        >>> histories = fit_vectorized(row, models, [x], x[:, :1], own_data, 0, lambda done: None)
        >>> [len(h["val_loss"]) for h in histories]
        [2, 2, 2]
    """
    if keras.backend.backend() != "tensorflow":
        raise Refused(f"it needs the TensorFlow backend (this is {keras.backend.backend()})")
    import tensorflow as tf

    dtypes = [t.dtype for t in models[0].inputs]
    x = _as_inputs(x, dtypes)
    x_val = [_as_inputs(d.x_val, dtypes) for d in own_data]
    count, rows = len(models), len(own_data[0].train_rows)
    # Unweighted rows weigh 1: the same products, exactly.
    weights = np.ones(len(y), "float32") if sample_weight is None else sample_weight

    def batches_of(active: list[int], epochs_done: int = 0) -> Any:
        batches = training_batches(
            x,
            y,
            [own_data[i].train_rows for i in active],
            spec.batch_size,
            spec.shuffle,
            seed,
            stacked=True,
            weights=weights,
            seeds=[seed + i for i in active],
        )
        for _ in range(epochs_done):
            iter(batches)  # each new iterator reshuffles: a smaller stack goes on with the same orders
        return batches

    active = list(range(count))  # the executions in the stack, execution active[k] at index k
    batches = batches_of(active)
    trainer = (spec.traced or {}).get(count)
    if trainer is None:
        trainer = _Trainer.trace(spec, models, x, batches)
    else:
        trainer.load(models, x)

    histories: list[dict[str, list[float]]] = [{} for _ in models]
    monitor = spec.objective if spec.objective.startswith("val_") else "loss"
    curves = ExecutionCurves(count, spec.patience, spec.higher_is_better, progress)
    for epoch in range(spec.epochs):
        started = time.perf_counter()
        seen, epoch_loss = 0, np.zeros(len(active))
        for inputs, labels, row_weights in batches:
            if not trainer.stepped:
                try:
                    with _quiet_vectorizing():
                        losses = trainer.train_step(inputs, labels, row_weights)
                except (TypeError, ValueError, NotImplementedError, tf.errors.OpError) as error:
                    raise Refused(
                        f"tracing the mapped step failed ({type(error).__name__}: {quoted(error)})"
                    ) from error
                trainer.stepped, trainer.trace_seconds = True, time.perf_counter() - started
                if spec.traced is not None:
                    spec.traced[len(active)] = trainer
            else:
                losses = trainer.train_step(inputs, labels, row_weights)
            size = int(labels.shape[1])
            epoch_loss += np.asarray(losses, dtype="float64") * size
            seen += size
        for index, value in zip(active, epoch_loss / rows):
            histories[index].setdefault("loss", []).append(float(value))
        predicted, penalties = _predict_rows(trainer.predict_step, [x_val[i] for i in active])
        for position, index in enumerate(active):
            for name, value in _validation(
                trainer.template,
                trainer.loss_of_rows,
                own_data[index].y_val,
                predicted[position],
                penalties[position],
                own_data[index].weight_val,
            ):
                histories[index].setdefault(name, []).append(value)
        if after_epoch is not None:
            after_epoch(lambda inputs: _predict_rows(trainer.predict_step, [_as_inputs(inputs, dtypes)] * count)[0])
        if monitor not in histories[0]:
            raise Refused(f"it logs no {monitor!r} (it logs {', '.join(sorted(histories[0]))})")
        # A stopped execution's curve ends at its stop (early_stop replays it the same whatever follows).
        if curves.add([h[monitor][-1] for h in histories]):
            break
        training = [i for i in active if not curves.stopped[i]]
        if after_epoch is None and _shrink_pays(
            len(training), len(active), time.perf_counter() - started, spec.epochs - epoch - 1, trainer.trace_seconds
        ):
            batches = batches_of(training, epoch + 1)
            trainer = trainer.subset([active.index(i) for i in training], spec, x, batches)
            active = training
    return histories


def _shrink_pays(training: int, stacked: int, epoch_seconds: float, epochs_left: int, trace_seconds: float) -> bool:
    """Whether to drop the stopped executions from the stack (a new trace) rather than train them on.

    Worth it once at most half the stacked executions still train, when the compute the stopped ones
    would take (their share of an epoch, over half the epochs left: the executions still training stop
    on the way) exceeds a trace of the smaller stack (about what this stack's trace took).

    Examples:
        >>> _shrink_pays(2, 10, epoch_seconds=1.0, epochs_left=10, trace_seconds=2.0)
        True
        >>> _shrink_pays(2, 10, epoch_seconds=0.1, epochs_left=10, trace_seconds=2.0)
        False
    """
    return 2 * training <= stacked and epoch_seconds * (1 - training / stacked) * epochs_left / 2 > trace_seconds


class _Trainer:
    """The traced training and prediction steps of one model's graph over stacked executions, with
    the stacked weights and the optimizer they update; `load` puts other executions' weights in."""

    def __init__(
        self,
        template: keras.Model,
        trainable: list[Any],
        frozen: list[Any],
        optimizer: Any,
        loss_of_rows: Callable[[Any, Any], Any],
        train_step: Any,
        predict_step: Any,
    ) -> None:
        self.template, self.trainable, self.frozen, self.optimizer = template, trainable, frozen, optimizer
        self.loss_of_rows, self.train_step, self.predict_step = loss_of_rows, train_step, predict_step
        # The optimizer as built, before any step: what a fresh one would hold (slots, iterations).
        self.initial = [np.asarray(v) for v in optimizer.variables]
        self.stepped = False
        self.trace_seconds = 0.0  # the first step's time, its trace included

    def load(self, models: list[keras.Model], x: list[Any]) -> None:
        """Give the stacked weights these models' values and the optimizer its first state; raises
        `Refused` when the models' weights are shaped otherwise."""
        for model in models:
            model(as_input_structure(model, [a[:2] for a in x]))  # a layer used as an activation builds here
        for stacked, trainable in ((self.trainable, True), (self.frozen, False)):
            for index, variable in enumerate(stacked):
                values = _stacked_values(models, index, trainable)
                if values.shape != tuple(variable.shape):
                    raise Refused("these executions' weights are shaped unlike those of the row's traced step")
                variable.assign(values)
        for variable, value in zip(self.optimizer.variables, self.initial):
            variable.assign(value)
        return True

    @classmethod
    def trace(cls, spec: RowTraining, models: list[keras.Model], x: list[Any], batches: Any) -> _Trainer:
        """A trainer for these models (traced on its first step); raises `Refused` where they cannot
        be mapped over."""
        template = models[0]  # its layers compute every execution; the stacked weights say whose
        if _has_sparse_gradients(template, [a[:2] for a in x]):
            raise Refused(
                "a weight gets a sparse gradient (an Embedding's rows), which Keras' optimizers treat "
                "unlike a dense stacked one"
            )
        for model in models[1:]:
            # A layer used as an activation makes its weights on its first call.
            model(as_input_structure(model, [a[:2] for a in x]))
        shapes = [[tuple(v.shape) for v in m.weights] for m in models]
        if any(s != shapes[0] for s in shapes):
            raise Refused("the executions' models do not all have the same weights")
        trainable = [_stacked(models, k, trainable=True) for k in range(len(template.trainable_variables))]
        frozen = [_stacked(models, k, trainable=False) for k in range(len(template.non_trainable_variables))]
        template.compile(optimizer=spec.optimizer(), loss=spec.loss, metrics=list(spec.metrics))  # for the metrics
        return cls.over(template, trainable, frozen, spec, x, batches)

    def subset(self, keep: list[int], spec: RowTraining, x: list[Any], batches: Any) -> _Trainer:
        """A trainer of executions `keep` (their indices in this stack) as they are now: weights and
        optimizer state carried over, steps traced anew for the smaller stack."""
        trainable = [
            keras.Variable(np.asarray(v)[keep], dtype=v.dtype, trainable=True, name=v.name) for v in self.trainable
        ]
        frozen = [keras.Variable(np.asarray(v)[keep], dtype=v.dtype, trainable=False, name=v.name) for v in self.frozen]
        smaller = self.over(self.template, trainable, frozen, spec, x, batches)
        stacked = {tuple(v.shape) for v in self.trainable}
        for variable, now in zip(smaller.optimizer.variables, self.optimizer.variables):
            # A slot shaped like a stacked weight holds one execution per index; the rest (the
            # iteration count) are shared.
            value = np.asarray(now)
            variable.assign(value[keep] if tuple(now.shape) in stacked else value)
        smaller.trace_seconds = self.trace_seconds
        return smaller

    @classmethod
    def over(
        cls,
        template: keras.Model,
        trainable: list[Any],
        frozen: list[Any],
        spec: RowTraining,
        x: list[Any],
        batches: Any,
    ) -> _Trainer:
        """A trainer of these stacked weights: a fresh optimizer, the steps traced on first use."""
        import tensorflow as tf

        optimizer = spec.optimizer()
        optimizer.build(trainable)
        loss_of_rows = per_row_loss(spec.loss)

        def call(weights: Any, state: Any, inputs: Any, training: bool) -> tuple[Any, Any, Any]:
            """One execution's outputs, updated state and regularization penalty."""
            predicted, state, extra = template.stateless_call(
                weights, state, as_input_structure(template, list(inputs)), training=training, return_losses=True
            )
            return predicted, state, tf.add_n([tf.cast(e, "float32") for e in extra]) if extra else tf.constant(0.0)

        def forward(weights: Any, state: Any, inputs: Any, labels: Any, row_weights: Any) -> Any:
            predicted, state, penalty = call(weights, state, inputs, training=True)
            rows_loss = tf.cast(loss_of_rows(labels, predicted), "float32")
            row_weights = tf.reshape(row_weights, [-1] + [1] * (len(rows_loss.shape) - 1))  # as Keras broadcasts
            return tf.reduce_mean(rows_loss * row_weights) + penalty, state

        # Signatures with any number of rows: one trace each, whatever the size of the last batch or
        # of the rows predicted (a trace of a deep model takes seconds).
        rows_spec = tuple(tf.TensorSpec((None, None, *a.shape[1:]), tf.convert_to_tensor(a[:1]).dtype) for a in x)

        @tf.function(input_signature=list(batches.element_spec))
        def train_step(inputs: Any, labels: Any, row_weights: Any) -> Any:
            with tf.GradientTape() as tape:
                losses, state = tf.vectorized_map(
                    lambda e: forward(e[0], e[1], e[2], e[3], e[4]),
                    ([w.value for w in trainable], [v.value for v in frozen], list(inputs), labels, row_weights),
                )
                total = tf.reduce_sum(losses)  # execution i's loss depends on its own weights alone
            optimizer.apply(tape.gradient(total, [w.value for w in trainable]), trainable)
            for variable, value in zip(frozen, state):
                variable.assign(value)
            return losses

        @tf.function(input_signature=[rows_spec])
        def predict_step(inputs: Any) -> Any:
            predicted, _, penalty = tf.vectorized_map(
                lambda e: call(e[0], e[1], e[2], training=False),
                ([w.value for w in trainable], [v.value for v in frozen], list(inputs)),
            )
            return predicted, penalty

        return cls(template, trainable, frozen, optimizer, loss_of_rows, train_step, predict_step)


def _predict_rows(
    predict_step: Callable[[Any], Any], inputs_of_executions: list[list[Any]], chunk: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Every execution's outputs on its own rows, in chunks, and its mean penalty over them."""
    rows = len(inputs_of_executions[0][0])
    with _quiet_vectorizing():
        chunks = [
            predict_step(_stacked_rows(inputs_of_executions, start, start + chunk)) for start in range(0, rows, chunk)
        ]
    predicted = np.concatenate([np.asarray(p) for p, _ in chunks], axis=1)
    # Each chunk's penalty weighted by its rows, as Keras' fit weights its validation batches.
    penalties = sum(np.asarray(penalty, "float64") * int(p.shape[1]) for p, penalty in chunks) / predicted.shape[1]
    return predicted, penalties


def _stacked_rows(inputs_of_executions: list[list[Any]], start: int, stop: int) -> tuple[Any, ...]:
    """Rows start:stop of each execution's inputs, one array per input, execution ``i`` at index ``i``."""
    return tuple(
        np.stack([inputs[j][start:stop] for inputs in inputs_of_executions])
        for j in range(len(inputs_of_executions[0]))
    )


def _as_inputs(arrays: list[Any], dtypes: list[str]) -> list[Any]:
    """Float arrays in the inputs' dtypes (what a Keras call would cast them to); the rest as given."""
    return [
        np.asarray(a, dtype=d) if np.issubdtype(np.asarray(a).dtype, np.floating) else a for a, d in zip(arrays, dtypes)
    ]


def _has_sparse_gradients(model: keras.Model, inputs: list[Any]) -> bool:
    """Whether a weight gets a sparse gradient (an Embedding's rows): Keras' optimizers then square
    each looked-up row's gradient before summing repeats, which a dense stacked gradient cannot
    reproduce."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        outputs = tf.nest.flatten(model(as_input_structure(model, inputs)))
        total = tf.add_n([tf.reduce_sum(tf.cast(o, "float32")) for o in outputs])
    return any(isinstance(g, tf.IndexedSlices) for g in tape.gradient(total, model.trainable_variables))


def _stacked_values(models: list[keras.Model], index: int, trainable: bool) -> np.ndarray:
    """The models' values of their `index`-th (non-)trainable variable, execution ``i`` at index ``i``."""
    return np.stack(
        [np.asarray((c.trainable_variables if trainable else c.non_trainable_variables)[index]) for c in models]
    )


def _stacked(models: list[keras.Model], index: int, trainable: bool) -> keras.Variable:
    first = (models[0].trainable_variables if trainable else models[0].non_trainable_variables)[index]
    return keras.Variable(
        _stacked_values(models, index, trainable), dtype=first.dtype, trainable=trainable, name=first.name
    )  # the name: weight-decay exclusions match by name


def _validation(
    template: keras.Model,
    loss_of_rows: Callable[[Any, Any], Any],
    y: Any,
    predicted: np.ndarray,
    penalty: float,
    weights: np.ndarray | None,
) -> Iterator[tuple[str, float]]:
    """One execution's validation loss (the rows' mean of loss x weight, plus its penalty, as Keras'
    `fit` logs it) and metrics (weighted means)."""
    rows_loss = np.asarray(loss_of_rows(y, predicted), dtype="float64")
    row_weights = (
        1.0 if weights is None else np.asarray(weights, "float64").reshape((-1,) + (1,) * (rows_loss.ndim - 1))
    )
    yield "val_loss", float(np.mean(rows_loss * row_weights)) + penalty
    template.reset_metrics()
    for name, value in template.compute_metrics(None, y, predicted, weights).items():
        if name != "loss":
            yield f"val_{name}", float(value)


@contextlib.contextmanager
def _quiet_vectorizing() -> Iterator[None]:
    # pfor logs a warning per random op it maps with a loop (dropout's): correct, and not the
    # user's concern.
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
