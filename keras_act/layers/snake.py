"""The `Snake` layer."""

from __future__ import annotations

from typing import Any

import keras

from keras_act import ops as act_ops
from keras_act._checks import check_number
from keras_act.layers._parametric import ParametricActivation, built_weight


@keras.saving.register_keras_serializable(package="keras_act")
class Snake(ParametricActivation):
    """Snake (Ziyin et al., NeurIPS 2020): ``x + sin(a x)**2 / a`` with a learned frequency `a`.

    The identity plus a periodic ripple: a network of Snake units can extrapolate periodic
    signals (seasonal series, audio), where ReLU's and tanh's cannot. The ripple is finite as
    a -> 0 (the layer tends to the identity) and the values stay finite for every input.

    Args:
        a: the initial frequency; the paper uses values from 0.5 to 50 depending on the
            signal's period (larger: faster ripples).
        shared_axes: None (the default, as in the paper) gives one frequency per channel (the
            last axis); a list of axes gives one per unit shared along those axes, as in
            `PReLU` (``[]``: one per unit).

    Examples:
        >>> import numpy as np
        >>> layer = Snake(a=1.0)
        >>> keras.ops.convert_to_numpy(layer(np.array([[0.0, 1.0]], "float32"))).astype(float).round(6).tolist()
        [[0.0, 1.708073]]
    """

    activation_id = "snake"
    default_sharing = "channel"
    full_precision_parameters = True

    def __init__(self, a: float = 1.0, shared_axes: int | list[int] | None = None, **kwargs: Any) -> None:
        super().__init__(shared_axes=shared_axes, **kwargs)
        self.initial_a = check_number(a, "a", "Snake")

    def build(self, input_shape: Any) -> None:
        self._a = self._add_parameter(input_shape, "a", initializer=keras.initializers.Constant(self.initial_a))

    a = built_weight("a", "The learned frequency weight (once built).")

    def call(self, inputs: Any) -> Any:
        return act_ops.snake(self._float_input(inputs), self._a)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "a": self.initial_a}
