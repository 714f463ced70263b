"""The sample `advise()` looks at: checked, and cut to at most `max_samples` rows."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

SAMPLE_SEED = 0  # rows are drawn reproducibly, not taken from the top (data is often sorted by class)


def _from_dataset(dataset: Any, max_samples: int, caller: str) -> tuple[Any, Any]:
    """Collect up to `max_samples` rows of a batched `tf.data.Dataset` of x or (x, y[, weights])."""
    xs, ys, count = [], [], 0
    for element in dataset:
        if isinstance(element, (tuple, list)):
            xs.append(keras.tree.map_structure(np.asarray, element[0]))
            ys.append(np.asarray(element[1]) if len(element) > 1 else None)
        else:
            xs.append(keras.tree.map_structure(np.asarray, element))
            ys.append(None)
        count += len(keras.tree.flatten(xs[-1])[0])
        if count >= max_samples:
            break
    if not xs:
        raise ValueError(f"{caller}: the dataset given as `x` yielded no elements.")
    x = keras.tree.map_structure(lambda *parts: np.concatenate(parts), *xs)
    y = None if any(part is None for part in ys) else np.concatenate(ys)
    return x, y


def prepare_sample(model: keras.Model, x: Any, y: Any, max_samples: int, caller: str = "advise") -> tuple[Any, Any]:
    """Check `x` and `y` against the model and draw at most `max_samples` rows.

    Args:
        model: the model the sample is for.
        x: a NumPy array (or array-like, or a list/dict of them for a multi-input model), or a
            batched `tf.data.Dataset` yielding x or (x, y).
        y: labels, one row per row of x; None when x is a dataset that yields them.
        max_samples: the most rows to use.
        caller: the public function whose arguments these are, named in the errors.

    Example:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        >>> x, y = prepare_sample(model, np.ones((5000, 3)), np.zeros(5000), max_samples=2048)
        >>> x.shape, y.shape
        ((2048, 3), (2048,))
    """
    if isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1:
        raise ValueError(f"{caller}: `max_samples` must be a positive integer, received {max_samples!r}.")
    if type(x).__module__.startswith("tensorflow") and hasattr(x, "element_spec"):
        if y is not None:
            raise ValueError(f"{caller}: give labels inside the dataset passed as `x`, not also as `y`.")
        x, y = _from_dataset(x, max_samples, caller)
    try:
        x = keras.tree.map_structure(lambda a: np.asarray(a), x)
    except Exception as error:
        raise TypeError(f"{caller}: `x` must be a NumPy array, a list/dict of them or a tf.data.Dataset, "
                        f"received {type(x).__name__}.") from error
    arrays = keras.tree.flatten(x)
    if len(arrays) != len(model.inputs):
        raise ValueError(f"{caller}: the model has {len(model.inputs)} input(s) but `x` holds {len(arrays)} arrays.")
    rows = len(arrays[0]) if arrays[0].ndim else 0
    for array, tensor in zip(arrays, model.inputs):
        if not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
            raise TypeError(f"{caller}: `x` must hold numbers, received dtype {array.dtype}.")
        expected = tuple(tensor.shape)
        if array.ndim != len(expected) or any(e is not None and e != a for e, a in zip(expected[1:], array.shape[1:])):
            raise ValueError(f"{caller}: `x` has shape {array.shape}, the model expects (n, "
                             f"{', '.join(str(d) for d in expected[1:])}).")
        if len(array) != rows:
            raise ValueError(f"{caller}: every array in `x` must have the same number of rows.")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{caller}: `x` contains NaN or inf; clean or impute the data first.")
    if rows == 0:
        raise ValueError(f"{caller}: `x` is empty; give at least one sample.")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 0 or len(y) != rows:
            raise ValueError(f"{caller}: `y` must have one row per row of `x` ({rows}), "
                             f"received shape {y.shape}.")
    if rows > max_samples:
        keep = np.sort(np.random.default_rng(SAMPLE_SEED).choice(rows, max_samples, replace=False))
        x = keras.tree.map_structure(lambda a: a[keep], x)
        y = None if y is None else y[keep]
    return x, y
