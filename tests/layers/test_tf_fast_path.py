"""The TensorFlow fast path computes what the generic keras.ops formulation computes."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_act
from keras_act import ops as act_ops

from .references import GRID

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the fast path is TensorFlow-only")

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


FUSED = {
    "rational": (
        "_rational_formula",
        [
            np.array([0.02, 0.5, 1.3, 0.9, 0.25, 0.03], "float32").reshape(6, 1),
            np.linspace(-0.7, 0.5, 32).reshape(4, 8).astype("float32"),
        ],
    ),
    "acon": ("_acon_formula", [np.linspace(0.8, 1.5, 8), np.linspace(-0.2, 0.3, 8), np.linspace(0.5, 3.0, 8)]),
    "snake": ("_snake_formula", [np.array([1e-5, 0.2, 0.5, 1.0, 2.0, 5.0, 25.0, 60.0])]),
}


@pytest.mark.parametrize("jit", [False, True], ids=["graph", "xla"])
@pytest.mark.parametrize("name", list(FUSED))
def test_fused_kernels_match_their_formula(name, jit):
    from keras_act import _tf_fast

    formula_name, params = FUSED[name]
    formula = getattr(act_ops, formula_name)
    params = [p.astype("float32") for p in params]
    rng = np.random.default_rng(0)
    x = np.concatenate([np.tile(GRID, (8, 1)).T, rng.normal(size=(64, 8)) * 3]).astype("float32")
    y_fast, grads_fast = _value_and_gradients(_tf_fast.fused(formula), x, params, {}, jit)
    y_generic, grads_generic = _value_and_gradients(formula, x, params, {}, jit)
    # 1e-7 absolute: XLA contracts a * b + c into fused multiply-adds, which round differently
    # where terms cancel (Horner's rule, ACON's d * sigmoid + p2 x).
    np.testing.assert_allclose(y_fast, y_generic, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(grads_fast[0], grads_generic[0], rtol=1e-5, atol=1e-6)
    # The parameters' gradients are sums over the batch: compared where no +-1e4 terms cancel
    # in them (a float32 sum of such terms is only good to ~1e-7 of their magnitude).
    moderate = x[np.all(np.abs(x) <= 20, axis=1)]
    _, grads_fast = _value_and_gradients(_tf_fast.fused(formula), moderate, params, {}, jit)
    _, grads_generic = _value_and_gradients(formula, moderate, params, {}, jit)
    for g_fast, g_generic in zip(grads_fast[1:], grads_generic[1:]):
        assert g_fast.shape == g_generic.shape
        np.testing.assert_allclose(g_fast, g_generic, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("internal", [True, False])
def test_variadic_sum_gives_each_terms_sum_with_or_without_the_xla_internal(internal, monkeypatch):
    import sys

    import tensorflow as tf
    from tensorflow.compiler.tf2xla import python as tf2xla_python

    from keras_act._tf_compat import variadic_sum

    if not internal:  # as if a TensorFlow release had moved it: the import fails
        monkeypatch.delattr(tf2xla_python, "xla")
        monkeypatch.setitem(sys.modules, "tensorflow.compiler.tf2xla.python.xla", None)
    rng = np.random.default_rng(0)
    terms = [rng.normal(size=(64, 3, 5)).astype("float32") for _ in range(3)]
    sums = tf.function(lambda *t: variadic_sum(t, [0, 2]), jit_compile=True)(*terms)
    for found, term in zip(sums, terms):
        np.testing.assert_allclose(found.numpy(), term.astype("float64").sum(axis=(0, 2)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("jit", [False, True], ids=["graph", "xla"])
def test_sin_cos_matches_float64_numpy_up_to_snakes_phase_clip(jit):
    import tensorflow as tf

    from keras_act import _tf_fast
    from keras_act.ops import SNAKE_PHASE_CLIP

    rng = np.random.default_rng(0)
    near_quadrants = np.arange(-40, 41) * (np.pi / 2)  # where the quadrant flips and sin or cos is ~0
    t = np.concatenate(
        [
            *(rng.uniform(-scale, scale, 20000) for scale in (np.pi, 1e3, 1e6, SNAKE_PHASE_CLIP)),
            near_quadrants,
            np.nextafter(near_quadrants.astype("float32"), np.float32(np.inf)),
            [0.0, -0.0, 1e-30, SNAKE_PHASE_CLIP, -SNAKE_PHASE_CLIP],
        ]
    ).astype("float32")
    s, c = tf.function(_tf_fast.sin_cos, jit_compile=jit)(tf.constant(t))
    wide = t.astype("float64")
    # 1.5e-7: a float32 result near 1 is rounded to 6e-8; numpy's own float32 sin errs up to 9e-8.
    np.testing.assert_allclose(s.numpy(), np.sin(wide), rtol=0, atol=1.5e-7)
    np.testing.assert_allclose(c.numpy(), np.cos(wide), rtol=0, atol=1.5e-7)
    # float64 phases keep their precision (tf.sin, tf.cos)
    s64, _ = _tf_fast.sin_cos(tf.constant(wide))
    np.testing.assert_allclose(s64.numpy(), np.sin(wide), rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("jit", [False, True], ids=["graph", "xla"])
def test_snake_fast_path_matches_the_generic_formula_with_tf_sin(jit):
    a = FUSED["snake"][1][0].astype("float32")
    rng = np.random.default_rng(1)
    x = np.concatenate([np.tile(GRID, (8, 1)).T, rng.normal(size=(64, 8)) * 3]).astype("float32")
    # act_ops.snake takes the fast path for a TensorFlow tensor; _snake_formula is keras.ops' sin
    y_fast, grads_fast = _value_and_gradients(act_ops.snake, x, [a], {}, jit)
    y_generic, grads_generic = _value_and_gradients(act_ops._snake_formula, x, [a], {}, jit)
    np.testing.assert_allclose(y_fast, y_generic, rtol=1e-6, atol=2e-7)
    np.testing.assert_allclose(grads_fast[0], grads_generic[0], rtol=1e-5, atol=5e-7)
    np.testing.assert_allclose(grads_fast[1], grads_generic[1], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("make", [lambda: keras_act.Rational("relu"), keras_act.ACON, keras_act.ELU])
def test_eager_calls_of_new_shapes_do_not_retrace(caplog, make) -> None:
    # A curve, nearest() and a plot call a layer eagerly with a new shape each time: no
    # tf.function is traced per shape, so TensorFlow has no retracing to warn about.
    import tensorflow as tf

    layer = make()
    with caplog.at_level("WARNING", logger="tensorflow"):
        for rows in range(1, 10):
            x = tf.constant(np.linspace(-1, 1, rows * 3, dtype="float32").reshape(rows, 3))
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x)
            assert np.isfinite(tape.gradient(y, x).numpy()).all()
    assert [r.getMessage() for r in caplog.records if "retracing" in r.getMessage()] == []
