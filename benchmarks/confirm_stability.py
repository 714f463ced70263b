"""Does confirm()'s verdict hold? The same search with two base seeds, on ten small tabular tasks.

Tasks: scikit-learn's bundled breast cancer, wine, iris, digits and diabetes, and five of its
generated sets (moons, circles, a 20-feature classification, Friedman #1 and a sparse linear
regression), standardized. The user's model is Keras' out-of-the-box MLP (2 x 32 ReLU,
glorot_uniform); depth 2 and depth 6 alternate so that the advice differs between tasks.
`confirm()` runs with its defaults twice, with `seed=0` and `seed=100`. Per task: both verdicts
(`confirmed`), both winners, and whether each run's winner is within noise of the other run's best
(2 pooled standard errors of that run). The last line: on how many tasks the flags agree.

Run:  python benchmarks/confirm_stability.py                    (about 20 minutes on 2 CPU cores)
      python benchmarks/confirm_stability.py --no-race          (the full search: every execution)
      python benchmarks/confirm_stability.py --tasks moons wine --epochs 5 --executions 3
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_act.advisor import advise, confirm  # noqa: E402
from keras_act.advisor.verdict import NOISE_STANDARD_ERRORS, ConfirmResult  # noqa: E402

SEEDS = (0, 100)


def _generated() -> dict[str, Callable[[], tuple[np.ndarray, np.ndarray, bool]]]:
    import sklearn.datasets as sd

    return {
        "breast_cancer": lambda: (*sd.load_breast_cancer(return_X_y=True), True),
        "wine": lambda: (*sd.load_wine(return_X_y=True), True),
        "iris": lambda: (*sd.load_iris(return_X_y=True), True),
        "digits": lambda: (*sd.load_digits(return_X_y=True), True),
        "diabetes": lambda: (*sd.load_diabetes(return_X_y=True), False),
        "moons": lambda: (*sd.make_moons(1000, noise=0.3, random_state=0), True),
        "circles": lambda: (*sd.make_circles(1000, noise=0.1, factor=0.5, random_state=0), True),
        "classification": lambda: (*sd.make_classification(2000, 20, n_informative=8, random_state=0), True),
        "friedman1": lambda: (*sd.make_friedman1(1000, noise=1.0, random_state=0), False),
        "sparse_linear": lambda: (*sd.make_regression(1000, 30, n_informative=5, noise=10.0, random_state=0), False),
    }


def load(name: str) -> tuple[np.ndarray, np.ndarray, bool]:
    x, y, classification = _generated()[name]()
    x = ((x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)).astype("float32")
    y = y.astype("int64") if classification else ((y - y.mean()) / y.std()).astype("float32")
    return x, y, classification


def user_model(features: int, classes: int | None, depth: int) -> keras.Model:
    """Keras' out-of-the-box MLP of `depth` Dense(32, relu) layers, with the usual head and loss."""
    layers = [keras.Input((features,))] + [keras.layers.Dense(32, activation="relu") for _ in range(depth)]
    if classes is None:
        layers.append(keras.layers.Dense(1))
        loss = "mse"
    elif classes == 2:
        layers.append(keras.layers.Dense(1, activation="sigmoid"))
        loss = "binary_crossentropy"
    else:
        layers.append(keras.layers.Dense(classes, activation="softmax"))
        loss = "sparse_categorical_crossentropy"
    model = keras.Sequential(layers)
    model.compile("adam", loss)
    return model


def within(result: ConfirmResult, candidate: str, initializer: str) -> bool:
    """Whether that configuration is the run's best or within its noise."""
    row = next(r for r in result.ranking if (r.candidate, r.initializer) == (candidate, initializer))
    limit = NOISE_STANDARD_ERRORS * float(np.hypot(row.standard_error, result.best.standard_error))
    return row is result.best or abs(row.mean - result.best.mean) <= limit


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=list(_generated()))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--executions", type=int, default=None, help="default: confirm()'s own")
    parser.add_argument(
        "--race",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="--no-race: the full search (race=False); default: confirm()'s own (racing)",
    )
    args = parser.parse_args(argv)
    lines, agreed = [], 0
    start = time.perf_counter()
    for index, name in enumerate(args.tasks):
        x, y, classification = load(name)
        classes = len(np.unique(y)) if classification else None
        model = user_model(x.shape[1], classes, depth=2 if index % 2 == 0 else 6)
        advice = advise(model, y=y)
        runs = [
            confirm(
                model,
                x,
                y,
                advice=advice,
                epochs=args.epochs,
                executions_per_trial=args.executions,
                seed=seed,
                verbose=0,
                race=args.race,
            )
            for seed in SEEDS
        ]
        same = runs[0].confirmed == runs[1].confirmed
        agreed += same
        cross = [within(other, run.best.candidate, run.best.initializer) for run, other in zip(runs, runs[::-1])]
        lines.append(
            f"| {name} | {len(model.layers) - 1} | {advice.hidden_activation} | "
            + " | ".join(f"{'yes' if r.confirmed else 'no'}" for r in runs)
            + f" | {'yes' if same else 'NO'} | "
            + " | ".join(f"{r.best.candidate} + {r.best.initializer}" for r in runs)
            + f" | {'yes' if all(cross) else 'no'} |"
        )
        print(lines[-1], flush=True)
    executions = max(row.executions for row in runs[0].ranking)
    racing = "" if args.race is False else "racing, up to "
    print(
        f"\n{keras.backend.backend()} backend; {racing}{executions} executions, at most {args.epochs} epochs; "
        f"{time.perf_counter() - start:.0f} s in all:\n"
    )
    print(
        f"| task | hidden layers | advice | confirmed (seed {SEEDS[0]}) | confirmed (seed {SEEDS[1]}) | "
        f"flags agree | winner (seed {SEEDS[0]}) | winner (seed {SEEDS[1]}) | each winner within noise of the "
        "other's best |"
    )
    print("|---|---:|---|---|---|---|---|---|---|")
    print("\n".join(lines))
    print(f"\nflags agree on {agreed} of {len(args.tasks)} tasks")


if __name__ == "__main__":
    main()
