"""TensorFlow fast paths, used only where `benchmarks/layers.py` shows they pay.

Why: without XLA, TensorFlow runs every elementwise op as its own kernel, one pass over memory
each. The built-ins `tf.nn.elu`/`tf.nn.selu` are single fused kernels but compute ``exp(x) - 1``
and lose all relative precision near zero (tensorflow/tensorflow#116943); a precise `keras.ops`
formulation costs 3-5 kernels per direction. Here each direction is one small XLA-compiled
kernel inside a `tf.custom_gradient`, so it is fused even in a graph that is not compiled (under
an outer `jit_compile=True` the kernels are simply inlined). The parametric layers' gradient for
their parameter is computed in the same kernel and reduced by a matmul (see `_sum_to_shape`);
Rational's and Snake's backwards are in closed form: Rational's coefficients' terms summed in
one pass (`fused`), Snake's sine a vectorized polynomial (`sin_cos`, `sine_kernels`).

Each kernel compiles once per input shape. While a function that XLA compiles whole is being
traced (Keras' `jit_compile=True`), the kernels' ops are inlined instead: a nested compiled call
there blocks fusion with its neighbours. Where XLA is unavailable (`xla_available()` is False),
`keras_act.ops` uses its generic `keras.ops` formulation instead.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import tensorflow as tf

from keras_act._constants import SELU_ALPHA, SELU_SCALE
from keras_act._polynomial import horner
from keras_act._tf_compat import in_xla_context, variadic_sum

_compile = functools.partial(tf.function, jit_compile=True, autograph=False)


def _jit(kernel: Callable) -> Callable:
    """Run `kernel` as one XLA-compiled call inside a traced function (a Keras train or predict
    step), and as plain ops elsewhere: inside an XLA compilation its ops join it, and an eager
    call (a curve, `nearest()`, a plot) with a new shape each time would otherwise retrace
    (TensorFlow warns after five) and compile a kernel used once."""
    compiled = _compile(kernel)

    @functools.wraps(kernel)
    def run(*args: Any) -> Any:
        return kernel(*args) if in_xla_context() or tf.executing_eagerly() else compiled(*args)

    return run


@functools.cache
def xla_available() -> bool:
    """Whether XLA can compile a kernel on this machine (checked once, eagerly).

    Examples:
        >>> xla_available()
        True
    """
    with tf.init_scope():
        try:
            _compile(lambda x: x + 1.0)(tf.constant(1.0))
        except (tf.errors.OpError, NotImplementedError, ValueError):
            return False
    return True


def _sum_to_shape(t: tf.Tensor, shape: Sequence[int]) -> tf.Tensor:
    """Sum a gradient over the axes a parameter of `shape` was broadcast along.

    When those axes lead (the batch axis, then shared axes such as a conv map's height and
    width), the sum is a product with a row of ones: outside XLA a matmul reduces columns about
    1.3x faster than `reduce_sum` on a 4096 x 1024 gradient. Inside an XLA compilation XLA's
    own reduction is used: its CPU backend is slow at that matmul (a 4 x 1024 Swish MLP's
    training step took 1.43x SiLU's with it, 1.01x without).
    """
    lead = t.shape.rank - len(shape)
    axes = list(range(lead)) + [lead + i for i, size in enumerate(shape) if size == 1]
    if axes == list(range(len(axes))) and not in_xla_context():
        columns = tf.reshape(t, [-1, math.prod(shape)])
        ones = tf.ones([1, tf.shape(columns)[0]], t.dtype)
        return tf.reshape(tf.matmul(ones, columns), shape)
    return tf.reshape(tf.reduce_sum(t, axis=axes), shape)


def _sums_to_shape(terms: list[tf.Tensor], shape: Sequence[int]) -> list[tf.Tensor]:
    """Each term summed over the axes a parameter row of `shape` was broadcast along, all terms
    in one pass (`variadic_sum`). A whole-tensor sum is taken per row first, then over the rows'
    sums: the rows run in parallel, and a float32 sum of millions of terms in one sequence loses
    digits (Rational's numerator gradient on 4M normal inputs: 2.9e-6 relative error this way,
    1.3e-5 by the per-coefficient reductions of a tape)."""
    rank = terms[0].shape.rank
    lead = rank - len(shape)
    axes = list(range(lead)) + [lead + i for i, size in enumerate(shape) if size == 1]
    if len(axes) == rank and rank > 1:
        return [tf.reduce_sum(s) for s in variadic_sum(terms, [rank - 1])]
    return [tf.reshape(s, shape) for s in variadic_sum(terms, axes)]


# sin and cos on [-pi/4, pi/4]: Cephes' sinf/cosf minimax polynomials in r**2 (float32 accuracy).
_SIN_COEFFICIENTS = (-1.6666654611e-1, 8.3321608736e-3, -1.9515295891e-4)
_COS_COEFFICIENTS = (4.166664568298827e-2, -1.388731625493765e-3, 2.443315711809948e-5)


def sin_cos(t: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """``(sin t, cos t)`` of a float32 tensor by elementwise ops that XLA vectorizes.

    Why: XLA's CPU sine is not vectorized (20.8 ms on 4096 x 1024 float32; Eigen's `tf.sin`
    6.7 ms, this 4 ms inside one XLA kernel), and inside a model compiled with XLA every op is
    XLA's. The argument is reduced to ``t = k pi/2 + r``, ``|r| <= pi/4``, in float64, where
    ``k pi/2`` is exact to ~1e-9 for every |t| < 2**24 (Snake's phase clip; the float32 Cody-Waite
    reduction of the Cephes library loses digits beyond ~1e6); then the quadrant k mod 4 picks
    +-sin r or +-cos r. Max error against float64 `numpy.sin`: 1.5e-7 for |t| up to 2**24
    (`tests/layers/test_tf_fast_path.py`). Other dtypes take `tf.sin` and `tf.cos`.

    Examples:
        >>> s, c = sin_cos(tf.constant([0.5, 1e6]))
        >>> [round(v, 6) for v in s.numpy().tolist() + c.numpy().tolist()]
        [0.479426, -0.349994, 0.877583, 0.936752]
    """
    if t.dtype != tf.float32:
        return tf.sin(t), tf.cos(t)
    wide = tf.cast(t, tf.float64)
    k = tf.round(wide * (2.0 / math.pi))
    r = tf.cast(wide - k * (math.pi / 2.0), tf.float32)
    quadrant = tf.bitwise.bitwise_and(tf.cast(k, tf.int32), 3)
    r2 = r * r
    sin_r = r + r * r2 * horner(_SIN_COEFFICIENTS, r2)
    cos_r = 1.0 - 0.5 * r2 + r2 * r2 * horner(_COS_COEFFICIENTS, r2)
    odd = tf.equal(tf.bitwise.bitwise_and(quadrant, 1), 1)  # pi/2 or 3 pi/2 away: sin and cos swap
    sin_t = tf.where(odd, cos_r, sin_r)
    cos_t = tf.where(odd, sin_r, cos_r)
    return (
        tf.where(quadrant >= 2, -sin_t, sin_t),
        tf.where(tf.logical_or(tf.equal(quadrant, 1), tf.equal(quadrant, 2)), -cos_t, cos_t),
    )


@functools.cache
def sine_kernels(phase: Callable, value: Callable, gradients: Callable) -> Callable:
    """A function of x and a parameter whose only transcendentals are the sine and cosine of a
    phase, as one XLA kernel per direction with `sin_cos`'s vectorized sine. The backward
    recomputes the phase and its sine: these kernels are memory-bound. Inside an XLA compilation
    both are inlined.

    `phase(x, p) -> t`, `value(x, p, t, sin t)` and `gradients(dy, x, p, t, sin t, cos t) ->
    (dx, the elementwise term whose sum is p's gradient)`.

    Examples:
        >>> run = sine_kernels(lambda x, p: p * x, lambda x, p, t, s: x + s,
        ...                    lambda dy, x, p, t, s, c: (dy * (1 + p * c), dy * x * c))
        >>> round(float(run(tf.constant(0.5), tf.constant(2.0))), 6)  # 0.5 + sin(1)
        1.341471
    """

    @_jit
    def forward(x: tf.Tensor, p: tf.Tensor) -> tf.Tensor:
        t = phase(x, p)
        return value(x, p, t, sin_cos(t)[0])

    @_jit
    def backward(dy: tf.Tensor, x: tf.Tensor, p: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        t = phase(x, p)
        return gradients(dy, x, p, t, *sin_cos(t))

    return functools.partial(_with_parameter, forward, backward)


# ELU and SELU: scale * (x if x > 0 else alpha * expm1(x)); for large x, expm1 overflows to inf
# in the branch `where` discards, and the gradient never reads it. The backward reads only dy
# and y, and takes the negative side's derivative, scale * alpha * exp(x), as y + scale * alpha,
# as TF's own EluGrad/SeluGrad do: no second transcendental and one tensor less to read (under
# XLA, 10% faster). It is exact near 0 (y is precise there) and rounds to 0 below x ~ -17, where
# the true value is under 4e-8 * scale * alpha.


@functools.cache
def _elu_kernels(alpha: float, scale: float) -> tuple[Callable, Callable]:
    """ELU's forward and backward kernels with `alpha` and `scale` compiled in as constants,
    rather than passed to the compiled kernels as Python arguments matched on every call
    (measured side by side without XLA: 0.92-1.01x Keras' elu this way, 0.98-1.08x that way)."""

    @_jit
    def forward(x: tf.Tensor) -> tf.Tensor:
        return tf.where(x > 0, scale * x, (scale * alpha) * tf.math.expm1(x))

    @_jit
    def backward(dy: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        return tf.where(y > 0, scale * dy, dy * (y + scale * alpha))

    return forward, backward


def elu(x: tf.Tensor, alpha: float = 1.0, scale: float = 1.0) -> tf.Tensor:
    """``scale * (x if x > 0 else alpha * expm1(x))``, precise and fused.

    Examples:
        >>> f"{float(elu(tf.constant(-1e-8), 1.0)):.4g}"
        '-1e-08'
    """
    forward, backward = _elu_kernels(float(alpha), float(scale))

    @tf.custom_gradient
    def _elu(x):
        y = forward(x)
        return y, lambda dy: backward(dy, y)

    return _elu(x)


def selu(x: tf.Tensor) -> tf.Tensor:
    """SELU through the fused, precise ELU kernels.

    Examples:
        >>> f"{float(selu(tf.constant(-1e-8))):.5g}"
        '-1.7581e-08'
    """
    return elu(x, SELU_ALPHA, SELU_SCALE)


def _with_parameter(forward: Callable, backward: Callable, x: tf.Tensor, parameter: tf.Tensor) -> tf.Tensor:
    """`forward(x, parameter)` whose gradient is `backward(dy, x, parameter)`, which returns the
    input's gradient and the parameter's before its reduction over the broadcast axes."""

    @tf.custom_gradient
    def _op(x, parameter):
        def grad(dy):
            dx, d_parameter = backward(dy, x, parameter)
            return dx, _sum_to_shape(d_parameter, parameter.shape)

        return forward(x, parameter), grad

    return _op(x, tf.cast(tf.convert_to_tensor(parameter), x.dtype))


@_jit
def _prelu_forward(x: tf.Tensor, alpha: tf.Tensor) -> tf.Tensor:
    return tf.where(x > 0, x, alpha * x)


@_jit
def _prelu_backward(dy: tf.Tensor, x: tf.Tensor, alpha: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    positive = x > 0
    return tf.where(positive, dy, alpha * dy), tf.where(positive, tf.zeros_like(dy), dy * x)


def prelu(x: tf.Tensor, alpha: tf.Tensor) -> tf.Tensor:
    """``x if x > 0 else alpha * x`` with a fused gradient for both `x` and `alpha`.

    Examples:
        >>> prelu(tf.constant([-2.0, 3.0]), tf.constant([0.25, 0.25])).numpy().tolist()
        [-0.5, 3.0]
    """

    return _with_parameter(_prelu_forward, _prelu_backward, x, alpha)


@_jit
def _swish_forward(x: tf.Tensor, beta: tf.Tensor) -> tf.Tensor:
    return x * tf.sigmoid(beta * x)


@_jit
def _swish_backward(dy: tf.Tensor, x: tf.Tensor, beta: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    # Recomputing the sigmoid is cheaper than saving it: this kernel is memory-bound.
    s = tf.sigmoid(beta * x)
    w = x * s * (1.0 - s)  # x * sigmoid'(beta * x)
    return dy * (s + beta * w), dy * x * w


def swish(x: tf.Tensor, beta: tf.Tensor) -> tf.Tensor:
    """``x * sigmoid(beta * x)`` with a fused gradient for both `x` and `beta`.

    Examples:
        >>> round(float(swish(tf.constant([1.0]), tf.constant([1.0]))[0]), 6)
        0.731059
    """

    return _with_parameter(_swish_forward, _swish_backward, x, beta)


@_jit
def _mish_forward(x: tf.Tensor) -> tf.Tensor:
    return x * tf.tanh(tf.math.softplus(x))


@_jit
def _mish_backward(dy: tf.Tensor, x: tf.Tensor) -> tf.Tensor:
    t = tf.tanh(tf.math.softplus(x))
    return dy * (t + x * tf.sigmoid(x) * (1.0 - t * t))


def mish(x: tf.Tensor) -> tf.Tensor:
    """``x * tanh(softplus(x))`` as two fused kernels.

    Examples:
        >>> round(float(mish(tf.constant(1.0))), 6)
        0.865098
    """

    @tf.custom_gradient
    def _mish(x):
        return _mish_forward(x), lambda dy: _mish_backward(dy, x)

    return _mish(x)


@functools.cache
def fused(formula: Callable, gradients: Callable | None = None) -> Callable:
    """`formula(x, *params)` (TensorFlow ops) as two XLA kernels: the forward, and a backward
    that recomputes the forward under a tape and returns the gradients of `x` and of every
    parameter, already summed over the axes each was broadcast along.

    Recomputing costs less than saving intermediates: these kernels are memory-bound. Cached per
    formula, so each compiles once per input shape.

    With `gradients(dy, x, *params)`, the backward is that analytic form instead: x's gradient,
    and per parameter one elementwise term per row of its first axis (all rows of one shape),
    whose sums are the rows' gradients, all taken in one pass over the elements
    (`_sums_to_shape`). A tape's parameter gradients are one reduction each, and XLA's CPU
    backend recomputes the backward for each.

    Examples:
        >>> square_plus = fused(lambda x, c: x * x + c)
        >>> float(square_plus(tf.constant(3.0), tf.constant(1.0)))
        10.0
    """

    @_jit
    def forward(*args: tf.Tensor) -> tf.Tensor:
        return formula(*args)

    @_jit
    def backward(dy: tf.Tensor, *args: tf.Tensor) -> list[tf.Tensor]:
        if gradients is None:
            with tf.GradientTape() as tape:
                tape.watch(args)
                y = formula(*args)
            return tape.gradient(y, args, output_gradients=dy)
        dx, rows = gradients(dy, *args)
        sums = iter(_sums_to_shape([t for terms in rows for t in terms], args[1].shape[1:]))
        return [dx] + [tf.stack([next(sums) for _ in terms]) for terms in rows]

    def run(x: tf.Tensor, *params: Any) -> tf.Tensor:
        @tf.custom_gradient
        def _op(*args):
            return forward(*args), lambda dy: backward(dy, *args)

        return _op(x, *(tf.cast(tf.convert_to_tensor(p), x.dtype) for p in params))

    return run
