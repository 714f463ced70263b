"""How long `advise()` and `apply()` take on large models, and the diagnostics on data.

Part 1 builds a plain Dense stack of each depth (and a Functional one with a residual add every
two layers), then times `advise(model)` (median of several runs) and `apply(model, advice)` once.
`advise()` only reads the model, so it should stay well under a second at 500 layers.

Part 2 times the data diagnostics on 2048 samples of a 10-layer, 256-wide MLP against a plain
`model.predict` on the same sample: `advise(model, x=, y=)` (builds the probe model each call)
and one `ActivationMonitor` measurement (the probe cached), each the median of several runs.

Part 3 builds published architectures (`keras.applications`, `weights=None`, their smallest
input) and times `advise(model)` and `apply(model, advice)` against `keras.models.clone_model`
on the same model, the baseline: runs alternate clone/apply/apply/clone (ABBA) and the ratio is
the median of the paired ratios.

Run:  python benchmarks/advisor_speed.py            (about 3 minutes on 2 CPU cores)
      python benchmarks/advisor_speed.py --depths 500 --reps 3 --applications NASNetMobile
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_act.advisor import advise, apply  # noqa: E402
from keras_act.advisor.diagnostics import Diagnoser  # noqa: E402
from keras_act.advisor.task import output_layer, training_loss  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.advisor.zoo import application  # noqa: E402

# The largest `keras.applications` graphs (most layers) and the ones apply() was slowest on.
APPLICATIONS = ["NASNetMobile", "InceptionResNetV2", "ResNet152", "EfficientNetB7", "NASNetLarge"]


def dense_stack(depth: int) -> keras.Model:
    """`depth` hidden Dense(16, relu) layers and a sigmoid output, compiled."""
    layers = [keras.layers.Dense(16, activation="relu") for _ in range(depth)]
    model = keras.Sequential([keras.Input((16,)), *layers, keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    return model


def residual_stack(depth: int) -> keras.Model:
    """`depth` hidden Dense(16, relu) layers with an Add skip connection every two."""
    inputs = keras.Input((16,))
    x = keras.layers.Dense(16, activation="relu")(inputs)
    for _ in range(depth // 2):
        y = keras.layers.Dense(16, activation="relu")(keras.layers.Dense(16, activation="relu")(x))
        x = keras.layers.Add()([x, y])
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    model.compile("adam", "binary_crossentropy")
    return model


def seconds(function, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--depths", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--reps", type=int, default=5, help="advise() runs per model (median)")
    parser.add_argument("--applications", nargs="*", default=APPLICATIONS)
    parser.add_argument("--pairs", type=int, default=2, help="ABBA pairs of apply() and clone_model()")
    args = parser.parse_args()
    print(f"{'model':<22}{'layers':>8}{'advise() s':>13}{'apply() s':>12}")
    for depth in args.depths:
        for label, build in (("Sequential Dense", dense_stack), ("Functional residual", residual_stack)):
            model = build(depth)
            advice = advise(model)
            advise_s = seconds(lambda: advise(model), args.reps)
            apply_s = seconds(lambda: apply(model, advice), 1)
            print(f"{label:<22}{len(model.layers):>8}{advise_s:>13.3f}{apply_s:>12.2f}")
    diagnostics_timing(args.reps)
    applications_timing(args.applications, args.reps, args.pairs)


def applications_timing(names: list[str], reps: int, pairs: int) -> None:
    """advise() and apply() on published architectures, apply() relative to clone_model()."""
    if not names:
        return
    print("\nPublished architectures (weights=None); baseline keras.models.clone_model:")
    print(f"{'model':<20}{'layers':>8}{'advise() s':>12}{'clone s':>10}{'apply() s':>11}{'apply/clone':>13}")
    for name in names:
        model = application(name)
        advice = advise(model)
        advise_s = seconds(lambda: advise(model), reps)
        clone, applied, ratios = [], [], []
        for _ in range(pairs):
            a1 = seconds(lambda: keras.models.clone_model(model), 1)
            b1 = seconds(lambda: apply(model, advice), 1)
            b2 = seconds(lambda: apply(model, advice), 1)
            a2 = seconds(lambda: keras.models.clone_model(model), 1)
            clone += [a1, a2]
            applied += [b1, b2]
            ratios += [b1 / a1, b2 / a2]
        print(
            f"{name:<20}{len(model.layers):>8}{advise_s:>12.3f}{statistics.median(clone):>10.2f}"
            f"{statistics.median(applied):>11.2f}{statistics.median(ratios):>13.2f}",
            flush=True,
        )
        keras.backend.clear_session()


def diagnostics_timing(reps: int, samples: int = 2048, depth: int = 10, width: int = 256) -> None:
    """Diagnostics on `samples` rows of a `depth` x `width` MLP, relative to `model.predict`."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, width)).astype("float32")
    y = rng.integers(0, 10, size=samples)
    hidden = [keras.layers.Dense(width, activation="relu") for _ in range(depth)]
    model = keras.Sequential([keras.Input((width,)), *hidden, keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    diagnoser = Diagnoser(model, training_loss(model, "multiclass", output_layer(model), y))
    timings = {
        "model.predict (reference)": lambda: model.predict(x, batch_size=samples, verbose=0),
        "advise(model, x=, y=)": lambda: advise(model, x=x, y=y),
        "one monitor measurement": lambda: diagnoser.measure(x, y),
    }
    for function in timings.values():
        function()  # warm up: tracing and first-call costs are not what is measured
    results = {name: seconds(function, reps) for name, function in timings.items()}
    reference = results["model.predict (reference)"]
    print(f"\nDiagnostics on {samples} samples of a {depth}-layer, {width}-wide MLP:")
    print(f"{'what':<28}{'seconds':>10}{'x predict':>11}")
    for name, value in results.items():
        print(f"{name:<28}{value:>10.3f}{value / reference:>11.2f}")


if __name__ == "__main__":
    main()
