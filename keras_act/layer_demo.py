"""`keras-act demo`: PReLU and Swish learning their shape on real data, plus the gallery."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

import keras_act
from keras_act import datasets
from keras_act.gallery import plot_gallery

GALLERY_FILE = "keras_act_gallery.png"


def build_model(n_features: int) -> keras.Model:
    """A small Functional binary classifier with a PReLU and a Swish hidden layer.

    Examples:
        >>> build_model(30).count_params()
        817
    """
    inputs = keras.Input((n_features,))
    x = keras.layers.Dense(16, kernel_initializer="he_normal")(inputs)
    x = keras_act.PReLU(name="prelu")(x)
    x = keras.layers.Dense(16, kernel_initializer="he_normal")(x)
    x = keras_act.Swish(name="swish")(x)
    x = keras.layers.Dense(1)(x)
    outputs = keras_act.Sigmoid()(x)
    return keras.Model(inputs, outputs, name="demo")


def _summary(values: Any) -> str:
    values = keras.ops.convert_to_numpy(values)
    return f"mean {values.mean():.4f}  min {values.min():.4f}  max {values.max():.4f}"


def run_demo(epochs: int = 15, output_dir: str | Path = ".", seed: int = 0) -> dict[str, Any]:
    """Train the demo model, print what PReLU and Swish learned, write the gallery PNG.

    Examples:
        >>> result = run_demo(epochs=2, output_dir="/tmp")  # doctest: +SKIP
        >>> sorted(result)  # doctest: +SKIP
        ['alpha', 'beta', 'gallery', 'val_accuracy']
    """
    keras.utils.set_random_seed(seed)
    x_train, x_val, y_train, y_val = datasets.load("breast_cancer", seed)
    model = build_model(x_train.shape[1])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    print(
        f"Breast cancer (scikit-learn): {len(x_train)} train / {len(x_val)} validation rows, "
        f"{x_train.shape[1]} features; {epochs} epochs."
    )
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=32, verbose=2)
    alpha = keras.ops.convert_to_numpy(model.get_layer("prelu").alpha)
    beta = keras.ops.convert_to_numpy(model.get_layer("swish").beta)
    val_accuracy = float(history.history["val_accuracy"][-1])
    print(f"\nValidation accuracy: {val_accuracy:.3f}")
    print(f"PReLU alpha (started at 0.25): {_summary(alpha)}")
    print(f"Swish beta  (started at 1.00): {_summary(beta)}")
    gallery = plot_gallery(path=Path(output_dir) / GALLERY_FILE, derivative=True)
    print(f"Wrote the activation gallery to {gallery}")
    return {"val_accuracy": val_accuracy, "alpha": alpha, "beta": beta, "gallery": gallery}
