"""Horner's rule on anything with ``*`` and ``+``: floats, NumPy arrays, backend tensors.

Its own module so that both `keras_act.ops` (Rational) and `keras_act._tf_fast` (Snake's sine)
use it: `_tf_fast` may not import `ops`, which imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def horner(coefficients: Sequence[Any], t: Any) -> Any:
    """``c[0] + c[1] t + ... + c[-1] t**(len(c) - 1)`` by Horner's rule.

    Examples:
        >>> horner([1.0, 2.0, 3.0], 2.0)  # 1 + 2*2 + 3*4
        17.0
    """
    value = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        value = value * t + c
    return value


def horner_and_derivative(coefficients: Sequence[Any], t: Any) -> tuple[Any, Any]:
    """The polynomial `horner` evaluates and its derivative in t, by one Horner pass.

    Examples:
        >>> horner_and_derivative([1.0, 2.0, 3.0], 2.0)  # 1 + 2t + 3t**2 and 2 + 6t at t = 2
        (17.0, 14.0)
    """
    value, derivative = coefficients[-1], 0.0
    for c in reversed(coefficients[:-1]):
        derivative = derivative * t + value
        value = value * t + c
    return value, derivative
