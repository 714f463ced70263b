"""PReLU and Swish in a Functional model on real data: learned alpha/beta; save and load.

Run:  python examples/01_layers.py      (KERAS_ACT_EXAMPLES_QUICK=1 for the smallest settings)
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_act  # noqa: E402
from keras_act import datasets  # noqa: E402

EPOCHS = 2 if os.environ.get("KERAS_ACT_EXAMPLES_QUICK") else 30

keras.utils.set_random_seed(0)
split = datasets.load("wine")  # 13 standardized features, 3 classes
inputs = keras.Input((13,))
x = keras.layers.Dense(32, kernel_initializer="he_normal")(inputs)
x = keras_act.PReLU(name="prelu")(x)  # one learned negative slope per unit, starts at 0.25
x = keras.layers.Dense(32, kernel_initializer="he_normal")(x)
x = keras_act.Swish(name="swish")(x)  # x * sigmoid(beta * x), one learned beta per unit
outputs = keras.layers.Dense(3, activation=keras_act.get("softmax"))(x)
model = keras.Model(inputs, outputs)
model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(
    split.x_train, split.y_train, validation_data=(split.x_val, split.y_val), epochs=EPOCHS, batch_size=16, verbose=0
)
print(f"wine, {EPOCHS} epochs: validation accuracy {history.history['val_accuracy'][-1]:.3f}")

alpha = np.asarray(model.get_layer("prelu").alpha)
beta = np.asarray(model.get_layer("swish").beta)
print(f"PReLU alpha: started at 0.25, now {alpha.min():.3f} .. {alpha.max():.3f} (mean {alpha.mean():.3f})")
print(f"Swish beta:  started at 1.00, now {beta.min():.3f} .. {beta.max():.3f} (mean {beta.mean():.3f})")

path = os.path.join(tempfile.mkdtemp(), "wine.keras")
model.save(path)
reloaded = keras.models.load_model(path)  # keras_act layers are registered: no custom_objects needed
same = np.allclose(model.predict(split.x_val, verbose=0), reloaded.predict(split.x_val, verbose=0))
print(f"saved to {path} and loaded back: predictions identical: {same}")
