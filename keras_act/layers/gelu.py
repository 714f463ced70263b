"""The `GELU` layer."""

from __future__ import annotations

from typing import Any

import keras

from keras_act import ops as act_ops
from keras_act._checks import check_bool
from keras_act.layers._base import ActivationLayer


@keras.saving.register_keras_serializable(package="keras_act")
class GELU(ActivationLayer):
    """Gaussian error linear unit ``x * Phi(x)`` (Hendrycks & Gimpel 2016).

    Args:
        approximate: False (default, as `keras.activations.gelu`) for the exact erf form, True
            for the tanh approximation used by BERT and GPT-2. Note that `keras.ops.gelu`
            defaults to the approximation.

    Examples:
        >>> import numpy as np
        >>> keras.ops.convert_to_numpy(GELU()(np.array([-1.0, 1.0], "float32"))).astype(float).round(6).tolist()
        [-0.158655, 0.841345]
    """

    activation_id = "gelu"

    def __init__(self, approximate: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.approximate = check_bool(approximate, "approximate", "GELU")

    def call(self, inputs: Any) -> Any:
        return act_ops.gelu(self._float_input(inputs), approximate=self.approximate)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "approximate": self.approximate}
