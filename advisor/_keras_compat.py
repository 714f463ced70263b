"""The Keras internals the advisor reads, in one place (checked against Keras 3.3-3.15).

Keras 3 exports no API to walk a Functional model's graph or to tell its layer families apart
by module; the advisor needs both to read real architectures. If a Keras release moves one of
these, this module is the one to change.
"""

from __future__ import annotations

from typing import Any

# The class of models built with keras.Model(inputs, outputs): not exported by `keras`.
from keras.src.models.functional import Functional

# Whole Keras modules whose layers are transparent (reshaping, padding, cropping, dropout, ...)
# or preprocessing (Rescaling, Normalization, resizing, augmentation).
TRANSPARENT_MODULES = ("keras.src.layers.reshaping", "keras.src.layers.regularization")
PREPROCESSING_MODULE = "keras.src.layers.preprocessing"

__all__ = ["Functional", "PREPROCESSING_MODULE", "TRANSPARENT_MODULES", "as_input_structure", "inbound_nodes",
           "input_keys", "layer_tree", "model_nodes", "producer"]


def producer(tensor: Any) -> Any:
    """The layer (operation) that computed a symbolic tensor.

    Example:
        >>> import keras
        >>> inputs = keras.Input((3,), name="features")
        >>> producer(keras.layers.Dense(2, name="d")(inputs)).name
        'd'
    """
    return tensor._keras_history.operation


def inbound_nodes(operation: Any) -> list[Any]:
    """Every call of a layer in any model graph (a shared layer has one node per call)."""
    return operation._inbound_nodes


def model_nodes(model: Any) -> set[int]:
    """The ids of the nodes that belong to this Functional model's own graph."""
    return {id(node) for nodes in model._nodes_by_depth.values() for node in nodes}


def layer_tree(layer: Any) -> list[Any]:
    """The layer and every layer it tracks, depth first (what the `.keras` format saves one by one).

    Example:
        >>> import keras
        >>> [type(l).__name__ for l in layer_tree(keras.layers.TextVectorization())]
        ['TextVectorization', 'StringLookup']
    """
    return list(layer._flatten_layers(include_self=True, recursive=True))


def input_keys(model: Any) -> list[str]:
    """Each input's key, in `model.inputs` order, as Keras matches a dict of inputs: its key when
    the model was built on a dict of inputs, else its `keras.Input`'s name.

    Example:
        >>> import keras
        >>> inputs = {"age": keras.Input((1,), name="age_in"), "income": keras.Input((1,), name="income")}
        >>> model = keras.Model(inputs, keras.layers.Concatenate()([inputs["age"], inputs["income"]]))
        >>> input_keys(model)
        ['age', 'income']
    """
    inputs = list(getattr(model, "inputs", None) or [])
    structure = getattr(model, "_inputs_struct", None)
    if isinstance(structure, dict):
        key_of = {id(tensor): key for key, tensor in structure.items()}
        if all(id(tensor) in key_of for tensor in inputs):
            return [key_of[id(tensor)] for tensor in inputs]
    return [producer(tensor).name for tensor in inputs]


def as_input_structure(model: Any, arrays: list[Any]) -> Any:
    """`arrays` (one per input, in `model.inputs` order) in the structure the model was built on:
    a dict for a model built on a dict of inputs (Keras warns on any other), else a list, or the
    one array.

    Example:
        >>> import keras, numpy as np
        >>> inputs = {"b": keras.Input((1,), name="b"), "a": keras.Input((1,), name="a")}
        >>> model = keras.Model(inputs, keras.layers.Concatenate()([inputs["a"], inputs["b"]]))
        >>> sorted(as_input_structure(model, [np.zeros(1), np.ones(1)]))
        ['a', 'b']
    """
    structure = getattr(model, "_inputs_struct", None)
    if isinstance(structure, dict):
        return dict(zip(input_keys(model), arrays))
    return arrays[0] if len(arrays) == 1 else list(arrays)
