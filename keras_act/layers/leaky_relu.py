"""The `LeakyReLU` layer."""

from __future__ import annotations

from typing import Any

import keras

from keras_act import ops as act_ops
from keras_act._checks import check_number
from keras_act.layers._base import ActivationLayer


@keras.saving.register_keras_serializable(package="keras_act")
class LeakyReLU(ActivationLayer):
    """Leaky ReLU: ``x`` for ``x > 0``, else ``alpha * x``.

    Args:
        alpha: slope for negative inputs, >= 0. Defaults to 0.01 as in Maas et al. 2013 and
            PyTorch; note that `keras.layers.LeakyReLU` defaults to 0.3.

    Example:
        >>> import numpy as np
        >>> layer = LeakyReLU(alpha=0.1)
        >>> keras.ops.convert_to_numpy(layer(np.array([-2.0, 3.0], "float32"))).tolist()
        [-0.20000000298023224, 3.0]
        >>> layer.alpha
        0.1
    """

    activation_id = "leaky_relu"

    def __init__(self, alpha: float = 0.01, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = check_number(alpha, "alpha", "LeakyReLU", non_negative=True)

    def call(self, inputs: Any) -> Any:
        return act_ops.leaky_relu(self._float_input(inputs), alpha=self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha}
