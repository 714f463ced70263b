"""confirm() with its defaults versus a plain exhaustive keras-tuner GridSearch, on real data.

For each of scikit-learn's breast-cancer, digits and wine datasets (standardized), the user's
model is Keras' out-of-the-box MLP (2 x 32 ReLU, glorot_uniform). `confirm()` runs with its
defaults (3 seeded executions, at most 20 epochs, early stopping on val_loss). The plain search
is `keras_tuner.GridSearch` over the same configurations, 3 executions of the full 20 epochs,
no early stopping, ranked by keras-tuner's best val_loss. Both use the same validation split.
The table: wall time of each, their winners, and whether the grid's winner is confirm()'s
winner or within noise of it by confirm()'s own rule (2 pooled standard errors).

Run:  python benchmarks/confirm.py            (about 10 minutes on 2 CPU cores)
      python benchmarks/confirm.py --datasets wine --epochs 5 --executions 2
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

from advisor import advise, apply, confirm  # noqa: E402
from advisor.confirm import NOISE_STANDARD_ERRORS, _split  # noqa: E402
from keras_act import datasets  # noqa: E402


def user_model(n_features: int, n_classes: int) -> keras.Model:
    """Keras' out-of-the-box MLP: two Dense(32, relu) layers with glorot_uniform."""
    output = keras.layers.Dense(1, activation="sigmoid") if n_classes == 2 else \
        keras.layers.Dense(n_classes, activation="softmax")
    model = keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(32, activation="relu"), output])
    model.compile("adam", "binary_crossentropy" if n_classes == 2 else "sparse_categorical_crossentropy")
    return model


def plain_grid(model, advice, pairs, x, y, x_val, y_val, epochs, executions, seed) -> tuple[str, float]:
    """keras-tuner's GridSearch over the same (activation, initializer) pairs, no early stopping."""
    names = [f"{a} + {i}" for a, i in pairs]

    def build(hp: kt.HyperParameters) -> keras.Model:
        activation, initializer = hp.Choice("configuration", names).split(" + ")
        return apply(model, dataclasses.replace(advice, hidden_activation=activation,
                                                hidden_initializer=initializer))

    keras.utils.set_random_seed(seed)
    with tempfile.TemporaryDirectory(prefix="grid_") as directory:
        tuner = kt.GridSearch(build, objective="val_loss", executions_per_trial=executions, seed=seed,
                              directory=directory, project_name="grid")
        tuner.search(x, y, validation_data=(x_val, y_val), epochs=epochs, batch_size=32, verbose=0)
        best = tuner.oracle.get_best_trials(1)[0]
    return best.hyperparameters.values["configuration"], float(best.score)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["breast_cancer", "digits", "wine"])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--executions", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    lines = []
    for name in args.datasets:
        split = datasets.load(name, args.seed)
        n_classes = len(np.unique(split.y_train))
        model = user_model(split.x_train.shape[1], n_classes)
        advice = advise(model, y=split.y_train)
        start = time.perf_counter()
        result = confirm(model, split.x_train, split.y_train, advice=advice, epochs=args.epochs,
                         executions_per_trial=args.executions, seed=args.seed, verbose=0)
        confirm_s = time.perf_counter() - start
        pairs = [(r.candidate, r.initializer) for r in result.ranking]
        x, y, x_val, y_val = _split(split.x_train, split.y_train, 0.2, args.seed)
        start = time.perf_counter()
        grid_winner, _ = plain_grid(model, advice, pairs, x, y, x_val, y_val, args.epochs, args.executions, args.seed)
        grid_s = time.perf_counter() - start
        best = result.best
        grid_row = next(r for r in result.ranking if f"{r.candidate} + {r.initializer}" == grid_winner)
        gap = abs(grid_row.mean - best.mean)
        limit = NOISE_STANDARD_ERRORS * float(np.hypot(grid_row.standard_error, best.standard_error))
        agreement = "same" if grid_row is best else ("within noise" if gap <= limit else "differs")
        lines.append(f"| {name} | {confirm_s:.0f} | {grid_s:.0f} | {grid_s / confirm_s:.2f} | "
                     f"{best.candidate} + {best.initializer} | {grid_winner} | {agreement} | "
                     f"{'yes' if result.confirmed else 'no'} |")
        print(lines[-1], flush=True)
    print(f"\nconfirm() defaults vs plain GridSearch ({args.executions} executions, {args.epochs} epochs; "
          "time in seconds on this machine):\n")
    print("| dataset | confirm() s | GridSearch s | grid / confirm | confirm() winner | grid winner | "
          "grid winner vs confirm() | advice confirmed |")
    print("|---|---:|---:|---:|---|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
