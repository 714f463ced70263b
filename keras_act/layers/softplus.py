"""The `Softplus` layer."""

from __future__ import annotations

from typing import Any

import keras

from keras_act import ops as act_ops
from keras_act.layers._base import ActivationLayer


@keras.saving.register_keras_serializable(package="keras_act")
class Softplus(ActivationLayer):
    r"""``log(1 + exp(x))``, a smooth ReLU; stable for large \|x\|.

    Examples:
        >>> import numpy as np
        >>> y = Softplus()(np.array([0.0, 2.0], "float32"))
        >>> keras.ops.convert_to_numpy(y).astype(float).round(6).tolist()
        [0.693147, 2.126928]
    """

    activation_id = "softplus"

    def call(self, inputs: Any) -> Any:
        return act_ops.softplus(self._float_input(inputs))
