"""The `SELU` layer."""

from __future__ import annotations

from typing import Any

import keras

from keras_act import ops as act_ops
from keras_act.layers._base import ActivationLayer


@keras.saving.register_keras_serializable(package="keras_act")
class SELU(ActivationLayer):
    """Scaled ELU with the self-normalizing constants of Klambauer et al. 2017.

    ``scale * x`` for ``x > 0``, else ``scale * alpha * (e^x - 1)``, with ``alpha ~ 1.6733`` and
    ``scale ~ 1.0507``. Pair it with `lecun_normal` initialization and standardized inputs.
    Computed with `expm1`, so ``SELU()(-1e-8)`` is ``-1.7581e-08``, where
    `keras.activations.selu` on TensorFlow returns 0.

    Examples:
        >>> import numpy as np
        >>> keras.ops.convert_to_numpy(SELU()(np.array([-1.0, 2.0], "float32"))).astype(float).round(6).tolist()
        [-1.111331, 2.101402]
    """

    activation_id = "selu"

    def call(self, inputs: Any) -> Any:
        return act_ops.selu(self._float_input(inputs))
