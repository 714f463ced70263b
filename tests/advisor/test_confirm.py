"""confirm(): a real keras-tuner search over the advice's candidates; resume; distributed; bad input."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import pytest

pytest.importorskip("sklearn")
from keras_act.advisor import advise, confirm  # noqa: E402
from tests.advisor import confirm_worker  # noqa: E402
from tests.advisor.search_setup import CANDIDATES, data, model  # noqa: E402

# confirm()'s mechanics, on the advice the rules of thumb give.
pytestmark = pytest.mark.usefixtures("rules_of_thumb")

HERE = Path(__file__).parent
QUICK = {"executions_per_trial": 2, "epochs": 3, "verbose": 0}


def configurations(result) -> set[tuple[str, str]]:
    return {(row.candidate, row.initializer) for row in result.ranking}


def test_tensorboard_is_importable_for_keras_tuner() -> None:
    # keras-tuner's run_trial imports the hparams plugin on TensorFlow; without it every trial fails.
    import tensorboard.plugins.hparams.api  # noqa: F401


@pytest.mark.slow
def test_grid_ranks_every_candidate_with_the_advised_and_current_rows(tmp_path) -> None:
    x, y = data()
    net = model()
    before = [np.array(w) for w in net.weights]
    result = confirm(net, x, y, candidates=["relu", "tanh"], directory=tmp_path, **QUICK)
    advice = advise(net, y=y)
    assert configurations(result) == {
        ("relu", "he_normal"),
        ("tanh", "glorot_uniform"),
        (advice.hidden_activation, advice.hidden_initializer),
        ("sigmoid", "glorot_uniform"),
    }
    assert [row.rank for row in result.ranking] == [1, 2, 3]  # relu + he_normal is also the advice
    means = [row.mean for row in result.ranking]
    assert means == sorted(means) and result.objective == "val_loss" and not result.higher_is_better
    for row in result.ranking:
        assert len(row.scores) == 2 and all(math.isfinite(s) for s in row.scores)
        assert math.isfinite(row.std) and 0 <= row.accuracy <= 1
        assert row.mean == pytest.approx(np.mean(row.scores))
    assert result.baseline.candidate == "sigmoid" and result.advised.advised
    assert result.best is result.ranking[0] and result.tested
    assert "Confirmed" in str(result) or "Not confirmed" in str(result)
    assert json.loads(json.dumps(result.to_dict()))["objective"] == "val_loss"
    for old, new in zip(before, net.weights):
        np.testing.assert_array_equal(old, np.array(new))


@pytest.mark.slow
def test_the_same_search_gives_the_same_numbers(tmp_path) -> None:
    x, y = data()
    runs = [confirm(model(), x, y, candidates=["relu"], directory=tmp_path, overwrite=True, **QUICK) for _ in range(2)]
    assert [r.scores for r in runs[0].ranking] == [r.scores for r in runs[1].ranking]


@pytest.mark.slow
@pytest.mark.parametrize("tuner", ["grid", "random", "bayesian", "hyperband"])
def test_a_killed_search_resumes_and_runs_only_the_missing_trials(tmp_path, tuner) -> None:
    result_file = tmp_path / "result.json"
    process = subprocess.Popen(
        [sys.executable, str(HERE / "confirm_worker.py"), str(tmp_path), tuner, str(result_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    project = tmp_path / "confirm"
    deadline = time.time() + 240

    def completed() -> int:
        return sum(_status(p) == "COMPLETED" for p in project.glob("trial_*/trial.json"))

    while completed() < 2 and process.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = completed()
    assert 2 <= done_before < 6 and not result_file.exists(), "the search must be killed mid-way"
    result = confirm_worker.search(str(tmp_path), tuner)  # the killed search, finished
    total = len(CANDIDATES) + 1  # + the model's own sigmoid/glorot_uniform
    assert len(result.ranking) == total
    trials = [json.loads(p.read_text()) for p in project.glob("trial_*/trial.json")]
    assert result.trials_run == len(trials) - done_before  # nothing finished was trained again


def _status(trial_file: Path) -> str | None:
    """A trial file's status; None while the search is still writing it."""
    try:
        return json.loads(trial_file.read_text()).get("status")
    except json.JSONDecodeError:
        return None


def _oracle(directory: Path, tuner: str):
    import keras_tuner as kt

    from keras_act.advisor.oracles import ORACLES

    oracle = ORACLES[tuner](kt.Objective("val_loss", "min"), RACE_CONFIGURATIONS, 0)
    oracle._set_project_dir(str(directory), "race")
    oracle.hyperparameters.Choice("configuration", RACE_CONFIGURATIONS)
    return oracle


RACE_CONFIGURATIONS = ["relu + he_normal", "tanh + glorot_uniform", "elu + he_normal"]


@pytest.mark.parametrize("tuner", ["grid", "random", "bayesian", "hyperband"])
def test_a_kill_between_keras_tuner_s_two_saves_loses_and_repeats_nothing(tmp_path, tuner) -> None:
    # keras-tuner writes a trial's file, then the oracle's state: a kill in between must neither
    # retrain the finished trial (still "ongoing" in the state) nor lose the started one.
    oracle = _oracle(tmp_path, tuner)
    first = oracle.create_trial("tuner0")
    oracle.update_trial(first.trial_id, {"val_loss": 0.5})
    first.status = "COMPLETED"
    oracle.end_trial(first)
    state_after_end = (tmp_path / "race" / "oracle.json").read_text()
    assert first.trial_id in json.loads(state_after_end)["ongoing_trials"].values()  # keras-tuner's window
    resumed = _oracle(tmp_path, tuner)
    resumed.reload()
    assert resumed._retry_queue == []
    started = oracle.create_trial("tuner0")
    (tmp_path / "race" / "oracle.json").write_text(state_after_end)  # killed before the state was saved
    resumed = _oracle(tmp_path, tuner)
    resumed.reload()
    assert resumed._retry_queue == [started.trial_id]
    assert resumed.create_trial("tuner0").trial_id == started.trial_id


@pytest.mark.parametrize("tuner", ["random", "bayesian"])
def test_every_configuration_runs_when_keras_tuner_s_sampler_gives_up(tmp_path, tuner) -> None:
    oracle = _oracle(tmp_path, tuner)
    oracle._max_collisions = 0  # keras-tuner's random sampler then stops the search at its first repeat
    ran = []
    for _ in RACE_CONFIGURATIONS:
        trial = oracle.create_trial("tuner0")
        assert trial.status == "RUNNING", f"stopped after {ran}"
        ran.append(trial.hyperparameters.values["configuration"])
        oracle.update_trial(trial.trial_id, {"val_loss": 0.5})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    assert sorted(ran) == sorted(RACE_CONFIGURATIONS)
    assert oracle.create_trial("tuner0").status == "STOPPED"


@pytest.mark.slow
def test_chief_and_two_workers_on_loopback(tmp_path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    base = {**os.environ, "KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": port}
    processes = {}
    for tuner_id in ("chief", "tuner0", "tuner1"):
        env = {**base, "KERASTUNER_TUNER_ID": tuner_id}
        processes[tuner_id] = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "confirm_worker.py"),
                str(tmp_path / "search"),
                "grid",
                str(tmp_path / f"{tuner_id}.json"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if tuner_id == "chief":
            time.sleep(3)  # let the chief's oracle server start
    try:
        for tuner_id, process in processes.items():
            _, err = process.communicate(timeout=400)
            assert process.returncode == 0, f"{tuner_id} failed:\n{err.decode()[-3000:]}"
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
    chief = json.loads((tmp_path / "chief.json").read_text())
    assert len(chief["ranking"]) == len(CANDIDATES) + 1
    workers = [json.loads((tmp_path / f"tuner{i}.json").read_text()) for i in (0, 1)]
    assert all(worker["trials_run"] >= 1 for worker in workers)
    assert sum(worker["trials_run"] for worker in workers) == len(CANDIDATES) + 1


def test_bad_inputs_raise_clear_errors(tmp_path) -> None:
    x, y = data()
    net = model()
    with pytest.raises(ValueError, match="one row per row"):
        confirm(net, x, y[:-1], **QUICK)
    with pytest.raises(ValueError, match="binary task needs labels in"):
        confirm(net, x, y * 3, **QUICK)
    with pytest.raises(ValueError, match="too few"):
        confirm(net, x[:3], y[:3], validation_split=0.2, **QUICK)
    with pytest.raises(ValueError, match="`tuner` must be one of grid, random, bayesian, hyperband"):
        confirm(net, x, y, tuner="annealing", **QUICK)
    with pytest.raises(ValueError, match="unknown candidate"):
        confirm(net, x, y, candidates=["relu", "rectifier"], **QUICK)
    with pytest.raises(TypeError, match="keras.Model"):
        confirm("model.keras", x, y, **QUICK)


def test_a_directory_with_another_search_is_refused_and_kept(tmp_path) -> None:
    project = tmp_path / "confirm"
    project.mkdir()
    (project / "keras_act_confirm.json").write_text(json.dumps({"configurations": ["gelu + he_normal"]}))
    (project / "trial_0").mkdir()
    x, y = data()
    with pytest.raises(ValueError, match="different search"):
        confirm(model(), x, y, directory=tmp_path, **QUICK)
    assert (project / "trial_0").exists()
    (tmp_path / "other" / "confirm").mkdir(parents=True)
    with pytest.raises(ValueError, match="something other than"):
        confirm(model(), x, y, directory=tmp_path / "other", **QUICK)


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.distribute is TensorFlow's")
def test_a_mirrored_strategy_trains_each_trial_on_two_devices(tmp_path) -> None:
    import tensorflow as tf

    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    # No collective ops: their instance keys are process-global, and a second strategy's collectives
    # (tests/layers/test_distribute.py) would collide with this one's.
    strategy = tf.distribute.MirroredStrategy(devices, cross_device_ops=tf.distribute.ReductionToOneDevice())
    x, y = data()
    result = confirm(
        model(),
        x,
        y,
        candidates=["relu"],
        executions_per_trial=2,
        epochs=2,
        verbose=0,
        directory=tmp_path,
        distribution_strategy=strategy,
    )  # 2 fused executions
    assert strategy.num_replicas_in_sync == 2
    assert all(math.isfinite(row.mean) and row.executions == 2 for row in result.ranking)


def test_without_a_directory_the_temporary_search_is_removed(tmp_path, monkeypatch) -> None:
    made = []

    def mkdtemp(*args, **kwargs):
        made.append(Path(real_mkdtemp(*args, dir=tmp_path, **{k: v for k, v in kwargs.items() if k != "dir"})))
        return str(made[-1])

    real_mkdtemp = tempfile.mkdtemp
    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    x, y = data()
    result = confirm(model(), x, y, candidates=["relu"], executions_per_trial=2, epochs=1, verbose=0)
    assert result.directory is None and len(result.ranking) == 2
    assert [p.name[:18] for p in made] == ["keras_act_confirm_"] and not made[0].exists()


def test_verbose_0_prints_nothing_and_1_a_progress_bar_and_the_table_once(tmp_path, capsys) -> None:
    x, y = data()
    quiet = confirm(
        model(), x, y, candidates=["relu"], executions_per_trial=2, epochs=1, verbose=0, directory=tmp_path / "quiet"
    )
    assert capsys.readouterr().out == ""
    shown = confirm(
        model(), x, y, candidates=["relu"], executions_per_trial=2, epochs=1, verbose=1, directory=tmp_path / "shown"
    )
    out = capsys.readouterr().out
    assert "execution" in out.split("confirm(): ")[0]  # Keras' progress bar, before the table
    assert out.count(str(shown)) == 1 and "Trial" not in out  # keras-tuner's own output is verbose=2's
    assert [r.scores for r in quiet.ranking] == [r.scores for r in shown.ranking]
    confirm(
        model(), x, y, candidates=["relu"], executions_per_trial=2, epochs=1, verbose=1, directory=tmp_path / "shown"
    )  # resumed: says so, without keras-tuner's "Reloading Tuner"
    out = capsys.readouterr().out
    assert "resuming the search" in out and "Reloading" not in out


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's XLA start-up logging")
def test_xla_s_start_up_lines_come_before_the_progress_bar(tmp_path) -> None:
    code = (
        "import keras_act\n"
        "from keras_act.advisor import confirm\n"
        "from keras_act.advisor.search import SearchProgress\n"
        "from tests.advisor.search_setup import data, model\n"
        "SearchProgress.TICK_SECONDS = 0.05  # the bar is drawn from the start\n"
        "x, y = data()\n"
        "confirm(model(), x, y, candidates=['prelu'], executions_per_trial=2, epochs=1, verbose=1)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).parents[2],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    out = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout)  # the bar's colours
    bar = re.search(r"\d/4 ", out).start()  # 2 rows (prelu, the model's own) x 2 executions
    # The bar is first drawn after the last of TensorFlow's own log lines.
    assert re.findall(r"[IWE]0000 [^\n]*", out[bar:]) == []


def test_default_executions_are_the_fused_ten(tmp_path) -> None:
    x, y = data()
    result = confirm(model(), x, y, candidates=["relu"], epochs=1, verbose=0, directory=tmp_path)
    assert {row.executions for row in result.ranking} == {10}
    one_by_one = confirm(
        model(), x, y, candidates=["relu"], epochs=1, verbose=0, directory=tmp_path / "seq", fuse_executions=False
    )
    assert {row.executions for row in one_by_one.ranking} == {3}


def test_verbose_2_reports_how_each_row_was_trained_and_a_resumed_search_keeps_the_record(tmp_path, capsys) -> None:
    x, y = data()
    search = {"candidates": ["relu"], "executions_per_trial": 2, "epochs": 1, "directory": tmp_path}
    result = confirm(model(), x, y, verbose=2, fuse_executions=False, **search)
    assert result.training_report() in capsys.readouterr().out
    on_request = "one by one on request (fuse_executions=False)"
    recorded = {"path": "one by one", "executions": 2, "refused": {"vectorized": on_request, "fused": on_request}}
    assert [row["trained"] for row in result.to_dict()["ranking"]] == [[recorded]] * len(result.ranking)
    assert f"2 one by one (vectorized refused: {on_request}; fused refused: {on_request})" in result.training_report()
    resumed = confirm(model(), x, y, verbose=0, **search)  # every trial resumed from its files
    assert resumed.trials_run == 0
    assert [row.trained for row in resumed.ranking] == [row.trained for row in result.ranking]


@pytest.mark.parametrize("tuner", ["grid", "hyperband"])
def test_a_kill_while_keras_tuner_writes_a_file_leaves_the_old_file_whole(tmp_path, tuner, monkeypatch) -> None:
    oracle = _oracle(tmp_path, tuner)
    trial = oracle.create_trial("tuner0")
    oracle.save()
    saved = {p: p.read_text() for p in (tmp_path / "race").rglob("*.json")}
    assert any(p.name == "trial.json" for p in saved) and any(p.name == "oracle.json" for p in saved)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies half-way through writing

    monkeypatch.setattr(json, "dump", lambda state, handle: (handle.write('{"trial_id": '), killed()))
    with pytest.raises(KeyboardInterrupt):
        oracle.update_trial(trial.trial_id, {"val_loss": 0.5})
        oracle._save_trial(trial)
    with pytest.raises(KeyboardInterrupt):
        oracle.save()
    monkeypatch.undo()
    assert {p: p.read_text() for p in (tmp_path / "race").rglob("*.json")} == saved  # no truncated file
    _oracle(tmp_path, tuner).reload()  # and the search still resumes
