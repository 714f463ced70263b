"""confirm(): a keras-tuner search over the advisor's candidates on real data; ranking and plot.

Run:  python examples/04_confirm.py     (KERAS_ACT_EXAMPLES_QUICK=1 for the smallest settings)

Resume: run it again. The search lives in ./confirm_search; with overwrite=False (the default)
the finished trials are read back and only the missing ones train.

Distributed (keras-tuner's chief/worker mode; the same script on every process):
    export KERASTUNER_ORACLE_IP=127.0.0.1 KERASTUNER_ORACLE_PORT=8000
    KERASTUNER_TUNER_ID=chief  python examples/04_confirm.py &
    KERASTUNER_TUNER_ID=tuner0 python examples/04_confirm.py &
    KERASTUNER_TUNER_ID=tuner1 python examples/04_confirm.py
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from keras_act import datasets  # noqa: E402
from keras_act.advisor import advise, confirm  # noqa: E402

QUICK = bool(os.environ.get("KERAS_ACT_EXAMPLES_QUICK"))

split = datasets.load("breast_cancer")
model = keras.Sequential(
    [
        keras.Input((30,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile("adam", "binary_crossentropy")

advice = advise(model, y=split.y_train)
result = confirm(
    model,
    split.x_train,
    split.y_train,
    advice=advice,  # prints a progress bar, then the ranking
    executions_per_trial=2 if QUICK else None,
    epochs=2 if QUICK else 10,
    directory="confirm_search",
    project_name="breast_cancer",
)
print("wrote", result.plot("confirm.png"))
