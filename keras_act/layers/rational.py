"""The `Rational` layer: a learnable Padé activation unit."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import keras
import numpy as np

from keras_act import ops as act_ops
from keras_act._fit import FIT_RANGE, TARGETS, fit_rational
from keras_act.layers._parametric import ParametricActivation, built_weight

# PAU's degrees (Molina et al. 2020): a (5, 4) rational fits every activation they tried.
DEFAULT_DEGREES = (5, 4)


@keras.saving.register_keras_serializable(package="keras_act")
class Rational(ParametricActivation):
    """Padé activation unit ``P(x) / Q(x)`` (Molina et al., ICLR 2020) with learned coefficients.

    ``P(x) = a_0 + a_1 x + ... + a_m x**m``, ``Q(x) = 1 + |b_1| |x| + ... + |b_n| |x|**n`` (the
    "safe" PAU: Q is never below 1). The coefficients start as the least-squares fit of the
    activation `approx` on `fit_range` (see `keras_act._fit.fit_rational`; the fit of a
    (5, 4) rational is within 0.04 of a kinked activation such as ReLU there, within 4e-3 of a
    smooth one), and training reshapes the curve. Values and gradients are finite for every
    finite input; half-precision inputs are computed in float32 with float32 coefficients.

    The fitted coefficients are part of the config, so a saved model reloads without refitting.

    Args:
        approx: the keras_act id of the activation to start from (any elementwise one).
        degrees: ``(m, n)``, the numerator's and the denominator's degree; ``1 <= n`` and
            ``m <= n + 1``, so the curve grows at most linearly.
        shared_axes: None (the default, as in the paper) gives one set of coefficients for the
            layer; a list of axes gives one set per unit, shared along those axes, as in
            `PReLU` (``[1, 2]`` on an NHWC map: one set per channel).
        fit_range: the interval ``(low, high)`` the start is fitted on.
        numerator: starting coefficients ``a_0 .. a_m``, instead of a fit (a saved config
            holds them); `approx` then only names them.
        denominator: starting coefficients ``b_1 .. b_n``, with `numerator`.

    Examples:
        >>> import numpy as np
        >>> layer = Rational("relu")
        >>> y = keras.ops.convert_to_numpy(layer(np.array([[-2.0, 0.5, 2.0]], "float32")))
        >>> bool(np.max(np.abs(y - [[0.0, 0.5, 2.0]])) < 0.04)
        True
        >>> tuple(layer.numerator.shape), tuple(layer.denominator.shape)
        ((6,), (4,))
    """

    activation_id = "rational"
    default_sharing = "layer"
    full_precision_parameters = True

    def __init__(
        self,
        approx: str = "leaky_relu",
        degrees: Sequence[int] = DEFAULT_DEGREES,
        shared_axes: int | list[int] | None = None,
        fit_range: Sequence[float] = FIT_RANGE,
        numerator: Sequence[float] | None = None,
        denominator: Sequence[float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(shared_axes=shared_axes, **kwargs)
        if not isinstance(approx, str) or approx not in TARGETS:
            raise ValueError(
                f"Rational: argument `approx` must be the id of an elementwise keras_act "
                f"activation ({', '.join(TARGETS)}), received approx={approx!r}."
            )
        self.approx = approx
        self.degrees = _check_degrees(degrees)
        self.fit_range = _check_fit_range(fit_range)
        if (numerator is None) != (denominator is None):
            raise ValueError("Rational: give both `numerator` and `denominator`, or neither (to fit `approx`).")
        if numerator is None:
            numerator, denominator = fit_rational(approx, self.degrees, self.fit_range)
        m, n = self.degrees
        self.initial_numerator = _check_coefficients(numerator, "numerator", m + 1, f"degrees[0] + 1 = {m + 1}")
        self.initial_denominator = _check_coefficients(denominator, "denominator", n, f"degrees[1] = {n}")

    def build(self, input_shape: Any) -> None:
        self._numerator = self._add_parameter(
            input_shape,
            "numerator",
            leading=(len(self.initial_numerator),),
            initializer=_rows(self.initial_numerator),
        )
        self._denominator = self._add_parameter(
            input_shape,
            "denominator",
            leading=(len(self.initial_denominator),),
            initializer=_rows(self.initial_denominator),
        )

    numerator = built_weight(
        "numerator", "The numerator coefficients ``a_0 .. a_m`` along the first axis (once built)."
    )
    denominator = built_weight(
        "denominator", "The denominator coefficients ``b_1 .. b_n`` along the first axis (once built)."
    )

    def call(self, inputs: Any) -> Any:
        return act_ops.rational(self._float_input(inputs), self._numerator, self._denominator)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "approx": self.approx,
            "degrees": list(self.degrees),
            "fit_range": list(self.fit_range),
            "numerator": list(self.initial_numerator),
            "denominator": list(self.initial_denominator),
        }


def _rows(values: tuple[float, ...]) -> Any:
    """An initializer giving row i of the weight the value ``values[i]`` everywhere."""

    def initialize(shape: Any, dtype: Any = None) -> Any:
        column = np.asarray(values, "float64").reshape(-1, *[1] * (len(shape) - 1))
        return keras.ops.convert_to_tensor(np.broadcast_to(column, shape), dtype=dtype)

    return initialize


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _check_degrees(degrees: Any) -> tuple[int, int]:
    if not isinstance(degrees, (list, tuple)) or len(degrees) != 2 or not all(_is_int(d) for d in degrees):
        raise ValueError(f"Rational: argument `degrees` must be two integers (m, n), received degrees={degrees!r}.")
    m, n = (int(d) for d in degrees)
    if n < 1 or m < 0 or m > n + 1:
        raise ValueError(
            f"Rational: argument `degrees` must have 1 <= n and 0 <= m <= n + 1 (at most linear "
            f"growth, so no finite input overflows), received degrees=({m}, {n}); PAU uses (5, 4)."
        )
    return m, n


def _check_fit_range(fit_range: Any) -> tuple[float, float]:
    valid = (
        isinstance(fit_range, (list, tuple))
        and len(fit_range) == 2
        and all(isinstance(v, Real) and not isinstance(v, bool) and np.isfinite(v) for v in fit_range)
    )
    if not valid or not float(fit_range[0]) < float(fit_range[1]):
        raise ValueError(
            f"Rational: argument `fit_range` must be two finite numbers (low, high) with low < high, "
            f"received fit_range={fit_range!r}."
        )
    return float(fit_range[0]), float(fit_range[1])


def _check_coefficients(values: Any, name: str, length: int, expected: str) -> tuple[float, ...]:
    array = np.asarray(values, dtype=object)
    numbers = array.ndim == 1 and all(isinstance(v, Real) and not isinstance(v, bool) for v in array)
    if not numbers or len(array) != length or not np.all(np.isfinite(array.astype("float64"))):
        raise ValueError(f"Rational: argument `{name}` must be {expected} finite numbers, received {name}={values!r}.")
    return tuple(float(v) for v in array)
