"""A flawed model -> the advisor's report -> apply() -> validation score before and after.

Run:  python examples/02_advise.py      (KERAS_ACT_EXAMPLES_QUICK=1 for the smallest settings)
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from keras_act import datasets  # noqa: E402
from keras_act.advisor import advise, apply  # noqa: E402

EPOCHS = 2 if os.environ.get("KERAS_ACT_EXAMPLES_QUICK") else 40

split = datasets.load("breast_cancer")
keras.utils.set_random_seed(0)
# Two real mistakes: a softmax over a single output unit (it always outputs 1.0, a common slip
# when a binary model is written like a multi-class one), and He-scaled weights feeding sigmoid units.
flawed = keras.Sequential(
    [keras.Input((30,))]
    + [keras.layers.Dense(32, activation="sigmoid", kernel_initializer="he_normal") for _ in range(4)]
    + [keras.layers.Dense(1, activation="softmax")]
)
flawed.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy", metrics=["accuracy"])

advice = advise(flawed, x=split.x_train, y=split.y_train)
print(advice)
keras.utils.set_random_seed(0)
fixed = apply(flawed, advice)  # a new model; `flawed` is untouched


def score(model: keras.Model) -> float:
    keras.utils.set_random_seed(0)
    history = model.fit(
        split.x_train,
        split.y_train,
        validation_data=(split.x_val, split.y_val),
        epochs=EPOCHS,
        batch_size=32,
        verbose=0,
    )
    return history.history["val_accuracy"][-1]


print(f"\nbreast cancer, same split, seed and {EPOCHS} epochs:")
print(f"  validation accuracy as written : {score(flawed):.3f}")
print(f"  after apply(model, advice)     : {score(fixed):.3f}")
