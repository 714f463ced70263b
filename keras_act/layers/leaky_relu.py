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
        negative_slope: the same slope under Keras 3's name (`keras.layers.LeakyReLU`); pass
            one of the two (or both, equal).

    Examples:
        >>> import numpy as np
        >>> layer = LeakyReLU(alpha=0.1)
        >>> keras.ops.convert_to_numpy(layer(np.array([-2.0, 3.0], "float32"))).tolist()
        [-0.20000000298023224, 3.0]
        >>> layer.alpha, LeakyReLU(negative_slope=0.2).alpha
        (0.1, 0.2)
    """

    activation_id = "leaky_relu"

    def __init__(self, alpha: float | None = None, negative_slope: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if alpha is not None and negative_slope is not None and alpha != negative_slope:
            raise ValueError(
                f"LeakyReLU: `alpha` ({alpha!r}) and `negative_slope` ({negative_slope!r}) name the "
                "same slope; pass one of them."
            )
        slope, name = (
            (negative_slope, "negative_slope")
            if alpha is None and negative_slope is not None
            else (0.01 if alpha is None else alpha, "alpha")
        )
        self.alpha = check_number(slope, name, "LeakyReLU", non_negative=True)

    def call(self, inputs: Any) -> Any:
        return act_ops.leaky_relu(self._float_input(inputs), alpha=self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha, "negative_slope": self.alpha}
