"""What a `tf.data.Dataset` costs confirm(): the same rows as arrays and as a dataset, side by side.

The keras.io structured-data shape: scikit-learn's bundled breast cancer set (569 rows, 30
features), an adapted `Normalization` inside the model (2 x 32 ReLU), a binary head. Each
repetition runs confirm() with its defaults (or --epochs / --executions) over NumPy arrays (the
baseline) and over a batched `tf.data.Dataset` of the same rows, in alternating order (ABBA), and
prints the median ratio dataset / arrays of the wall times. A dataset that fits in memory is read
once and then trains as its rows do as arrays, so the ratio should stay near 1 (the target: 1.5).

Run:  python benchmarks/confirm_data.py                      (about 2 minutes on 2 CPU cores)
      python benchmarks/confirm_data.py --reps 1 --epochs 2 --executions 2
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_act.advisor import confirm  # noqa: E402


def _task() -> tuple[np.ndarray, np.ndarray, keras.Model]:
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    x, y = x.astype("float32"), y.astype("float32")
    normalizer = keras.layers.Normalization()
    normalizer.adapt(x)
    inputs = keras.Input((x.shape[1],))
    hidden = keras.layers.Dense(32, activation="relu")(keras.layers.Dense(32, activation="relu")(normalizer(inputs)))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile("adam", "binary_crossentropy")
    return x, y, model


def _timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2, help="ABBA pairs (default 2)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--executions", type=int, default=None, help="default: confirm()'s own")
    args = parser.parse_args(argv)
    import tensorflow as tf

    x, y, model = _task()
    options = {"epochs": args.epochs, "executions_per_trial": args.executions, "verbose": 0}
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(y), seed=0).batch(32)
    runs = {"arrays": lambda: confirm(model, x, y, **options), "dataset": lambda: confirm(model, dataset, **options)}
    times: dict[str, list[float]] = {"arrays": [], "dataset": []}
    for rep in range(args.reps):
        for name in ("arrays", "dataset") if rep % 2 == 0 else ("dataset", "arrays"):
            times[name].append(_timed(runs[name]))
    ratios = [d / a for d, a in zip(times["dataset"], times["arrays"])]
    print("| form | median s |")
    print("|---|---:|")
    for name, values in times.items():
        print(f"| {name} | {np.median(values):.1f} |")
    print(
        f"\nconfirm() over a tf.data.Dataset / over the same rows as arrays: {np.median(ratios):.2f}x "
        f"(median of {len(ratios)}; {keras.backend.backend()}, breast cancer, 569 rows)"
    )


if __name__ == "__main__":
    main()
