"""The model rules, one small unit each, like a linter's: a registered `FindingRule` (code,
severity, docs, thresholds with sources) and the check that reports it. Adding a rule is writing
one `@model_rule(FindingRule(...))` function.

Warnings only where the evidence says a choice hurts; Keras' defaults (a shallow ReLU net with
glorot_uniform) and published architectures get no warning. Every rule reads the one model view
(`advisor.inspection`): roles decide what is hidden, an output head, a gate or a bottleneck.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from .findings import SEVERITIES, Finding, FindingRule, RuleSet, Threshold
from .inspection import RELU_FAMILY, SATURATING, Head, ModelView
from .recommend import initializer_for
from .task import CATEGORICAL_CROSSENTROPIES, CROSSENTROPY_LOSSES, LossInfo, read_loss

# Saturating hidden activations in a feed-forward stack: sigmoid from this depth on (Glorot &
# Bengio 2010: sigmoid nets of 5 layers stall with the top hidden layer saturated) ...
SIGMOID_MAX_DEPTH = 5
# ... and tanh from this one; below it tanh with Glorot did well on small tabular data (issue #10).
TANH_MAX_DEPTH = 20
# Glorot with ReLU hurts only in plain stacks this deep: He et al. 2015 report a 30-layer ReLU
# net with Xavier init that did not converge; shallow nets measured as well with Glorot as He.
GLOROT_RELU_MAX_DEPTH = 20
# Variance x fan-in of an explicitly scaled kernel initializer (VarianceScaling's `scale` in
# fan_in mode, a RandomNormal's stddev): He gives 2, LeCun 1. Above this it counts as He-scaled.
HE_SCALED_VARIANCE = 1.5

CLASSIFICATION_TASKS = ("binary", "multiclass", "multilabel")
_HE_NAMES = {"he_normal", "he_uniform"}
_NOT_HE_NAMES = {"glorot_normal", "glorot_uniform", "lecun_normal", "lecun_uniform", "orthogonal", "identity"}
_CONSTANT_NAMES = {"zeros", "ones", "constant"}


@dataclass(frozen=True)
class HeadContext:
    """One output as the rules see it: the head, its task, its loss and its labels."""

    head: Head
    task: str
    loss: LossInfo | None
    y: Any = None
    named: bool = False

    @property
    def where(self) -> str | None:
        """The head's name for findings (None for a single-output model)."""
        return self.head.name if self.named else None


@dataclass
class ModelContext:
    """Everything a rule may look at: the model view, each head's task and loss, the depth, the
    advice's hidden pick (so that fixes agree with the advice), and `measured_kept`: the
    activation atlas measured the model's own hidden configuration as good as any on this kind
    of task (so no rule of thumb argues with it)."""

    view: ModelView
    heads: list[HeadContext] = field(default_factory=list)
    advised_activation: str = "relu"
    advised_initializer: str = "he_normal"
    measured_kept: bool = False

    @property
    def depth(self) -> int:
        """Hidden weight layers (see `ModelView.depth`)."""
        return self.view.depth

    @property
    def advised(self) -> str:
        """The advice's hidden pair, as a fix names it."""
        return f"{self.advised_activation} with {self.advised_initializer}"


# The model rules, in the order they run (and are listed in docs/findings.md).
MODEL_RULES: RuleSet[ModelContext] = RuleSet()
model_rule = MODEL_RULES.rule


def check(context: ModelContext) -> list[Finding]:
    """Run every model rule, in registration order.

    Examples:
        >>> list(MODEL_RULES.checks)[:3]
        ['softmax-single-unit', 'output-loss-mismatch', 'output-task-mismatch']
    """
    return MODEL_RULES.run(context)


def order(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then info (stable within a severity)."""
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))


@model_rule(
    FindingRule(
        code="softmax-single-unit",
        severity="error",
        scope="model",
        fires_when="softmax over one unit (always 1.0)",
        why="softmax normalizes over its axis; over one unit it outputs 1.0 whatever the input, so the model cannot learn",
        example="`Dense(1, activation='softmax')` with binary crossentropy",
        fix="Use a sigmoid output for binary classification, or one unit per class.",
        keras_warning="You are using a softmax over axis .* This axis has size 1",
    )
)
def softmax_single_unit(context: ModelContext) -> Iterator[Finding]:
    for site in context.view.sites:
        info = context.view.by_name[site.name]
        if site.activation == "softmax" and info.units == 1:
            yield softmax_single_unit.spec.finding(
                info.name,
                "Softmax over an axis of size 1 always outputs 1.0: the model cannot learn.",
                head=next((h.where for h in context.heads if h.head.name == site.head), None),
            )


@model_rule(
    FindingRule(
        code="output-loss-mismatch",
        severity="error",
        scope="model",
        fires_when="a head's output activation contradicts its loss: softmax/sigmoid with `from_logits=True`, "
        "a linear output with `from_logits=False`, a multi-unit softmax with binary crossentropy, "
        "sigmoid with categorical crossentropy",
        why="the loss then reads probabilities as logits (or the reverse) and trains toward wrong targets",
        example="a softmax output compiled with `SparseCategoricalCrossentropy(from_logits=True)`",
        fix="Make the output activation and the loss agree (see the message).",
        keras_warning=".*received `from_logits=True`, but the `output` argument was produced by a",
    )
)
def output_loss_mismatch(context: ModelContext) -> Iterator[Finding]:
    spec = output_loss_mismatch.spec
    for head in context.heads:
        loss, activation = head.loss, head.head.activation
        if loss is None or head.head.layer is None or loss.name not in CROSSENTROPY_LOSSES:
            continue
        name = head.head.layer.name
        categorical = loss.name in CATEGORICAL_CROSSENTROPIES
        if loss.from_logits and activation in ("softmax", "sigmoid"):
            yield spec.finding(
                name,
                f"The loss expects logits (from_logits=True) but the output applies {activation}.",
                f"Remove the {activation} output activation, or compile with from_logits=False.",
                head=head.where,
            )
        elif not loss.from_logits and activation in (None, "linear"):
            yield spec.finding(
                name,
                f"{loss.name} with from_logits=False reads the linear output as probabilities.",
                "Compile with from_logits=True (stable), or add a sigmoid/softmax output.",
                head=head.where,
            )
        elif activation == "softmax" and not categorical and (head.head.units or 0) > 1:
            yield spec.finding(
                name,
                "Binary crossentropy on a multi-unit softmax output: the units are not independent.",
                "Use categorical crossentropy for one class per example, or sigmoid for multi-label.",
                head=head.where,
            )
        elif activation == "sigmoid" and categorical:
            yield spec.finding(
                name,
                "Categorical crossentropy on a sigmoid output: the outputs are not a distribution.",
                "Use a softmax output (one class per example) or binary crossentropy (multi-label).",
                head=head.where,
            )


def _label_problems(activation: str | None, units: int, loss: LossInfo | None, y: Any) -> list[str]:
    """Ways the labels `y` do not fit the output (and a sparse categorical loss)."""
    labels = np.asarray(y, dtype="float64")
    low, high = float(labels.min()), float(labels.max())
    problems = []
    if activation == "sigmoid" and (low < 0 or high > 1):
        problems.append(f"A sigmoid output lies in (0, 1) but the targets span [{low:g}, {high:g}].")
    if activation in ("relu", "softplus") and low < 0:
        problems.append(f"A {activation} output is never negative but the targets go down to {low:g}.")
    column = labels.ndim == 1 or labels.shape[-1] == 1
    integers = bool(np.all(labels == np.round(labels)))
    sparse_loss = loss is not None and loss.name == "sparse_categorical_crossentropy"
    if sparse_loss and not (column and integers and low >= 0 and high < units):
        problems.append(
            f"Sparse categorical crossentropy needs integer labels in [0, {units}); "
            f"the labels span [{low:g}, {high:g}]" + ("" if integers else " and are not integers") + "."
        )
    elif column and integers and low >= 0 and units > 1 and high >= units and activation != "sigmoid":
        problems.append(f"The labels name {int(high) + 1} classes but the output has {units} units.")
    if not column and labels.shape[-1] != units:
        problems.append(f"The targets have {labels.shape[-1]} columns but the output has {units} units.")
    elif (
        not column
        and activation == "softmax"
        and not (low >= 0 and np.allclose(labels.reshape(len(labels), -1).sum(axis=1), 1.0))
    ):
        problems.append(
            "A softmax output is a probability distribution, but the target rows are not "
            "(multi-hot or real-valued rows that do not sum to 1)."
        )
    return problems


@model_rule(
    FindingRule(
        code="output-task-mismatch",
        severity="error",
        scope="model",
        fires_when="a head's output cannot represent its task (softmax for regression or multi-label; "
        "sigmoid/relu for targets outside its range; a linear/relu classifier output without a "
        "logits loss) or the labels do not fit it (range, number of classes, sparse labels out of "
        "range, softmax targets that are not distributions)",
        why="the model cannot fit the targets, whatever it learns",
        example="a softmax output for regression targets",
        fix="Use a linear output for regression, sigmoid for binary/multi-label and softmax for "
        "multi-class (or keep logits and compile with from_logits=True), with one unit per class; "
        "check that the labels are what the loss expects.",
    )
)
def output_task_mismatch(context: ModelContext) -> Iterator[Finding]:
    for head in context.heads:
        if head.head.layer is None:
            continue
        activation, task, loss = head.head.activation, head.task, head.loss
        problems = []
        if task == "regression" and activation == "softmax":
            problems.append("A softmax output sums to 1 and cannot fit regression targets.")
        elif task == "multilabel" and activation == "softmax":
            problems.append("A softmax output forces the labels' probabilities to sum to 1.")
        elif (
            task in CLASSIFICATION_TASKS
            and activation in (None, "linear", "relu")
            and not (loss and loss.from_logits)
            and not (loss and loss.name in CROSSENTROPY_LOSSES)
        ):
            problems.append(f"A {activation or 'linear'} output does not give {task} probabilities.")
        if head.y is not None:
            problems += [
                p for p in _label_problems(activation, head.head.units or 1, loss, head.y) if p not in problems
            ]
        for problem in problems:
            yield output_task_mismatch.spec.finding(head.head.layer.name, problem, head=head.where)


@model_rule(
    FindingRule(
        code="softmax-hidden",
        severity="warning",
        scope="model",
        fires_when="softmax in a hidden layer (not a gate or an attention weight)",
        why="it squeezes the layer's units into a distribution and starves the next layer of signal",
        example="`Dense(64, activation='softmax')` before another Dense",
        fix="Use relu (or another hidden activation) there; keep softmax for the output.",
    )
)
def softmax_hidden(context: ModelContext) -> Iterator[Finding]:
    for site in context.view.hidden_sites():
        if site.activation == "softmax":
            yield softmax_hidden.spec.finding(
                site.name,
                "Softmax in a hidden layer squeezes its units into a distribution and "
                "starves the next layer of signal.",
            )


@model_rule(
    FindingRule(
        code="linear-hidden",
        severity="warning",
        scope="model",
        fires_when="two weight layers with no nonlinearity between them, the first no narrower than its "
        "neighbours (not a bottleneck: nothing non-linear follows it, no residual add, no depthwise conv)",
        why="together they compute one linear map: the extra layer adds weights, not capacity",
        example="`Dense(32)` (no activation) followed by `Dense(32, activation='relu')`",
        fix="Give the layer an activation (e.g. relu), or remove one of the layers.",
    )
)
def linear_hidden(context: ModelContext) -> Iterator[Finding]:
    for site in context.view.sites:
        if site.role != "linear":
            continue
        following = context.view.next_layer(context.view.by_name[site.name], ("transparent", "normalization"))
        while following is not None and following.kind == "activation":
            following = context.view.next_layer(following, ("transparent", "normalization"))
        other = following.name if following is not None else "the next weight layer"
        yield linear_hidden.spec.finding(
            site.name,
            f"{site.name} and {other} are weight layers with no nonlinearity between "
            "them: together they are one linear map.",
            f"Give {site.name} an activation (e.g. {context.advised_activation}), or remove one of the layers.",
        )


@model_rule(
    FindingRule(
        code="saturating-deep",
        severity="warning",
        scope="model",
        fires_when=f"sigmoid hidden layers at depth >= {SIGMOID_MAX_DEPTH}, tanh at depth >= {TANH_MAX_DEPTH} "
        f"(info below {TANH_MAX_DEPTH}); gates (squeeze-excitation, GLU, LSTM-style) do not count",
        why="gradients vanish through saturated units in deep stacks",
        example="8 `Dense(32, activation='sigmoid')` layers",
        fix="Use the advised hidden activation.",
        thresholds=(
            Threshold("SIGMOID_MAX_DEPTH", SIGMOID_MAX_DEPTH, "Glorot & Bengio 2010"),
            Threshold(
                "TANH_MAX_DEPTH",
                TANH_MAX_DEPTH,
                "measured: 12-layer tanh + Glorot MLPs best or tied on 4 of 5 tabular tasks",
            ),
        ),
        severities=("warning", "info"),
    )
)
def saturating_deep(context: ModelContext) -> Iterator[Finding]:
    spec = saturating_deep.spec
    if context.measured_kept:
        return  # the atlas measured the model's own configuration as good as any on such tasks
    hidden = {site.activation for site in context.view.hidden_sites()}
    depth = context.depth
    if "sigmoid" in hidden and depth >= SIGMOID_MAX_DEPTH:
        yield spec.finding(
            None,
            f"Sigmoid hidden layers in a stack of depth {depth}: gradients vanish "
            "through saturated units (Glorot & Bengio 2010).",
            f"Use {context.advised} (the advice).",
        )
    if "tanh" in hidden:
        deep = depth >= TANH_MAX_DEPTH
        if deep:
            yield spec.finding(
                None,
                f"tanh hidden layers at depth {depth}: gradients vanish this deep.",
                f"Use {context.advised} (the advice).",
            )
        else:
            yield spec.finding(
                None,
                f"tanh hidden layers at depth {depth}; fine with glorot_uniform at this "
                "depth (best or tied on 4 of 5 small tabular tasks at depth 12).",
                "No change needed; confirm() can compare.",
                severity="info",
            )


def _he_scaled(layer: Any, name: str) -> bool:
    """Whether a kernel initializer gives He's variance (2 / fan_in) or more, by its real family:
    He by name; Glorot, LeCun and orthogonal never; VarianceScaling by its `scale`; an explicit
    random normal/uniform by its variance x fan-in."""
    if name in _HE_NAMES:
        return True
    if name in _NOT_HE_NAMES:
        return False
    initializer = getattr(layer, "kernel_initializer", None)
    if isinstance(initializer, keras.initializers.VarianceScaling):
        return initializer.scale > HE_SCALED_VARIANCE
    kernel = getattr(layer, "kernel", None)
    if initializer is None or kernel is None:
        return False
    fan_in = max(1, math.prod(tuple(kernel.shape)[:-1]))
    config = initializer.get_config()
    if isinstance(initializer, keras.initializers.TruncatedNormal):
        return 0.7737 * config["stddev"] ** 2 * fan_in > HE_SCALED_VARIANCE  # a normal cut at 2 sigma
    if isinstance(initializer, keras.initializers.RandomNormal):
        return config["stddev"] ** 2 * fan_in > HE_SCALED_VARIANCE
    if isinstance(initializer, keras.initializers.RandomUniform):
        return (config["maxval"] - config["minval"]) ** 2 / 12 * fan_in > HE_SCALED_VARIANCE
    return False


def _normalized(context: ModelContext, weight: str) -> bool:
    """Whether a normalization layer follows the weight layer (its kernel's scale then does not
    reach the next layer)."""
    following = context.view.next_layer(context.view.by_name[weight])
    return following is not None and following.kind == "normalization"


@model_rule(
    FindingRule(
        code="initializer-mismatch",
        severity="warning",
        scope="model",
        fires_when="warning where it hurts: He-scaled weights with sigmoid/tanh, SELU without lecun_normal, "
        f"Glorot with ReLU in a plain stack of >= {GLOROT_RELU_MAX_DEPTH} layers; info otherwise "
        "(never after a normalization layer)",
        why="the kernel's scale decides whether the signal shrinks, grows or saturates through the stack",
        example="`Dense(64, activation='sigmoid', kernel_initializer='he_normal')`",
        fix="Use the initializer that fits the activation.",
        thresholds=(
            Threshold("HE_SCALED_VARIANCE", HE_SCALED_VARIANCE, "He et al. 2015: variance 2/fan_in"),
            Threshold(
                "GLOROT_RELU_MAX_DEPTH",
                GLOROT_RELU_MAX_DEPTH,
                "He et al. 2015: a 30-layer ReLU net with Xavier init did not converge",
            ),
        ),
        severities=("warning", "info"),
    )
)
def initializer_mismatch(context: ModelContext) -> Iterator[Finding]:
    spec = initializer_mismatch.spec
    plain = not (context.view.has_normalization or context.view.residual_adds)
    for site in context.view.hidden_sites():
        if site.weight is None or not site.readable or _normalized(context, site.weight):
            continue
        info = context.view.by_name[site.weight]
        initializer = info.kernel_initializer
        if initializer is None or initializer in _CONSTANT_NAMES:
            continue
        # A learnable activation is judged as what it starts as (a Rational fitted to tanh).
        activation = site.start or site.activation
        named = f"{site.activation} (started as {site.start})" if site.start else site.activation
        wanted = initializer_for(activation)
        severity = None
        if activation in SATURATING and _he_scaled(context.view.keras_layers[info.name], initializer):
            severity, why = "warning", "He-scaled weights push sigmoid/tanh units into saturation"
        elif activation == "selu" and initializer != "lecun_normal":
            severity, why = "warning", "SELU's self-normalization assumes lecun_normal weights"
        elif (
            activation in RELU_FAMILY
            and initializer.startswith("glorot")
            and context.depth >= GLOROT_RELU_MAX_DEPTH
            and plain
        ):
            severity, why = (
                "warning",
                (f"Glorot weights shrink the signal through {context.depth} rectifier layers (He et al. 2015)"),
            )
        elif (
            plain
            and initializer != wanted
            and not initializer.startswith(wanted.split("_")[0])
            and not context.measured_kept
        ):  # the atlas measured the model's own pair as good
            severity, why = "info", f"{wanted} is the textbook match for {named}"
        if severity:
            fix = f"Use kernel_initializer='{wanted}'"
            if site.activation != context.advised_activation:  # the fix must not contradict the advice
                fix += f" with {named}, or the advice: {context.advised}"
            yield spec.finding(
                info.name, f"{info.name}: {initializer} with {named}: {why}.", fix + ".", severity=severity
            )


@model_rule(
    FindingRule(
        code="constant-initializer",
        severity="error",
        scope="model",
        fires_when="a hidden kernel starts as zeros/ones/constant (not a residual branch's last layer: zero-"
        "initialized residual branches are a design, Bachlechner et al. 2020)",
        why="every unit computes the same thing and gets the same update: they never differ",
        example="`Dense(32, kernel_initializer='zeros')`",
        fix="Use a random initializer (he_normal for ReLU-like units, glorot_uniform otherwise).",
    )
)
def constant_initializer(context: ModelContext) -> Iterator[Finding]:
    heads = context.view.output_site_names()
    for info in context.view.of_kind("weight"):
        if info.name in heads or context.view.feeds_residual_add(info.name):
            continue  # the residual stream tells a zero-initialized branch's units apart
        if info.kernel_initializer in _CONSTANT_NAMES:
            yield constant_initializer.spec.finding(
                info.name,
                f"{info.name}'s kernel starts {info.kernel_initializer}: every unit computes "
                "the same thing and learns the same update.",
            )


@model_rule(
    FindingRule(
        code="double-activation",
        severity="warning",
        scope="model",
        fires_when="two activations in a row",
        why="the second squashes what the first already shaped; usually a leftover `activation=`",
        example="`Dense(32, activation='relu')` followed by `Activation('relu')`",
        fix="Keep one of the two activations.",
    )
)
def double_activation(context: ModelContext) -> Iterator[Finding]:
    for info in context.view.layers:
        if info.kind not in ("weight", "activation") or info.activation in (None, "linear"):
            continue
        following = context.view.next_layer(info)
        if following is not None and following.kind == "activation" and following.activation != "linear":
            yield double_activation.spec.finding(
                following.name,
                f"{following.name} applies {following.activation} on top of {info.name}'s {info.activation}.",
                f"Keep one: remove {following.name}, or give {info.name} no activation.",
            )


@model_rule(
    FindingRule(
        code="unknown-layer",
        severity="info",
        scope="model",
        fires_when="a custom layer (or a `Lambda`) whose computation the advisor cannot read",
        why="the advice cannot see what it computes; it is left as it is",
        example="a subclassed `keras.layers.Layer` of your own",
        fix="Nothing to do; the advice covers the layers around it.",
    )
)
def unknown_layer(context: ModelContext) -> Iterator[Finding]:
    for info in context.view.of_kind("unknown"):
        yield unknown_layer.spec.finding(
            info.name, f"{info.name} ({info.class_name}) is a layer the advisor does not know; it was skipped."
        )


@model_rule(
    FindingRule(
        code="unreadable-activation",
        severity="info",
        scope="model",
        fires_when="an activation the advisor cannot name (a Python function of your own, a `ReLU` with an "
        "unusual `max_value` or `threshold`)",
        why="the advisor never guesses what it computes: it is left as it is and not advised on",
        example="`Dense(32, activation=my_function)`",
        fix="Nothing to do; apply() keeps it.",
    )
)
def unreadable_activation(context: ModelContext) -> Iterator[Finding]:
    for site in context.view.sites:
        if not site.readable:
            yield unreadable_activation.spec.finding(
                site.name,
                f"{site.name} applies {site.activation.split(':', 1)[1]}, which the advisor "
                "cannot name; it is kept as it is.",
            )


def head_contexts(model_view: ModelView, tasks: list[str], labels: list[Any]) -> list[HeadContext]:
    """One `HeadContext` per head, with its task and labels (a `TaskInference` per head)."""
    named = len(model_view.heads) > 1
    return [
        HeadContext(head, task, read_loss(head.loss), y, named)
        for head, task, y in zip(model_view.heads, tasks, labels)
    ]
