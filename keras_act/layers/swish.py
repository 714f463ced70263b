"""The `Swish` layer."""

from __future__ import annotations

from typing import Any

import keras

from keras_act import ops as act_ops
from keras_act._checks import check_bool, check_number
from keras_act.layers._parametric import ParametricActivation, built_weight


@keras.saving.register_keras_serializable(package="keras_act")
class Swish(ParametricActivation):
    """Swish ``x * sigmoid(beta * x)`` (Ramachandran et al. 2017) with a learnable `beta`.

    Args:
        beta: initial value of beta; 1.0 is SiLU, large values approach ReLU.
        trainable_beta: whether beta is learned. When False it stays a (non-trainable) weight,
            saved with the model. (Not called `trainable`: that would shadow
            `Layer.trainable`, the bug that broke keras-contrib's Swish.)
        shared_axes: axes along which one beta is shared, as in `PReLU`; None gives one beta
            per unit.

    Examples:
        >>> import numpy as np
        >>> layer = Swish()
        >>> keras.ops.convert_to_numpy(layer(np.array([[1.0, -1.0]], "float32"))).astype(float).round(6).tolist()
        [[0.731059, -0.268941]]
        >>> keras.ops.convert_to_numpy(layer.beta).tolist()
        [1.0, 1.0]
    """

    activation_id = "swish"

    def __init__(
        self,
        beta: float = 1.0,
        trainable_beta: bool = True,
        shared_axes: int | list[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(shared_axes=shared_axes, **kwargs)
        self.initial_beta = check_number(beta, "beta", "Swish")
        self.trainable_beta = check_bool(trainable_beta, "trainable_beta", "Swish")

    def build(self, input_shape: Any) -> None:
        self._beta = self._add_parameter(
            input_shape,
            "beta",
            initializer=keras.initializers.Constant(self.initial_beta),
            trainable=self.trainable_beta,
        )

    beta = built_weight("beta", "The beta weight (exists once the layer is built).")

    def call(self, inputs: Any) -> Any:
        return act_ops.swish(self._float_input(inputs), self._beta)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta": self.initial_beta,
            "trainable_beta": self.trainable_beta,
        }
