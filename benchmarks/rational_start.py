"""Does a Rational activation started from the advice's pick beat the pick itself?

On every task of `benchmarks/advisor_quality.py` (the same data, held-out test splits, user
models and training: early stopping on 20% of the training split, restoring the best weights):
`advise()` names a hidden activation and initializer (the pick); two models come from `apply()`:

- pick: the advice as it is;
- rational: the same, with each hidden activation a `keras_act.Rational(approx=pick)` (its
  coefficients the least-squares fit of the pick, one set per layer, then learned), same initializer.

Each is trained with --seeds seeds (seed i for both: paired), and scored on the test split
(accuracy, R^2 for regression). Verdict on the paired differences (rational - pick): a win or a
loss only beyond noise, |mean| > max(2 x its standard error, 0.01 accuracy / 0.02 R^2), else a tie.

Run:  pip install -e ".[benchmark]" jax; python benchmarks/rational_start.py   (all tasks; see docs/confirm.md)
      python benchmarks/rational_start.py --tasks iris-shallow --seeds 2 --epochs 5   (a quick look)
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from typing import Any

import keras  # noqa: E402  (after advisor_quality set the backend)
import numpy as np  # noqa: E402

# advisor_quality chooses the backend (JAX when installed) before Keras is imported.
from advisor_quality import MIN_MARGIN, TASKS, Task, load_task, run_tasks, test_score, user_model

import keras_act  # noqa: E402
from keras_act.advisor import advise, apply  # noqa: E402


def train_and_score(model: keras.Model, split: Any, regression: bool, epochs: int) -> float:
    stop = keras.callbacks.EarlyStopping(patience=8, restore_best_weights=True)
    model.fit(
        split.x_train, split.y_train, validation_split=0.2, epochs=epochs, batch_size=32, callbacks=[stop], verbose=0
    )
    score = test_score(model, split.x_val, split.y_val, regression)
    return score if math.isfinite(score) else -1.0


def run_task(task: Task, seeds: int, epochs: int, seed: int) -> dict[str, Any]:
    split = load_task(task, seed)
    regression = task.dataset == "diabetes"
    n_outputs = 1 if regression else len(np.unique(split.y_train))
    model = user_model(task, split.x_train.shape[1:], n_outputs, regression)
    advice = advise(model, y=split.y_train)
    pick = advice.hidden_activation
    try:
        keras_act.Rational(pick)
    except ValueError as error:  # a pick a Rational cannot start from
        return {"task": task.name, "pick": pick, "skipped": str(error)}
    rational_advice = dataclasses.replace(advice, hidden_activation="rational")
    scores: dict[str, list[float]] = {"pick": [], "rational": []}
    start = time.perf_counter()
    for i in range(seeds):
        for name in scores:
            keras.utils.set_random_seed(seed + i)
            built = (
                apply(model, advice)
                if name == "pick"
                else apply(model, rational_advice, activation_kwargs={"approx": pick})
            )
            scores[name].append(train_and_score(built, split, regression, epochs))
    difference = np.array(scores["rational"]) - np.array(scores["pick"])
    se = float(np.std(difference, ddof=1) / math.sqrt(seeds)) if seeds > 1 else 0.0
    margin = max(2 * se, MIN_MARGIN["r2" if regression else "accuracy"])
    mean = float(difference.mean())
    verdict = "win" if mean > margin else "loss" if mean < -margin else "tie"
    return {
        "task": task.name,
        "metric": "R2" if regression else "accuracy",
        "pick": f"{pick} + {advice.hidden_initializer}",
        "scores": scores,
        "difference": mean,
        "se": se,
        "verdict": verdict,
        "seconds": time.perf_counter() - start,
    }


def _mean_se(values: list[float]) -> str:
    se = np.std(values, ddof=1) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return f"{np.mean(values):.3f} ± {se:.3f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=[t.name for t in TASKS], choices=[t.name for t in TASKS])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=60, help="most epochs per training (early stopping)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--workers", type=int, default=2, help="tasks run side by side in this many processes (1: in this one)"
    )
    args = parser.parse_args(argv)
    if args.workers < 1 or args.seeds < 1:
        parser.error("--workers and --seeds must be at least 1")
    tasks = [t for t in TASKS if t.name in args.tasks]
    start = time.perf_counter()
    print(
        f"Keras backend: {keras.backend.backend()}; {len(tasks)} tasks, {args.seeds} seeds, {args.workers} worker(s)",
        flush=True,
    )
    rows = run_tasks(run_task, tasks, (args.seeds, args.epochs, args.seed), args.workers)
    print("\n| task | metric | pick | pick (mean ± se) | Rational from the pick | rational - pick (± se) | verdict |")
    print("|---|---|---|---:|---:|---:|---|")
    for row in rows:
        if "skipped" in row:
            print(f"| {row['task']} | | {row['pick']} | | | | skipped: {row['skipped']} |")
            continue
        print(
            f"| {row['task']} | {row['metric']} | {row['pick']} | {_mean_se(row['scores']['pick'])} | "
            f"{_mean_se(row['scores']['rational'])} | {row['difference']:+.3f} ± {row['se']:.3f} | {row['verdict']} |"
        )
    verdicts = [row["verdict"] for row in rows if "verdict" in row]
    print(
        f"\nRational from the pick vs the pick, beyond noise: {verdicts.count('win')} wins, "
        f"{verdicts.count('tie')} ties, {verdicts.count('loss')} losses of {len(verdicts)} tasks"
    )
    print(f"Total time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
