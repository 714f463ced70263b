"""The TensorFlow fast path computes what the generic keras.ops formulation computes."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_act import ops as act_ops

from .references import GRID

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the fast path is TensorFlow-only"
)

CASES = {
    "elu": ((), {}),
    "elu(alpha=0.3)": ((), {"alpha": 0.3}),
    "selu": ((), {}),
    "mish": ((), {}),
    "prelu": ((np.linspace(0.05, 0.5, 8).astype("float32"),), {}),
}


def _value_and_gradients(function, x, args, kwargs, jit):
    import tensorflow as tf

    params = [tf.constant(a) for a in args]

    @tf.function(jit_compile=jit)
    def run(x, *params):
        with tf.GradientTape() as tape:
            tape.watch([x, *params])
            y = function(x, *params, **kwargs)
        return y, tape.gradient(y, [x, *params])

    y, grads = run(tf.constant(x), *params)
    return y.numpy(), [g.numpy() for g in grads]


@pytest.mark.parametrize("jit", [False, True], ids=["graph", "xla"])
@pytest.mark.parametrize("case", list(CASES) + ["swish"])
def test_fast_path_matches_generic_formulation(case, jit):
    from keras_act import _tf_fast

    assert _tf_fast.xla_available()
    name = case.split("(")[0]
    args, kwargs = CASES.get(case, ((np.linspace(0.5, 2.0, 8).astype("float32"),), {}))
    rng = np.random.default_rng(0)
    x = np.concatenate([np.tile(GRID, (8, 1)).T, rng.normal(size=(64, 8)) * 3]).astype("float32")
    fast = getattr(_tf_fast, name)
    generic = (act_ops._swish if name == "swish" else getattr(act_ops, name)).__wrapped__
    y_fast, grads_fast = _value_and_gradients(fast, x, args, kwargs, jit)
    y_generic, grads_generic = _value_and_gradients(generic, x, args, kwargs, jit)
    np.testing.assert_allclose(y_fast, y_generic, rtol=1e-6, atol=1e-30)
    for g_fast, g_generic in zip(grads_fast, grads_generic):
        # 1e-7 absolute: the fast ELU/SELU derivative y + alpha rounds to 0 below x ~ -17.
        np.testing.assert_allclose(g_fast, g_generic, rtol=1e-5, atol=1e-7)
