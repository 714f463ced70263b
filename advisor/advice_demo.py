"""The advisor part of `keras-act demo`: a flawed model, its advice, and the score before and after.

The flaws are ones the evidence says hurt, not Keras' defaults: eight sigmoid hidden layers
(gradients vanish through saturated units; Glorot & Bengio 2010) and a softmax output compiled
with a `from_logits=True` loss (the loss applies a second softmax). Keras' own defaults (a
shallow ReLU net with glorot_uniform) would get no warning.
"""

from __future__ import annotations

from typing import Any

import keras

from keras_act import datasets

from .advise import advise
from .apply import apply
from .confirm import confirm
from .findings import reported_keras_warnings_silenced

FLAWED_DEPTH = 8
FLAWED_WIDTH = 32


def build_flawed_model(n_features: int, n_classes: int) -> keras.Model:
    """A deep sigmoid MLP with a softmax output and a logits loss: two real mistakes.

    Examples:
        >>> model = build_flawed_model(64, 10)
        >>> len(model.layers), model.loss.get_config()["from_logits"]
        (9, True)
    """
    hidden = [keras.layers.Dense(FLAWED_WIDTH, activation="sigmoid") for _ in range(FLAWED_DEPTH)]
    model = keras.Sequential(
        [keras.Input((n_features,)), *hidden, keras.layers.Dense(n_classes, activation="softmax")], name="flawed"
    )
    model.compile(
        keras.optimizers.Adam(0.001), keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    return model


def _fit(model: keras.Model, split: datasets.Split, epochs: int, seed: int, label: str) -> dict[str, float]:
    keras.utils.set_random_seed(seed)
    print(f"Training {label}:")
    # One line, so the demo never sits silent. The epoch's own val_accuracy, said explicitly:
    # older Keras 3 releases average a bar's values over its updates unless told otherwise.
    bar = keras.utils.Progbar(epochs, unit_name="epoch", stateful_metrics=["val_accuracy"])
    shown = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: bar.update(epoch + 1, [("val_accuracy", logs["val_accuracy"])])
    )
    with reported_keras_warnings_silenced():  # the flaw the advisor reported: not printed again
        history = model.fit(
            split.x_train,
            split.y_train,
            validation_data=(split.x_val, split.y_val),
            epochs=epochs,
            batch_size=32,
            verbose=0,
            callbacks=[shown],
        )
    return {
        "val_accuracy": float(history.history["val_accuracy"][-1]),
        "val_loss": float(history.history["val_loss"][-1]),
    }


CONFIRM_EPOCHS = 8


def run_advisor_demo(epochs: int = 20, seed: int = 0, confirm_epochs: int = CONFIRM_EPOCHS) -> dict[str, Any]:
    """Advise a flawed model for scikit-learn's digits, apply the advice, compare validation scores.

    Both models train on the same split, for the same epochs, from the same seed. Then a short
    `confirm()` (keras-tuner grid over the advice's candidates and the model's own sigmoid, its
    default executions of at most `confirm_epochs` epochs, a progress bar while it runs) checks the
    advice on the training split.

    Examples:
        >>> result = run_advisor_demo(epochs=2)  # doctest: +SKIP
        >>> sorted(result)  # doctest: +SKIP
        ['advice', 'after', 'before', 'confirm']
    """
    split = datasets.load("digits", seed, scaling="minmax")
    keras.utils.set_random_seed(seed)
    flawed = build_flawed_model(split.x_train.shape[1], 10)
    with reported_keras_warnings_silenced():
        advice = advise(flawed, x=split.x_train, y=split.y_train)
    print(
        f"\nThe advisor on a flawed model for digits ({FLAWED_DEPTH} sigmoid hidden layers, softmax "
        "output, loss with from_logits=True):\n"
    )
    print(advice)
    keras.utils.set_random_seed(seed)
    fixed = apply(flawed, advice)
    print()
    before = _fit(flawed, split, epochs, seed, "the model as written")
    after = _fit(fixed, split, epochs, seed, "apply(model, advice)")
    print(f"\nSame data, seed and {epochs} epochs:      val accuracy   val loss")
    print(f"  before (as written)                 {before['val_accuracy']:>10.3f} {before['val_loss']:>10.3f}")
    print(f"  after apply(model, advice)          {after['val_accuracy']:>10.3f} {after['val_loss']:>10.3f}")
    print(
        f"\nconfirm(): a keras-tuner grid over the candidates on the training split "
        f"(seeded executions of at most {confirm_epochs} epochs each):\n"
    )
    with reported_keras_warnings_silenced():
        checked = confirm(
            flawed, split.x_train, split.y_train, advice=advice, epochs=confirm_epochs, seed=seed, verbose=1
        )  # the progress bar, then the ranking
    return {"advice": advice, "before": before, "after": after, "confirm": checked}
