"""`keras-act advise MODEL.keras [--task] [--data] [--json]`: report, JSON and exit codes."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from keras_act.advisor import advise
from keras_act.advisor.cli import main

L = keras.layers


def save(model: keras.Model, path) -> str:
    model.save(path)
    return str(path)


@pytest.fixture
def sound_model(tmp_path) -> str:
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), L.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    return save(model, tmp_path / "sound.keras")


@pytest.fixture
def flawed_model(tmp_path) -> str:
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), L.Dense(3, activation="softmax")])
    model.compile("adam", keras.losses.CategoricalCrossentropy(from_logits=True))
    return save(model, tmp_path / "flawed.keras")


def test_sound_model_prints_the_report_and_exits_0(sound_model, capsys) -> None:
    assert main(["advise", sound_model]) == 0
    out = capsys.readouterr().out
    advice = advise(keras.saving.load_model(sound_model))  # the atlas's pick, or the rules'
    assert "Task: multiclass (from the loss)" in out and f"hidden activation : {advice.hidden_activation} " in out


def test_error_findings_exit_1_and_json_is_valid(flawed_model, capsys) -> None:
    assert main(["advise", flawed_model, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["task"] == "multiclass"
    assert "output-loss-mismatch" in {f["code"] for f in data["findings"] if f["severity"] == "error"}


def test_task_and_data_are_used(tmp_path, capsys) -> None:
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), L.Dense(1)])
    path = save(model, tmp_path / "plain.keras")
    data = tmp_path / "data.npz"
    np.savez(data, x=np.zeros((6, 4)), y=np.array([0.5, 1.5, 2.0, 3.0, 4.0, 9.0]))
    assert main(["advise", path, "--data", str(data), "--json"]) == 0
    advice = json.loads(capsys.readouterr().out)
    assert (advice["task"], advice["task_source"], advice["output_activation"]) == ("regression", "labels", "softplus")
    assert main(["advise", path, "--task", "binary", "--json"]) == 1  # a linear output cannot give probabilities
    assert json.loads(capsys.readouterr().out)["task_source"] == "argument"


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda tmp: ["advise", str(tmp / "missing.keras")], "missing.keras: no such file"),
        (lambda tmp: ["advise", str(tmp / "notes.keras")], "notes.keras is not a .keras archive"),
        (lambda tmp: ["advise", str(tmp / "sound.keras"), "--data", str(tmp / "none.npz")], "none.npz: no such file"),
        (
            lambda tmp: ["advise", str(tmp / "sound.keras"), "--data", str(tmp / "notes.keras")],
            "is not an .npz archive",
        ),
        (
            lambda tmp: ["advise", str(tmp / "sound.keras"), "--data", str(tmp / "other.npz")],
            "holds 'features', not 'x' and/or 'y'",
        ),
    ],
)
def test_bad_usage_exits_2_with_a_clear_message(tmp_path, sound_model, capsys, make_args, message) -> None:
    (tmp_path / "notes.keras").write_text("not a model")
    np.savez(tmp_path / "other.npz", features=np.zeros(3))
    assert main(make_args(tmp_path)) == 2
    assert message in capsys.readouterr().err


def test_invalid_task_is_an_argparse_error(sound_model, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["advise", sound_model, "--task", "ranking"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'ranking'" in capsys.readouterr().err


@pytest.mark.slow
def test_confirm_command_prints_the_ranking_and_its_verdict(tmp_path, capsys) -> None:
    from tests.advisor.search_setup import data, model

    x, y = data()
    path = save(model(), tmp_path / "model.keras")
    np.savez(tmp_path / "data.npz", x=x, y=y)
    code = main(
        [
            "confirm",
            path,
            "--data",
            str(tmp_path / "data.npz"),
            "--epochs",
            "2",
            "--executions",
            "2",
            "--directory",
            str(tmp_path / "search"),
            "--json",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert code == (0 if result["confirmed"] else 1)
    assert {row["candidate"] for row in result["ranking"]} >= {"relu", "sigmoid"}
    assert main(["confirm", path, "--data", str(tmp_path / "missing.npz")]) == 2
    np.savez(tmp_path / "only_x.npz", x=x)
    assert main(["confirm", path, "--data", str(tmp_path / "only_x.npz")]) == 2
    assert "holds 'x', not 'x' and 'y'" in capsys.readouterr().err


@pytest.mark.slow
def test_confirm_json_is_the_only_stdout_also_when_resumed_and_overwrite_is_a_flag(tmp_path, capsys) -> None:
    from tests.advisor.search_setup import data, model

    x, y = data()
    path = save(model(), tmp_path / "model.keras")
    np.savez(tmp_path / "data.npz", x=x, y=y)
    args = [
        "confirm",
        path,
        "--data",
        str(tmp_path / "data.npz"),
        "--epochs",
        "1",
        "--executions",
        "2",
        "--directory",
        str(tmp_path / "search"),
        "--json",
    ]
    runs = []
    for _ in range(2):  # fresh, then resumed
        main(args)
        captured = capsys.readouterr()
        runs.append(json.loads(captured.out))
        assert "execution" in captured.err  # the progress went to stderr
    assert runs[0]["ranking"] == runs[1]["ranking"]
    assert "resuming" in captured.err
    other = [
        "confirm",
        path,
        "--data",
        str(tmp_path / "data.npz"),
        "--epochs",
        "2",
        "--executions",
        "2",
        "--directory",
        str(tmp_path / "search"),
        "--json",
    ]
    assert main(other) == 2  # a different search (epochs) in that directory
    err = capsys.readouterr().err
    assert "--overwrite" in err and "overwrite=True" not in err and "--directory" in err
    assert main([*other, "--overwrite"]) in (0, 1)
    assert json.loads(capsys.readouterr().out)["ranking"]


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda tmp: ["advise", str(tmp / "notes.txt")], "is not a saved Keras model (expected a .keras file"),
        (lambda tmp: ["advise", str(tmp / "sound.keras"), "--data", str(tmp / "notes.txt")], "is not an .npz archive"),
        (lambda tmp: ["advise", str(tmp / "sound.keras"), "--data", str(tmp / "single.npy")], "is not an .npz archive"),
        (
            lambda tmp: ["confirm", str(tmp / "sound.keras"), "--data", str(tmp / "other.npz")],
            "holds 'features', not 'x' and 'y'; write one with numpy.savez('data.npz', x=..., y=...)",
        ),
        (lambda tmp: ["plot", "relu", "-o", str(tmp / "no" / "dir" / "g.png")], "does not exist; create it"),
        (lambda tmp: ["plot", "relu", "-o", str(tmp / "g.jpg")], "give a file name ending in .png"),
        (lambda tmp: ["demo", "--output-dir", str(tmp / "absent")], "--output-dir"),
        (lambda tmp: ["confirm", str(tmp / "sound.keras"), "--data", str(tmp / "xy.npz"), "--epochs", "0"], "--epochs"),
        (
            lambda tmp: ["confirm", str(tmp / "sound.keras"), "--data", str(tmp / "xy.npz"), "--budget", "soon"],
            "--budget must be a number of executions (40) or a wall time with a unit",
        ),
        (
            lambda tmp: [
                "confirm",
                str(tmp / "sound.keras"),
                "--data",
                str(tmp / "xy.npz"),
                "--tuner",
                "hyperband",
                "--budget",
                "40",
            ],
            "racing (--race or --budget) runs every configuration in each round, so it "
            "needs the grid tuner (--tuner grid); received --tuner 'hyperband'.",
        ),
        (
            lambda tmp: [
                "confirm",
                str(tmp / "sound.keras"),
                "--data",
                str(tmp / "xy.npz"),
                "--no-race",
                "--budget",
                "40",
            ],
            "a --budget stops a race; it cannot go with --no-race.",
        ),
        (lambda tmp: ["plot", "relu", "-o", "/proc/x.png"], "-o /proc/x.png: cannot create files in /proc"),
        (lambda tmp: ["plot", "relu", "-o", str(tmp)], "is a folder; give a file name, e.g."),
        (lambda tmp: ["plot", "relu", "--x-range", "-inf", "inf"], "--x-range must be two finite numbers"),
        (lambda tmp: ["demo", "--output-dir", "/proc"], "--output-dir /proc: cannot create files in /proc"),
        (lambda tmp: ["demo", "--output-dir", str(tmp / "notes.txt")], "notes.txt is a file, not a folder"),
        (lambda tmp: ["advise", str(tmp)], "is a folder, not a saved model file"),
        (lambda tmp: ["advise", str(tmp / "sound.keras"), "--data", str(tmp)], "is a folder, not an .npz file"),
        (
            lambda tmp: ["confirm", str(tmp / "sound.keras"), "--data", str(tmp / "xy.npz"), "--directory", "/proc/s"],
            "--directory /proc/s: cannot create files in /proc",
        ),
        (
            lambda tmp: [
                "confirm",
                str(tmp / "sound.keras"),
                "--data",
                str(tmp / "xy.npz"),
                "--directory",
                str(tmp / "notes.txt"),
            ],
            "notes.txt is a file, not a folder",
        ),
        (
            lambda tmp: ["confirm", str(tmp / "sound.keras"), "--data", str(tmp / "xy.npz"), "--overwrite"],
            "--overwrite replaces the search kept in --directory; pass --directory DIR with it.",
        ),
        (
            lambda tmp: ["confirm", str(tmp / "sound.keras"), "--data", str(tmp / "x_val_only.npz")],
            "holds 'x_val' without 'y_val': validation data needs both",
        ),
        (
            lambda tmp: ["confirm", str(tmp / "sound.keras"), "--data", str(tmp / "nan_labels.npz")],
            "the data's 'y' must be a non-empty array of finite numbers.",
        ),
    ],
)
def test_every_bad_input_is_one_line_without_a_double_prefix(tmp_path, sound_model, capsys, make_args, message) -> None:
    (tmp_path / "notes.txt").write_text("not an archive")
    np.savez(tmp_path / "x_val_only.npz", x=np.zeros((4, 4)), y=np.array([0, 1, 2, 0]), x_val=np.zeros((2, 3)))
    np.savez(tmp_path / "nan_labels.npz", x=np.zeros((4, 4)), y=np.array([0.0, 1.0, np.nan, 0.0]))
    np.save(tmp_path / "single.npy", np.zeros(3))
    np.savez(tmp_path / "other.npz", features=np.zeros(3))
    np.savez(tmp_path / "xy.npz", x=np.zeros((4, 4)), y=np.array([0, 1, 2, 0]))
    args = make_args(tmp_path)
    assert main(args) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if not line.endswith("loading TensorFlow...")]
    assert len(err) == 1 and message in err[0], err
    command = args[0]
    assert err[0].startswith(f"keras-act {command}: ") and f"{command}: {command}" not in err[0]


def test_a_wrong_task_flag_is_a_warning_whose_fix_says_what_to_change(tmp_path, capsys) -> None:
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), L.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    path = save(model, tmp_path / "good.keras")
    assert main(["advise", path, "--task", "regression", "--json"]) == 0
    [finding] = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["code"] == "task-sources-disagree"]
    assert finding["severity"] == "warning"
    assert "mean_squared_error" in finding["fix"] and "drop task=" in finding["fix"]


def test_keras_warnings_the_advisor_reports_are_not_printed_twice(tmp_path, capsys) -> None:
    import warnings

    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), L.Dense(1, activation="softmax")])
    model.compile("adam", "binary_crossentropy")
    path = save(model, tmp_path / "softmax1.keras")
    np.savez(tmp_path / "d.npz", x=np.random.default_rng(0).random((16, 4)), y=np.arange(16) % 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["advise", path, "--data", str(tmp_path / "d.npz")]) == 1
    assert "softmax-single-unit" in capsys.readouterr().out
    assert not [w for w in caught if "has size 1" in str(w.message)]
