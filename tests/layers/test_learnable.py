"""The learnable activations beyond PReLU and Swish: Rational's fit, ACON and Snake's parameters,
`curve()` and `nearest()`."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_act
from keras_act import _fit
from keras_act._autodiff import value_and_derivative

from .references import RATIONAL_54, _rational, sigmoid

FIT_GRID = np.linspace(*_fit.FIT_RANGE, 2001)


# --- the float64 targets and the least-squares start --------------------------------------------


@pytest.mark.parametrize("activation_id", list(_fit.TARGETS))
def test_fit_targets_are_the_layers_own_curves(activation_id):
    x = np.linspace(-20, 20, 401)
    layer = keras_act.get(activation_id)
    y = keras.ops.convert_to_numpy(layer(x.astype("float32").reshape(-1, 1))).ravel()
    target = _fit.TARGETS[activation_id](x.astype("float32").astype("float64"))
    # 2e-6 relative: the backends' float32 GELU is 1e-6 off. Plus two float32 ulps of 1 per unit
    # of |x| absolute: PyTorch's GELU takes x / 2 * (1 + erf(x / sqrt(2))), whose sum is rounded
    # at 1's ulp (seen: 5.3e-7 at x = -3 with AVX512 kernels, 2.4e-7 with AVX2).
    tolerance = 2e-6 * np.abs(target) + 2 * np.finfo("float32").eps * np.abs(x)
    assert np.all(np.abs(y - target) <= tolerance), np.max(np.abs(y - target) - tolerance)


@pytest.mark.parametrize("activation_id", list(_fit.TARGETS))
def test_rational_starts_as_the_named_activation(activation_id):
    bound = _fit.MAX_FIT_ERROR_KINKED if activation_id in _fit.KINKED else _fit.MAX_FIT_ERROR_SMOOTH
    target = _fit.TARGETS[activation_id](FIT_GRID)
    a, b = _fit.fit_rational(activation_id)
    assert np.max(np.abs(_rational(a, b)(FIT_GRID) - target)) < bound
    layer = keras_act.Rational(activation_id)
    y = keras.ops.convert_to_numpy(layer(FIT_GRID.astype("float32").reshape(-1, 1))).ravel()
    assert np.max(np.abs(y - target)) < bound
    assert layer.get_config()["numerator"] == list(a)


def test_fit_is_least_squares_on_the_stated_range():
    # Fitting on [-1, 1] instead: better there, worse on [-3, 3].
    narrow = keras_act.Rational("relu", fit_range=(-1.0, 1.0))
    default = keras_act.Rational("relu")
    inside, outside = np.linspace(-1, 1, 201), np.linspace(2, 3, 101)

    def error(layer, x):
        y = keras.ops.convert_to_numpy(layer(x.astype("float32").reshape(-1, 1))).ravel()
        return np.sqrt(np.mean((y - np.maximum(x, 0)) ** 2))

    assert error(narrow, inside) < error(default, inside)
    assert error(narrow, outside) > error(default, outside)


def test_lower_degrees_fit_too():
    layer = keras_act.Rational("tanh", degrees=(3, 2))
    y = keras.ops.convert_to_numpy(layer(FIT_GRID.astype("float32").reshape(-1, 1))).ravel()
    assert np.max(np.abs(y - np.tanh(FIT_GRID))) < 0.05
    assert len(layer.initial_numerator) == 4 and len(layer.initial_denominator) == 2


def test_saved_rational_reloads_without_refitting(tmp_path, monkeypatch):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4), keras_act.Rational("gelu", shared_axes=[]), keras.layers.Dense(1)]
    )
    model.compile(keras.optimizers.Adam(0.05), "mse")
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    model.fit(x, x[:, :1] ** 2, epochs=2, verbose=0)
    model.save(tmp_path / "rational.keras")

    def no_fit(*args):
        raise AssertionError("refitted on load")

    monkeypatch.setattr("keras_act.layers.rational.fit_rational", no_fit)
    loaded = keras.saving.load_model(tmp_path / "rational.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert tuple(loaded.layers[1].numerator.shape) == (6, 4)  # shared_axes=[]: one set per unit


# --- parameters' gradients and extreme inputs ---------------------------------------------------


def _param_gradient(function, param):
    return value_and_derivative(function, np.asarray(param, "float32"))[1].astype("float64")


def test_parameter_gradients_match_analytic():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(64, 3)) * 3).astype("float32")
    x64 = x.astype("float64")
    p1, p2, beta = (rng.uniform(lo, hi, size=3) for lo, hi in ((0.8, 1.5), (-0.2, 0.3), (0.5, 2.0)))
    z = beta * (p1 - p2) * x64
    s = sigmoid(z)
    ds_dz = s * (1 - s)
    d_dp1 = x64 * s + (p1 - p2) * x64 * ds_dz * beta * x64
    grads = [
        _param_gradient(
            lambda v, i=i: keras_act.ops.acon(x, *[v if j == i else q for j, q in enumerate((p1, p2, beta))]),
            (p1, p2, beta)[i],
        )
        for i in range(3)
    ]
    np.testing.assert_allclose(grads[0], d_dp1.sum(0), rtol=1e-4)
    np.testing.assert_allclose(grads[1], (x64 - d_dp1).sum(0), rtol=1e-4)
    np.testing.assert_allclose(grads[2], ((p1 - p2) * x64 * ds_dz * (p1 - p2) * x64).sum(0), rtol=1e-4)

    a = np.array([0.5, 1e-5, 3.0])  # 1e-5: the small-phase series branch
    d_da = x64 * np.sin(2 * a * x64) / a - np.sin(a * x64) ** 2 / a**2
    np.testing.assert_allclose(
        _param_gradient(lambda v: keras_act.ops.snake(x, v), a), d_da.sum(0), rtol=1e-4, atol=1e-4
    )

    numerator, denominator = (np.array(c) for c in RATIONAL_54)
    p = np.polyval(numerator[::-1], x64)
    q = 1 + np.polyval(np.append(np.abs(denominator)[::-1], 0.0), np.abs(x64))
    d_num = [(x64**j / q).sum() for j in range(len(numerator))]
    d_den = [(-p / q**2 * np.abs(x64) ** (k + 1) * np.sign(denominator[k])).sum() for k in range(len(denominator))]
    np.testing.assert_allclose(
        _param_gradient(lambda v: keras_act.ops.rational(x, v, denominator), numerator), d_num, rtol=1e-4
    )
    np.testing.assert_allclose(
        _param_gradient(lambda v: keras_act.ops.rational(x, numerator, v), denominator), d_den, rtol=1e-4
    )


@pytest.mark.parametrize("degrees", [(5, 4), (4, 3), (2, 2), (1, 1)])
@pytest.mark.parametrize("per_channel", [False, True])
def test_rational_coefficient_gradients_for_every_degree_and_sharing(degrees, per_channel):
    # Odd denominator degrees (a sign beyond |x| = 1), m = n + 1 (the slope term), inputs on both
    # sides of |x| = 1 and up to 1e3, one set per layer or per channel: against float64 NumPy.
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(512, 3)) * np.array([0.5, 3.0, 300.0])).astype("float32")
    x64 = x.astype("float64")
    m, n = degrees
    shape = (3,) if per_channel else ()
    numerator = rng.uniform(-1, 1, size=(m + 1,) + shape)
    denominator = rng.uniform(-1, 1, size=(n,) + shape)
    numerator64, denominator64 = numerator.astype("float32").astype("float64"), denominator.astype("float32")
    p = sum(numerator64[j] * x64**j for j in range(m + 1))
    q = 1 + sum(np.abs(denominator64[k]) * np.abs(x64) ** (k + 1) for k in range(n))
    axes = 0 if per_channel else None
    d_num = np.stack([(x64**j / q).sum(axes) for j in range(m + 1)])
    d_den = np.stack([(-p / q**2 * np.abs(x64) ** (k + 1) * np.sign(denominator64[k])).sum(axes) for k in range(n)])
    scale = np.abs(np.stack([(np.abs(x64) ** j / q).sum(axes) for j in range(m + 1)]))  # the terms' own size
    found_num = _param_gradient(lambda v: keras_act.ops.rational(x, v, denominator.astype("float32")), numerator)
    found_den = _param_gradient(lambda v: keras_act.ops.rational(x, numerator.astype("float32"), v), denominator)
    np.testing.assert_array_less(np.abs(found_num - d_num), 1e-5 * scale + 1e-6)
    den_scale = np.stack([(np.abs(p) / q**2 * np.abs(x64) ** (k + 1)).sum(axes) for k in range(n)])
    np.testing.assert_array_less(np.abs(found_den - d_den), 1e-5 * den_scale + 1e-6)


@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
def test_rational_values_and_every_gradient_stay_finite_over_1e4(policy):
    keras.config.set_dtype_policy(policy)
    layer = keras_act.Rational("leaky_relu", shared_axes=[])
    x = np.concatenate([np.linspace(-1e4, 1e4, 2001), np.geomspace(1e-4, 1e4, 200) * -1]).reshape(-1, 1)
    layer.build(x.shape)
    a, b = (keras.ops.convert_to_numpy(w).astype("float64") for w in (layer.numerator, layer.denominator))
    y, dy = value_and_derivative(layer, x.astype("float32"))
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dy))
    np.testing.assert_allclose(
        y.astype("float64").ravel(),
        _rational(a[:, 0], b[:, 0])(x.astype("float32").astype("float64")).ravel(),
        rtol=1e-5 if policy == "float32" else 2e-3,
        atol=1e-6 if policy == "float32" else 1e-3,
    )
    for coefficients in ("numerator", "denominator"):
        grad = _param_gradient(
            lambda v, name=coefficients: keras_act.ops.rational(
                x.astype("float32"), v if name == "numerator" else a, v if name == "denominator" else b
            ),
            a if coefficients == "numerator" else b,
        )
        assert np.all(np.isfinite(grad)), coefficients


# --- curve() and nearest() ----------------------------------------------------------------------


def test_curve_gives_one_column_per_parameter_set_and_the_start():
    keras.utils.set_random_seed(0)
    layer = keras_act.ACON(shared_axes=[])
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3), layer, keras.layers.Dense(1)])
    assert layer.curve([0.0, 1.0]).shape == (2, 3)
    np.testing.assert_allclose(layer.curve([1.0]), [[1 / (1 + np.exp(-1.0))] * 3], rtol=1e-6)
    model.compile(keras.optimizers.Adam(0.1), "mse")
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    model.fit(x, np.abs(x[:, :1]), epochs=3, verbose=0)
    learned, start = layer.curve(), layer.curve(start=True)
    assert learned.shape == start.shape == (201, 3)
    assert np.abs(learned - start).max() > 1e-3
    np.testing.assert_allclose(start[:, 0], keras_act.ops.swish(np.linspace(-5, 5, 201).astype("float32")), rtol=1e-5)


def test_curve_needs_a_built_layer_and_one_dimensional_points():
    with pytest.raises(ValueError, match="Snake.curve: the layer is not built"):
        keras_act.Snake().curve()
    layer = keras_act.Snake()
    layer.build((None, 2))
    with pytest.raises(
        ValueError, match="`x` must be a non-empty 1-D array of finite numbers, received shape \\(2, 2\\)"
    ):
        layer.curve(np.zeros((2, 2)))


@pytest.mark.parametrize("start", ["relu", "swish", "gelu", "tanh", "elu"])
def test_nearest_names_what_a_rational_was_fitted_to(start):
    layer = keras_act.Rational(start)
    layer.build((None, 4))
    result = keras_act.nearest(layer)
    assert result.activation_id == start
    assert result.scale == pytest.approx(1.0, abs=0.01)
    assert result.error < 0.01 and result.ranking[0][0] == start
    assert [row[2] for row in result.ranking] == sorted(row[2] for row in result.ranking)


def test_nearest_finds_the_scale_and_picks_a_channel():
    a, b = _fit.fit_rational("swish")
    layer = keras_act.Rational("swish", numerator=[2 * v for v in a], denominator=b, shared_axes=[])
    layer.build((None, 2))
    assert keras_act.nearest(layer).scale == pytest.approx(2.0, rel=1e-3)
    acon = keras_act.ACON(p1=1.0, p2=0.0, beta=30.0)  # a sharp ACON is ReLU
    acon.build((None, 2))
    assert keras_act.nearest(acon, channel=1).activation_id == "relu"
    assert keras_act.nearest(acon, channel=1).channel == 1
    with pytest.raises(ValueError, match=r"`channel` must be None or an index in \[0, 2\)"):
        keras_act.nearest(acon, channel=2)
    assert keras_act.nearest(keras_act.GELU()).activation_id == "gelu"


@pytest.mark.parametrize("slope", [0.25, 0.6])
def test_nearest_names_a_prelu_a_leaky_relu_with_its_slope(slope):
    layer = keras_act.PReLU(alpha_initializer=keras.initializers.Constant(slope))
    layer.build((None, 3))
    result = keras_act.nearest(layer)
    assert (result.activation_id, result.scale) == ("leaky_relu", pytest.approx(1.0, abs=1e-4))
    assert result.negative_slope == pytest.approx(slope, abs=1e-4) and result.error < 1e-4
    assert f"negative slope {slope:.3g}" in str(result)


@pytest.mark.parametrize("layer", [keras.layers.Dense(2), keras_act.Softmax(), "relu"], ids=["dense", "softmax", "str"])
def test_nearest_rejects_what_is_not_an_elementwise_keras_act_layer(layer):
    with pytest.raises(TypeError, match="nearest: argument `layer` must be an elementwise keras_act activation layer"):
        keras_act.nearest(layer)


def test_learned_layers_finds_layers_activation_arguments_and_nested_models():
    from keras_act.learned import learned_layers

    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4), keras_act.Snake(name="inner_snake")])
    outer = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation=keras_act.PReLU(name="dense_prelu")),
            inner,
            keras_act.ReLU(),
            keras.layers.Dense(1),
        ]
    )
    assert [layer.name for layer in learned_layers(outer)] == ["dense_prelu", "inner_snake"]
    with pytest.raises(TypeError, match="`model` must be a keras.Model"):
        learned_layers(keras_act.Snake())


def test_plot_learned_draws_an_activation_argument_before_training_without_building_it(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from keras_act import learned

    swish = keras_act.Swish(name="dense_swish")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation=swish), keras_act.PReLU()])
    figures = []
    monkeypatch.setattr(learned, "save_figure", lambda figure, path: figures.append(figure) or path)
    learned.plot_learned(model, tmp_path / "learned.png")
    titles = [axis.get_title() for axis in figures[0].axes if axis.get_title()]
    assert titles[0].startswith("dense_swish (Swish)\nnot run yet, at its start nearest:\nswish")
    assert "now nearest:\nleaky_relu (negative slope 0.25" in titles[1]
    assert not swish.built  # drawn from a copy: the model is left as it was


@pytest.mark.parametrize("degrees", [(0, 1), (2, 1), (2, 4), (3, 3), (4, 3), (5, 4), (7, 6)])
def test_every_allowed_degree_pair_matches_the_float64_reference(degrees):
    from .references import _rational_grad

    m, n = degrees
    rng = np.random.default_rng(m * 10 + n)
    a, b = rng.normal(size=m + 1), rng.normal(size=n)
    layer = keras_act.Rational(degrees=degrees, numerator=list(a), denominator=list(b))
    x = np.array([-1e4, -100, -3, -1.5, -1, -0.3, 0.2, 1, 1.2, 7, 1e4], "float32").reshape(-1, 1)
    y, dy = value_and_derivative(layer, x)
    x64 = x.astype("float64")
    expected, slope = _rational(a, b)(x64), _rational_grad(a, b)(x64)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dy, slope, rtol=1e-5, atol=1e-6)
