"""The sample `advise()` looks at: checked, and cut to at most `max_samples` rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

from ._keras_compat import input_keys

SAMPLE_SEED = 0  # rows are drawn reproducibly, not taken from the top (data is often sorted by class)


def is_dataset(data: Any) -> bool:
    """Whether `data` is a `tf.data.Dataset` or a `keras.utils.PyDataset` (what yields batches).

    Examples:
        >>> is_dataset(np.zeros(3)), is_dataset(keras.utils.PyDataset())
        (False, True)
    """
    tf_dataset = type(data).__module__.startswith("tensorflow") and hasattr(data, "element_spec")
    return tf_dataset or isinstance(data, keras.utils.PyDataset)


def batches(data: Any) -> Iterator[Any]:
    """The batches of a `tf.data.Dataset` (as NumPy; strings as bytes) or a `keras.utils.PyDataset`."""
    if isinstance(data, keras.utils.PyDataset):
        for index in range(data.num_batches if data.num_batches is not None else len(data)):
            yield data[index]
        return
    yield from data.as_numpy_iterator()


def split_element(element: Any) -> tuple[Any, Any, Any]:
    """(x, y, sample_weight) of one batch, as Keras' `fit` unpacks it: a tuple of one to three
    parts; anything else is x alone.

    Examples:
        >>> split_element((1, 2)), split_element({"a": 1})
        ((1, 2, None), ({'a': 1}, None, None))
    """
    if isinstance(element, tuple) and 1 <= len(element) <= 3:
        return tuple(element) + (None,) * (3 - len(element))
    return element, None, None


def check_batched(model: keras.Model, x: Any, what: str, caller: str) -> None:
    """Raise where a dataset's element `x` is one row, not a batch (Keras' `fit` takes batches).

    Examples:
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        >>> check_batched(model, np.zeros(3), "x", "confirm")
        Traceback (most recent call last):
        ValueError: confirm: the dataset passed as `x` yields single rows, not batches; batch it (dataset.batch(32)).
    """
    arrays = keras.tree.flatten(x) if not isinstance(x, dict) else ordered_inputs(model, x, caller)
    if len(arrays) == len(model.inputs) and all(np.ndim(a) == len(t.shape) - 1 for a, t in zip(arrays, model.inputs)):
        raise ValueError(
            f"{caller}: the dataset passed as `{what}` yields single rows, not batches; batch it (dataset.batch(32))."
        )


def _from_dataset(model: keras.Model, dataset: Any, max_samples: int, caller: str) -> tuple[Any, Any]:
    """Collect up to `max_samples` rows of a dataset of x or (x, y[, weights])."""
    xs, ys, count = [], [], 0
    for element in batches(dataset):
        x, y, _ = split_element(element)
        if not xs:
            check_batched(model, x, "x", caller)
        xs.append(keras.tree.map_structure(np.asarray, x))
        ys.append(None if y is None else keras.tree.map_structure(np.asarray, y))
        count += len(keras.tree.flatten(xs[-1])[0])
        if count >= max_samples:
            break
    if not xs:
        raise ValueError(f"{caller}: the dataset given as `x` yielded no elements.")
    x = keras.tree.map_structure(lambda *parts: np.concatenate(parts), *xs)
    y = None if any(part is None for part in ys) else keras.tree.map_structure(lambda *p: np.concatenate(p), *ys)
    return x, y


def ordered_inputs(model: keras.Model, x: Any, caller: str) -> list[Any]:
    """`x` as a list with one entry per model input, in `model.inputs` order: a dict by the
    inputs' keys (extra keys are ignored, as Keras ignores them), else flattened.

    Examples:
        >>> inputs = [keras.Input((1,), name="a"), keras.Input((2,), name="b")]
        >>> model = keras.Model(inputs, keras.layers.Concatenate()(inputs))
        >>> [v.shape for v in ordered_inputs(model, {"b": np.zeros((3, 2)), "a": np.ones((3, 1))}, "advise")]
        [(3, 1), (3, 2)]
    """
    if isinstance(x, dict):
        keys = input_keys(model)
        missing = [key for key in keys if key not in x]
        if missing:
            raise ValueError(
                f"{caller}: `x` has no entry for the model's input(s) {missing}; its inputs are "
                f"{keys} and `x` has the keys {sorted(map(str, x))}."
            )
        return [x[key] for key in keys]
    return keras.tree.flatten(x)


def holds_text(array: Any) -> bool:
    """Whether `array` is a NumPy array of strings (``<U``, ``S``, or objects as Keras takes them).

    Examples:
        >>> holds_text(np.array(["a"])), holds_text(np.zeros(1))
        (True, False)
    """
    return isinstance(array, np.ndarray) and array.dtype.kind in "OUS"


def text_as_objects(array: np.ndarray) -> np.ndarray:
    """NumPy strings (``<U``, ``S``) as objects: what Keras' `fit` and TensorFlow take.

    Examples:
        >>> text_as_objects(np.array(["a b"])).dtype, text_as_objects(np.zeros(1)).dtype
        (dtype('O'), dtype('float64'))
    """
    return array.astype(object) if array.dtype.kind in "US" else array


def with_text_as_tensors(x: Any) -> Any:
    """With strings among the inputs, every input as a TensorFlow tensor: Keras converts no NumPy
    strings of more than one axis, and takes no mix of tensors and arrays (only TensorFlow runs
    text layers).

    Examples:
        >>> [type(a).__name__ for a in with_text_as_tensors([np.zeros(2), np.array(["a", "b"], object)])]
        ['EagerTensor', 'EagerTensor']
    """
    if not any(holds_text(a) for a in keras.tree.flatten(x)):
        return x
    import tensorflow as tf

    return keras.tree.map_structure(tf.constant, x)


def check_input(array: np.ndarray, tensor: Any, name: str, caller: str) -> None:
    """Raise one clear error where `array` cannot feed the model input `tensor` (named `name`):
    strings for a number input or numbers for a text one, another shape, NaN or inf.

    Examples:
        >>> check_input(np.zeros((2, 3)), keras.Input((3,)), "features", "confirm")
        >>> check_input(np.zeros((2, 4)), keras.Input((3,)), "features", "confirm")
        Traceback (most recent call last):
        ValueError: confirm: `x` has shape (2, 4) for input 'features', the model expects (n, 3).
    """
    takes_text = str(tensor.dtype) == "string"
    is_text = holds_text(array)
    if is_text and not takes_text:
        raise TypeError(
            f"{caller}: `x` holds strings for input {name!r}, which takes {tensor.dtype}. A model "
            "that reads text needs keras.Input(dtype='string') and a TextVectorization (or "
            "StringLookup) layer; else pass numbers."
        )
    if takes_text and not is_text:
        raise TypeError(
            f"{caller}: input {name!r} takes strings, `x` holds {array.dtype} for it; pass the raw "
            "text (a NumPy array of str)."
        )
    if not is_text and not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
        raise TypeError(
            f"{caller}: `x` must hold numbers (or strings for a text input), received dtype "
            f"{array.dtype} for input {name!r}."
        )
    expected = tuple(tensor.shape)
    if array.ndim != len(expected) or any(e is not None and e != a for e, a in zip(expected[1:], array.shape[1:])):
        raise ValueError(
            f"{caller}: `x` has shape {array.shape} for input {name!r}, the model expects (n"
            f"{''.join(', ' + str(d) for d in expected[1:])})."
        )
    if not is_text and np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise ValueError(f"{caller}: `x` contains NaN or inf; clean or impute the data first.")


def prepare_sample(model: keras.Model, x: Any, y: Any, max_samples: int, caller: str = "advise") -> tuple[Any, Any]:
    """Check `x` and `y` against the model and draw at most `max_samples` rows.

    Args:
        model: the model the sample is for.
        x: what `model.fit` takes as x: a NumPy array (numbers, or strings for a text input), a
            list or dict of them for a multi-input model (a dict by the inputs' names), or a
            `tf.data.Dataset` / `keras.utils.PyDataset` yielding x or (x, y[, sample_weight]).
        y: labels, one row per row of x; None when x is a dataset that yields them.
        max_samples: the most rows to use.
        caller: the public function whose arguments these are, named in the errors.

    Returns x (strings as NumPy objects, a dict without the keys the model does not read) and
    y, cut to the same rows.

    Examples:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        >>> x, y = prepare_sample(model, np.ones((5000, 3)), np.zeros(5000), max_samples=2048)
        >>> x.shape, y.shape
        ((2048, 3), (2048,))
    """
    if isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1:
        raise ValueError(f"{caller}: `max_samples` must be a positive integer, received {max_samples!r}.")
    if is_dataset(x):
        if y is not None:
            raise ValueError(f"{caller}: give labels inside the dataset passed as `x`, not also as `y`.")
        x, y = _from_dataset(model, x, max_samples, caller)
    if isinstance(x, dict):
        x = dict(zip(input_keys(model), ordered_inputs(model, x, caller)))
    try:
        x = keras.tree.map_structure(lambda a: text_as_objects(np.asarray(a)), x)
    except Exception as error:
        raise TypeError(
            f"{caller}: `x` must be a NumPy array, a list/dict of them, a tf.data.Dataset or a "
            f"keras.utils.PyDataset, received {type(x).__name__}."
        ) from error
    arrays = ordered_inputs(model, x, caller)
    if len(arrays) != len(model.inputs):
        raise ValueError(f"{caller}: the model has {len(model.inputs)} input(s) but `x` holds {len(arrays)} arrays.")
    rows = len(arrays[0]) if arrays[0].ndim else 0
    for array, tensor, name in zip(arrays, model.inputs, input_keys(model)):
        check_input(array, tensor, name, caller)
        if len(array) != rows:
            raise ValueError(f"{caller}: every array in `x` must have the same number of rows.")
    if rows == 0:
        raise ValueError(f"{caller}: `x` is empty; give at least one sample.")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 0 or len(y) != rows:
            raise ValueError(f"{caller}: `y` must have one row per row of `x` ({rows}), received shape {y.shape}.")
    if rows > max_samples:
        keep = np.sort(np.random.default_rng(SAMPLE_SEED).choice(rows, max_samples, replace=False))
        x = keras.tree.map_structure(lambda a: a[keep], x)
        y = None if y is None else y[keep]
    return x, y
