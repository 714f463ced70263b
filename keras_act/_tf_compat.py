"""The TensorFlow internals keras_act reads, in one place (checked against TF 2.16-2.21).

If a TensorFlow release moves one, this module is the one to change; each function degrades to
a safe answer when its internal is missing.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import tensorflow as tf


def in_xla_context() -> bool:
    """Whether the current graph is being traced for XLA compilation (`jit_compile=True`).

    TensorFlow has no public API for this; without the internal, the answer is False (the
    fast paths then call their own compiled kernels, which is correct, only less fused).

    Examples:
        >>> bool(tf.function(in_xla_context, jit_compile=True)()), in_xla_context()
        (True, False)
    """
    try:
        from tensorflow.python.ops import control_flow_util

        return bool(control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph()))
    except (ImportError, AttributeError):
        return False


@functools.cache
def _adder(count: int, dtype: tf.DType) -> Any:
    """XLA's reducer for `count` running sums: ``(s_1..s_n, t_1..t_n) -> (s_1 + t_1, ...)``."""

    @tf.function(input_signature=[tf.TensorSpec([], dtype)] * (2 * count), autograph=False)
    def add(*pairs: tf.Tensor) -> list[tf.Tensor]:
        return [pairs[i] + pairs[count + i] for i in range(count)]

    return add.get_concrete_function()


def variadic_sum(terms: Sequence[tf.Tensor], axes: Sequence[int]) -> list[tf.Tensor]:
    """Each of `terms` (one shape) summed over `axes`, by one XLA reduction over all of them:
    one pass over the elements, where separate sums each recompute the terms (XLA's CPU backend
    does not fuse sibling reductions). Used inside XLA compilations only.

    TensorFlow's public API has no variadic reduction; without the internal, the terms are
    summed one by one (the same values, slower).

    Examples:
        >>> sums = tf.function(variadic_sum, jit_compile=True)([tf.ones([2, 3]), tf.fill([2, 3], 2.0)], [1])
        >>> [s.numpy().tolist() for s in sums]
        [[3.0, 3.0], [6.0, 6.0]]
    """
    try:
        from tensorflow.compiler.tf2xla.python import xla
    except ImportError:
        return [tf.reduce_sum(t, axis=axes) for t in terms]
    zeros = [tf.zeros([], terms[0].dtype)] * len(terms)
    return list(xla.variadic_reduce(list(terms), zeros, list(axes), _adder(len(terms), terms[0].dtype)))
