"""Shared machinery of the layers with a learned per-unit parameter (PReLU, Swish)."""

from __future__ import annotations

from typing import Any

import keras

from keras_act._checks import check_shared_axes, parameter_shape
from keras_act.layers._base import ActivationLayer


class ParametricActivation(ActivationLayer):
    """An activation with one parameter per unit, optionally shared along some axes.

    The parameter has the input's shape without the batch axis, with size 1 on each axis in
    `shared_axes`, as in `keras.layers.PReLU`: ``shared_axes=[1, 2]`` on an NHWC feature map
    gives one parameter per channel.

    Example:
        >>> import keras_act
        >>> layer = keras_act.PReLU(shared_axes=[1, 2])
        >>> layer.build((None, 8, 8, 3))
        >>> tuple(layer.alpha.shape)
        (1, 1, 3)
    """

    def __init__(self, shared_axes: int | list[int] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shared_axes = check_shared_axes(shared_axes, type(self).__name__)

    def _add_parameter(self, input_shape: Any, name: str, **weight_kwargs: Any) -> Any:
        input_shape = tuple(input_shape)
        shape = parameter_shape(input_shape, self.shared_axes, type(self).__name__)
        shared = set(self.shared_axes or ())
        self.input_spec = keras.layers.InputSpec(
            ndim=len(input_shape),
            axes={i: input_shape[i] for i in range(1, len(input_shape)) if i not in shared},
        )
        return self.add_weight(shape=shape, name=name, **weight_kwargs)

    def _built_parameter(self, attribute: str, name: str) -> Any:
        # ValueError, not AttributeError: on the PyTorch backend a layer is a torch Module, whose
        # __getattr__ would replace an AttributeError's message with "no attribute".
        if not self.built:
            raise ValueError(
                f"{type(self).__name__} `{name}` does not exist before the layer is built; "
                "call the layer on an input (or `build(input_shape)`) first."
            )
        return getattr(self, attribute)

    def get_config(self) -> dict[str, Any]:
        shared_axes = list(self.shared_axes) if self.shared_axes is not None else None
        return {**super().get_config(), "shared_axes": shared_axes}
