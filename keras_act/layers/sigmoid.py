"""The `Sigmoid` layer."""

from __future__ import annotations

from typing import Any

import keras

from keras_act import ops as act_ops
from keras_act.layers._base import ActivationLayer


@keras.saving.register_keras_serializable(package="keras_act")
class Sigmoid(ActivationLayer):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, for binary and multi-label outputs.

    The output caches its logits (`_keras_logits`), as `keras.activations.sigmoid` does, so a
    following `binary_crossentropy` takes its numerically stable from-logits path.

    Examples:
        >>> import numpy as np
        >>> y = Sigmoid()(np.array([0.0, 1.0], "float32"))
        >>> keras.ops.convert_to_numpy(y).astype(float).round(6).tolist()
        [0.5, 0.731059]
    """

    activation_id = "sigmoid"

    def call(self, inputs: Any) -> Any:
        return act_ops.sigmoid(self._float_input(inputs))
