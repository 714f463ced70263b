"""Least-squares fits of activation curves: the Rational layer's start and `nearest()`'s scale.

Plain NumPy in float64, so a fit is the same on every backend.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from keras_act._constants import SELU_ALPHA, SELU_SCALE

# The range a Rational's start is fitted on: where batch-normalized pre-activations lie
# (|x| < 3 holds 99.7% of a standard normal), as in Molina et al. (2020), whose PAUs are fitted
# on [-3, 3]. Outside it a (5, 4) rational grows linearly.
FIT_RANGE: tuple[float, float] = (-3.0, 3.0)
# Points of the fit grid, evenly spaced over the range.
FIT_POINTS = 2001
# Levenberg-Marquardt: iterations, and the relative step in the squared error that ends it.
_LM_ITERATIONS = 3000
_LM_TOLERANCE = 1e-15


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _elu(alpha: float, scale: float = 1.0) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


_erfc = np.vectorize(math.erfc)

# Each elementwise activation as its layer starts (default arguments), in float64 NumPy: the same
# fit on every backend (JAX computes in float32 unless x64 is enabled). `tests/layers` checks
# each against the layer itself.
TARGETS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x),
    "prelu": lambda x: np.where(x > 0, x, 0.25 * x),
    "elu": _elu(1.0),
    "swish": lambda x: x * _sigmoid(x),
    "softplus": lambda x: np.logaddexp(0.0, x),
    "linear": lambda x: x,
    "gelu": lambda x: 0.5 * x * _erfc(-x / math.sqrt(2.0)),  # erfc: no cancellation for x < 0
    "mish": lambda x: x * np.tanh(np.logaddexp(0.0, x)),
    "selu": _elu(SELU_ALPHA, SELU_SCALE),
    "acon": lambda x: x * _sigmoid(x),
}
# Snake is left out: its ripple needs more terms than a (5, 4) rational has (max error 0.058).

# The largest error of a (5, 4) fit on FIT_RANGE (measured: tests/layers/test_learnable.py):
# a kink (a jump in the slope) costs a rational more than any smooth curve does.
KINKED = frozenset({"relu", "leaky_relu", "prelu", "selu"})
MAX_FIT_ERROR_KINKED = 0.04  # measured 0.030-0.036
MAX_FIT_ERROR_SMOOTH = 4e-3  # measured 3.1e-3 (gelu) and below


def target_curve(activation_id: str) -> Callable[[np.ndarray], np.ndarray]:
    """The keras_act activation `activation_id`, as its layer starts, as a float64 NumPy function.

    Examples:
        >>> target_curve("relu")(np.array([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """
    try:
        return TARGETS[activation_id]
    except KeyError:
        raise ValueError(
            f"no curve of one variable for {activation_id!r}; the elementwise activations are {', '.join(TARGETS)}."
        ) from None


def powers(x: np.ndarray, degree: int) -> np.ndarray:
    """``[x**0, x**1, ..., x**degree]`` as the columns of a matrix.

    Examples:
        >>> powers(np.array([2.0]), 3).tolist()
        [[1.0, 2.0, 4.0, 8.0]]
    """
    return np.asarray(x, "float64")[:, None] ** np.arange(degree + 1)


def _linearized_start(x: np.ndarray, f: np.ndarray, m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``P(x) = f(x) (1 + b1 x + ... + bn x^n)`` for (a, b) in least squares (the classic
    linearization of a rational fit), on x scaled to [-1, 1] for a well-conditioned system."""
    scale = float(np.max(np.abs(x)))
    u = x / scale
    u_powers = powers(u, max(m, n))
    system = np.concatenate([u_powers[:, : m + 1], -f[:, None] * u_powers[:, 1 : n + 1]], axis=1)
    solution = np.linalg.lstsq(system, f, rcond=None)[0]
    a, b = solution[: m + 1], solution[m + 1 :]
    return a / scale ** np.arange(m + 1), b / scale ** np.arange(1, n + 1)


def _refine(x: np.ndarray, f: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Levenberg-Marquardt on the safe form's squared error, from (a, b)."""
    m, n = len(a) - 1, len(b)
    p = powers(x, max(m, n))
    abs_p = np.abs(p[:, 1 : n + 1])
    theta = np.concatenate([a, b])

    def residual_and_jacobian(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = theta[: m + 1], theta[m + 1 :]
        numerator = p[:, : m + 1] @ a
        q = 1.0 + abs_p @ np.abs(b)
        value = numerator / q
        jacobian = np.concatenate([p[:, : m + 1] / q[:, None], -(value / q)[:, None] * abs_p * np.sign(b)], axis=1)
        return value - f, jacobian

    damping = 1e-3
    r, jacobian = residual_and_jacobian(theta)
    error = float(r @ r)
    for _ in range(_LM_ITERATIONS):
        normal = jacobian.T @ jacobian
        step = np.linalg.solve(normal + damping * np.diag(np.diag(normal) + 1e-12), -jacobian.T @ r)
        candidate = theta + step
        r_new, jacobian_new = residual_and_jacobian(candidate)
        error_new = float(r_new @ r_new)
        if error_new < error:
            improvement = (error - error_new) / max(error, 1e-300)
            theta, r, jacobian, error = candidate, r_new, jacobian_new, error_new
            damping = max(damping / 3, 1e-12)
            if improvement < _LM_TOLERANCE:
                break
        else:
            damping *= 4
            if damping > 1e12:
                break
    return theta[: m + 1], theta[m + 1 :]


@functools.cache
def fit_rational(
    activation_id: str, degrees: tuple[int, int] = (5, 4), fit_range: tuple[float, float] = FIT_RANGE
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Numerator and denominator coefficients of the safe rational closest to an activation.

    Least squares on `FIT_POINTS` evenly spaced points of `fit_range`: the linearized fit, then
    Levenberg-Marquardt on the safe form itself (whose denominator's absolute values the linear
    fit does not see). Cached: every Rational layer with the same start shares one fit.

    Examples:
        >>> a, b = fit_rational("relu")
        >>> len(a), len(b)
        (6, 4)
    """
    m, n = degrees
    x = np.linspace(fit_range[0], fit_range[1], FIT_POINTS)
    f = target_curve(activation_id)(x)
    a, b = _linearized_start(x, f, m, n)
    # A zero coefficient has no gradient through |b_k|; start such ones slightly off zero.
    b = np.where(np.abs(b) < 1e-6, 1e-3, b)
    a, b = _refine(x, f, a, b)
    return tuple(float(v) for v in a), tuple(float(v) for v in b)


def fit_scale(curve: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """The scale ``s`` minimizing ``|curve - s * reference|`` in least squares, and the RMS error left.

    Examples:
        >>> fit_scale(np.array([2.0, 4.0]), np.array([1.0, 2.0]))
        (2.0, 0.0)
    """
    curve, reference = np.asarray(curve, "float64"), np.asarray(reference, "float64")
    energy = float(reference @ reference)
    scale = float(curve @ reference) / energy if energy > 0 else 0.0
    return scale, float(np.sqrt(np.mean((curve - scale * reference) ** 2)))
