"""A deep sigmoid net on real data: diagnostics and their plot; ActivationMonitor during training.

Run:  python examples/03_diagnose.py    (KERAS_ACT_EXAMPLES_QUICK=1 for the smallest settings)
Writes diagnostics.png and monitor.png into the current directory.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from keras_act import datasets  # noqa: E402
from keras_act.advisor import ActivationMonitor, advise  # noqa: E402

EPOCHS = 2 if os.environ.get("KERAS_ACT_EXAMPLES_QUICK") else 15

split = datasets.load("digits", scaling="minmax")
keras.utils.set_random_seed(0)
model = keras.Sequential(
    [keras.Input((64,))]
    + [keras.layers.Dense(32, activation="sigmoid") for _ in range(12)]
    + [keras.layers.Dense(10, activation="softmax")]
)
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

advice = advise(model, x=split.x_train, y=split.y_train)
for row in advice.diagnostics:
    print(f"{row.layer:<10} {row.activation:<8} saturated {row.saturated_fraction:.0%}  grad norm {row.grad_norm:.2e}")
print([f"{f.code} ({f.severity})" for f in advice.findings if f.severity != "info"])
print("wrote", advice.plot("diagnostics.png"))

monitor = ActivationMonitor(split.x_val, y_sample=split.y_val, every=1)
model.fit(split.x_train, split.y_train, epochs=EPOCHS, batch_size=32, verbose=0, callbacks=[monitor])
first, last = monitor.history[0], monitor.history[-len(advice.diagnostics)]
print(f"first layer's gradient norm: epoch 1 {first['grad_norm']:.2e}, epoch {EPOCHS} {last['grad_norm']:.2e}")
print("wrote", monitor.plot("monitor.png"))
