"""Smoke runs of the benchmark scripts, at their smallest settings, so they cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


@pytest.mark.slow
def test_advisor_quality_runs_one_task_with_one_seed() -> None:
    pytest.importorskip("sklearn")
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "advisor_quality.py"), "--tasks", "iris-shallow", "--seeds", "1",
         "--epochs", "2", "--confirm-epochs", "1", "--confirm-executions", "1", "--grid", "relu", "tanh"],
        capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    rows = [line for line in completed.stdout.splitlines() if line.startswith("| iris-shallow |")]
    assert len(rows) == 1 and "accuracy" in rows[0]
    assert "advise() + confirm()" in completed.stdout and "/ 1" in completed.stdout


@pytest.mark.slow
def test_confirm_benchmark_runs_its_three_searches_on_one_dataset() -> None:
    pytest.importorskip("sklearn")
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "confirm.py"), "--datasets", "wine", "--epochs", "1", "--executions", "2",
         "--candidates", "relu", "tanh"],
        capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    rows = [line for line in completed.stdout.splitlines() if line.startswith("| wine |")]
    assert len(rows) == 2 and rows[0] == rows[1]  # printed as it goes, then in the table
    assert "GridSearch s" in completed.stdout and rows[0].count("|") == 11


@pytest.mark.slow
def test_confirm_stability_benchmark_runs_one_task_with_both_seeds() -> None:
    pytest.importorskip("sklearn")
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "confirm_stability.py"), "--tasks", "iris", "--epochs", "1",
         "--executions", "2"],
        capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    rows = [line for line in completed.stdout.splitlines() if line.startswith("| iris |")]
    assert len(rows) == 2 and rows[0] == rows[1] and rows[0].count("|") == 10
    assert "flags agree on" in completed.stdout and "of 1 tasks" in completed.stdout


@pytest.mark.slow
def test_rational_start_benchmark_compares_one_task(monkeypatch) -> None:
    # In this process (its own would spend a minute importing JAX and spawning a worker):
    # run_task is the whole comparison; main() only schedules tasks and prints the table.
    pytest.importorskip("sklearn")
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.setenv("KERAS_BACKEND", __import__("keras").backend.backend())
    import rational_start

    task = next(t for t in rational_start.TASKS if t.name == "iris-shallow")
    row = rational_start.run_task(task, seeds=2, epochs=2, seed=0)
    assert row["verdict"] in ("win", "tie", "loss") and row["pick"] == "relu + he_normal"
    assert [len(s) for s in row["scores"].values()] == [2, 2]
    assert row["difference"] == pytest.approx(
        sum(row["scores"]["rational"]) / 2 - sum(row["scores"]["pick"]) / 2)
