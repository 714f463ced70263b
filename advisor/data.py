"""What `confirm()` trains on: the user's data, in the forms `model.fit` takes, read once.

The forms: NumPy arrays; lists and dicts of arrays for a multi-input model (a dict by the
inputs' keys, as Keras matches them; extra keys are ignored); strings for a text input; labels
per output for a multi-output model (a dict by output name, or a list in order); a
`tf.data.Dataset` or `keras.utils.PyDataset` yielding ``(x, y)`` or ``(x, y, sample_weight)``;
`sample_weight` and `class_weight` as `fit` takes them.

A dataset of at most `IN_MEMORY_LIMIT_BYTES` is read once into memory, so that every
configuration and every execution trains on the same rows, split per execution as arrays are,
and executions of a row train together where they can; one that repeats forever is read for
`steps_per_epoch` batches (one epoch's worth). A larger one is streamed (`StreamedData`): each
execution's `fit` reads it batch by batch, as Keras' own would, one execution at a time; its
first batches (`SAMPLE_ROWS` rows) are kept to check it against the model and infer the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from ._keras_compat import input_keys
from .inspection import view
from .sample import batches, check_batched, check_input, is_dataset, ordered_inputs, split_element, text_as_objects

# The most bytes of a dataset read into memory (its x, labels and weights, every batch).
IN_MEMORY_LIMIT_BYTES = 1 << 30
# The rows of a streamed dataset kept to check it and infer its task.
SAMPLE_ROWS = 2048


@dataclass(frozen=True)
class FitData:
    """Rows to train or validate on, in memory, checked against the model.

    Attributes:
        x: one array per model input, in `model.inputs` order.
        y: one array of labels per model output, in `model.outputs` order.
        sample_weight: one weight per row, or None.

    Examples:
        >>> FitData([np.zeros((4, 2))], [np.ones(4)], None).rows
        4
    """

    x: list[np.ndarray]
    y: list[np.ndarray]
    sample_weight: np.ndarray | None = None

    @property
    def rows(self) -> int:
        """How many rows."""
        return len(self.x[0])


@dataclass(frozen=True)
class StreamedData:
    """A dataset larger than `IN_MEMORY_LIMIT_BYTES`, read batch by batch by each training.

    Attributes:
        dataset: the user's `tf.data.Dataset` or `keras.utils.PyDataset`, as `fit` takes it.
        steps: batches per epoch (None: the whole dataset).
        sample: its first batches (about `SAMPLE_ROWS` rows), checked against the model.
        class_weight: passed to each `fit`, or None.

    Examples:
        >>> sample = FitData([np.zeros((2, 1))], [np.zeros(2)])
        >>> StreamedData(keras.utils.PyDataset(), None, sample).sample.rows
        2
    """

    dataset: Any
    steps: int | None
    sample: FitData
    class_weight: dict[Any, float] | None = None


def _read_dataset(
    model: keras.Model, dataset: Any, steps: int | None, what: str, caller: str
) -> tuple[tuple[Any, Any, Any], bool]:
    """(x, y, sample_weight) of every batch of `dataset` concatenated, and False; or, past the
    memory bound, of its first batches (about `SAMPLE_ROWS` rows), and True (stream it)."""
    import tensorflow as tf

    infinite = isinstance(dataset, tf.data.Dataset) and int(dataset.cardinality()) == int(tf.data.INFINITE_CARDINALITY)
    if infinite and steps is None:
        instead = "pass `steps_per_epoch` (batches per epoch), or " if what == "x" else ""
        raise ValueError(
            f"{caller}: the dataset passed as `{what}` repeats forever; {instead}give a finite dataset (no .repeat())."
        )
    parts, size, rows, streamed = [], 0, 0, False
    for index, element in enumerate(batches(dataset)):
        if steps is not None and index >= steps:
            break
        element = split_element(element)
        if index == 0:
            check_batched(model, element[0], what, caller)
        if not streamed or rows < SAMPLE_ROWS:
            parts.append(element)
            rows += len(keras.tree.flatten(element[0])[0])
        size += sum(np.asarray(a).nbytes for a in keras.tree.flatten([p for p in element if p is not None]))
        if size > IN_MEMORY_LIMIT_BYTES and not streamed:
            streamed = True
            parts, rows = parts[:1], len(keras.tree.flatten(parts[0][0])[0])
        if streamed and rows >= SAMPLE_ROWS:
            break  # the rest is read by each training
    if not parts:
        raise ValueError(f"{caller}: the dataset passed as `{what}` yielded no elements.")
    if any(part[1] is None for part in parts):
        raise ValueError(
            f"{caller}: the dataset passed as `{what}` yields no labels; its elements must be "
            "(x, y) or (x, y, sample_weight)."
        )

    def joined(index: int) -> Any:
        if any(part[index] is None for part in parts):
            return None
        try:
            return keras.tree.map_structure(
                lambda *arrays: np.concatenate([np.asarray(a) for a in arrays]), *(part[index] for part in parts)
            )
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"{caller}: the batches of the dataset passed as `{what}` differ in structure or shape ({error})."
            ) from None

    return (joined(0), joined(1), joined(2)), streamed


def _labels_per_output(model: keras.Model, y: Any, what: str, caller: str) -> list[np.ndarray]:
    names = [head.name for head in view(model).heads]
    if len(names) == 1:
        if isinstance(y, dict) and len(y) == 1:
            y = next(iter(y.values()))
        elif isinstance(y, (list, tuple)) and len(y) == 1 and np.asarray(y[0]).ndim >= 1:
            y = y[0]
        return [np.asarray(y)]
    if isinstance(y, dict):
        missing = [name for name in names if name not in y]
        if missing:
            raise ValueError(
                f"{caller}: `{what}` has no labels for output(s) {missing}; the model's outputs are "
                f"{names} and `{what}` has the keys {sorted(map(str, y))}."
            )
        return [np.asarray(y[name]) for name in names]
    if isinstance(y, (list, tuple)) and len(y) == len(names):
        return [np.asarray(labels) for labels in y]
    raise ValueError(
        f"{caller}: the model has {len(names)} outputs {names}; pass `{what}` as a dict of labels by "
        "output name, or a list with one array per output."
    )


def _class_weights(class_weight: dict[Any, float], y: np.ndarray, caller: str) -> np.ndarray:
    """Each row's weight from its class, as Keras' `fit` reads `class_weight` (one-hot rows by
    their largest column)."""
    classes = np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else np.rint(y.reshape(len(y))).astype(int)
    missing = sorted(set(classes.tolist()) - {int(k) for k in class_weight})
    if missing:
        raise ValueError(f"{caller}: `class_weight` has no weight for class(es) {missing[:10]} found in the labels.")
    return np.array([float(class_weight[c]) for c in classes], dtype="float32")


def read_fit_data(
    model: keras.Model,
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    class_weight: dict[Any, float] | None = None,
    steps_per_epoch: int | None = None,
    what: str = "x",
    caller: str = "confirm",
) -> FitData | StreamedData:
    """Read (`x`, `y`, `sample_weight`) as `model.fit` would, check them, and keep them in memory
    (a dataset past `IN_MEMORY_LIMIT_BYTES`: its first batches, to stream the rest).

    Args:
        model: the model the data is for.
        x: arrays (a list or dict of them for several inputs), or a dataset of (x, y[, sample_weight]).
        y: labels (a dict by output name or a list, for several outputs); None with a dataset.
        sample_weight: one weight per row, or None.
        class_weight: a weight per class (single-output classification), multiplied into the
            sample weights as Keras does.
        steps_per_epoch: with a dataset, read this many batches (required when it repeats forever).
        what: the argument's name in the errors (``"x"``, ``"validation_data"``).
        caller: the public function named in the errors.

    Examples:
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> data = read_fit_data(model, np.zeros((6, 2)), np.arange(6), class_weight=None)
        >>> data.rows, [a.shape for a in data.y]
        (6, [(6,)])
    """
    if is_dataset(x):
        if y is not None or sample_weight is not None:
            raise ValueError(
                f"{caller}: `{what}` is a dataset: give its labels and sample weights inside it, not also as arguments."
            )
        (rows_x, rows_y, rows_weight), streamed = _read_dataset(model, x, steps_per_epoch, what, caller)
        sample = read_fit_data(model, rows_x, rows_y, rows_weight, class_weight, what=what, caller=caller)
        return StreamedData(x, steps_per_epoch, sample, class_weight) if streamed else sample
    if y is None:
        raise ValueError(f"{caller}: `y` (the labels) is required with arrays; a dataset gives them as (x, y).")
    inputs = ordered_inputs(model, x, caller)  # names a dict's missing key itself
    try:
        arrays = [text_as_objects(np.asarray(a)) for a in inputs]
    except (TypeError, ValueError):
        raise TypeError(
            f"{caller}: `{what}` must be arrays, a list or dict of them, a tf.data.Dataset or a "
            f"keras.utils.PyDataset, received {type(x).__name__}."
        ) from None
    if len(arrays) != len(model.inputs):
        raise ValueError(
            f"{caller}: the model has {len(model.inputs)} input(s) but `{what}` holds {len(arrays)} arrays."
        )
    for array, tensor, name in zip(arrays, model.inputs, input_keys(model)):
        check_input(array, tensor, name, caller)
    rows = len(arrays[0])
    if rows == 0 or any(len(a) != rows for a in arrays):
        raise ValueError(
            f"{caller}: every array in `{what}` must have the same, non-zero number of rows, "
            f"found {[len(a) for a in arrays]}."
        )
    labels = _labels_per_output(model, y, "y" if what == "x" else what, caller)
    for labels_i in labels:
        if labels_i.ndim == 0 or len(labels_i) != rows:
            raise ValueError(
                f"{caller}: the labels must have one row per row of `{what}` ({rows}), received shape {labels_i.shape}."
            )
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype="float32")
        if weights.ndim == 2 and weights.shape[1] == 1:
            weights = weights[:, 0]
        if weights.shape != (rows,):
            raise ValueError(
                f"{caller}: `sample_weight` must hold one weight per row of `{what}` ({rows}), "
                f"received shape {weights.shape}."
            )
    if class_weight is not None:
        if not isinstance(class_weight, dict):
            raise TypeError(
                f"{caller}: `class_weight` must be a dict of class index to weight, received "
                f"{type(class_weight).__name__}."
            )
        if len(labels) > 1:
            raise ValueError(
                f"{caller}: `class_weight` is for a single-output model (as in Keras' fit); pass "
                "`sample_weight` for a model with several outputs."
            )
        from_classes = _class_weights(class_weight, labels[0], caller)
        weights = from_classes if weights is None else weights * from_classes
    return FitData(arrays, labels, weights)
