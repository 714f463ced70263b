"""advise() from the activation atlas: the pick, its figures, the user's own kept, the candidates."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_act.advisor import advise, atlas
from keras_act.advisor.atlas import TaskResult

CONFIGURATIONS = (
    "relu + glorot_uniform",
    "relu + he_normal",
    "elu + he_normal",
    "tanh + glorot_uniform",
    "selu + lecun_normal",
)


def task(
    name: str, winners: tuple[str, ...], kind: str = "binary", depth: int = 2, target: tuple[float, float] = (0.0, 0.0)
) -> TaskResult:
    """A task on which `winners` score 0.9 and the rest 0.6, over 3 seeds."""
    return TaskResult(
        name,
        kind,
        "plain-dense",
        depth,
        500,
        6,
        *target,
        {c: np.full(3, 0.9 if c in winners else 0.6) for c in CONFIGURATIONS},
    )


@pytest.fixture
def measured(monkeypatch):
    """An atlas (and its ranking model) where elu wins every shallow binary task, Keras' defaults 80% of them, tanh the
    rest; where Keras' defaults and elu tie on shallow multi-class tasks; where on deep tasks only
    selu and tanh do well; and where relu + he_normal wins regression with targets far from unit
    scale, tanh with unit-scale targets."""
    shallow = (
        [task(f"b{i}", ("elu + he_normal", "relu + glorot_uniform")) for i in range(40)]
        + [task(f"c{i}", ("elu + he_normal", "tanh + glorot_uniform")) for i in range(10)]
        + [task(f"m{i}", ("elu + he_normal", "relu + glorot_uniform"), kind="multiclass") for i in range(20)]
    )
    deep = [task(f"d{i}", ("selu + lecun_normal", "tanh + glorot_uniform"), depth=12) for i in range(30)]
    regression = [task(f"r{i}", ("relu + he_normal",), kind="regression", target=(650.0, 20.0)) for i in range(25)]
    regression += [task(f"u{i}", ("tanh + glorot_uniform",), kind="regression", target=(0.0, 1.0)) for i in range(25)]
    results = tuple(shallow + deep + regression)
    ranking = atlas.fit_ranking(results)
    monkeypatch.setattr(atlas, "load", lambda path=atlas.ATLAS_FILE: results)
    monkeypatch.setattr(atlas, "load_ranking", lambda: ranking)
    return results


def mlp(depth: int, hidden: str = "relu", init: str = "glorot_uniform", output: str = "sigmoid") -> keras.Model:
    layers = [keras.Input((6,))] + [
        keras.layers.Dense(16, activation=hidden, kernel_initializer=init) for _ in range(depth)
    ]
    return keras.Sequential(layers + [keras.layers.Dense(1, activation=output)])


def test_the_pick_is_the_configuration_most_often_within_noise_with_its_figures(measured) -> None:
    advice = advise(mlp(2, "sigmoid"), task="binary")
    assert (advice.hidden_activation, advice.hidden_initializer, advice.kept) == ("elu", "he_normal", False)
    evidence = advice.evidence
    assert (evidence.tasks, evidence.rates["elu + he_normal"], evidence.rates["relu + glorot_uniform"]) == (
        50,
        1.0,
        0.8,
    )
    reason = advice.reasons["hidden_activation"]
    assert "elu + he_normal is within noise of the best on 100% of 50 similar tasks" in reason
    assert "Keras' defaults 80%" in advice.reasons["hidden_activation"]
    assert "yours (sigmoid + glorot_uniform)" not in advice.reasons["hidden_activation"]  # not measured
    assert advice.to_dict()["evidence"]["rates"]["elu + he_normal"] == 1.0
    # The deep cell has its own answer: tanh is tied with selu on every task, so the closer
    # mean decides between equals; both do better than Keras' defaults.
    deep = advise(mlp(12, "sigmoid"), task="binary")
    assert deep.hidden_activation in ("selu", "tanh") and deep.evidence.cell.depth == "deep"
    # Deeper than anything the atlas measured (12 layers): the rules of thumb answer.
    very_deep = advise(mlp(24, "sigmoid"), task="binary")
    assert very_deep.evidence is None and very_deep.hidden_activation == "selu"


def test_the_users_own_configuration_is_kept_where_the_choice_does_not_matter(measured) -> None:
    # tanh is within noise on 20% of shallow binary tasks: far from elu's 100%.
    assert advise(mlp(2, "tanh"), task="binary").hidden_activation == "elu"
    # selu and tanh are within noise on every deep task: tanh is kept.
    kept = advise(mlp(12, "tanh"), task="binary")
    assert (kept.hidden_activation, kept.hidden_initializer, kept.kept) == ("tanh", "glorot_uniform", True)
    assert "the choice does not matter" in kept.reasons["hidden_activation"]
    # Nor does the rule that tanh saturates deep stacks argue with the measurement.
    assert "saturating-deep" not in {f.code for f in kept.findings}
    assert "saturating-deep" in {f.code for f in advise(mlp(12, "sigmoid"), task="binary").findings}
    # Keras' defaults tie with elu on multi-class tasks: kept, and no rule of thumb argues with
    # them ("he_normal is the textbook match for relu" is not said).
    defaults = advise(mlp(2, output="softmax"), task="multiclass")
    assert (defaults.hidden_activation, defaults.hidden_initializer, defaults.kept) == ("relu", "glorot_uniform", True)
    assert "initializer-mismatch" not in {f.code for f in defaults.findings}
    assert "initializer-mismatch" in {f.code for f in advise(mlp(2), task="binary").findings}


def test_regression_targets_far_from_unit_scale_are_their_own_kind_of_task(measured) -> None:
    model = mlp(2, output="linear")
    far = advise(model, task="regression", y=np.linspace(600, 700, 50))
    near = advise(model, task="regression", y=np.linspace(-1, 1, 50))
    assert (far.hidden_activation, far.evidence.cell.target) == ("relu", "large")
    assert far.hidden_initializer == "he_normal"
    assert (near.hidden_activation, near.evidence.cell.target) == ("tanh", "unit")
    # With the targets seen, the ranking model picks; its estimate is in the reason.
    assert far.evidence.pick == next(iter(far.evidence.estimates)) == "relu + he_normal"
    assert far.evidence.estimates["relu + he_normal"] > far.evidence.estimates["tanh + glorot_uniform"]
    assert "an estimated" in far.reasons["hidden_activation"] and "ranking model" in far.reasons["hidden_activation"]
    # Without targets both kinds answer together, from the cell's rates alone.
    blind = advise(model, task="regression").evidence
    assert (blind.tasks, blind.estimates) == (50, {})


def test_the_ranking_model_reads_the_input_width_only_where_it_is_what_the_network_sees(measured) -> None:
    assert advise(mlp(2), task="binary").evidence.estimates  # 6 numbers per example
    # Token ids the model embeds: their count is not the width of what the dense stack sees.
    tokens = keras.Input((12,), dtype="int32")
    hidden = keras.layers.Dense(16, activation="relu")(keras.layers.Flatten()(keras.layers.Embedding(50, 4)(tokens)))
    embedded = advise(keras.Model(tokens, keras.layers.Dense(1, activation="sigmoid")(hidden)), task="binary")
    assert embedded.evidence is not None and embedded.evidence.estimates == {}


def test_candidates_come_from_the_atlas_with_the_pick_first_and_the_users_own(measured) -> None:
    advice = advise(mlp(2, "sigmoid"), task="binary")
    # Keras' defaults are not repeated: confirm() tests them (and the model's own pair) itself.
    assert advice.candidates == ["elu", "sigmoid"]
    assert advice.evidence.candidates == ("elu + he_normal", "sigmoid + glorot_uniform", "relu + glorot_uniform")
    covered = np.mean(
        [any(r.within(c) for c in advice.evidence.candidates) for r in atlas.tasks_in(advice.evidence.cell, measured)]
    )
    assert covered >= atlas.CANDIDATE_COVERAGE


def test_without_evidence_the_rules_of_thumb_answer(measured) -> None:
    # No recurrent, attention or CNN tasks in this atlas; and a cell with too few tasks.
    lstm = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(8), keras.layers.Dense(1)])
    advice = advise(lstm, task="regression")
    assert advice.evidence is None and advice.hidden_activation == "tanh"
    multiclass = advise(mlp(12, output="softmax"), task="multiclass")
    assert multiclass.evidence.cell.kind is None  # too few deep multi-class tasks: every deep task answers


def test_dead_units_measured_on_the_data_outweigh_a_relu_pick(measured) -> None:
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(16, activation="relu", bias_initializer=keras.initializers.Constant(-50.0)),
            keras.layers.Dense(1, activation="linear"),
        ]
    )
    x = np.random.default_rng(0).normal(size=(64, 6)).astype("float32")
    advice = advise(model, x=x, y=600 + x[:, 0], task="regression")  # the atlas would say relu + he_normal
    assert advice.hidden_activation == "leaky_relu" and "dead ReLU units" in advice.reasons["hidden_activation"]


def test_keras_act_atlas_prints_the_table_for_a_kind_of_task(measured, capsys) -> None:
    from keras_act.advisor.cli import main

    assert main(["atlas", "--task", "binary", "--depth", "3"]) == 0
    out = capsys.readouterr().out
    assert "The activation atlas: 50 tasks (binary classification, plain-dense, shallow" in out
    rows = {
        line.split()[0] + " + " + line.split()[2]: line.split()[3]
        for line in out.splitlines()
        if line.startswith("  ") and "%" in line
    }
    assert rows == {
        "elu + he_normal": "100%",
        "relu + glorot_uniform": "80%",
        "tanh + glorot_uniform": "20%",
        "relu + he_normal": "0%",
        "selu + lecun_normal": "0%",
    }
    assert "Advice for a model with relu + glorot_uniform: elu + he_normal (advised)" in out
    assert "estimated chance" not in out  # without the input's width the cell answers alone
    assert (
        main(
            [
                "atlas",
                "--task",
                "regression",
                "--target-mean",
                "650",
                "--target-std",
                "20",
                "--features",
                "6",
                "--yours",
                "relu + he_normal",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "relu + he_normal (yours: the most likely within noise here; estimated chance: " in out
    estimated = {
        " + ".join(line.split()[:3:2]): float(line.split()[-1].rstrip("%"))
        for line in out.splitlines()
        if line.startswith("  ") and "%" in line
    }
    assert estimated["relu + he_normal"] > 90 > estimated["tanh + glorot_uniform"]
    assert main(["atlas", "--task", "binary", "--depth", "12", "--yours", "tanh + glorot_uniform"]) == 0
    assert "tanh + glorot_uniform (yours: the most often within noise here)" in capsys.readouterr().out
    assert main(["atlas", "--family", "recurrent"]) == 0
    assert "the rules of thumb answer there" in capsys.readouterr().out


def test_keras_act_atlas_markdown_and_cross_validation(measured, capsys) -> None:
    from keras_act.advisor.cli import main

    assert main(["atlas", "--markdown"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "| kind of task | tasks | " + " | ".join(sorted(CONFIGURATIONS)) + " |"
    # Shallow before deep; each cell's pick (for Keras' defaults) in bold.
    assert table[2] == (
        "| binary classification, plain-dense, shallow (< 8 hidden layers) | 50 | **100%** | 80% | 0% | 0% | 20% |"
    )
    assert [line.split(" | ")[0] for line in table[3:]] == [
        "| multi-class classification, plain-dense, shallow (< 8 hidden layers)",
        "| regression with unit-scale targets, plain-dense, shallow (< 8 hidden layers)",
        "| regression with targets far from unit scale, plain-dense, shallow (< 8 hidden layers)",
        "| binary classification, plain-dense, deep (8 to 19 hidden layers)",
    ]
    assert main(["atlas", "--cross-validate"]) == 0
    out = capsys.readouterr().out
    assert "Leave-tasks-out over" in out and "always relu + glorot_uniform" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--depth", "0"], "--depth must be >= 1, received 0."),
        (
            ["--target-mean", "3", "--target-std", "1"],
            "--target-mean describes regression targets; pass --task regression with it.",
        ),
        (["--task", "regression", "--target-std", "1"], "--target-std needs --target-mean too"),
        (
            ["--task", "regression", "--target-mean", "0", "--target-std", "-1"],
            "--target-std must be >= 0, received -1.0.",
        ),
        (["--features", "0"], "--features must be >= 1, received 0."),
        (["--yours", "relu"], "--yours takes 'ACTIVATION + INITIALIZER'"),
    ],
)
def test_keras_act_atlas_bad_usage_is_one_line_and_exit_2(argv, message, capsys) -> None:
    from keras_act.advisor.cli import main

    assert main(["atlas", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"keras-act atlas: {message}")


def test_the_cli_spells_the_families_as_the_advisor_does() -> None:
    from keras_act.advisor import cli, recommend

    assert cli.FAMILIES == recommend.FAMILIES


def test_keras_act_atlas_cross_validation_needs_enough_tasks(monkeypatch, capsys) -> None:
    from keras_act.advisor.cli import main

    monkeypatch.setattr(atlas, "load", lambda path=atlas.ATLAS_FILE: (task("p/a", ("elu + he_normal",)),))
    assert main(["atlas", "--cross-validate"]) == 2
    assert capsys.readouterr().err.strip() == (
        "keras-act atlas: no task can be judged: no kind of task has 15 tasks outside a fold."
    )


def test_a_family_with_too_few_tasks_shows_what_they_measured(monkeypatch, capsys) -> None:
    from keras_act.advisor.cli import main

    few = tuple(
        TaskResult(
            f"UCR/s{i}",
            "binary",
            "recurrent",
            2,
            60,
            24,
            0,
            0,
            {"tanh + glorot_uniform": np.array([0.9]), "relu + he_normal": np.array([0.7])},
        )
        for i in range(3)
    )
    monkeypatch.setattr(atlas, "load", lambda path=atlas.ATLAS_FILE: few)
    assert main(["atlas", "--family", "recurrent", "--task", "binary"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(
        "The activation atlas holds fewer than 15 tasks like this (binary classification, "
        "recurrent): the rules of thumb answer there."
    )
    assert out[1] == "What its 3 recurrent task(s) measured:"
    assert [line.split()[0] + line.split()[3] for line in out[3:]] == ["tanh100%", "relu0%"]
    # The table shows the few tasks too, with no pick in bold.
    assert main(["atlas", "--markdown"]) == 0
    assert capsys.readouterr().out.splitlines()[2] == "| binary classification, recurrent | 3 | 0% | 100% |"
