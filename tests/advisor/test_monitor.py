"""ActivationMonitor during fit, and the diagnostics plots."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

from keras_act.advisor import ActivationMonitor, advise, plot_diagnostics

L = keras.layers
RNG = np.random.default_rng(0)
X = RNG.normal(size=(256, 8)).astype("float32")
Y = (X[:, 0] + X[:, 1] > 0).astype("float32")


def model() -> keras.Model:
    keras.utils.set_random_seed(0)
    built = keras.Sequential(
        [
            keras.Input((8,)),
            L.Dense(16, activation="relu"),
            L.Dense(16, activation="tanh"),
            L.Dense(1, activation="sigmoid"),
        ]
    )
    built.compile(keras.optimizers.Adam(0.01), "binary_crossentropy")
    return built


def test_figures_equal_what_advise_reports_on_the_same_weights() -> None:
    net = model()
    monitor = ActivationMonitor(X, y_sample=Y)
    net.fit(X, Y, epochs=3, batch_size=32, verbose=0, callbacks=[monitor])
    assert [r["epoch"] for r in monitor.history] == [1, 1, 2, 2, 3, 3]
    last = [r for r in monitor.history if r["epoch"] == 3]
    rows = advise(net, x=X, y=Y).diagnostics
    assert [(r["layer"], r["activation"], r["dead_fraction"], r["saturated_fraction"]) for r in last] == [
        (r.layer, r.activation, r.dead_fraction, r.saturated_fraction) for r in rows
    ]
    np.testing.assert_allclose([r["grad_norm"] for r in last], [r.grad_norm for r in rows], rtol=1e-4)
    first = [r["grad_norm"] for r in monitor.history if r["epoch"] == 1]
    assert first != [r["grad_norm"] for r in last]  # it measures the weights as they train


def test_every_and_tensorboard_log(tmp_path) -> None:
    monitor = ActivationMonitor(X, every=2, log_dir=tmp_path / "logs")
    model().fit(X, Y, epochs=4, verbose=0, callbacks=[monitor])
    assert sorted({r["epoch"] for r in monitor.history}) == [2, 4]
    assert all(r["grad_norm"] is None for r in monitor.history)  # no labels given
    assert list((tmp_path / "logs").glob("events.out.tfevents.*"))


def test_a_model_it_cannot_read_warns_once_and_training_goes_on() -> None:
    class Subclassed(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.dense = L.Dense(1)

        def call(self, x):
            return self.dense(x)

    net = Subclassed()
    net.compile("adam", "mse")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = net.fit(X, Y, epochs=2, verbose=0, callbacks=[ActivationMonitor(X)])
    assert len([w for w in caught if "ActivationMonitor" in str(w.message)]) == 1
    assert len(history.history["loss"]) == 2


@pytest.mark.parametrize("kwargs", [{"every": 0}, {"every": 1.5}, {"x_sample": None}])
def test_bad_arguments(kwargs) -> None:
    with pytest.raises(ValueError, match="every|x_sample"):
        ActivationMonitor(**{"x_sample": X, **kwargs})


def test_plots_are_drawn(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.image

    net = model()
    monitor = ActivationMonitor(X, y_sample=Y)
    net.fit(X, Y, epochs=2, verbose=0, callbacks=[monitor])
    for path in (advise(net, x=X, y=Y).plot(tmp_path / "a.png"), monitor.plot(tmp_path / "m.png")):
        pixels = matplotlib.image.imread(path)
        assert pixels.shape[1] > 500
        assert np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0).shape[0] > 20
    with pytest.raises(ValueError, match="no diagnostics"):
        plot_diagnostics(advise(net), tmp_path / "none.png")


def _drawn_axes(monkeypatch, draw) -> list:
    """The axes of the figure `draw()` writes (captured before it is closed)."""
    from keras_act.advisor import plots

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda figure, path: figures.append(figure) or path)
    draw()
    return figures[0].axes


def test_gradient_norms_on_a_narrow_range_get_a_linear_axis_from_zero(tmp_path, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    from keras_act.advisor.diagnostics import SiteDiagnostic
    from keras_act.advisor.plots import plot_diagnostics, plot_history

    rows = [SiteDiagnostic(f"d{i}", "relu", 8, 0.1, None, norm, None) for i, norm in enumerate([0.733, 0.748])]
    axes = _drawn_axes(monkeypatch, lambda: plot_diagnostics(rows, tmp_path / "d.png"))
    assert axes[2].get_yscale() == "linear" and axes[2].get_ylim()[0] == 0
    wide = [
        SiteDiagnostic("a", "sigmoid", 8, None, 0.2, 1e-7, None),
        SiteDiagnostic("b", "sigmoid", 8, None, 0.1, 0.5, None),
    ]
    assert _drawn_axes(monkeypatch, lambda: plot_diagnostics(wide, tmp_path / "w.png"))[2].get_yscale() == "log"
    # Over epochs: a panel with nothing to draw (no saturating layer) still spans the epochs.
    history = [
        {"epoch": e, "layer": "d0", "dead_fraction": 0.1, "saturated_fraction": None, "grad_norm": 0.74}
        for e in (1, 2, 3)
    ]
    axes = _drawn_axes(monkeypatch, lambda: plot_history(history, tmp_path / "h.png"))
    assert axes[1].get_xlim() == (0.5, 3.5) and axes[2].get_yscale() == "linear"


def test_the_history_figure_has_one_legend_outside_the_panels_and_wrapped_notes(tmp_path, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    from keras_act.advisor import plots

    layers = [f"relu_dense_with_a_long_name_{i}" for i in range(8)] + ["tanh_gate"]
    history = [
        {
            "epoch": epoch,
            "layer": layer,
            "dead_fraction": None if layer == "tanh_gate" else 0.1 * index,
            "saturated_fraction": 0.2 if layer == "tanh_gate" else None,
            "grad_norm": 0.5 + 0.01 * index,
        }
        for epoch in (1, 2)
        for index, layer in enumerate(layers)
    ]
    axes = _drawn_axes(monkeypatch, lambda: plots.plot_history(history, tmp_path / "h.png"))
    figure = axes[0].figure
    assert all(axis.get_legend() is None for axis in axes)  # no legend over a panel's curves
    assert [t.get_text() for t in figure.legends[0].get_texts()] == layers
    colours = [{line.get_label(): line.get_color() for line in axis.get_lines()} for axis in axes]
    assert colours[1]["tanh_gate"] == colours[2]["tanh_gate"]  # a layer keeps its colour across panels
    notes = [text.get_text() for axis in axes for text in axis.texts]
    assert len(notes) == 2 and all(len(line) <= plots.NOTE_WIDTH for n in notes for line in n.splitlines())


def test_learned_curves_are_recorded_each_measured_epoch_and_drawn(tmp_path) -> None:
    import keras_act

    keras.utils.set_random_seed(0)
    rational = keras_act.Rational("relu", shared_axes=[])
    net = keras.Sequential(
        [
            keras.Input((8,)),
            L.Dense(8),
            rational,
            L.Dense(8, activation=keras_act.ACON()),
            L.Dense(1, activation="sigmoid"),
        ]
    )
    net.compile(keras.optimizers.Adam(0.05), "binary_crossentropy")
    monitor = ActivationMonitor(X, y_sample=Y, learned_curves=True)
    net.fit(X, Y, epochs=2, verbose=0, callbacks=[monitor])
    assert [(r["epoch"], r["layer"]) for r in monitor.curves] == [
        (epoch, name) for epoch in (1, 2) for name in (rational.name, net.layers[2].activation.name)
    ]
    first, last = (r["curve"] for r in monitor.curves if r["layer"] == rational.name)
    assert first.shape == last.shape == (201, 8) and np.abs(last - first).max() > 1e-4
    np.testing.assert_allclose(last, rational.curve(monitor.curves[-1]["x"]))
    assert monitor.history  # the diagnostics are recorded too
    pytest.importorskip("matplotlib")
    import matplotlib.image

    pixels = matplotlib.image.imread(monitor.plot_learned(tmp_path / "learned.png"))
    assert np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0).shape[0] > 20
    with pytest.raises(ValueError, match="create the monitor with learned_curves=True"):
        ActivationMonitor(X).plot_learned(tmp_path / "none.png")
    with pytest.raises(TypeError, match="`learned_curves` must be True or False"):
        ActivationMonitor(X, learned_curves="yes")
