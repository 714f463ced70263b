"""Which constructor argument of a custom layer sets the activations inside it.

The view reads a custom layer (a keras-hub `TransformerEncoder`, a user's block) through what its
`call` computes; changing an activation inside it means rebuilding the layer with another value
of the argument that sets it. That argument is a `get_config()` entry whose value is the
activation (``activation``, ``hidden_activation``, ``intermediate_activation``, ...: read by
value, not by name). Where a library's `get_config()` or `from_config()` is broken (keras-hub's
`LlamaTransformerDecoder.get_config` reads an attribute it never sets), the arguments are read
from the attributes Keras' convention stores them under, and the layer rebuilt from them is
checked to compute what the original computes (`rebuild`). An activation no entry holds is
fixed in the layer's code (keras-hub's backbones hard-code GELU in `FalconTransformerDecoder`,
SwiGLU in Gemma's block): the advice names it, and `apply()` says so instead of leaving it as it was without a word.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from keras_act._messages import quoted

from ._keras_compat import TRACE_DIMENSION, inbound_nodes
from .inspection import UNREADABLE, ModelView, activation_id


@dataclass(frozen=True)
class FixedActivation:
    """An activation inside a custom layer that no constructor argument of the layer sets.

    Attributes:
        layer: the custom layer's name in the model.
        class_name: its class.
        activation: the activation's id.
        reason: why it cannot be changed.

    Examples:
        >>> str(FixedActivation("block_0", "Block", "gelu", "fixed in its code (no argument of Block sets it)"))
        "gelu inside 'block_0' (Block): fixed in its code (no argument of Block sets it)"
    """

    layer: str
    class_name: str
    activation: str
    reason: str

    def __str__(self) -> str:
        return f"{self.activation} inside {self.layer!r} ({self.class_name}): {self.reason}"


def _reads_as(value: Any) -> str | None:
    """The activation id a config value deserializes to, or None for a value that is no activation."""
    if not isinstance(value, (str, dict)) and not callable(value):
        return None
    try:
        activation = keras.activations.get(value)
    except Exception:  # noqa: BLE001  (a name, a dtype policy, an initializer: not an activation)
        return None
    name = activation_id(activation)
    return None if name is None or name.startswith(UNREADABLE) else name


def activation_arguments(config: dict[str, Any], activation: str) -> list[str]:
    """The keys of a layer's config whose value is `activation` (by id: ``"silu"`` is swish).

    Examples:
        >>> activation_arguments({"units": 4, "activation": "gelu", "name": "block"}, "gelu")
        ['activation']
        >>> activation_arguments({"units": 4, "kernel_initializer": "glorot_uniform"}, "gelu")
        []
    """
    return [key for key, value in config.items() if key not in ("name", "dtype") and _reads_as(value) == activation]


def constructor_arguments(layer: keras.layers.Layer) -> dict[str, Any]:
    """The layer's constructor arguments, read from the attributes of the same names (Keras'
    convention: ``self.units = units``); arguments without such an attribute are left out.

    Examples:
        >>> import keras
        >>> sorted(constructor_arguments(keras.layers.Dropout(0.5, seed=1)).items())
        [('noise_shape', None), ('rate', 0.5), ('seed', 1)]
    """
    arguments = {}
    for name, parameter in inspect.signature(type(layer).__init__).parameters.items():
        if (
            name != "self"
            and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
            and hasattr(layer, name)
        ):
            arguments[name] = getattr(layer, name)
    return arguments


def _sample_value(tensor: keras.KerasTensor, rng: np.random.Generator) -> np.ndarray:
    shape = tuple(
        2 if i == 0 and d is None else TRACE_DIMENSION if d is None else d for i, d in enumerate(tensor.shape)
    )
    if "int" in str(tensor.dtype) or "bool" in str(tensor.dtype):
        return np.ones(shape, str(tensor.dtype))  # token ids and masks: 1 is valid for both
    return (rng.normal(size=shape) * 0.5).astype(str(tensor.dtype))


def _computes_the_same(layer: keras.layers.Layer, candidate: keras.layers.Layer) -> bool:
    """Whether `candidate`, given `layer`'s weights, computes what `layer` computes on inputs shaped
    like those of its first call in the model."""
    nodes = inbound_nodes(layer)
    if not nodes:
        return False
    rng = np.random.default_rng(0)
    args, kwargs = keras.tree.map_structure(
        lambda t: _sample_value(t, rng) if isinstance(t, keras.KerasTensor) else t,
        (tuple(nodes[0].arguments.args), dict(nodes[0].arguments.kwargs)),
    )
    expected = keras.tree.flatten(layer(*args, **kwargs))
    candidate(*args, **kwargs)
    if [tuple(w.shape) for w in candidate.weights] != [tuple(w.shape) for w in layer.weights]:
        return False
    candidate.set_weights(layer.get_weights())
    got = keras.tree.flatten(candidate(*args, **kwargs))
    return len(got) == len(expected) and all(
        np.allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), rtol=1e-5, atol=1e-6, equal_nan=True)
        for a, b in zip(expected, got)
    )


def rebuild(layer: keras.layers.Layer, overrides: dict[str, Any] | None = None) -> keras.layers.Layer:
    """A fresh, unbuilt layer like `layer` with `overrides` for some constructor arguments: from its
    config, else (a library's broken `get_config`/`from_config`) from `constructor_arguments`,
    accepted only when it computes what `layer` computes (checked with `layer`'s weights on
    sample inputs). Raises what the config route raised when neither works.

    Examples:
        >>> import keras
        >>> dense = keras.layers.Dense(3, activation="tanh", name="d")
        >>> _ = dense(keras.Input((2,)))
        >>> new = rebuild(dense, {"activation": "relu"})
        >>> new.name, new.get_config()["activation"], new.built
        ('d', 'relu', False)
    """
    overrides = dict(overrides or {})
    try:
        return type(layer).from_config({**layer.get_config(), **overrides})
    except Exception as error:  # noqa: BLE001  (a library's own bug: try the attributes, else report this)
        config_error = error
    base = {"name": layer.name, "dtype": layer.dtype_policy, "trainable": layer.trainable}
    arguments = {**base, **constructor_arguments(layer)}
    try:
        check, fresh = type(layer)(**arguments), type(layer)(**{**arguments, **overrides})
        same = _computes_the_same(layer, check)
    except Exception:  # noqa: BLE001  (the attributes do not rebuild it either)
        same = False
    if not same:
        raise config_error
    warnings.warn(
        f"{layer.name!r} ({type(layer).__name__}, from {type(layer).__module__}) is rebuilt from its "
        f"attributes: its own config does not rebuild it ({type(config_error).__name__}: "
        f"{quoted(config_error, 120, line=-1)}), so a model holding it cannot be saved "
        "as .keras until its library fixes that.",
        UserWarning,
        stacklevel=2,
    )
    return fresh


def _arguments_of(layer: keras.layers.Layer) -> dict[str, Any]:
    """A custom layer's arguments: its config, else (a library's broken get_config) its attributes."""
    try:
        return layer.get_config()
    except Exception:  # noqa: BLE001  (a library's get_config bug: its attributes may still tell)
        return constructor_arguments(layer)


def _why_not_rebuilt(layer: keras.layers.Layer) -> str | None:
    """Why neither its config nor its attributes rebuild `layer`, or None when one does."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # apply() says it when it rebuilds the layer
            rebuild(layer)
    except Exception as error:  # noqa: BLE001  (a library's layer that neither route rebuilds)
        return f"{type(error).__name__}: {quoted(error, 120, line=-1)}"
    return None


def custom_layer_arguments(model_view: ModelView) -> tuple[dict[str, list[str]], list[FixedActivation]]:
    """For the hidden sites inside custom layers: per custom layer (by its name in the model),
    the config keys that set their activations, and the activations no key sets.

    Examples:
        >>> import keras
        >>> from keras_act.advisor.inspection import view
        >>> class Block(keras.layers.Layer):
        ...     def __init__(self, activation="gelu", **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.activation, self.dense = activation, keras.layers.Dense(4)
        ...     def call(self, x):
        ...         return keras.activations.get(self.activation)(self.dense(x))
        ...     def get_config(self):
        ...         return {**super().get_config(), "activation": self.activation}
        >>> inputs = keras.Input((4,))
        >>> model = keras.Model(inputs, keras.layers.Dense(1)(Block(name="block")(inputs)))
        >>> custom_layer_arguments(view(model))
        ({'block': ['activation']}, [])
    """
    keys: dict[str, list[str]] = {}
    fixed: dict[tuple[str, str], FixedActivation] = {}
    # Each custom layer is read once, and checked for a rebuild only where an argument sets an activation.
    arguments: dict[str, dict[str, Any]] = {}
    not_rebuilt: dict[str, str | None] = {}
    for site in model_view.hidden_sites():
        if site.owner is None or not site.readable:
            continue
        root = site.owner.split("/")[0]
        layer = model_view.custom_layers[root]
        if root not in arguments:
            arguments[root] = _arguments_of(layer)
        found = activation_arguments(arguments[root], site.activation)
        reason = f"fixed in its code (no argument of {type(layer).__name__} sets it)"
        if found and root not in not_rebuilt:
            not_rebuilt[root] = _why_not_rebuilt(layer)
        if found and not_rebuilt[root]:
            reason = (
                f"its argument {found[0]!r} sets it, but {type(layer).__name__} cannot be rebuilt ({not_rebuilt[root]})"
            )
            found = []
        if found:
            keys[root] = list(dict.fromkeys(keys.get(root, []) + found))
        else:
            fixed.setdefault(
                (root, site.activation), FixedActivation(root, type(layer).__name__, site.activation, reason)
            )
    return keys, list(fixed.values())
