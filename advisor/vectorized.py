"""A row's copies on TensorFlow: one model's graph, vectorized over the copies' stacked weights.

The fused Keras model of `executions` holds one graph per copy, and TensorFlow traces and runs
each: on a 10-copy MLP that is ~4,800 ops, 5 s of tracing per row. Here the copies' weights are
stacked along a new first axis (copy ``i`` at index ``i``), and one copy's forward pass is mapped
over them with `tf.vectorized_map`: one trace the size of one model, batched kernels.

Each copy still trains as it would alone: its own seeded weights (drawn by building it), its own
batches (the fused path's `training_batches`, stacked), its own loss (the compiled loss, mean over
the batch, plus its own regularization losses), and an optimizer whose update of a weight reads
only that weight's gradient (`ELEMENTWISE_OPTIMIZERS`, no per-variable norm clipping), so one
update of the stacked weights is every copy's own update. Validation scores each copy with the
compiled loss and metrics, on every row, as Keras' `fit` does.

Where any of that does not hold, `fit_vectorized` returns None and the caller trains another way.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np

from ._keras_compat import as_input_structure
from .copies import CopyCurves, CopyData, RowTraining, per_row_loss, training_batches

# Optimizers whose step for a weight reads only that weight's own gradient and slots; Lamb and
# Adafactor use per-variable norms, Muon orthogonalizes whole matrices: stacked, they would mix
# the copies. Exact types: a subclass may override the update.
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


def vectorizes(spec: RowTraining, optimizer: Any) -> bool:
    """Whether `fit_vectorized` can train the row's copies (TensorFlow, an elementwise optimizer...).

    Examples:
        >>> row = RowTraining(lambda: None, "mse", [], keras.optimizers.Adam, "val_loss", False, epochs=1)
        >>> vectorizes(row, keras.optimizers.Adam()) == (keras.backend.backend() == "tensorflow")
        True
        >>> vectorizes(row, keras.optimizers.Adam(clipnorm=1.0))
        False
    """
    if keras.backend.backend() != "tensorflow" or type(optimizer) not in ELEMENTWISE_OPTIMIZERS:
        return False
    if getattr(optimizer, "clipnorm", None) or getattr(optimizer, "global_clipnorm", None):
        return False  # a norm over a stacked weight would take in every copy
    if keras.config.dtype_policy().name == "mixed_float16":
        return False  # Keras would scale the loss; this loop does not
    if not (spec.objective == "loss" or spec.objective.startswith("val_")):
        return False  # training metrics other than the loss are not tracked here
    import tensorflow as tf

    with spec.scope():
        return not tf.distribute.has_strategy()


def fit_vectorized(
    spec: RowTraining,
    copies: list[keras.Model],
    x: list[Any],
    y: Any,
    parts: list[CopyData],
    seed: int,
    progress: Callable[[int], None],
    sample_weight: np.ndarray | None = None,
    after_epoch: Callable[[Callable[[list[Any]], np.ndarray]], None] | None = None,
) -> list[dict[str, list[float]]] | None:
    """Train the copies together; each copy's history (Keras' `fit` names), or None if it cannot.

    Args:
        spec: the row's `RowTraining`.
        copies: the seeded, built, uncompiled copies (the same architecture).
        x, y: the rows (x as a list, one array per input).
        parts: each copy's training rows and validation data.
        seed: the first copy's seed (copy ``i`` shuffles with ``seed + i``).
        progress: called with the copy-epochs done so far.
        sample_weight: one weight per row of x, or None. As in Keras' `fit`, a batch's loss is
            the mean over its rows of loss x weight, and so is the validation loss (the parts'
            `weight_val`); validation metrics are weighted means.
        after_epoch: called after each epoch's validation with a function that predicts: given
            inputs (a list, one array per input), every copy's outputs, copy ``i`` at index
            ``i`` (the activation atlas scores a test split at each copy's best epoch with it).

    Returns None off TensorFlow, when the copies do not all have the same variables, when a
    weight gets a sparse gradient, or when the copies' layers cannot be mapped over (tracing the
    step fails).

    Examples:
        >>> x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
        >>> row = RowTraining(lambda: keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
        ...                   "mse", [], keras.optimizers.Adam, "val_loss", False, epochs=2)
        >>> copies = [row.build() for _ in range(3)]
        >>> parts = [CopyData(np.arange(32), [x], x[:, :1])] * 3
        >>> histories = fit_vectorized(row, copies, [x], x[:, :1], parts, 0, lambda done: None)
        >>> [len(h["val_loss"]) for h in histories]
        [2, 2, 2]
    """
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    dtypes = [t.dtype for t in copies[0].inputs]
    x = _as_inputs(x, dtypes)
    x_val = [_as_inputs(p.x_val, dtypes) for p in parts]
    count, rows = len(copies), len(parts[0].train_rows)
    # Unweighted rows weigh 1: the same products, exactly.
    weights = np.ones(len(y), "float32") if sample_weight is None else sample_weight

    def batches_of(active: list[int], epochs_done: int = 0) -> Any:
        batches = training_batches(
            x,
            y,
            [parts[i].train_rows for i in active],
            spec.batch_size,
            spec.shuffle,
            seed,
            stacked=True,
            weights=weights,
            copy_seeds=[seed + i for i in active],
        )
        for _ in range(epochs_done):
            iter(batches)  # each new iterator reshuffles: a smaller stack goes on with the same orders
        return batches

    active = list(range(count))  # the copies in the stack, copy active[k] at index k
    batches = batches_of(active)
    trainer = (spec.traced or {}).get(count)
    if trainer is None:
        trainer = _Trainer.trace(spec, copies, x, batches)
        if trainer is None:
            return None
    elif not trainer.load(copies, x):
        return None

    histories: list[dict[str, list[float]]] = [{} for _ in copies]
    monitor = spec.objective if spec.objective.startswith("val_") else "loss"
    curves = CopyCurves(count, spec.patience, spec.higher_is_better, progress)
    for epoch in range(spec.epochs):
        started = time.perf_counter()
        seen, epoch_loss = 0, np.zeros(len(active))
        for inputs, labels, row_weights in batches:
            if not trainer.stepped:
                try:
                    with _quiet_vectorizing():
                        losses = trainer.train_step(inputs, labels, row_weights)
                except (TypeError, ValueError, NotImplementedError, tf.errors.OpError):
                    return None  # a layer pfor cannot map; the fused model trains these copies
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
                parts[index].y_val,
                predicted[position],
                penalties[position],
                parts[index].weight_val,
            ):
                histories[index].setdefault(name, []).append(value)
        if after_epoch is not None:
            after_epoch(lambda inputs: _predict_rows(trainer.predict_step, [_as_inputs(inputs, dtypes)] * count)[0])
        if monitor not in histories[0]:
            return None  # not a metric this loop logs; the fused model's fit names the problem
        # A stopped copy's curve ends at its stop (early_stop replays it the same whatever follows).
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
    """Whether to drop the stopped copies from the stack (a new trace) rather than train them on.

    Worth it once at most half the stacked copies still train, when the compute the stopped ones
    would take (their share of an epoch, over half the epochs left: the copies still training stop
    on the way) exceeds a trace of the smaller stack (about what this stack's trace took).

    Examples:
        >>> _shrink_pays(2, 10, epoch_seconds=1.0, epochs_left=10, trace_seconds=2.0)
        True
        >>> _shrink_pays(2, 10, epoch_seconds=0.1, epochs_left=10, trace_seconds=2.0)
        False
    """
    return 2 * training <= stacked and epoch_seconds * (1 - training / stacked) * epochs_left / 2 > trace_seconds


class _Trainer:
    """The traced training and prediction steps of one model's graph over stacked copies, with
    the stacked weights and the optimizer they update; `load` puts other copies' weights in."""

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

    def load(self, copies: list[keras.Model], x: list[Any]) -> bool:
        """Give the stacked weights these copies' values and the optimizer its first state; False
        when the copies' weights are shaped otherwise."""
        for copy in copies:
            copy(as_input_structure(copy, [a[:2] for a in x]))  # a layer used as an activation builds here
        for stacked, trainable in ((self.trainable, True), (self.frozen, False)):
            for index, variable in enumerate(stacked):
                values = _stacked_values(copies, index, trainable)
                if values.shape != tuple(variable.shape):
                    return False
                variable.assign(values)
        for variable, value in zip(self.optimizer.variables, self.initial):
            variable.assign(value)
        return True

    @classmethod
    def trace(cls, spec: RowTraining, copies: list[keras.Model], x: list[Any], batches: Any) -> _Trainer | None:
        """A trainer for these copies (traced on its first step); None where they cannot be mapped over."""
        template = copies[0]  # its layers compute every copy; the stacked weights say whose
        if _has_sparse_gradients(template, [a[:2] for a in x]):
            return None
        for copy in copies[1:]:
            # A layer used as an activation makes its weights on its first call.
            copy(as_input_structure(copy, [a[:2] for a in x]))
        shapes = [[tuple(v.shape) for v in c.weights] for c in copies]
        if any(s != shapes[0] for s in shapes):
            return None
        trainable = [_stacked(copies, k, trainable=True) for k in range(len(template.trainable_variables))]
        frozen = [_stacked(copies, k, trainable=False) for k in range(len(template.non_trainable_variables))]
        template.compile(optimizer=spec.optimizer(), loss=spec.loss, metrics=list(spec.metrics))  # for the metrics
        return cls.over(template, trainable, frozen, spec, x, batches)

    def subset(self, keep: list[int], spec: RowTraining, x: list[Any], batches: Any) -> _Trainer:
        """A trainer of copies `keep` (their indices in this stack) as they are now: weights and
        optimizer state carried over, steps traced anew for the smaller stack."""
        trainable = [
            keras.Variable(np.asarray(v)[keep], dtype=v.dtype, trainable=True, name=v.name) for v in self.trainable
        ]
        frozen = [keras.Variable(np.asarray(v)[keep], dtype=v.dtype, trainable=False, name=v.name) for v in self.frozen]
        smaller = self.over(self.template, trainable, frozen, spec, x, batches)
        stacked = {tuple(v.shape) for v in self.trainable}
        for variable, now in zip(smaller.optimizer.variables, self.optimizer.variables):
            # A slot shaped like a stacked weight holds one copy per index; the rest (the
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
            """One copy's outputs, updated state and regularization penalty."""
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
                total = tf.reduce_sum(losses)  # copy i's loss depends on copy i's weights alone
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
    predict_step: Callable[[Any], Any], inputs_of_copies: list[list[Any]], chunk: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Every copy's outputs on its own rows, in chunks, and its mean penalty over them."""
    rows = len(inputs_of_copies[0][0])
    with _quiet_vectorizing():
        chunks = [
            predict_step(_stacked_rows(inputs_of_copies, start, start + chunk)) for start in range(0, rows, chunk)
        ]
    predicted = np.concatenate([np.asarray(p) for p, _ in chunks], axis=1)
    # Each chunk's penalty weighted by its rows, as Keras' fit weights its validation batches.
    penalties = sum(np.asarray(penalty, "float64") * int(p.shape[1]) for p, penalty in chunks) / predicted.shape[1]
    return predicted, penalties


def _stacked_rows(inputs_of_copies: list[list[Any]], start: int, stop: int) -> tuple[Any, ...]:
    """Rows start:stop of each copy's inputs, one array per input, copy ``i`` at index ``i``."""
    return tuple(
        np.stack([inputs[j][start:stop] for inputs in inputs_of_copies]) for j in range(len(inputs_of_copies[0]))
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


def _stacked_values(copies: list[keras.Model], index: int, trainable: bool) -> np.ndarray:
    """The copies' values of their `index`-th (non-)trainable variable, copy ``i`` at index ``i``."""
    return np.stack(
        [np.asarray((c.trainable_variables if trainable else c.non_trainable_variables)[index]) for c in copies]
    )


def _stacked(copies: list[keras.Model], index: int, trainable: bool) -> keras.Variable:
    first = (copies[0].trainable_variables if trainable else copies[0].non_trainable_variables)[index]
    return keras.Variable(
        _stacked_values(copies, index, trainable), dtype=first.dtype, trainable=trainable, name=first.name
    )  # the name: weight-decay exclusions match by name


def _validation(
    template: keras.Model,
    loss_of_rows: Callable[[Any, Any], Any],
    y: Any,
    predicted: np.ndarray,
    penalty: float,
    weights: np.ndarray | None,
) -> Iterator[tuple[str, float]]:
    """One copy's validation loss (the rows' mean of loss x weight, plus its penalty, as Keras'
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
