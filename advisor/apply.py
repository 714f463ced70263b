"""`apply()`: a new model with the advice carried out; the original is untouched.

Which layers get fresh weights: every layer the model trains, changed or not, so that each
configuration `confirm()` compares starts as the user's own would (`keras.models.clone_model`'s
rule). Two kinds of layer keep what they hold, since it is not a weight to re-draw:

- layers set up by `adapt()` (`Normalization`'s statistics, `Discretization`'s bins, a
  `TextVectorization`/`StringLookup`/`IntegerLookup` vocabulary, and any layer with an `adapt`
  method): they compute after `apply()` exactly what they computed before;
- frozen layers (``trainable=False``: a pretrained backbone under a new head): they keep their
  weights, and the advice leaves their activations alone (their weights were trained with them;
  their sites have the role ``"frozen"``).

Their state is copied as the `.keras` format saves it: each tracked layer's own variables, then
its assets (a vocabulary).

The new model has the same layer graph, layer count, parameter count (for parameter-free
activations), input/output names and shapes. It reads the one model view
(`advisor.inspection.view`) and changes only what the advice changes:

- Every *hidden* site whose activation or kernel initializer differs from the advice gets
  `advice.hidden_activation` / `advice.hidden_initializer`, however it was written (a weight
  layer's `activation` argument, an `Activation` layer, a Keras or keras_act activation layer).
  A site the advice keeps (a ResNet's ReLU under advice to keep it) is cloned as it is.
- Kept as they are: gates (an activation whose value multiplies another tensor: squeeze-
  excitation, GLU, MobileNetV3's hard sigmoid built from `keras.ops`), recurrent cells,
  linear bottlenecks and projections, preprocessing layers, activations computed by `keras.ops`
  (they are graph nodes, not layers) and activations the advisor cannot read.
- Activations inside custom layers (a keras-hub `TransformerEncoder`, a user's block; read
  through what their `call` computes) change through the constructor argument that sets them
  (`advisor.layer_arguments`): the layer is rebuilt from its config with that argument set to
  the new activation. Their kernel initializers stay as the authors set them: such a layer's one
  `kernel_initializer` argument sets every kernel inside it (the attention's too), not only the
  site's. An activation no argument sets (fixed in a library's code, or a layer
  whose config cannot rebuild it) stays as it is, with a `UserWarning` naming it; `advice.fixed`
  lists them beforehand.
- A nested model of a `keras.Model` subclass (a keras-hub `Backbone`) with nothing to change
  inside comes back as its own class, rebuilt from its config; otherwise a nested model comes
  back as a Functional model of the same layers (what `keras.models.clone_model` builds).
- Each output head gets its own advice (`advice.heads`; the first head follows
  `advice.output_activation` / `advice.output_initializer`, which a user may edit); a head
  whose activation is already right is left as it is, and a linear head trained on logits
  (`from_logits=True`) stays logits.
- A weight layer that feeds an activation layer loses its own activation (the layer that follows
  carries it), which also resolves `double-activation`; a hidden weight layer flagged
  `linear-hidden` gets the hidden activation.
- A compiled model is compiled again with a fresh optimizer of the same config and the same loss,
  metrics and options; a `from_logits=True` crossentropy on a head that now squashes gets
  `from_logits=False` (the `output-loss-mismatch` fix), per head for dict and list losses.
"""

from __future__ import annotations

import inspect
import os
import tempfile
import warnings
from dataclasses import dataclass
from typing import Any

import keras

import keras_act
from keras_act._messages import quoted
from keras_act.registry import LAYER_CLASSES

from ._keras_compat import layer_tree, producer
from .advice import Advice
from .inspection import HIDDEN_ROLES, KERAS_ACTIVATIONS, KNOWN_ACTIVATIONS, WEIGHT_LAYERS, Functional, ModelView, view
from .layer_arguments import FixedActivation, custom_layer_arguments, rebuild
from .task import read_loss, trains_on_logits

SQUASHING_OUTPUTS = ("sigmoid", "softmax")
# Config keys of the kernels a weight layer may hold (Dense/Conv, separable and depthwise convs).
KERNEL_INITIALIZER_KEYS = ("kernel_initializer", "depthwise_initializer", "pointwise_initializer")


@dataclass(frozen=True)
class LayerChange:
    """What `apply` does to one layer: its new activation and kernel initializer (None: keep), and
    for a custom layer the constructor arguments that set the activations inside it."""

    activation: str | None = None
    initializer: str | None = None
    arguments: tuple[tuple[str, str], ...] = ()


def _check_arguments(model: Any, advice: Any) -> None:
    if not isinstance(model, keras.Model):
        raise TypeError(f"apply expects a keras.Model, received {type(model).__name__}: {model!r:.80}")
    if not isinstance(advice, Advice):
        raise TypeError(f"apply expects an advisor.Advice as `advice`, received {type(advice).__name__}.")
    if not isinstance(model, (keras.Sequential, Functional)):
        raise ValueError(
            f"apply supports Sequential and Functional models; {type(model).__name__} is a subclassed "
            "model whose layer graph cannot be rebuilt. Rebuild it yourself with the advice's values."
        )
    for name in ("hidden_activation", "output_activation"):
        if getattr(advice, name) not in KNOWN_ACTIVATIONS:
            raise ValueError(
                f"apply: advice.{name} must be a keras_act id ({', '.join(keras_act.names())}) "
                f"or a Keras activation name, received {getattr(advice, name)!r}."
            )
    for name in ("hidden_initializer", "output_initializer"):
        try:
            keras.initializers.get(getattr(advice, name))
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"apply: advice.{name} must be a Keras initializer name, received {getattr(advice, name)!r}."
            ) from error


def _head_targets(model_view: ModelView, advice: Advice) -> list[tuple[str, str]]:
    """Per head, the advised (activation, initializer): the first head from the advice's own
    fields (which a user may edit), the others from `advice.heads` (kept when absent)."""
    by_name = {head.name: head for head in advice.heads}
    targets = []
    for index, head in enumerate(model_view.heads):
        if index == 0:
            targets.append((advice.output_activation, advice.output_initializer))
        elif head.name in by_name:
            targets.append((by_name[head.name].output_activation, by_name[head.name].output_initializer))
        else:
            targets.append((head.activation, head.weight.kernel_initializer if head.weight else None))
    return targets


def _is_layer(model_view: ModelView, name: str | None) -> bool:
    return name is not None and isinstance(model_view.keras_layers.get(name), keras.layers.Layer)


def plan_changes(model: keras.Model, advice: Advice) -> dict[str, LayerChange]:
    """Per layer name, the activation and initializer `apply` gives it (layers not listed are
    cloned as they are).

    Examples:
        >>> import dataclasses, keras
        >>> from keras_act.advisor import advise
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="sigmoid"),
        ...                           keras.layers.Dense(1, activation="sigmoid")])
        >>> advice = dataclasses.replace(advise(model), hidden_activation="relu", hidden_initializer="he_normal")
        >>> changes = plan_changes(model, advice)
        >>> changes[model.layers[0].name], model.layers[1].name in changes
        (LayerChange(activation='relu', initializer='he_normal', arguments=()), False)
    """
    return _plan(view(model), advice)[0]


def _plan(model_view: ModelView, advice: Advice) -> tuple[dict[str, LayerChange], list[FixedActivation]]:
    """The changes per layer, and the activations inside custom layers the advice would change but
    no constructor argument sets."""
    changes: dict[str, LayerChange] = {}
    unchanged: dict[tuple[str, str], FixedActivation] = {}

    def change(
        name: str,
        activation: str | None = None,
        initializer: str | None = None,
        arguments: tuple[tuple[str, str], ...] = (),
    ) -> None:
        old = changes.get(name, LayerChange())
        changes[name] = LayerChange(
            activation or old.activation, initializer or old.initializer, tuple(dict(old.arguments + arguments).items())
        )

    for head, (activation, initializer) in zip(model_view.heads, _head_targets(model_view, advice)):
        layer, weight = head.layer, head.weight
        if layer is None or layer.kind not in ("weight", "activation") or not _is_layer(model_view, layer.name):
            continue
        if not layer.trainable or (weight is not None and not weight.trainable):
            continue  # a frozen head keeps the activation its weights were trained with
        if trains_on_logits(head):
            activation = "linear"
        if activation is not None and activation != head.activation:
            change(layer.name, activation)
            if weight is not None and weight is not layer:
                change(weight.name, "linear")
        if weight is not None and initializer and initializer != weight.kernel_initializer:
            change(weight.name, initializer=initializer)

    flagged_linear = {f.layer for f in advice.findings if f.code == "linear-hidden"}
    # Advice to keep the model's own activation keeps every hidden site as it is (a design may
    # mix several: MobileNetV3's ReLU and hard-swish blocks), unless the user edited the pick.
    keep_activations = advice.kept and advice.hidden_activation == model_view.own_hidden_activation
    keep_initializers = advice.kept and advice.hidden_initializer == model_view.own_hidden_initializer
    owned = [
        site
        for site in model_view.hidden_sites()
        if site.owner is not None
        and site.readable
        and site.activation != advice.hidden_activation
        and not keep_activations
    ]
    if owned:
        arguments, fixed = custom_layer_arguments(model_view)
        fixed_at = {(f.layer, f.activation): f for f in fixed}
        for site in owned:
            root = site.owner.split("/")[0]
            if (root, site.activation) in fixed_at or advice.hidden_activation not in KERAS_ACTIVATIONS:
                layer = model_view.custom_layers[root]
                unchanged.setdefault(
                    (root, site.activation),
                    fixed_at.get((root, site.activation))
                    or FixedActivation(
                        root,
                        type(layer).__name__,
                        site.activation,
                        f"its arguments take Keras activations, and {advice.hidden_activation!r} is keras_act's",
                    ),
                )
            else:
                change(root, arguments=tuple((key, advice.hidden_activation) for key in arguments[root]))
    for site in model_view.sites:
        if site.role == "linear" and site.name in flagged_linear:
            change(site.name, advice.hidden_activation, advice.hidden_initializer)
        if (
            site.role not in HIDDEN_ROLES
            or site.composite
            or not site.readable
            or site.owner is not None
            or not _is_layer(model_view, site.name)
        ):
            continue
        if site.activation != advice.hidden_activation and not keep_activations:
            change(site.name, advice.hidden_activation)
        if site.name == site.weight:
            following = model_view.next_layer(model_view.by_name[site.name])
            if following is not None and following.kind == "activation" and following.activation != "linear":
                change(site.name, "linear")  # the activation layer that follows carries it
        weight = model_view.by_name.get(site.weight) if site.weight else None
        if weight is not None and advice.hidden_initializer != weight.kernel_initializer and not keep_initializers:
            change(weight.name, initializer=advice.hidden_initializer)
    return changes, list(unchanged.values())


def _activation_object(activation: str, kwargs: dict[str, Any]) -> Any:
    """What a weight layer's `activation=` gets: a keras_act layer (built with `kwargs`), else
    Keras' own name."""
    if activation == "linear":
        return "linear"
    if activation in keras_act.names():
        return LAYER_CLASSES[activation](**kwargs)
    return activation


def _rebuild(
    layer: keras.layers.Layer, config: dict[str, Any], overrides: dict[str, Any] | None = None
) -> keras.layers.Layer:
    """A fresh layer from `config` (with `overrides`). A custom layer whose `__init__` does not
    take Keras' base arguments (keras.io's `TransformerBlock` takes no `trainable`, `dtype` or
    `name`, so `from_config` and `clone_model` fail on it) is built from the arguments its
    `__init__` takes, and keeps its name. A library's layer whose config does not rebuild it is
    rebuilt from its attributes where that computes the same (`advisor.layer_arguments.rebuild`)."""
    config = {**config, **(overrides or {})}
    if isinstance(layer, keras.layers.Lambda):
        # The user's own in-memory function, not an untrusted file: safe to rebuild (Keras'
        # safe mode refuses Python lambdas when deserializing, so clone_model fails on them).
        return layer.__class__.from_config(config, safe_mode=False)
    try:
        return layer.__class__.from_config(config)
    except TypeError as error:
        parameters = inspect.signature(layer.__class__.__init__).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            return _rebuild_from_attributes(layer, overrides, error)
        try:
            rebuilt = layer.__class__(**{k: v for k, v in config.items() if k in parameters})
        except Exception:  # noqa: BLE001  (its own error is the one to report)
            raise _not_rebuildable(layer, error) from None
        rebuilt.name = layer.name
        return rebuilt
    except Exception as error:  # noqa: BLE001  (a library's own bug, e.g. an attribute its config reads)
        return _rebuild_from_attributes(layer, overrides, error)


def _rebuild_from_attributes(
    layer: keras.layers.Layer, overrides: dict[str, Any] | None, error: Exception
) -> keras.layers.Layer:
    try:
        return rebuild(layer, overrides)
    except Exception:  # noqa: BLE001  (the config's own error is the one to report)
        raise _not_rebuildable(layer, error) from None


def _not_rebuildable(layer: keras.layers.Layer, error: Exception) -> ValueError:
    return ValueError(
        f"apply: layer {layer.name!r} ({type(layer).__name__}, from {type(layer).__module__}) cannot be rebuilt "
        f"from its get_config() ({type(error).__name__}: {quoted(error, 200, line=-1)}). Give {type(layer).__name__} a get_config() "
        "that returns its constructor arguments, and let __init__ accept **kwargs for Keras' own (name, "
        "trainable, dtype); for a library's layer, report it there."
    )


def _clone_layer(
    layer: keras.layers.Layer, changes: dict[str, LayerChange], kwargs_of: dict[str, dict[str, Any]]
) -> keras.layers.Layer:
    change = changes.get(layer.name)
    try:
        config = layer.get_config()
    except Exception as error:  # noqa: BLE001  (arguments Keras cannot record, or a library's get_config bug)
        return _rebuild_from_attributes(layer, dict(change.arguments) if change else None, error)
    if change is None:
        return _rebuild(layer, config)
    if change.arguments:  # a custom layer: the arguments that set the activations inside it
        return _rebuild(layer, config, dict(change.arguments))
    if isinstance(layer, WEIGHT_LAYERS):
        if change.activation is not None:
            config["activation"] = _activation_object(change.activation, kwargs_of.get(layer.name, {}))
        if change.initializer is not None:
            for key in KERNEL_INITIALIZER_KEYS:
                if key in config:
                    config[key] = change.initializer
        return layer.__class__.from_config(config)
    if change.activation is None:
        return layer.__class__.from_config(config)
    # An activation layer: replaced by the keras_act layer of the new activation (Keras'
    # `Activation` for activations keras_act does not have), same name.
    if change.activation in keras_act.names():
        return LAYER_CLASSES[change.activation](
            **{**kwargs_of.get(layer.name, {}), "name": layer.name, "dtype": config.get("dtype")}
        )
    return keras.layers.Activation(change.activation, name=layer.name, dtype=config.get("dtype"))


def _clone_nested(model: keras.Model, changes: dict[str, LayerChange], clone: Any) -> keras.Model:
    """A nested model: a Functional subclass (a keras-hub `Backbone`) the advice changes nothing
    inside comes back as its own class, rebuilt from its config; any other, or one whose config
    cannot rebuild it, as a Functional model of the same layers, each cloned by `clone`."""
    if type(model) not in (Functional, keras.Sequential) and not any(
        layer.name in changes for layer in layer_tree(model)
    ):
        try:
            return type(model).from_config(model.get_config())
        except Exception:  # noqa: BLE001  (its layers, cloned one by one, still rebuild it)
            pass
    return keras.models.clone_model(model, clone_function=clone)


def keeps_state(layer: keras.layers.Layer) -> bool:
    """Whether `apply` gives `layer` the original's state instead of fresh weights: a layer that
    `adapt()` sets up (its statistics, bins or vocabulary are data, not weights) or a frozen one.

    Examples:
        >>> import keras
        >>> keeps_state(keras.layers.Normalization()), keeps_state(keras.layers.Dense(2))
        (True, False)
        >>> keeps_state(keras.layers.Dense(2, trainable=False))
        True
    """
    return hasattr(layer, "adapt") or not getattr(layer, "trainable", True)  # (a keras.ops node has neither)


def copy_state(source: keras.layers.Layer, target: keras.layers.Layer) -> None:
    """Load into `target` what the `.keras` format saves of `source` (the same class and config,
    built): each tracked layer's own variables, then its assets (a lookup layer's vocabulary).

    Examples:
        >>> import keras, numpy as np
        >>> source = keras.layers.Normalization()
        >>> source.adapt(np.array([[1.0], [3.0]]))
        >>> target = keras.layers.Normalization.from_config(source.get_config())
        >>> target.build((None, 1))
        >>> copy_state(source, target)
        >>> np.asarray(target(np.array([[3.0]]))).round(3).tolist()
        [[1.0]]
    """
    with tempfile.TemporaryDirectory(prefix="keras_act_apply_") as folder:
        for index, (old, new) in enumerate(zip(layer_tree(source), layer_tree(target), strict=True)):
            store: dict[str, Any] = {}
            old.save_own_variables(store)
            new.load_own_variables({key: keras.ops.convert_to_numpy(value) for key, value in store.items()})
            if hasattr(old, "save_assets"):
                assets = os.path.join(folder, str(index))
                os.makedirs(assets)
                old.save_assets(assets)
                new.load_assets(assets)


def _same_inputs(model: keras.Model) -> Any:
    """Fresh inputs with the original names (clone_model would rename them, breaking dict inputs)."""
    if isinstance(model, keras.Sequential):
        return None

    def fresh(tensor: Any) -> Any:
        layer = producer(tensor)
        return keras.Input(batch_shape=layer.batch_shape, dtype=layer.dtype, sparse=layer.sparse, name=layer.name)

    return keras.tree.map_structure(fresh, model.input)


def _logits_fixed(loss: Any, activation: str | None) -> Any:
    """`loss` with `from_logits=False` when it expects logits and the head now squashes."""
    info = read_loss(loss)
    if info and info.from_logits and activation in SQUASHING_OUTPUTS and isinstance(loss, keras.losses.Loss):
        return loss.__class__.from_config({**loss.get_config(), "from_logits": False})
    return loss


def _compile_arguments(model: keras.Model, new_activations: dict[str, str | None]) -> dict[str, Any]:
    """The original compile arguments, deserialized afresh (a new optimizer), each head's loss
    fixed where its output squashes (`new_activations`: per head name, its activation after apply)."""
    arguments = keras.saving.deserialize_keras_object(model.get_compile_config())
    loss = arguments.get("loss")
    names = list(new_activations)
    if isinstance(loss, dict):
        arguments["loss"] = {key: _logits_fixed(value, new_activations.get(key)) for key, value in loss.items()}
    elif isinstance(loss, (list, tuple)):
        arguments["loss"] = [
            _logits_fixed(value, new_activations.get(names[i]) if i < len(names) else None)
            for i, value in enumerate(loss)
        ]
    elif names:
        arguments["loss"] = _logits_fixed(loss, new_activations[names[0]])
    return arguments


def _check_activation_kwargs(advice: Advice, activation_kwargs: Any) -> dict[str, Any]:
    if activation_kwargs is None:
        return {}
    if not isinstance(activation_kwargs, dict) or not all(isinstance(k, str) for k in activation_kwargs):
        raise TypeError(
            "apply: `activation_kwargs` must be a dict of keyword arguments for the hidden "
            f"keras_act layer, received {type(activation_kwargs).__name__}."
        )
    if advice.hidden_activation not in keras_act.names():
        raise ValueError(
            f"apply: `activation_kwargs` configures keras_act layers, but advice.hidden_activation "
            f"{advice.hidden_activation!r} is not a keras_act id ({', '.join(keras_act.names())})."
        )
    try:
        LAYER_CLASSES[advice.hidden_activation](**activation_kwargs)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"apply: `activation_kwargs` {activation_kwargs!r} do not make a "
            f"{advice.hidden_activation!r} layer: {error}"
        ) from None
    return dict(activation_kwargs)


def apply(model: keras.Model, advice: Advice, activation_kwargs: dict[str, Any] | None = None) -> keras.Model:
    """A new model with `advice` carried out: same graph and shapes, fresh weights where it trains.

    Hidden and output activations and kernel initializers are replaced (see the module
    docstring for the exact rules); a compiled model is compiled again with the same loss (fixed
    where a finding said so) and a fresh optimizer of the same config. Every layer the model
    trains gets fresh weights; layers set up by `adapt()` and frozen layers keep their state
    (`keeps_state`), and the advice changes nothing inside frozen layers. `model` is not modified.

    Args:
        model: a Sequential or Functional `keras.Model`.
        advice: what `advise(model)` returned, possibly edited (e.g. with
            `dataclasses.replace(advice, hidden_activation="tanh", hidden_initializer="glorot_uniform")`).
        activation_kwargs: keyword arguments for each keras_act layer put in for the hidden
            activation, e.g. ``{"approx": "elu"}`` with ``hidden_activation="rational"`` for
            Rational layers that start as ELU (each site gets its own layer).

    Examples:
        >>> import dataclasses, keras
        >>> from keras_act.advisor import advise, apply
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="sigmoid"),
        ...                           keras.layers.Dense(3, activation="relu")])
        >>> model.compile("adam", "sparse_categorical_crossentropy")
        >>> advice = dataclasses.replace(advise(model), hidden_activation="elu", hidden_initializer="he_normal")
        >>> new = apply(model, advice)
        >>> type(new.layers[0].activation).__name__, type(new.layers[-1].activation).__name__
        ('ELU', 'Softmax')
        >>> model.layers[0].activation.__name__
        'sigmoid'
    """
    _check_arguments(model, advice)
    hidden_kwargs = _check_activation_kwargs(advice, activation_kwargs)
    model_view = view(model)
    changes, unchanged = _plan(model_view, advice)
    for fixed in unchanged:
        warnings.warn(f"apply: cannot change {fixed}; it stays {fixed.activation}.", UserWarning, stacklevel=2)
    head_layers = {head.layer.name for head in model_view.heads if head.layer is not None}
    kwargs_of = {
        name: hidden_kwargs
        for name, change in changes.items()
        if change.activation == advice.hidden_activation and name not in head_layers
    }
    kept: list[tuple[keras.layers.Layer, keras.layers.Layer]] = []

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        if isinstance(layer, (keras.Sequential, Functional)):
            new_layer = _clone_nested(layer, changes, clone)
        else:
            new_layer = _clone_layer(layer, changes, kwargs_of)
        if layer.name not in changes and keeps_state(layer) and type(new_layer) is type(layer):
            kept.append((layer, new_layer))
        return new_layer

    new_model = keras.models.clone_model(model, input_tensors=_same_inputs(model), clone_function=clone)
    for source, target in kept:
        copy_state(source, target)
    if getattr(model, "compiled", False) and model.get_compile_config():
        new_activations = {
            head.name: (
                changes[head.layer.name].activation
                if head.layer is not None and head.layer.name in changes and changes[head.layer.name].activation
                else head.activation
            )
            for head in model_view.heads
        }
        new_model.compile(**_compile_arguments(model, new_activations))
    return new_model
