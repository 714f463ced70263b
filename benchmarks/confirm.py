"""confirm() versus its one-by-one path and a plain keras-tuner GridSearch, side by side, on real data.

For each of scikit-learn's breast-cancer, digits and wine datasets (standardized), the user's
model is Keras' out-of-the-box MLP (2 x 32 ReLU, glorot_uniform). Three searches over the same
configurations, executions and epochs, in one run:

- **confirm()**: its defaults (10 seeded executions per configuration, trained together:
  vectorized on TensorFlow, one fused model elsewhere; at most 20 epochs,
  early stopping on val_loss);
- **one by one**: `confirm(..., fuse_executions=False)`, the same executions trained one `fit()`
  at a time (the path before fusing);
- **GridSearch**: `keras_tuner.GridSearch` with `executions_per_trial` = the same executions, the
  full epochs, no early stopping, ranked by keras-tuner's best val_loss.

The grid validates every execution on confirm()'s first execution's split (its own keras-tuner
executions share one validation set). The table: seconds of each, the speed-ups, both winners,
whether the grid's winner is confirm()'s winner or within its noise (2 pooled standard errors),
and the verdict of each confirm() path (their shuffles differ, so their scores do).

Run:  python benchmarks/confirm.py                       (about 15 minutes on 2 CPU cores)
      python benchmarks/confirm.py --datasets wine --epochs 5 --executions 2
      KERAS_BACKEND=jax python benchmarks/confirm.py    (needs `pip install jax`)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402

from keras_act import datasets  # noqa: E402
from keras_act.advisor import advise, apply, confirm  # noqa: E402
from keras_act.advisor.confirm import FUSED_EXECUTIONS  # noqa: E402
from keras_act.advisor.row_training import execution_data  # noqa: E402
from keras_act.advisor.verdict import NOISE_STANDARD_ERRORS, configuration_key  # noqa: E402


def user_model(n_features: int, n_classes: int) -> keras.Model:
    """Keras' out-of-the-box MLP: two Dense(32, relu) layers with glorot_uniform."""
    output = (
        keras.layers.Dense(1, activation="sigmoid")
        if n_classes == 2
        else keras.layers.Dense(n_classes, activation="softmax")
    )
    model = keras.Sequential(
        [
            keras.Input((n_features,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(32, activation="relu"),
            output,
        ]
    )
    model.compile("adam", "binary_crossentropy" if n_classes == 2 else "sparse_categorical_crossentropy")
    return model


def plain_grid(model, advice, pairs, x, y, x_val, y_val, epochs, executions, seed) -> str:
    """keras-tuner's GridSearch over the same (activation, initializer) pairs; its winner."""
    names = [configuration_key(a, i) for a, i in pairs]

    def build(hp: kt.HyperParameters) -> keras.Model:
        activation, initializer = hp.Choice("configuration", names).split(" + ")
        return apply(
            model, dataclasses.replace(advice, hidden_activation=activation, hidden_initializer=initializer)
        )  # compiled as the model

    keras.utils.set_random_seed(seed)
    with tempfile.TemporaryDirectory(prefix="grid_") as directory:
        tuner = kt.GridSearch(
            build,
            objective="val_loss",
            executions_per_trial=executions,
            seed=seed,
            directory=directory,
            project_name="grid",
        )
        tuner.search(x, y, validation_data=(x_val, y_val), epochs=epochs, batch_size=32, verbose=0)
        return tuner.oracle.get_best_trials(1)[0].hyperparameters.values["configuration"]


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["breast_cancer", "digits", "wine"])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--executions", type=int, default=FUSED_EXECUTIONS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--candidates",
        nargs="+",
        default=None,
        help="the hidden activations searched (default: the advice's candidates)",
    )
    args = parser.parse_args(argv)
    lines = []
    for name in args.datasets:
        split = datasets.load(name, args.seed)
        model = user_model(split.x_train.shape[1], len(np.unique(split.y_train)))
        advice = advise(model, y=split.y_train)
        common = dict(
            advice=advice,
            candidates=args.candidates,
            epochs=args.epochs,
            executions_per_trial=args.executions,
            seed=args.seed,
            verbose=0,
        )
        result, together_s = timed(confirm, model, split.x_train, split.y_train, **common)
        sequential, sequential_s = timed(confirm, model, split.x_train, split.y_train, fuse_executions=False, **common)
        pairs = [(r.candidate, r.initializer) for r in result.ranking]
        held_out = execution_data([split.x_train], split.y_train, None, 0.2, args.seed)  # confirm()'s first split
        x, y = split.x_train[held_out.train_rows], split.y_train[held_out.train_rows]
        x_val, y_val = held_out.x_val[0], held_out.y_val
        grid_winner, grid_s = timed(
            plain_grid, model, advice, pairs, x, y, x_val, y_val, args.epochs, args.executions, args.seed
        )
        best = result.best
        grid_row = next(r for r in result.ranking if configuration_key(r.candidate, r.initializer) == grid_winner)
        limit = NOISE_STANDARD_ERRORS * float(np.hypot(grid_row.standard_error, best.standard_error))
        agreement = (
            "same" if grid_row is best else "within noise" if abs(grid_row.mean - best.mean) <= limit else "differs"
        )
        lines.append(
            f"| {name} | {together_s:.0f} | {sequential_s:.0f} | {grid_s:.0f} | {sequential_s / together_s:.1f} | "
            f"{grid_s / together_s:.1f} | {best.candidate} + {best.initializer} | {grid_winner} | {agreement} | "
            f"{'yes' if result.confirmed else 'no'} / {'yes' if sequential.confirmed else 'no'} |"
        )
        print(lines[-1], flush=True)
    print(
        f"\n{keras.backend.backend()} backend; {args.executions} executions, at most {args.epochs} epochs; "
        "seconds on this machine:\n"
    )
    print(
        "| dataset | confirm() s | one by one s | GridSearch s | one by one / confirm | grid / confirm | "
        "confirm() winner | grid winner | grid winner vs confirm() | confirmed (together / one by one) |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
