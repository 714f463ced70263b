"""The `keras-act` command line."""

from __future__ import annotations

import numpy as np
import pytest

from keras_act.advisor.cli import main

pytest.importorskip("matplotlib")


def _png_pixels(path):
    import matplotlib.image

    return matplotlib.image.imread(path)


def test_list_prints_every_id(capsys):
    assert main(["list"]) == 0
    assert capsys.readouterr().out.split() == __import__("keras_act").names()


def test_plot_writes_a_png_with_curves(tmp_path):
    out = tmp_path / "g.png"
    assert main(["plot", "relu", "elu", "--derivative", "-o", str(out)]) == 0
    pixels = _png_pixels(out)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 200
    assert np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0).shape[0] > 10  # not blank


def test_plot_unknown_id_fails_cleanly(tmp_path, capsys):
    assert main(["plot", "nope", "-o", str(tmp_path / "x.png")]) == 2
    assert "valid ids are" in capsys.readouterr().err


def test_demo_trains_and_writes_the_gallery_then_runs_the_advisor_demo(tmp_path, capsys, monkeypatch):
    # The advisor's demo itself is tested in tests/advisor/test_demo.py; here, that the command
    # runs it after the layers' demo with the command's settings.
    pytest.importorskip("sklearn")
    import keras_act.advisor.advice_demo as advisor_demo

    calls = []
    monkeypatch.setattr(advisor_demo, "run_advisor_demo", lambda **kwargs: calls.append(kwargs))
    assert (
        main(
            [
                "demo",
                "--epochs",
                "2",
                "--advisor-epochs",
                "3",
                "--confirm-epochs",
                "1",
                "--seed",
                "4",
                "--output-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "PReLU alpha" in out and "Swish beta" in out
    assert (tmp_path / "keras_act_gallery.png").stat().st_size > 10_000
    assert calls == [{"epochs": 3, "seed": 4, "confirm_epochs": 1}]


def _saved_model_with(tmp_path, *activations):
    import keras

    keras.utils.set_random_seed(0)
    layers = [keras.Input((3,))]
    for activation in activations:
        layers += [keras.layers.Dense(4), activation]
    model = keras.Sequential([*layers, keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.05), "mse")
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    model.fit(x, np.abs(x[:, :1]), epochs=2, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    return path


def test_plot_model_draws_its_learned_activations(tmp_path, capsys):
    import keras_act

    model = _saved_model_with(tmp_path, keras_act.Rational("relu"), keras_act.Snake())
    assert main(["plot", "--model", str(model), "-o", str(tmp_path / "learned.png")]) == 0
    assert "Wrote" in capsys.readouterr().out
    pixels = _png_pixels(tmp_path / "learned.png")
    assert np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0).shape[0] > 10


@pytest.mark.parametrize(
    "extra, message",
    [
        (["relu"], "plot --model draws the model's own learnable activations; leave out the activation ids"),
        ([], "the model has no learnable keras_act activation"),
    ],
)
def test_plot_model_bad_usage_is_one_line(tmp_path, capsys, extra, message):
    import keras_act

    model = _saved_model_with(tmp_path, keras_act.ReLU())
    assert main(["plot", "--model", str(model), *extra, "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and err[-1].startswith("keras-act plot: ") and "Traceback" not in "".join(err)


def test_plot_reads_exponents_and_infinities_as_numbers(tmp_path, capsys):
    assert main(["plot", "relu", "--x-range", "-1e30", "1e30", "-o", str(tmp_path / "wide.png")]) == 0
    assert (tmp_path / "wide.png").stat().st_size > 0
    assert main(["plot", "relu", "--x-range", "-inf", "inf", "-o", str(tmp_path / "inf.png")]) == 2
    assert "--x-range must be two finite numbers" in capsys.readouterr().err
    assert not (tmp_path / "inf.png").exists()


def test_version_prints_the_installed_version(capsys):
    import keras_act

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"keras-act {keras_act.__version__}"
