"""Values and gradients of every layer against float64 NumPy references."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_act
from keras_act._autodiff import value_and_derivative
from keras_act.gallery import curve
from keras_act.registry import LAYER_CLASSES

from .references import GRID, all_cases

CASES = all_cases()
IDS = [case[0] for case in CASES]
# float32 has a 2**-24 ~ 6e-8 unit roundoff; a few roundings in a formula stay under 1e-6.
VALUE_RTOL = 1e-6
# Absolute slack only for results that are tiny because an intermediate underflowed: TensorFlow
# flushes subnormal floats (< 1.2e-38) to zero, so swish(-88.8) = -88.8 * sigmoid(-88.8) is -0
# instead of -2.4e-37. Every value above 1e-30 is held to VALUE_RTOL.
TINY = 1e-30
# Derivatives like sigmoid's s * (1 - s) lose relative precision where 1 - s rounds (x > 17):
# there they are below 1e-7 in absolute terms, which is what float32 arithmetic can resolve.
GRAD_RTOL, GRAD_ATOL = 1e-5, 1e-7


def assert_derivative(dy, x, derivative, rtol, atol):
    """Compare autodiff `dy` with the analytic derivative at `x`, allowing any subgradient at 0.

    The references give the left derivative at 0; where the function has a kink there (ReLU
    family, ELU with alpha != 1) anything between the left and the right derivative is right,
    and backends differ (TF's leaky_relu takes alpha, JAX's takes 1).
    """
    expected = derivative(x)
    smooth = x != 0
    np.testing.assert_allclose(dy[smooth], expected[smooth], rtol=rtol, atol=atol)
    left, right = expected[~smooth], derivative(np.full_like(expected[~smooth], 1e-30))
    low, high = np.minimum(left, right), np.maximum(left, right)
    at_zero = dy[~smooth]
    inside = (low - atol - rtol * abs(low) <= at_zero) & (at_zero <= high + atol + rtol * abs(high))
    assert np.all(inside), f"derivative at 0 is {at_zero}, not between {left} and {right}"


def _function(activation_id, kwargs):
    layer = LAYER_CLASSES[activation_id](**kwargs)
    if activation_id == "softmax":
        return lambda x: layer(keras.ops.concatenate([x, keras.ops.zeros_like(x)], axis=-1))[:, :1]
    return layer


def _grid(dtype="float32"):
    return GRID.astype(dtype).reshape(-1, 1)


@pytest.mark.parametrize("name, activation_id, kwargs, reference, derivative", CASES, ids=IDS)
def test_values_match_float64_reference(name, activation_id, kwargs, reference, derivative):
    x = _grid()
    y = keras.ops.convert_to_numpy(_function(activation_id, kwargs)(x))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, reference(x.astype("float64")), rtol=VALUE_RTOL, atol=TINY)


@pytest.mark.parametrize("name, activation_id, kwargs, reference, derivative", CASES, ids=IDS)
def test_gradients_match_analytic_derivative(name, activation_id, kwargs, reference, derivative):
    x = _grid()
    _, dy = value_and_derivative(_function(activation_id, kwargs), x)
    assert np.all(np.isfinite(dy)), f"non-finite gradient of {name} at {x[~np.isfinite(dy)]}"
    assert_derivative(dy, x.astype("float64"), derivative, GRAD_RTOL, GRAD_ATOL)


@pytest.mark.parametrize("policy, rtol", [("mixed_float16", 2e-3), ("mixed_bfloat16", 1.6e-2)])
@pytest.mark.parametrize("name, activation_id, kwargs, reference, derivative", CASES, ids=IDS)
def test_low_precision_policies_stay_finite_and_close(policy, rtol, name, activation_id, kwargs, reference, derivative):
    keras.config.set_dtype_policy(policy)
    x = _grid()
    y, dy = value_and_derivative(_function(activation_id, kwargs), x)
    assert keras.backend.standardize_dtype(y.dtype) == policy.removeprefix("mixed_")
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dy))
    x_low = x.astype(policy.removeprefix("mixed_")).astype("float64")
    np.testing.assert_allclose(y.astype("float64"), reference(x_low), rtol=rtol, atol=1e-3)
    assert_derivative(dy.astype("float64"), x_low, derivative, rtol, 1e-3)


@pytest.mark.parametrize(
    "activation_id, expected_ratio", [("elu", 1.0), ("selu", 1.0507009873554805 * 1.6732632423543772)]
)
@pytest.mark.parametrize("x", [-1e-8, -1e-20, -3e-5])
def test_exponential_units_keep_relative_precision_near_zero(activation_id, expected_ratio, x):
    # exp(x) - 1 cancels to 0 here; expm1 keeps ~ x. Keras' TF backend returns 0 (TF #116943).
    y = float(keras.ops.convert_to_numpy(keras_act.get(activation_id)(np.array([x], "float32")))[0])
    assert y == pytest.approx(expected_ratio * x * (1 + x / 2), rel=1e-6)


def test_softmax_of_huge_logits_is_exact():
    y = keras.ops.convert_to_numpy(keras_act.Softmax()(np.array([[1000.0, 1000.0, -1000.0]], "float32")))
    np.testing.assert_array_equal(y, [[0.5, 0.5, 0.0]])


def test_softmax_over_several_axes_sums_to_one():
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32") * 50
    y = keras.ops.convert_to_numpy(keras_act.Softmax(axis=[1, 2])(x))
    reference = np.exp(x - x.max(axis=(1, 2), keepdims=True))
    np.testing.assert_allclose(y, reference / reference.sum(axis=(1, 2), keepdims=True), rtol=1e-5, atol=TINY)


def test_softmax_mask_zeroes_masked_positions():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "float32")
    mask = np.array([[True, True, False], [False, False, False]])
    y = keras.ops.convert_to_numpy(keras_act.Softmax()(x, mask=mask))
    e = np.exp([1.0, 2.0])
    np.testing.assert_allclose(y[0], [*(e / e.sum()), 0.0], rtol=1e-6)
    np.testing.assert_array_equal(y[1], [0.0, 0.0, 0.0])  # fully masked: zeros, not NaN


def test_softplus_does_not_overflow():
    x = np.array([-3e38, -1e4, 1e4, 3e38], "float32")
    y = keras.ops.convert_to_numpy(keras_act.Softplus()(x))
    np.testing.assert_array_equal(y, [0.0, 0.0, 1e4, np.float32(3e38)])


@pytest.mark.parametrize("activation_id", keras_act.names())
def test_extreme_finite_inputs_give_finite_outputs_and_gradients(activation_id):
    # Half the largest float32: every activation's true value there is representable (SELU's
    # 1.0507 * max is not, so inf would be the right answer at max itself).
    big = float(np.finfo("float32").max) / 2
    x = np.array([[-big], [big]], "float32")
    y, dy = value_and_derivative(curve(activation_id), x)
    assert np.all(np.isfinite(y)), y
    assert np.all(np.isfinite(dy)), dy


def _sigmoid64(z):
    return 0.5 * (1 + np.tanh(z / 2))


@pytest.mark.parametrize("shape, shared_axes", [((5, 4), None), ((3, 4, 2), [1]), ((2, 3, 3, 2), [1, 2])])
def test_parameter_gradients_match_analytic(shape, shared_axes):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=shape) * 3).astype("float32")
    x.flat[0] = 0.0
    param_shape = [1 if i + 1 in (shared_axes or []) else d for i, d in enumerate(shape[1:])]
    alpha = rng.uniform(0.1, 0.4, size=param_shape).astype("float32")
    beta = rng.uniform(0.5, 2.0, size=param_shape).astype("float32")
    reduce_axes = tuple([0] + [i + 1 for i in range(len(param_shape)) if param_shape[i] == 1])

    def to_param(total):
        return total.sum(axis=reduce_axes).reshape(param_shape)

    x64 = x.astype("float64")
    _, d_alpha = value_and_derivative(lambda a: keras_act.ops.prelu(x, a), alpha)
    np.testing.assert_allclose(d_alpha, to_param(np.where(x64 > 0, 0.0, x64)), rtol=1e-5)
    _, d_beta = value_and_derivative(lambda b: keras_act.ops.swish(x, b), beta)
    s = _sigmoid64(beta.astype("float64") * x64)
    np.testing.assert_allclose(d_beta, to_param(x64 * x64 * s * (1 - s)), rtol=1e-5, atol=1e-6)


def test_softmax_after_masking_zeroes_masked_timesteps():
    inputs = keras.Input((5, 3))
    model = keras.Model(inputs, keras_act.Softmax()(keras.layers.Masking(0.0)(inputs)))
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    x[:, 3:] = 0.0
    y = model.predict(x, verbose=0)
    np.testing.assert_array_equal(y[:, 3:], 0.0)
    e = np.exp(x[:, :3] - x[:, :3].max(axis=-1, keepdims=True))
    np.testing.assert_allclose(y[:, :3], e / e.sum(axis=-1, keepdims=True), rtol=1e-6)


def test_softmax_mask_of_the_wrong_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"`mask` of shape \(2, 4\) cannot be broadcast"):
        keras_act.Softmax()(np.zeros((2, 3), "float32"), mask=np.ones((2, 4), bool))
