"""confirm()'s race against its full search, side by side with one plain training, on the quality tasks.

For each task of benchmarks/advisor_quality.py asked for (the user's model and data as there:
tabular MLPs, small CNNs, residual BatchNormalization nets, sequence models), in one run:

- **one training**: `model.fit` of the user's model with confirm()'s own protocol (20% held out,
  at most 20 epochs, early stopping with patience 5, batch 32), the mean of two seeds;
- **race**: `confirm()` with its defaults (rows train in rounds and stop once the verdict no
  longer depends on them, `advisor.racing`);
- **full**: `confirm(..., race=False)` (every row's executions to the end), the same seeds.

The table: seconds of each, each confirm() in trainings (its seconds / one training's), the
executions each trained, both verdicts (`confirmed`) and whether they agree, and whether the
race's winner is the full search's or within the full search's noise of it (2 pooled standard
errors of the full search's rows).

Run:  python benchmarks/confirm_racing.py                                  (23 minutes on 2 CPU cores)
      python benchmarks/confirm_racing.py --tasks iris-shallow --epochs 5  (a quick look)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from advisor_quality import TASKS, load_task, user_model  # noqa: E402

from keras_act.advisor import advise, confirm  # noqa: E402
from keras_act.advisor.confirm import BATCH_SIZE, EARLY_STOPPING_PATIENCE  # noqa: E402
from keras_act.advisor.verdict import ConfirmResult, configuration_key, within_noise  # noqa: E402

DEFAULT_TASKS = [
    "breast_cancer-shallow",
    "digits-conv-shallow",
    "digits-resnet",
    "italy-conv1d",
    "italy-resconv1d",
    "gunpoint-resconv1d",
]


def one_training_seconds(model: keras.Model, x: np.ndarray, y: np.ndarray, epochs: int, seeds: int = 2) -> float:
    """Seconds of one `fit` of a fresh copy of the user's model with confirm()'s protocol (mean over seeds)."""
    times = []
    for seed in range(seeds):
        keras.utils.set_random_seed(seed)
        copy = keras.models.clone_model(model)
        copy.compile(keras.optimizers.Adam(1e-3), model.loss)
        stop = keras.callbacks.EarlyStopping(patience=EARLY_STOPPING_PATIENCE)
        start = time.perf_counter()
        copy.fit(x, y, validation_split=0.2, epochs=epochs, batch_size=BATCH_SIZE, callbacks=[stop], verbose=0)
        times.append(time.perf_counter() - start)
    return float(np.mean(times))


def executions(result: ConfirmResult) -> int:
    return sum(row.executions for row in result.ranking)


def winner_agrees(race: ConfirmResult, full: ConfirmResult) -> bool:
    """The race's winner is the full search's, or within the full search's noise of it."""
    key = configuration_key(race.best.candidate, race.best.initializer)
    row = next(r for r in full.ranking if configuration_key(r.candidate, r.initializer) == key)
    return within_noise(row, full.best, full.tested)[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=DEFAULT_TASKS, choices=[t.name for t in TASKS])
    parser.add_argument("--epochs", type=int, default=20, help="confirm()'s epochs (its default)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(f"Keras backend: {keras.backend.backend()}", flush=True)
    header = (
        "| task | one training s | race s | full s | race = trainings | full = trainings | executions "
        "(race / full) | rounds, ended by | confirmed (race / full) | verdict agrees | winner agrees |"
    )
    lines, costs, agree, winners = [], [], 0, 0
    for task in [t for t in TASKS if t.name in args.tasks]:
        split = load_task(task, args.seed)
        regression = task.dataset == "diabetes"
        model = user_model(
            task, split.x_train.shape[1:], 1 if regression else len(np.unique(split.y_train)), regression
        )
        advice = advise(model, y=split.y_train)
        training_s = one_training_seconds(model, split.x_train, split.y_train, args.epochs)
        runs = {}
        for name, race in (("race", None), ("full", False)):
            start = time.perf_counter()
            runs[name] = confirm(
                model,
                split.x_train,
                split.y_train,
                advice=advice,
                epochs=args.epochs,
                seed=args.seed,
                verbose=0,
                race=race,
            )
            runs[name + "_s"] = time.perf_counter() - start
        race, full = runs["race"], runs["full"]
        same_verdict = race.confirmed == full.confirmed
        same_winner = winner_agrees(race, full)
        agree += same_verdict
        winners += same_winner
        costs.append(runs["race_s"] / training_s)
        lines.append(
            f"| {task.name} | {training_s:.1f} | {runs['race_s']:.0f} | {runs['full_s']:.0f} | "
            f"{runs['race_s'] / training_s:.1f} | {runs['full_s'] / training_s:.1f} | "
            f"{executions(race)} / {executions(full)} | {race.rounds}, {race.ended_by} | "
            f"{'yes' if race.confirmed else 'no'} / {'yes' if full.confirmed else 'no'} | "
            f"{'yes' if same_verdict else 'NO'} | {'yes' if same_winner else 'NO'} |"
        )
        print(lines[-1], flush=True)
    print(f"\n{header}\n|---|---:|---:|---:|---:|---:|---:|---|---|---|---|")
    print("\n".join(lines))
    print(
        f"\nrace: median {statistics.median(costs):.1f} trainings; verdict agrees on {agree} / {len(lines)} tasks, "
        f"winner on {winners} / {len(lines)}"
    )


if __name__ == "__main__":
    main()
