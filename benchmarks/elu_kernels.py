"""Where ELU's time goes without XLA: keras_act's fused ELU against variants of its kernels.

keras_act's ELU (`keras_act._tf_fast.elu`) runs each direction as one XLA-compiled kernel inside
a `tf.custom_gradient`, with the precise `expm1`. This times forward + backward of a 4096 x 1024
float32 tensor in `tf.function` (no outer XLA) for Keras' `tf.nn.elu` (the baseline), keras_act's
ELU, and the same custom gradient with one thing changed each:

- `exp(x) - 1` forward: the built-in's formula in keras_act's kernel (imprecise near 0);
- `Taylor near 0`: a degree-8 Taylor polynomial on (-0.5, 0], `exp(x) - 1` below;
- `EluGrad backward`: TensorFlow's own backward kernel in place of keras_act's.

Run:  python benchmarks/elu_kernels.py --reps 31   (about 1 minute on 2 CPU cores)
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
from layers import SHAPE, interleaved_times, paired_ratio  # noqa: E402  (benchmarks/layers.py)

from keras_act import _tf_fast  # noqa: E402

BASELINE = "tf.nn.elu"
_compiled = tf.function(jit_compile=True, autograph=False)


@_compiled
def _expm1_forward(x: tf.Tensor) -> tf.Tensor:
    return tf.where(x > 0, x, tf.math.expm1(x))


@_compiled
def _exp_minus_one_forward(x: tf.Tensor) -> tf.Tensor:
    return tf.where(x > 0, x, tf.exp(x) - 1.0)


@_compiled
def _taylor_forward(x: tf.Tensor) -> tf.Tensor:
    series = 1.0 / 40320  # expm1(x) / x = 1 + x/2 + ... + x^7/8!: under 2e-8 relative error on (-0.5, 0]
    for coefficient in (1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1.0):
        series = series * x + coefficient
    return tf.where(x > 0, x, tf.where(x > -0.5, x * series, tf.exp(x) - 1.0))


@_compiled
def _backward(dy: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    return tf.where(y > 0, dy, dy * (y + 1.0))


def _elu_grad(dy: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    return tf.raw_ops.EluGrad(gradients=dy, outputs=y)


def _custom(forward: Callable, backward: Callable) -> Callable:
    @tf.custom_gradient
    def op(x: tf.Tensor) -> tuple[tf.Tensor, Callable]:
        y = forward(x)
        return y, lambda dy: backward(dy, y)

    return op


VARIANTS: dict[str, Callable[[tf.Tensor], tf.Tensor]] = {
    BASELINE: tf.nn.elu,
    "keras_act": _tf_fast.elu,
    "exp(x) - 1 forward": _custom(_exp_minus_one_forward, _backward),
    "Taylor near 0": _custom(_taylor_forward, _backward),
    "EluGrad backward": _custom(_expm1_forward, _elu_grad),
}


def _step(function: Callable, x: tf.Tensor) -> Callable[[], None]:
    @tf.function
    def forward_backward(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = function(x)
        return y, tape.gradient(y, x)

    def run() -> None:
        tf.nest.map_structure(lambda t: t.numpy(), forward_backward(x))

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=31)
    args = parser.parse_args(argv)
    x = tf.random.normal(SHAPE, seed=0)
    times = interleaved_times({name: _step(function, x) for name, function in VARIANTS.items()}, args.reps)
    print(f"ELU forward + backward, {SHAPE[0]}x{SHAPE[1]} float32, no XLA outside; median of {args.reps} (ABBA).")
    print(f"| variant | ms | ÷ {BASELINE} |")
    print("|---|---:|---:|")
    for name in VARIANTS:
        print(f"| {name} | {statistics.median(times[name]) * 1e3:.1f} | {paired_ratio(times, name, BASELINE):.2f} |")


if __name__ == "__main__":
    main()
