"""The `ELU` layer."""

from __future__ import annotations

from typing import Any

import keras

from keras_act import ops as act_ops
from keras_act._checks import check_number
from keras_act.layers._base import ActivationLayer


@keras.saving.register_keras_serializable(package="keras_act")
class ELU(ActivationLayer):
    """Exponential linear unit (Clevert et al. 2016): ``x`` if ``x > 0`` else ``alpha * (e^x - 1)``.

    Computed with `expm1`, so it keeps full relative precision near zero: ``ELU()(-1e-8)`` is
    ``-1e-8``, where `keras.activations.elu` on TensorFlow returns 0.

    Args:
        alpha: scale of the negative part (its saturation value is ``-alpha``), >= 0.

    Examples:
        >>> import numpy as np
        >>> keras.ops.convert_to_numpy(ELU()(np.array([-1e-8, 2.0], "float32"))).tolist()
        [-9.99999993922529e-09, 2.0]
    """

    activation_id = "elu"

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = check_number(alpha, "alpha", "ELU", non_negative=True)

    def call(self, inputs: Any) -> Any:
        return act_ops.elu(self._float_input(inputs), alpha=self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha}
