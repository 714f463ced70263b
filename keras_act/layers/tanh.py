"""The `Tanh` layer."""

from __future__ import annotations

from typing import Any

import keras

from keras_act import ops as act_ops
from keras_act.layers._base import ActivationLayer


@keras.saving.register_keras_serializable(package="keras_act")
class Tanh(ActivationLayer):
    """Hyperbolic tangent, zero-centred with outputs in (-1, 1).

    Examples:
        >>> import numpy as np
        >>> y = Tanh()(np.array([0.0, 1.0], "float32"))
        >>> keras.ops.convert_to_numpy(y).astype(float).round(6).tolist()
        [0.0, 0.761594]
    """

    activation_id = "tanh"

    def call(self, inputs: Any) -> Any:
        return act_ops.tanh(self._float_input(inputs))
