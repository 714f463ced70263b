"""The `Mish` layer."""

from __future__ import annotations

from typing import Any

import keras

from keras_act import ops as act_ops
from keras_act.layers._base import ActivationLayer


@keras.saving.register_keras_serializable(package="keras_act")
class Mish(ActivationLayer):
    """Mish ``x * tanh(softplus(x))`` (Misra 2019).

    Examples:
        >>> import numpy as np
        >>> y = Mish()(np.array([-1.0, 2.0], "float32"))
        >>> keras.ops.convert_to_numpy(y).astype(float).round(6).tolist()
        [-0.303401, 1.943959]
    """

    activation_id = "mish"

    def call(self, inputs: Any) -> Any:
        return act_ops.mish(self._float_input(inputs))
