"""The findings, one small rule each, like a linter's: a stable code, a severity, a message and
a fix. Adding a rule is writing one function decorated with `@rule`.

Warnings only where the evidence says a choice hurts; Keras' defaults (a shallow ReLU net with
glorot_uniform) get no warning. Activations are read from what layers compute (see
`advisor.inspection`), never from a layer's class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import keras
import numpy as np

from advisor.findings import SEVERITIES, Finding
from advisor.inspection import LayerGraph, LayerInfo
from advisor.recommend import RELU_FAMILY, SATURATING, initializer_for
from advisor.task import LossInfo

# Saturating hidden activations in a feed-forward stack: sigmoid from this depth on (Glorot &
# Bengio 2010: sigmoid nets of 5 layers stall with the top hidden layer saturated) ...
SIGMOID_MAX_DEPTH = 5
# ... and tanh from this one; below it tanh with Glorot did well on small tabular data (issue #10).
TANH_MAX_DEPTH = 20
# Glorot with ReLU hurts only in plain stacks this deep: He et al. 2015 report a 30-layer ReLU
# net with Xavier init that did not converge; shallow nets measured as well with Glorot as He.
GLOROT_RELU_MAX_DEPTH = 20
# Variance x fan-in of a kernel initializer: He gives 2, Glorot/LeCun about 1. Above this an
# initializer counts as He-scaled (too large for saturating units).
HE_SCALED_VARIANCE = 1.5

CROSSENTROPY_LOSSES = {
    "binary_crossentropy", "bce", "binary_focal_crossentropy", "categorical_crossentropy", "cce",
    "sparse_categorical_crossentropy", "scce", "categorical_focal_crossentropy",
}
CLASSIFICATION_TASKS = ("binary", "multiclass", "multilabel")
_HE_NAMES = {"he_normal", "he_uniform"}
_CONSTANT_NAMES = {"zeros", "ones", "constant"}


@dataclass
class ModelContext(LayerGraph):
    """Everything a rule may look at: the layer graph plus the task, loss and labels."""

    keras_layers: dict[str, keras.layers.Layer] = field(default_factory=dict)
    task: str = "regression"
    loss: LossInfo | None = None
    depth: int = 0
    output: LayerInfo | None = None
    y: Any = None

    def hidden_weight_layers(self) -> list[LayerInfo]:
        """Dense/Conv layers other than the one that produces the output."""
        weights = [info for info in self.layers if info.kind == "weight"]
        return weights[:-1]


RuleFunction = Callable[[ModelContext], Iterator[Finding]]
RULES: dict[str, RuleFunction] = {}


def rule(code: str) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule under its stable code."""

    def register(function: RuleFunction) -> RuleFunction:
        RULES[code] = function
        return function

    return register


def check(context: ModelContext) -> list[Finding]:
    """Run every rule, in registration order.

    Example:
        >>> sorted(RULES)[:3]
        ['constant-initializer', 'double-activation', 'initializer-mismatch']
    """
    return [finding for function in RULES.values() for finding in function(context)]


def order(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then info (stable within a severity)."""
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))


@rule("softmax-single-unit")
def softmax_single_unit(context: ModelContext) -> Iterator[Finding]:
    for info in context.layers:
        if info.activation == "softmax" and info.units == 1:
            yield Finding("softmax-single-unit", "error", info.name,
                          "Softmax over an axis of size 1 always outputs 1.0: the model cannot learn.",
                          "Use a sigmoid output for binary classification, or one unit per class.")


@rule("output-loss-mismatch")
def output_loss_mismatch(context: ModelContext) -> Iterator[Finding]:
    loss, output = context.loss, context.output
    if loss is None or output is None or loss.name not in CROSSENTROPY_LOSSES:
        return
    activation, name = output.activation, output.name
    categorical = "categorical" in loss.name or loss.name in ("cce", "scce")
    if loss.from_logits and activation in ("softmax", "sigmoid"):
        yield Finding("output-loss-mismatch", "error", name,
                      f"The loss expects logits (from_logits=True) but the output applies {activation}.",
                      f"Remove the {activation} output activation, or compile with from_logits=False.")
    elif not loss.from_logits and activation in (None, "linear"):
        yield Finding("output-loss-mismatch", "error", name,
                      f"{loss.name} with from_logits=False reads the linear output as probabilities.",
                      "Compile with from_logits=True (stable), or add a sigmoid/softmax output.")
    elif activation == "softmax" and not categorical and (output.units or 0) > 1:
        yield Finding("output-loss-mismatch", "error", name,
                      "Binary crossentropy on a multi-unit softmax output: the units are not independent.",
                      "Use categorical crossentropy for one class per example, or sigmoid for multi-label.")
    elif activation == "sigmoid" and categorical:
        yield Finding("output-loss-mismatch", "error", name,
                      "Categorical crossentropy on a sigmoid output: the outputs are not a distribution.",
                      "Use a softmax output (one class per example) or binary crossentropy (multi-label).")


def _label_problems(output: LayerInfo, loss: LossInfo | None, y: Any) -> list[str]:
    """Ways the labels `y` do not fit the output layer (and a sparse categorical loss)."""
    labels = np.asarray(y, dtype="float64")
    activation, units = output.activation, output.units or 1
    low, high = float(labels.min()), float(labels.max())
    problems = []
    if activation == "sigmoid" and (low < 0 or high > 1):
        problems.append(f"A sigmoid output lies in (0, 1) but the targets span [{low:g}, {high:g}].")
    if activation in ("relu", "softplus") and low < 0:
        problems.append(f"A {activation} output is never negative but the targets go down to {low:g}.")
    column = labels.ndim == 1 or labels.shape[-1] == 1
    integers = bool(np.all(labels == np.round(labels)))
    sparse_loss = loss is not None and loss.name in ("sparse_categorical_crossentropy", "scce")
    if sparse_loss and not (column and integers and low >= 0 and high < units):
        problems.append(f"Sparse categorical crossentropy needs integer labels in [0, {units}); "
                        f"the labels span [{low:g}, {high:g}]" + ("" if integers else " and are not integers") + ".")
    elif column and integers and low >= 0 and units > 1 and high >= units and activation != "sigmoid":
        problems.append(f"The labels name {int(high) + 1} classes but the output has {units} units.")
    if not column and labels.shape[-1] != units:
        problems.append(f"The targets have {labels.shape[-1]} columns but the output has {units} units.")
    elif not column and activation == "softmax" and not (
            low >= 0 and np.allclose(labels.reshape(len(labels), -1).sum(axis=1), 1.0)):
        problems.append("A softmax output is a probability distribution, but the target rows are not "
                        "(multi-hot or real-valued rows that do not sum to 1).")
    return problems


@rule("output-task-mismatch")
def output_task_mismatch(context: ModelContext) -> Iterator[Finding]:
    output, task = context.output, context.task
    if output is None:
        return
    activation = output.activation
    problems = []
    if task == "regression" and activation == "softmax":
        problems.append("A softmax output sums to 1 and cannot fit regression targets.")
    elif task == "multilabel" and activation == "softmax":
        problems.append("A softmax output forces the labels' probabilities to sum to 1.")
    elif (task in CLASSIFICATION_TASKS and activation in (None, "linear", "relu")
          and not (context.loss and context.loss.from_logits)
          and not (context.loss and context.loss.name in CROSSENTROPY_LOSSES)):
        problems.append(f"A {activation or 'linear'} output does not give {task} probabilities.")
    if context.y is not None:
        problems += [p for p in _label_problems(output, context.loss, context.y) if p not in problems]
    for problem in problems:
        yield Finding("output-task-mismatch", "error", output.name, problem,
                      "Use a linear output for regression, sigmoid for binary/multi-label and softmax "
                      "for multi-class (or keep logits and compile with from_logits=True), with one "
                      "unit per class; check that the labels are what the loss expects.")


@rule("softmax-hidden")
def softmax_hidden(context: ModelContext) -> Iterator[Finding]:
    output_name = context.output.name if context.output else None
    for info in context.layers:
        if info.activation == "softmax" and info.name != output_name and context.consumers.get(info.name):
            yield Finding("softmax-hidden", "warning", info.name,
                          "Softmax in a hidden layer squeezes its units into a distribution and "
                          "starves the next layer of signal.",
                          "Use relu (or another hidden activation) there; keep softmax for the output.")


@rule("linear-hidden")
def linear_hidden(context: ModelContext) -> Iterator[Finding]:
    skip = ("transparent", "normalization")
    for info in context.layers:
        if info.kind != "weight" or info.activation not in (None, "linear"):
            continue
        following = context.next_layer(info, skip)
        while following is not None and following.kind == "activation" and following.activation == "linear":
            following = context.next_layer(following, skip)
        if following is not None and following.kind == "weight":
            yield Finding("linear-hidden", "warning", info.name,
                          f"{info.name} and {following.name} are weight layers with no nonlinearity "
                          "between them: together they are one linear map.",
                          f"Give {info.name} an activation (e.g. relu), or remove one of the layers.")


@rule("saturating-deep")
def saturating_deep(context: ModelContext) -> Iterator[Finding]:
    hidden = {context.effective_activation(info) for info in context.hidden_weight_layers()}
    if "sigmoid" in hidden and context.depth >= SIGMOID_MAX_DEPTH:
        yield Finding("saturating-deep", "warning", None,
                      f"Sigmoid hidden layers in a stack of depth {context.depth}: gradients vanish "
                      "through saturated units (Glorot & Bengio 2010).",
                      "Use selu with lecun_normal (or tanh with glorot_uniform below depth 20).")
    if "tanh" in hidden:
        deep = context.depth >= TANH_MAX_DEPTH
        yield Finding("saturating-deep", "warning" if deep else "info", None,
                      f"tanh hidden layers at depth {context.depth}"
                      + (": gradients vanish this deep." if deep else
                         "; fine with glorot_uniform at this depth (best or tied on 4 of 5 small "
                         "tabular tasks at depth 12)."),
                      "Use selu with lecun_normal." if deep else "No change needed; confirm() can compare.")


def _variance_times_fan_in(layer: keras.layers.Layer) -> float | None:
    """Kernel variance x fan-in of an explicit random initializer (He ~ 2, Glorot/LeCun ~ 1)."""
    initializer = getattr(layer, "kernel_initializer", None)
    kernel = getattr(layer, "kernel", None)
    if initializer is None or kernel is None:
        return None
    shape = tuple(kernel.shape)
    fan_in = max(1, math.prod(shape[:-1]))
    fan_out = int(shape[-1])
    if isinstance(initializer, keras.initializers.VarianceScaling):
        fans = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
        return initializer.scale / fans[initializer.mode] * fan_in
    config = initializer.get_config()
    if isinstance(initializer, keras.initializers.TruncatedNormal):
        return 0.7737 * config["stddev"] ** 2 * fan_in  # variance of a normal cut at 2 sigma
    if isinstance(initializer, keras.initializers.RandomNormal):
        return config["stddev"] ** 2 * fan_in
    if isinstance(initializer, keras.initializers.RandomUniform):
        return (config["maxval"] - config["minval"]) ** 2 / 12 * fan_in
    return None


@rule("initializer-mismatch")
def initializer_mismatch(context: ModelContext) -> Iterator[Finding]:
    has_normalization = any(info.kind == "normalization" for info in context.layers)
    for info in context.hidden_weight_layers():
        activation = context.effective_activation(info)
        initializer = info.kernel_initializer
        if activation is None or initializer is None or initializer in _CONSTANT_NAMES:
            continue
        wanted = initializer_for(activation)
        scale = _variance_times_fan_in(context.keras_layers[info.name])
        he_scaled = initializer in _HE_NAMES or (scale is not None and scale > HE_SCALED_VARIANCE)
        severity = None
        if activation in SATURATING and he_scaled:
            severity, why = "warning", "He-scaled weights push sigmoid/tanh units into saturation"
        elif activation == "selu" and initializer != "lecun_normal":
            severity, why = "warning", "SELU's self-normalization assumes lecun_normal weights"
        elif (activation in RELU_FAMILY and initializer.startswith("glorot")
              and context.depth >= GLOROT_RELU_MAX_DEPTH and not has_normalization):
            severity, why = "warning", (f"Glorot weights shrink the signal through {context.depth} "
                                        "rectifier layers (He et al. 2015)")
        elif initializer != wanted and not initializer.startswith(wanted.split("_")[0]):
            severity, why = "info", f"{wanted} is the textbook match for {activation}"
        if severity:
            yield Finding("initializer-mismatch", severity, info.name,
                          f"{info.name}: {initializer} with {activation}: {why}.",
                          f"Use kernel_initializer='{wanted}'.")


@rule("constant-initializer")
def constant_initializer(context: ModelContext) -> Iterator[Finding]:
    for info in context.hidden_weight_layers():
        if info.kernel_initializer in _CONSTANT_NAMES:
            yield Finding("constant-initializer", "error", info.name,
                          f"{info.name}'s kernel starts {info.kernel_initializer}: every unit computes "
                          "the same thing and learns the same update.",
                          "Use a random initializer (he_normal for ReLU-like units, glorot_uniform otherwise).")


@rule("double-activation")
def double_activation(context: ModelContext) -> Iterator[Finding]:
    for info in context.layers:
        if info.kind not in ("weight", "activation") or info.activation in (None, "linear"):
            continue
        following = context.next_layer(info)
        if following is not None and following.kind == "activation" and following.activation != "linear":
            yield Finding("double-activation", "warning", following.name,
                          f"{following.name} applies {following.activation} on top of "
                          f"{info.name}'s {info.activation}.",
                          f"Keep one: remove {following.name}, or give {info.name} no activation.")


@rule("unknown-layer")
def unknown_layer(context: ModelContext) -> Iterator[Finding]:
    for info in context.layers:
        if info.kind == "unknown":
            yield Finding("unknown-layer", "info", info.name,
                          f"{info.name} ({info.class_name}) is a layer the advisor does not know; "
                          "it was skipped.",
                          "Nothing to do; the advice covers the layers around it.")
