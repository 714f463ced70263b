"""TensorFlow fast paths, used only where `benchmarks/layers.py` shows they pay.

`tf.nn.elu` and `tf.nn.selu` compute ``exp(x) - 1`` and lose all relative precision near zero
(tensorflow/tensorflow#116943). The `keras.ops` formulation with `expm1` is precise but, without
XLA, autodiff through `where` and `minimum` costs about 3x the fused kernel. A custom gradient
that reuses the forward output brings it back near the fused kernel at full precision.
"""

from __future__ import annotations

import tensorflow as tf

from keras_act.ops import SELU_ALPHA, SELU_SCALE


def elu(x: tf.Tensor, alpha: float) -> tf.Tensor:
    """Precise ELU with a cheap gradient.

    Example:
        >>> f"{float(elu(tf.constant(-1e-8), 1.0)):.4g}"
        '-1e-08'
    """

    @tf.custom_gradient
    def _elu(x):
        # expm1 overflows to inf for large x; `where` discards it and the gradient below
        # never touches it, so no NaN appears.
        y = tf.where(x > 0, x, alpha * tf.math.expm1(x)) if alpha != 1.0 else tf.maximum(
            x, tf.math.expm1(tf.minimum(x, 0.0)))

        def grad(dy):
            # d/dx = 1 for x > 0, alpha * exp(x) = y + alpha for x <= 0.
            return dy * tf.where(x > 0, tf.ones_like(y), y + alpha)

        return y, grad

    return _elu(x)


def selu(x: tf.Tensor) -> tf.Tensor:
    """Precise SELU with a cheap gradient.

    Example:
        >>> f"{float(selu(tf.constant(-1e-8))):.5g}"
        '-1.7581e-08'
    """
    scaled_alpha = SELU_SCALE * SELU_ALPHA

    @tf.custom_gradient
    def _selu(x):
        y = scaled_alpha * tf.math.expm1(tf.minimum(x, 0.0)) + SELU_SCALE * tf.nn.relu(x)

        def grad(dy):
            # d/dx = scale for x > 0, else scale * alpha * exp(x) = y + scale * alpha.
            return dy * tf.where(x > 0, tf.fill(tf.shape(y), tf.cast(SELU_SCALE, y.dtype)),
                                 y + scaled_alpha)

        return y, grad

    return _selu(x)
