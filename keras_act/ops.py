"""The activations as plain differentiable functions, built on `keras.ops`.

These run on every Keras 3 backend. Where a benchmark (``benchmarks/layers.py``) showed that a
TensorFlow-specific formulation is faster at the same precision, it is used on the TensorFlow
backend for concrete (non-symbolic) tensors; the `keras.ops` formulation is the fallback.

Example:
    >>> import numpy as np
    >>> from keras_act import ops as act
    >>> keras.ops.convert_to_numpy(act.elu(np.array([-1e-8, 1.0], "float32")))  # doctest: +SKIP
    array([-1.e-08,  1.e+00], dtype=float32)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

import keras
import ml_dtypes
from keras import ops

from keras_act._constants import SELU_ALPHA, SELU_SCALE  # noqa: F401  (public here too)
from keras_act._polynomial import horner, horner_and_derivative

# Where tanh-approximate GELU's cubic is clipped (see `gelu`); tanh(0.798 * (10 + 44.7)) == 1.
GELU_TANH_CLIP = 10.0
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _tf_fast_for(x: Any) -> ModuleType | None:
    """`keras_act._tf_fast` where its fast paths apply to the tensor `x`: the TensorFlow backend,
    a concrete (not symbolic) tensor, and XLA available; else None."""
    if keras.backend.backend() != "tensorflow" or keras.backend.is_keras_tensor(x):
        return None
    from keras_act import _tf_fast

    return _tf_fast if _tf_fast.xla_available() else None


def _tf_fast_path(name: str) -> Callable[[Callable], Callable]:
    """Decorate a `keras.ops` formulation to run `keras_act._tf_fast.<name>` instead where that
    applies (`_tf_fast_for`)."""

    def decorate(generic: Callable) -> Callable:
        @functools.wraps(generic)
        def dispatch(x: Any, *args: Any, **kwargs: Any) -> Any:
            x = ops.convert_to_tensor(x)
            fast = _tf_fast_for(x)
            if fast is not None:
                return getattr(fast, name)(x, *args, **kwargs)
            return generic(x, *args, **kwargs)

        return dispatch

    return decorate


def sigmoid(x: Any) -> Any:
    """Logistic sigmoid ``1 / (1 + exp(-x))``; the output caches its logits for crossentropy.

    Examples:
        >>> float(sigmoid(0.0))
        0.5
    """
    return keras.activations.sigmoid(ops.convert_to_tensor(x))


def tanh(x: Any) -> Any:
    """Hyperbolic tangent.

    Examples:
        >>> float(tanh(0.0))
        0.0
    """
    return ops.tanh(x)


def relu(x: Any) -> Any:
    """Rectified linear unit ``max(0, x)``.

    Examples:
        >>> float(relu(-3.0))
        0.0
    """
    return ops.relu(x)


def leaky_relu(x: Any, alpha: float = 0.01) -> Any:
    """``x`` for ``x > 0``, else ``alpha * x`` (Maas et al. 2013 use alpha = 0.01).

    Examples:
        >>> round(float(leaky_relu(-2.0, alpha=0.1)), 6)
        -0.2
    """
    return ops.leaky_relu(x, negative_slope=alpha)


@_tf_fast_path("prelu")
def prelu(x: Any, alpha: Any) -> Any:
    """Parametric ReLU: ``x`` for ``x > 0``, else ``alpha * x``; `alpha` broadcasts against `x`.

    The derivative at 0 is `alpha`, the negative side's, as for `tf.nn.leaky_relu` and ELU.

    Examples:
        >>> float(prelu(-2.0, 0.25))
        -0.5
    """
    return ops.where(x > 0, x, alpha * x)


@_tf_fast_path("elu")
def elu(x: Any, alpha: float = 1.0) -> Any:
    """Exponential linear unit: ``x`` for ``x > 0``, else ``alpha * expm1(x)``.

    Uses `expm1`, so it keeps full relative precision near zero (``elu(-1e-8) == -1e-8``), where
    ``exp(x) - 1`` cancels to 0; gradients are finite for every finite input.

    Examples:
        >>> f"{float(elu(-1e-8)):.4g}"
        '-1e-08'
    """
    # expm1 of 0, not of x, where x > 0: expm1 overflows for large x and its inf would turn the
    # discarded branch's gradient into NaN. (`where`, not `minimum`: at a tie JAX splits the
    # gradient in half, which would halve ELU's derivative at 0.)
    negative_part = ops.where(x > 0, ops.zeros_like(x), x)
    return ops.where(x > 0, x, alpha * ops.expm1(negative_part))


@_tf_fast_path("selu")
def selu(x: Any) -> Any:
    """Scaled ELU with the self-normalizing constants of Klambauer et al. 2017.

    Examples:
        >>> round(float(selu(1.0)), 6)
        1.050701
    """
    return SELU_SCALE * elu(x, SELU_ALPHA)


def swish(x: Any, beta: Any = 1.0) -> Any:
    """Swish ``x * sigmoid(beta * x)`` (Ramachandran et al. 2017); beta = 1 is SiLU.

    Examples:
        >>> round(float(swish(1.0)), 6)
        0.731059
    """
    if isinstance(beta, (int, float)) and beta == 1.0:
        return ops.silu(x)
    return _swish(x, beta)


@_tf_fast_path("swish")
def _swish(x: Any, beta: Any) -> Any:
    return x * ops.sigmoid(beta * x)


def softmax(x: Any, axis: int | tuple[int, ...] = -1, mask: Any = None) -> Any:
    """Softmax along `axis`, computed stably (the maximum is subtracted first).

    With a boolean `mask` (True = keep), masked positions get probability 0 and the others
    share the mass; a row with every position masked gives all zeros, never NaN. A mask of
    lower rank than `x` (Keras' per-timestep mask) masks whole trailing vectors.

    Examples:
        >>> [round(float(p), 3) for p in softmax([1000.0, 1000.0, -1000.0])]
        [0.5, 0.5, 0.0]
    """
    x = ops.convert_to_tensor(x)
    if mask is None:
        if isinstance(axis, int):
            return keras.activations.softmax(x, axis=axis)
        return ops.exp(x - ops.logsumexp(x, axis=axis, keepdims=True))
    keep = _broadcastable_mask(ops.cast(mask, "bool"), x)
    # The dtype's lowest finite value, not -inf: a fully masked row must not become NaN.
    lowest = ops.convert_to_tensor(float(ml_dtypes.finfo(keras.backend.standardize_dtype(x.dtype)).min), x.dtype)
    probabilities = softmax(ops.where(keep, x, lowest), axis=axis)
    return ops.where(keep, probabilities, ops.zeros_like(probabilities))


def _broadcastable_mask(keep: Any, x: Any) -> Any:
    """Align a boolean mask with `x`, or raise a ValueError naming both shapes.

    A mask of lower rank covers whole trailing vectors, e.g. Keras' per-timestep mask (batch,
    time) for a (batch, time, features) input: a masked timestep gets all-zero probabilities.
    """
    while len(keep.shape) < len(x.shape):
        keep = ops.expand_dims(keep, -1)
    compatible = len(keep.shape) == len(x.shape) and all(
        m is None or i is None or m in (1, i) for m, i in zip(keep.shape, x.shape)
    )
    if not compatible:
        raise ValueError(
            f"softmax: `mask` of shape {tuple(keep.shape)} cannot be broadcast to the inputs' "
            f"shape {tuple(x.shape)}; each mask axis must be 1 or the input's size."
        )
    return keep


def softplus(x: Any) -> Any:
    """``log(1 + exp(x))``, computed without overflow for large `x` or underflow for small.

    Examples:
        >>> round(float(softplus(0.0)), 6)
        0.693147
    """
    return ops.softplus(x)


def linear(x: Any) -> Any:
    """Identity, the output activation for regression.

    Examples:
        >>> linear(3.0)
        3.0
    """
    return x


def gelu(x: Any, approximate: bool = False) -> Any:
    """Gaussian error linear unit ``x * Phi(x)`` (Hendrycks & Gimpel 2016).

    ``approximate=False`` is the exact (erf) form, Keras' own activation default; True is the
    tanh approximation.

    Examples:
        >>> round(float(gelu(1.0)), 6)
        0.841345
    """
    if not approximate:
        return ops.gelu(x, approximate=False)
    # The tanh form with its cubic taken on x clipped to [-10, 10]: tanh's argument already
    # exceeds 40 there, so tanh is exactly +-1 in every float format and the value is unchanged,
    # but x**3 can no longer overflow (float16 overflows at |x| > 40, where the built-in's
    # gradient becomes inf * 0 = NaN).
    clipped = ops.clip(x, -GELU_TANH_CLIP, GELU_TANH_CLIP)
    inner = _SQRT_2_OVER_PI * (clipped + 0.044715 * clipped * clipped * clipped)
    return 0.5 * x * (1.0 + ops.tanh(inner))


@_tf_fast_path("mish")
def mish(x: Any) -> Any:
    """Mish ``x * tanh(softplus(x))`` (Misra 2019).

    Examples:
        >>> round(float(mish(1.0)), 6)
        0.865098
    """
    return x * ops.tanh(ops.softplus(x))


def _in_float32_if_half(formula: Callable) -> Callable:
    """Run `formula` in float32 for float16/bfloat16 inputs, returning the input's dtype (a
    polynomial's powers overflow float16, 65504, at |x| > 9 for x**5)."""

    @functools.wraps(formula)
    def run(x: Any, *params: Any) -> Any:
        x = ops.convert_to_tensor(x)
        dtype = keras.backend.standardize_dtype(x.dtype)
        compute = "float32" if dtype in ("float16", "bfloat16") else dtype
        params = [ops.cast(p, compute) for p in params]
        return ops.cast(formula(ops.cast(x, compute), *params), dtype)

    return run


def _fused_on_tf(formula: Callable | None = None, *, gradients: Callable | None = None) -> Callable:
    """Run `formula(x, *params)` as one fused TensorFlow kernel per direction where that applies
    (see `_tf_fast_path`), through `keras_act._tf_fast.fused`; else as `keras.ops`. With
    `gradients`, the backward is its analytic form (see `_tf_fast.fused`)."""
    if formula is None:
        return functools.partial(_fused_on_tf, gradients=gradients)

    @functools.wraps(formula)
    def dispatch(x: Any, *params: Any) -> Any:
        x = ops.convert_to_tensor(x)
        fast = _tf_fast_for(x)
        if fast is not None:
            return fast.fused(formula, gradients)(x, *params)
        return formula(x, *params)

    return dispatch


_RATIONAL_Q_CONSTANT_BEYOND = 2.0**24


def _rational_pieces(x: Any, numerator: Any, denominator: Any) -> dict[str, Any]:
    """What the safe rational's value and its gradients share: the value, t, the denominator as
    evaluated, the picked coefficients of both polynomials and the sign beyond |x| = 1."""
    m, n = numerator.shape[0] - 1, denominator.shape[0]
    a = [numerator[j] for j in range(m + 1)]
    b = [ops.abs(denominator[k]) for k in range(n)]
    big = ops.abs(x) > 1.0
    # One Horner chain per polynomial, in t = x where |x| <= 1 and t = 1 / x beyond: there both
    # are divided by x**n, P(x) / x**n = sum_{j<=n} a_j t**(n-j) (+ a_{n+1} x when m = n + 1)
    # and Q(x) / |x|**n = |t|**n + sum_k |b_k| |t|**(n-k), so each coefficient is picked per
    # element and no power of a large x is ever formed (x**5 overflows float32 at |x| > 4e7).
    far = ops.where(big, x, ops.ones_like(x))
    t = ops.where(big, 1.0 / far, x)

    def picked(direct: Any, reversed_: Any) -> Any:
        return direct if reversed_ is direct else ops.where(big, reversed_, direct)

    numerator_terms = [
        picked(a[i] if i <= m else 0.0, a[n - i] if i <= n and n - i <= m else 0.0) for i in range(max(m, n) + 1)
    ]
    denominator_terms = [picked(1.0 if i == 0 else b[i - 1], 1.0 if i == n else b[n - 1 - i]) for i in range(n + 1)]
    # Beyond |x| = 2**24, Q's dependence on x adds under float32's resolution to dF/dx, and its
    # reverse-mode factor a x / Q**2 overflows first: Q takes t there as a constant.
    t_of_q = ops.where(ops.abs(far) > _RATIONAL_Q_CONSTANT_BEYOND, ops.stop_gradient(t), t)
    q = horner(denominator_terms, ops.abs(t_of_q))
    value = horner(numerator_terms, t) / q
    if m == n + 1:  # the slope first: (a_m / Q) x never overflows before the true value does
        value = value + ops.where(big, (a[m] / q) * far, ops.zeros_like(x))
    sign = ops.sign(far) if n % 2 else None  # x**j / |x|**n = sign(x)**n t**(n - j) beyond |x| = 1
    if sign is not None:
        value = sign * value
    return {
        "m": m,
        "n": n,
        "a": a,
        "big": big,
        "far": far,
        "t": t,
        "q": q,
        "value": value,
        "sign": sign,
        "numerator_terms": numerator_terms,
        "denominator_terms": denominator_terms,
    }


def _rational_formula(x: Any, numerator: Any, denominator: Any) -> Any:
    return _rational_pieces(x, numerator, denominator)["value"]


def _rational_gradients(dy: Any, x: Any, numerator: Any, denominator: Any) -> tuple[Any, list[list[Any]]]:
    """The input gradient of ``sum(dy * rational(x))``, and per numerator and denominator row
    the elementwise terms whose sums over the axes that row was broadcast along are its gradient.

    With P, Q and their derivatives in t (t = x for |x| <= 1, the value's picked coefficients):
    ``dF/dx = (P' - sign(t) Q' F) / Q`` there, and beyond, where F = s G with ``G = (N(t) + a_m x)
    / Q_t`` (``s = sign(x)**n``, dt/dx = -t**2), ``dF/dx = s (a_m - t**2 N' + t**2 sign(t) Q_t' G) / Q_t``.
    ``dF/da_j = x**j / Q`` and ``dF/db_k = -sign(b_k) F |x|**k / Q``, taken in t as the value
    is: ``x**j / Q = s t**(n-j) / Q_t`` beyond |x| = 1. Every power of t is at most 1 in
    magnitude, so no term overflows where the value does not.
    """
    pieces = _rational_pieces(x, numerator, denominator)
    m, n, big, t, q, value = (pieces[k] for k in ("m", "n", "big", "t", "q", "value"))
    s = pieces["sign"]
    _, p_slope = horner_and_derivative(pieces["numerator_terms"], t)
    _, q_slope = horner_and_derivative(pieces["denominator_terms"], ops.abs(t))
    # Q held constant beyond |x| = 2**24, as in the value (see _rational_pieces).
    q_slope = ops.where(ops.abs(pieces["far"]) > _RATIONAL_Q_CONSTANT_BEYOND, ops.zeros_like(x), q_slope)
    q_term = ops.sign(t) * q_slope * value  # sign(t) Q' F; beyond, s sign(t) Q_t' G is the same
    t2 = t * t
    far_slope = (pieces["a"][m] if m == n + 1 else 0.0) - t2 * p_slope
    if s is not None:
        far_slope = s * far_slope
    dx = dy * ops.where(big, far_slope + t2 * q_term, p_slope - q_term) / q
    powers = [ops.ones_like(x)]
    for _ in range(max(m, n)):
        powers.append(powers[-1] * t)
    near = dy / q
    far = near if s is None else near * s
    numerator_terms = [
        ops.where(big, far * (powers[n - j] if j <= n else pieces["far"]), near * powers[j]) for j in range(m + 1)
    ]
    weighted = near * value
    denominator_terms = [
        -ops.sign(denominator[k - 1]) * weighted * ops.abs(ops.where(big, powers[n - k], powers[k]))
        for k in range(1, n + 1)
    ]
    return dx, [numerator_terms, denominator_terms]


@_in_float32_if_half
@_fused_on_tf(gradients=_rational_gradients)
def rational(x: Any, numerator: Any, denominator: Any) -> Any:
    """The safe Padé activation ``P(x) / Q(x)`` (Molina et al. 2020, "safe PAU").

    ``P(x) = a_0 + a_1 x + ... + a_m x**m`` and ``Q(x) = 1 + |b_1| |x| + ... + |b_n| |x|**n``,
    which is never below 1. `numerator` holds ``a_0 .. a_m`` along its first axis and
    `denominator` ``b_1 .. b_n``; their other axes broadcast against `x` (as PReLU's alpha).
    Needs ``m <= n + 1`` (at most linear growth, so every finite input gives a finite value).

    For ``|x| > 1`` both polynomials are evaluated in ``1 / x``, so no power of a large input is
    formed: values and gradients stay finite up to the largest float. Half-precision inputs are
    computed in float32.

    Examples:
        >>> import numpy as np
        >>> # (x + x**2) / (1 + |x|): x * (1 + x) / (1 + |x|), which is x for x >= 0
        >>> y = rational(np.array([-2.0, 3.0], "float32"), np.array([0.0, 1.0, 1.0]), np.array([1.0]))
        >>> keras.ops.convert_to_numpy(y).astype(float).round(4).tolist()
        [0.6667, 3.0]
    """
    return _rational_formula(x, numerator, denominator)


def _acon_formula(x: Any, p1: Any, p2: Any, beta: Any) -> Any:
    d = (p1 - p2) * x
    return d * ops.sigmoid(beta * d) + p2 * x


@_in_float32_if_half
@_fused_on_tf
def acon(x: Any, p1: Any, p2: Any, beta: Any) -> Any:
    """ACON-C (Ma et al. 2021): ``(p1 - p2) x sigmoid(beta (p1 - p2) x) + p2 x``.

    ``p1 = 1, p2 = 0`` is Swish with that beta; ``p2 = 0`` and a large beta approach ReLU. The
    parameters broadcast against `x`. Half-precision inputs are computed in float32: where
    ``p2 > p1`` the derivative's terms cancel, and bfloat16 would leave it 5% off.

    Examples:
        >>> round(float(acon(1.0, 1.0, 0.0, 1.0)), 6)  # swish(1)
        0.731059
    """
    return _acon_formula(x, p1, p2, beta)


# Where Snake's sin(a x) is taken on a x clipped to +-2**24: beyond it float32 resolves a x only
# to whole units, so sin carries no information, and sin(.)**2 / a is under 2**-24 of x there.
SNAKE_PHASE_CLIP = 2.0**24
# Below this |a x|, sin(t) / t is taken as 1 - t**2 / 6 (the next term, t**4 / 120, is < 1e-14).
_SINC_SERIES_BELOW = 1e-3


def _snake_phase(x: Any, a: Any) -> Any:
    return ops.clip(a * x, -SNAKE_PHASE_CLIP, SNAKE_PHASE_CLIP)


def _snake_value(x: Any, a: Any, t: Any, s: Any) -> Any:
    """Snake from its phase t and ``s = sin(t)``."""
    small = ops.abs(t) < _SINC_SERIES_BELOW
    # sin(t)**2 / a as x * sin(t) * sinc(t) for small t: finite (-> a x**2 -> 0) as a -> 0, where
    # the plain quotient would divide by zero; s * s / a elsewhere (a != 0 there).
    series = x * s * (1.0 - t * t / 6.0)
    quotient = s * s / ops.where(small, ops.ones_like(t), a * ops.ones_like(t))
    return x + ops.where(small, series, quotient)


def _snake_formula(x: Any, a: Any) -> Any:
    t = _snake_phase(x, a)
    return _snake_value(x, a, t, ops.sin(t))


def _snake_gradients(dy: Any, x: Any, a: Any, t: Any, s: Any, c: Any) -> tuple[Any, Any]:
    """The gradients of ``sum(dy * snake(x, a))`` from the phase t, ``s = sin(t)`` and ``c =
    cos(t)``: for x, and the elementwise term whose sum over the axes `a` was broadcast along is
    a's.

    ``d/dx = 1 + sin(2 a x)`` and ``d/da = (x sin(2 a x) - sin(a x)**2 / a) / a``; below
    ``|a x| = 1e-3`` those of the series ``x sin(t) (1 - t**2 / 6)``, where the second is finite
    (-> x**2) as a -> 0; beyond the phase clip, t is a constant.
    """
    inside = ops.abs(a * x) <= SNAKE_PHASE_CLIP
    small = ops.abs(t) < _SINC_SERIES_BELOW
    safe_a = ops.where(small, ops.ones_like(t), a * ops.ones_like(t))
    double = ops.where(inside, 2.0 * s * c, ops.zeros_like(t))  # sin(2t), 0 where t is clipped
    taper = 1.0 - t * t / 6.0
    dx = dy * (1.0 + ops.where(small, s * taper + x * a * (c * taper - s * t / 3.0), double))
    da = dy * ops.where(small, x * x * (c * taper - s * t / 3.0), (x * double - s * s / safe_a) / safe_a)
    return dx, da


@_in_float32_if_half
def snake(x: Any, a: Any) -> Any:
    """Snake (Ziyin et al. 2020): ``x + sin(a x)**2 / a``, with frequency `a` (-> x as a -> 0).

    The identity plus a periodic ripple: it can extrapolate periodic signals, where ReLU and
    tanh cannot. `a` broadcasts against `x`. Half-precision inputs are computed in float32: a
    float16 phase ``a x`` is too coarse for sin beyond a few periods.

    Examples:
        >>> round(float(snake(1.0, 1.0)), 6)  # 1 + sin(1)**2
        1.708073
    """
    x = ops.convert_to_tensor(x)
    fast = _tf_fast_for(x)
    if fast is not None:
        return fast.sine_kernels(_snake_phase, _snake_value, _snake_gradients)(x, a)
    return _snake_formula(x, a)
