"""The base class every keras_act layer derives from."""

from __future__ import annotations

from typing import Any, ClassVar

import keras

from keras_act._checks import float_input, numeric_dtype


class ActivationLayer(keras.layers.Layer):
    """An elementwise, shape-preserving activation layer that propagates masks.

    Subclasses set `activation_id` (the string `keras_act.get` knows them by) and implement
    `call` with `keras.ops`, passing their input through `self._float_input` first.

    Examples:
        >>> import keras_act
        >>> isinstance(keras_act.ReLU(), ActivationLayer)
        True
    """

    activation_id: ClassVar[str]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        numeric_dtype(inputs, type(self).__name__)
        return super().__call__(inputs, *args, **kwargs)

    def _float_input(self, inputs: Any) -> Any:
        return float_input(inputs, self.compute_dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape
