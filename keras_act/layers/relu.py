"""The `ReLU` layer."""

from __future__ import annotations

from typing import Any

import keras

from keras_act import ops as act_ops
from keras_act.layers._base import ActivationLayer


@keras.saving.register_keras_serializable(package="keras_act")
class ReLU(ActivationLayer):
    """Rectified linear unit ``max(0, x)``, the default hidden activation.

    Examples:
        >>> import numpy as np
        >>> y = ReLU()(np.array([-1.0, 2.0], "float32"))
        >>> keras.ops.convert_to_numpy(y).astype(float).round(6).tolist()
        [0.0, 2.0]
    """

    activation_id = "relu"

    def call(self, inputs: Any) -> Any:
        return act_ops.relu(self._float_input(inputs))
