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
from typing import Any, Callable

import keras
import ml_dtypes
from keras import ops

from keras_act._constants import SELU_ALPHA, SELU_SCALE  # noqa: F401  (public here too)

# Where tanh-approximate GELU's cubic is clipped (see `gelu`); tanh(0.798 * (10 + 44.7)) == 1.
GELU_TANH_CLIP = 10.0
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _tf_fast_path(name: str) -> Callable[[Callable], Callable]:
    """Decorate a `keras.ops` formulation to run `keras_act._tf_fast.<name>` instead where that
    applies: the TensorFlow backend, a concrete (not symbolic) tensor, and XLA available."""

    def decorate(generic: Callable) -> Callable:
        @functools.wraps(generic)
        def dispatch(x: Any, *args: Any, **kwargs: Any) -> Any:
            x = ops.convert_to_tensor(x)
            if keras.backend.backend() == "tensorflow" and not keras.backend.is_keras_tensor(x):
                from keras_act import _tf_fast

                if _tf_fast.xla_available():
                    return getattr(_tf_fast, name)(x, *args, **kwargs)
            return generic(x, *args, **kwargs)

        return dispatch

    return decorate


def sigmoid(x: Any) -> Any:
    """Logistic sigmoid ``1 / (1 + exp(-x))``; the output caches its logits for crossentropy.

    Example:
        >>> float(sigmoid(0.0))
        0.5
    """
    return keras.activations.sigmoid(ops.convert_to_tensor(x))


def tanh(x: Any) -> Any:
    """Hyperbolic tangent.

    Example:
        >>> float(tanh(0.0))
        0.0
    """
    return ops.tanh(x)


def relu(x: Any) -> Any:
    """Rectified linear unit ``max(0, x)``.

    Example:
        >>> float(relu(-3.0))
        0.0
    """
    return ops.relu(x)


def leaky_relu(x: Any, alpha: float = 0.01) -> Any:
    """``x`` for ``x > 0``, else ``alpha * x`` (Maas et al. 2013 use alpha = 0.01).

    Example:
        >>> round(float(leaky_relu(-2.0, alpha=0.1)), 6)
        -0.2
    """
    return ops.leaky_relu(x, negative_slope=alpha)


@_tf_fast_path("prelu")
def prelu(x: Any, alpha: Any) -> Any:
    """Parametric ReLU: ``x`` for ``x > 0``, else ``alpha * x``; `alpha` broadcasts against `x`.

    The derivative at 0 is `alpha`, the negative side's, as for `tf.nn.leaky_relu` and ELU.

    Example:
        >>> float(prelu(-2.0, 0.25))
        -0.5
    """
    return ops.where(x > 0, x, alpha * x)


@_tf_fast_path("elu")
def elu(x: Any, alpha: float = 1.0) -> Any:
    """Exponential linear unit: ``x`` for ``x > 0``, else ``alpha * expm1(x)``.

    Uses `expm1`, so it keeps full relative precision near zero (``elu(-1e-8) == -1e-8``), where
    ``exp(x) - 1`` cancels to 0; gradients are finite for every finite input.

    Example:
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

    Example:
        >>> round(float(selu(1.0)), 6)
        1.050701
    """
    return SELU_SCALE * elu(x, SELU_ALPHA)


def swish(x: Any, beta: Any = 1.0) -> Any:
    """Swish ``x * sigmoid(beta * x)`` (Ramachandran et al. 2017); beta = 1 is SiLU.

    Example:
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

    Example:
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
    lowest = ops.convert_to_tensor(
        float(ml_dtypes.finfo(keras.backend.standardize_dtype(x.dtype)).min), x.dtype
    )
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

    Example:
        >>> round(float(softplus(0.0)), 6)
        0.693147
    """
    return ops.softplus(x)


def linear(x: Any) -> Any:
    """Identity, the output activation for regression.

    Example:
        >>> linear(3.0)
        3.0
    """
    return x


def gelu(x: Any, approximate: bool = False) -> Any:
    """Gaussian error linear unit ``x * Phi(x)`` (Hendrycks & Gimpel 2016).

    ``approximate=False`` is the exact (erf) form, Keras' own activation default; True is the
    tanh approximation.

    Example:
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

    Example:
        >>> round(float(mish(1.0)), 6)
        0.865098
    """
    return x * ops.tanh(ops.softplus(x))
