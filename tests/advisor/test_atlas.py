"""The activation atlas: its data file, its noise rule, its cells, its pick and candidates, its cross-validation."""

from __future__ import annotations

import csv
import gzip
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from keras_act.advisor import atlas
from keras_act.advisor.atlas import Cell, TaskResult

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import atlas as atlas_script  # noqa: E402  (benchmarks/atlas.py)
import atlas_corpus  # noqa: E402


def result(
    name: str,
    scores: dict[str, list[float]],
    kind: str = "binary",
    depth: int = 2,
    target: tuple[float, float] = (0.0, 0.0),
) -> TaskResult:
    return TaskResult(name, kind, "plain-dense", depth, 500, 8, *target, {c: np.array(s) for c, s in scores.items()})


def test_within_noise_is_the_quality_benchmarks_rule_in_float64() -> None:
    best = [0.80, 0.84, 0.82]
    task = result(
        "t",
        {"elu + he_normal": best, "tanh + glorot_uniform": [0.75, 0.77, 0.76], "relu + he_normal": [0.80, 0.80, 0.80]},
    )
    se = np.std(np.array(best, dtype="float64"), ddof=1) / math.sqrt(3)
    threshold = np.mean(best) - max(2 * se, 0.01)
    assert task.best == "elu + he_normal"
    for configuration, scores in task.scores.items():
        assert task.within(configuration) == (np.mean(scores) >= threshold)
    assert [c for c in task.scores if task.within(c)] == ["elu + he_normal", "relu + he_normal"]
    assert not task.within("gelu + he_normal")  # not trained here: no evidence for it
    # The margin's floor: 0.02 of R^2 for regression.
    regression = result("r", {"a + b": [0.50, 0.50], "c + d": [0.485, 0.485]}, kind="regression")
    assert regression.within("c + d") and not result(
        "r", {"a + b": [0.5, 0.5], "c + d": [0.475, 0.475]}, kind="regression"
    ).within("c + d")


def test_cells_split_by_family_depth_task_and_target_scale() -> None:
    assert Cell.of("plain-dense", 7, "binary") == Cell("plain-dense", "shallow", "binary")
    assert Cell.of("plain-dense", 8, "binary").depth == "deep"
    assert Cell.of("plain-dense", 20, "binary").depth == "very deep"  # deeper than measured
    assert Cell.of("plain-dense", 20, "binary").coarser() is None
    assert Cell.of("plain-dense", 2, "regression", 0.1, 1.0).target == "unit"
    assert Cell.of("plain-dense", 2, "regression", 22.0, 9.0).target == "large"
    assert Cell.of("plain-dense", 2, "regression").target is None  # no targets given
    assert Cell.of("plain-dense", 2, "multilabel").kind is None  # no multi-label tasks in the atlas
    assert Cell.of("plain-cnn", 12, "binary").depth is None
    finest = Cell.of("plain-dense", 2, "regression", 22.0, 9.0)
    assert [str(c) for c in (finest, finest.coarser(), finest.coarser().coarser())] == [
        "regression with targets far from unit scale, plain-dense, shallow (< 8 hidden layers)",
        "regression, plain-dense, shallow (< 8 hidden layers)",
        "any task, plain-dense, shallow (< 8 hidden layers)",
    ]
    assert finest.coarser().coarser().coarser() is None
    assert finest.coarser().holds(finest) and not finest.holds(Cell.of("plain-dense", 2, "regression", 0.0, 1.0))


def test_a_cell_with_too_few_tasks_is_answered_by_a_coarser_one() -> None:
    binary = [result(f"b{i}", {"a + b": [1.0]}) for i in range(atlas.MIN_CELL_TASKS)]
    multiclass = [result(f"m{i}", {"a + b": [1.0]}, kind="multiclass") for i in range(3)]
    cell, members = atlas.answering_cell(Cell.of("plain-dense", 2, "multiclass"), binary + multiclass)
    assert cell == Cell("plain-dense", "shallow") and len(members) == atlas.MIN_CELL_TASKS + 3
    cell, members = atlas.answering_cell(Cell.of("plain-dense", 2, "binary"), binary + multiclass)
    assert cell == Cell("plain-dense", "shallow", "binary") and len(members) == atlas.MIN_CELL_TASKS
    assert atlas.answering_cell(Cell.of("plain-dense", 12, "binary"), binary + multiclass) is None


def test_the_pick_is_the_most_often_within_noise_unless_the_users_own_is_as_good() -> None:
    always = {"elu + he_normal": [0.9], "tanh + glorot_uniform": [0.9], "relu + glorot_uniform": [0.9]}
    tanh_loses = {"elu + he_normal": [0.9], "tanh + glorot_uniform": [0.5], "relu + glorot_uniform": [0.9]}
    tasks = [result(f"t{i}", tanh_loses if i < 10 else always) for i in range(100)]
    rates = atlas.within_rates(tasks)
    assert rates["tanh + glorot_uniform"] == pytest.approx(0.9) and rates["elu + he_normal"] == 1.0
    # 10 points worse: the evidence says change it; 1 point worse (1 task in 100): keep it.
    assert atlas.pick(tasks, own="tanh + glorot_uniform") == ("elu + he_normal", False)
    tasks = [result(f"t{i}", tanh_loses if i < 1 else always) for i in range(100)]
    assert atlas.pick(tasks, own="tanh + glorot_uniform") == ("tanh + glorot_uniform", True)
    # Ties in the share go to the one closer to each task's best on average.
    close = [result("a", {"x + y": [0.90], "z + w": [0.895]})] * 30
    assert atlas.pick(close) == ("x + y", False)


def test_candidates_cover_the_share_asked_for_with_few_configurations() -> None:
    rng = np.random.default_rng(0)
    names = [f"act{i} + init" for i in range(6)]
    tasks = []
    for i in range(200):
        winner = names[min(int(rng.exponential(1.2)), 5)]  # a few configurations win most tasks
        tasks.append(result(f"t{i}", {c: [1.0 if c == winner else 0.5] for c in names}))
    chosen = atlas.candidates_for(tasks, coverage=0.95)
    covered = np.mean([any(t.within(c) for c in chosen) for t in tasks])
    assert covered >= 0.95
    # Greedy and minimal here: one configuration fewer covers less.
    assert np.mean([any(t.within(c) for c in chosen[:-1]) for t in tasks]) < 0.95
    assert atlas.candidates_for(tasks, first=["act5 + init"])[0] == "act5 + init"


def test_leave_tasks_out_scores_each_task_with_advice_built_without_it() -> None:
    # Shallow tasks: elu wins; deep tasks: tanh wins. A pick from the other tasks gets both right,
    # and no fixed configuration does.
    shallow = [
        result(f"pkg{i}/s", {"elu + he_normal": [0.9], "tanh + glorot_uniform": [0.6], "relu + glorot_uniform": [0.7]})
        for i in range(40)
    ]
    deep = [
        result(
            f"pkg{i}/d",
            {"elu + he_normal": [0.6], "tanh + glorot_uniform": [0.9], "relu + glorot_uniform": [0.7]},
            depth=12,
        )
        for i in range(40)
    ]
    cv = atlas.leave_tasks_out(shallow + deep, folds=5)
    assert cv.tasks == 80 and cv.static == cv.cells == cv.covered == 1.0
    assert cv.fixed == {"elu + he_normal": 0.5, "tanh + glorot_uniform": 0.5, "relu + glorot_uniform": 0.0}
    # A task alone in its finest cell is answered by a coarser one (every deep task).
    lone = result("other/lone", {"elu + he_normal": [0.9]}, kind="regression", depth=12, target=(1000.0, 5.0))
    assert atlas.leave_tasks_out(shallow + deep + [lone], folds=5).tasks == 81


def test_the_ranking_model_separates_what_one_cell_holds_together() -> None:
    # Unit-scale regression targets all (one cell): tanh wins where they spread little, relu
    # where they spread more. The cell can pick one for all; the ranking model reads the spread.
    tasks = [
        result(
            f"pkg{i}/r",
            {"tanh + glorot_uniform": [0.9 if std < 6 else 0.5], "relu + glorot_uniform": [0.5 if std < 6 else 0.9]},
            kind="regression",
            target=(0.0, std),
        )
        for i, std in enumerate(np.linspace(1.0, 11.0, 60))
    ]
    assert len({t.cell for t in tasks}) == 1
    cv = atlas.leave_tasks_out(tasks, folds=5)
    assert cv.cells <= 0.55 and cv.static >= 0.9


def test_a_task_profile_gives_the_ranking_model_what_it_knows() -> None:
    profile = atlas.TaskProfile("plain-dense", 12, "regression", 20, -30.0, 4.0)
    inputs = dict(zip(atlas.RANKING_INPUTS, profile.ranking_inputs()))
    assert inputs["log input width"] == pytest.approx(math.log(20))
    assert (inputs["log1p |target mean|"], inputs["log1p target std"]) == (math.log1p(30.0), math.log1p(4.0))
    assert (inputs["deep"], inputs["regression"], inputs["binary"], inputs["family plain-dense"]) == (1, 1, 0, 1)
    # Labels have no mean or spread in the atlas: whatever is passed, classification reads 0.
    binary = atlas.TaskProfile("plain-dense", 2, "binary", 20, 0.4, 0.5).ranking_inputs()
    assert binary[1:3].tolist() == [0.0, 0.0]
    # An unknown input: no estimate, and the cell answers alone.
    for unknown in (
        atlas.TaskProfile("plain-dense", 2, "binary"),
        atlas.TaskProfile("plain-dense", 2, None, 20),
        atlas.TaskProfile("plain-dense", 2, "regression", 20, 3.0),
    ):
        assert unknown.ranking_inputs() is None
        assert atlas.estimate(unknown, atlas.load_ranking()) == {}


def test_leave_tasks_out_never_has_one_sources_tasks_on_both_sides() -> None:
    # Package A's tables all favour tanh, B's elu: judged by the other package alone, every pick misses.
    a = [result(f"A/t{i}", {"elu + he_normal": [0.6], "tanh + glorot_uniform": [0.9]}) for i in range(25)]
    b = [result(f"B/t{i}", {"elu + he_normal": [0.9], "tanh + glorot_uniform": [0.6]}) for i in range(25)]
    cv = atlas.leave_tasks_out(a + b, folds=2)
    assert cv.tasks == 50 and cv.static == 0.0


def test_the_data_file_holds_whole_tasks_and_no_held_out_data_set() -> None:
    with gzip.open(atlas.ATLAS_FILE, "rt", newline="") as file:
        rows = list(csv.DictReader(file))
    assert tuple(rows[0]) == atlas_script.COLUMNS
    groups: dict[tuple[str, str, str], set[tuple[str, str]]] = {}
    for row in rows:
        configuration = f"{row['activation']} + {row['initializer']}"
        groups.setdefault((row["task"], row["family"], row["depth"]), set()).add((configuration, row["seed"]))
    whole = {(c, str(s)) for c in atlas_script.CONFIGURATIONS for s in range(atlas_script.SEEDS)}
    assert groups and all(seen == whole for seen in groups.values())
    tasks = {task for task, _, _ in groups}
    if atlas_corpus.HELD_OUT_FILE.exists():  # the list lives outside the repository, where it is kept
        names = atlas_corpus.held_out_names()
        assert not [t for t in tasks if atlas_corpus.task_held_out(t, names)]
    assert all(len(r.scores) == len(atlas_script.CONFIGURATIONS) for r in atlas.load())


def test_held_out_data_sets_are_recognised_under_any_package(tmp_path) -> None:
    listed = tmp_path / "held-out.txt"
    listed.write_text("# data sets that check the advice\nrdatasets MASS/Cars93\nstatsmodels longley\npackage gen\n")
    names = atlas_corpus.held_out_names(listed)
    assert names == {"cars93", "longley"}
    # Any package, any spelling, supersets and raw versions: a name that starts with a listed one.
    assert all(atlas_corpus.held_out(item, names) for item in ("Cars93", "cars.93", "Cars93_raw", "Longley2"))
    assert not any(atlas_corpus.held_out(item, names) for item in ("Boston", "mtcars93", "gen"))
    with pytest.raises(SystemExit, match="held-out list .* is missing: the corpus is not built without it"):
        atlas_corpus.held_out_names(tmp_path / "missing.txt")


def test_the_data_file_is_written_the_same_from_the_same_results(tmp_path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    copy = tmp_path / "atlas.csv.gz"
    copy.write_bytes(atlas.ATLAS_FILE.read_bytes())
    assert atlas_script.write_data_file(work, copy) > 0
    assert copy.read_bytes() == atlas.ATLAS_FILE.read_bytes()
    # A name on the held-out list takes its tasks (and their twins) out.
    first = atlas.load()[0].task
    assert atlas_script.write_data_file(work, copy, leave_out=frozenset({first.split("/")[1].lower()})) < len(
        atlas_script.read_data_file()
    )
    assert first not in {row["task"].removesuffix(atlas_corpus.TWIN) for row in atlas_script.read_data_file(copy)}


def test_the_documentation_shows_the_atlas_as_the_data_file_holds_it() -> None:
    page = (ROOT / "docs" / "evidence.md").read_text()
    assert atlas.markdown() in page, "docs/evidence.md's atlas table differs: paste `keras-act atlas --markdown`"
    tasks = len({r.task for r in atlas.load()})
    assert f"so far {tasks} of the corpus's" in page, "docs/evidence.md's count of atlas tasks differs from the data's"


@pytest.mark.slow
def test_the_documentation_shows_the_cross_validation_as_it_runs(capsys) -> None:
    from keras_act.advisor.cli import main

    assert main(["atlas", "--cross-validate"]) == 0
    assert capsys.readouterr().out.strip() in (ROOT / "docs" / "evidence.md").read_text(), (
        "docs/evidence.md's leave-tasks-out block differs: paste `keras-act atlas --cross-validate`"
    )
