"""The TensorFlow internals keras_act reads, in one place (checked against TF 2.16-2.21).

If a TensorFlow release moves one, this module is the one to change; each function degrades to
a safe answer when its internal is missing.
"""

from __future__ import annotations

import tensorflow as tf


def in_xla_context() -> bool:
    """Whether the current graph is being traced for XLA compilation (`jit_compile=True`).

    TensorFlow has no public API for this; without the internal, the answer is False (the
    fast paths then call their own compiled kernels, which is correct, only less fused).

    Example:
        >>> bool(tf.function(in_xla_context, jit_compile=True)()), in_xla_context()
        (True, False)
    """
    try:
        from tensorflow.python.ops import control_flow_util

        return bool(control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph()))
    except (ImportError, AttributeError):
        return False
