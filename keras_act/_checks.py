"""Argument and input validation shared by the layers.

Every check raises at construction time with a message that names the layer, the argument and
what was expected, so a user never has to read a traceback from inside a backend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import keras
import numpy as np
from keras import ops


def check_number(value: Any, name: str, owner: str, *, non_negative: bool = False) -> float:
    """Return `value` as a float, or raise if it is not a finite real number.

    Examples:
        >>> check_number(0.5, "alpha", "ELU", non_negative=True)
        0.5
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(
            f"{owner}: argument `{name}` must be a real number, "
            f"received {name}={value!r} of type {type(value).__name__}."
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{owner}: argument `{name}` must be finite, received {name}={value!r}.")
    if non_negative and value < 0:
        raise ValueError(f"{owner}: argument `{name}` must be >= 0, received {name}={value!r}.")
    return value


def check_bool(value: Any, name: str, owner: str) -> bool:
    """Return `value` if it is a bool, else raise `TypeError`.

    Examples:
        >>> check_bool(True, "approximate", "GELU")
        True
    """
    if not isinstance(value, bool):
        raise TypeError(
            f"{owner}: argument `{name}` must be True or False, "
            f"received {name}={value!r} of type {type(value).__name__}."
        )
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def check_axis(value: Any, name: str, owner: str) -> int | tuple[int, ...]:
    """Return an axis (int) or axes (tuple of ints) after checking the type.

    Examples:
        >>> check_axis([1, 2], "axis", "Softmax")
        (1, 2)
    """
    if _is_int(value):
        return int(value)
    if isinstance(value, (list, tuple)) and value and all(_is_int(v) for v in value):
        return tuple(int(v) for v in value)
    raise ValueError(
        f"{owner}: argument `{name}` must be an integer or a non-empty list of integers, received {name}={value!r}."
    )


def check_shared_axes(value: Any, owner: str) -> tuple[int, ...] | None:
    """Return `shared_axes` as a tuple of positive ints, or None.

    Axis 0 is the batch axis, which a parameter is always shared along, so it is not allowed.

    Examples:
        >>> check_shared_axes([1, 2], "PReLU")
        (1, 2)
    """
    if value is None:
        return None
    axes = (value,) if _is_int(value) else value
    if not isinstance(axes, (list, tuple)) or not all(_is_int(a) and a > 0 for a in axes):
        raise ValueError(
            f"{owner}: argument `shared_axes` must be None, a positive integer or a list of "
            f"positive integers (axis 0 is the batch axis), received shared_axes={value!r}."
        )
    return tuple(int(a) for a in axes)


def parameter_shape(input_shape: Sequence[int | None], shared_axes: tuple[int, ...] | None, owner: str) -> list[int]:
    """Shape of a per-unit parameter: the input shape without the batch axis, 1 on shared axes.

    Examples:
        >>> parameter_shape((None, 8, 8, 3), (1, 2), "PReLU")
        [1, 1, 3]
    """
    shape = list(input_shape[1:])
    for axis in shared_axes or ():
        if axis >= len(input_shape):
            raise ValueError(
                f"{owner}: shared_axes={list(shared_axes)} names axis {axis}, but the input has "
                f"only {len(input_shape)} axes (shape {tuple(input_shape)})."
            )
        shape[axis - 1] = 1
    if any(dim is None for dim in shape):
        raise ValueError(
            f"{owner}: the input shape {tuple(input_shape)} has an unknown non-batch dimension; "
            "share the parameter along it with `shared_axes` or give the input a fixed shape."
        )
    return shape


def numeric_dtype(inputs: Any, owner: str) -> str:
    """Return the standardized dtype of `inputs`, or raise `TypeError` if it is not real-valued.

    Called before Keras converts the inputs, so strings and objects never reach a backend.

    Examples:
        >>> numeric_dtype(np.zeros(2, "int32"), "ReLU")
        'int32'
    """
    dtype = getattr(inputs, "dtype", None)
    try:
        if dtype is None:
            dtype = np.asarray(inputs).dtype
        kind = keras.backend.standardize_dtype(dtype)
    except (TypeError, ValueError):
        kind = str(dtype) if dtype is not None else type(inputs).__name__
    if not kind.startswith(_REAL_DTYPE_PREFIXES):
        raise TypeError(f"{owner} expects a real-valued numeric tensor, received dtype {kind}.")
    return kind


_REAL_DTYPE_PREFIXES = ("float", "bfloat", "int", "uint", "bool")


def float_input(inputs: Any, dtype: str) -> Any:
    """Return `inputs` as a tensor, casting integers and booleans to the floating `dtype`.

    Examples:
        >>> keras.backend.standardize_dtype(float_input(np.array([1, 2]), "float32").dtype)
        'float32'
    """
    tensor = ops.convert_to_tensor(inputs)
    if keras.backend.standardize_dtype(tensor.dtype).startswith(("float", "bfloat")):
        return tensor
    return ops.cast(tensor, dtype)
