"""The rules of thumb, as a table: which activation, initializer and input scaling to use.

They are priors from the literature and the seed articles in `shared/seeds/`, not truths:
`candidates` keeps alternatives from different families so that `confirm()` can test them on
the user's data. Where the activation atlas (`advisor.atlas`) holds enough tasks like the
user's (today: plain dense stacks), `advise()` takes the hidden activation, its initializer and
the candidates from the atlas's measurements instead; the hidden rules here answer for the
families it has too few tasks of (plain CNNs, normalized/residual, attention and recurrent
designs), and the output, initializer-pairing and input-range rules everywhere.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from .inspection import RELU_FAMILY, ModelView

# A plain stack is "deep" from this many hidden weight layers on: there ReLU's dead units and
# the vanishing gradients of saturating units start to cost (Klambauer et al. 2017 and Clevert
# et al. 2016 compare their activations with ReLU on nets of 8 and more layers).
DEEP_STACK_DEPTH = 8
# Below this depth tanh with Glorot init stays a candidate: on small real tabular data a
# 12-layer tanh MLP (Glorot, Adam) was best or within noise of the best on 4 of 5 tasks (issue
# #10's measurement); from here on saturation makes it a poor bet.
TANH_CANDIDATE_MAX_DEPTH = 20

# The architecture families the hidden rules are written for (see `family_of`).
FAMILIES = ("plain-dense", "plain-cnn", "normalized-residual", "attention", "recurrent")
# Per family, the hidden activations that fit it: a model that already uses one keeps it.
FITS_FAMILY = {
    "normalized-residual": RELU_FAMILY,
    "attention": RELU_FAMILY,
    "recurrent": RELU_FAMILY + ("tanh",),
}

# The activations of the GLU feed-forwards that did best in Shazeer 2020, "GLU Variants Improve
# Transformer", Table 1 (T5 pre-training perplexity after 524k steps: GEGLU 1.942, SwiGLU 1.944,
# ReGLU 1.953; the sigmoid GLU 1.982, bilinear 1.960, the ReLU FFN 1.997).
GLU_VARIANTS = ("swish", "gelu", "relu")


@dataclass(frozen=True)
class Rule:
    """One row of the recommendation table: when it applies, what it says, and why."""

    applies_to: str
    choice: str
    reason: str
    source: str


# Output activation per task.
OUTPUT_RULES = {
    "binary": Rule(
        "binary classification",
        "sigmoid",
        "one probability per example; pairs with binary crossentropy",
        "Goodfellow et al. 2016, Deep Learning, 6.2.2.2",
    ),
    "multilabel": Rule(
        "multi-label classification",
        "sigmoid",
        "an independent probability per label; softmax would force them to sum to 1",
        "Goodfellow et al. 2016, 6.2.2.2",
    ),
    "multiclass": Rule(
        "multi-class classification",
        "softmax",
        "a probability distribution over the classes; pairs with categorical crossentropy",
        "Goodfellow et al. 2016, 6.2.2.3",
    ),
    "regression": Rule(
        "regression", "linear", "an unbounded real output; pairs with MSE/MAE/Huber", "Goodfellow et al. 2016, 6.2.2.1"
    ),
    "logits": Rule(
        "classification trained on logits (a from_logits=True loss)",
        "linear",
        "the loss applies the sigmoid/softmax itself, in a numerically stable form: the "
        "logits output is right as it is",
        "Keras losses, from_logits; Goodfellow et al. 2016, 6.2.2.2",
    ),
    "regression-positive": Rule(
        "regression with strictly positive targets",
        "softplus",
        "keeps predictions positive while staying smooth",
        "Dugas et al. 2001",
    ),
}

# Hidden activation per architecture family.
HIDDEN_RULES = {
    "keep": Rule(
        "a published design's own activation",
        "(the model's own)",
        "normalized, residual, attention and recurrent designs chose their activation with "
        "ablations (ResNet: ReLU; MobileNetV2: ReLU6; MobileNetV3: hard-swish; EfficientNet: "
        "swish; ConvNeXt and BERT/ViT: GELU); it fits the family, so it is kept, and a "
        "change is recommended only on evidence: a finding on the model or its data, or a "
        "confirm() win on your data",
        "He et al. 2016; Sandler et al. 2018; Howard et al. 2019; Tan & Le 2019; "
        "Liu et al. 2022; Devlin et al. 2019; measured in benchmarks/advisor_quality.py: "
        "within noise of the grid's best on 7 of 11 CNN, residual and sequence tasks "
        "(Keras defaults 6, relu + He 4), confirm() on 9 of 11",
    ),
    "recurrent": Rule(
        "recurrent network",
        "tanh",
        "LSTM/GRU cells keep their tanh/sigmoid gates; tanh suits the layers around them",
        "Hochreiter & Schmidhuber 1997",
    ),
    "attention": Rule(
        "attention/transformer blocks",
        "gelu",
        "the activation of BERT/GPT/ViT feed-forward blocks (ReLU, the original transformer's, stays a candidate)",
        "Hendrycks & Gimpel 2016; Devlin et al. 2019; Vaswani et al. 2017",
    ),
    "glu": Rule(
        "GLU feed-forward blocks, act(x W) * (x V)",
        "swish",
        "the GLU variants with a smooth or rectified activation beat the plain feed-forward; "
        "SwiGLU is Llama's, Mistral's and Qwen's choice, GeGLU Gemma's; a block with one of "
        "them keeps it",
        "Shazeer 2020, GLU Variants Improve Transformer, Table 1; Touvron et al. 2023",
    ),
    "normalized-residual": Rule(
        "network with normalization layers or residual adds",
        "relu",
        "normalization and skip connections keep the signal's scale, so the ReLU family trains "
        "them at any depth; SELU's self-normalization holds only in plain feed-forward stacks "
        "without normalization layers or skip connections, so it is never picked here",
        "He et al. 2016; Ioffe & Szegedy 2015; Klambauer et al. 2017",
    ),
    "dead-units": Rule(
        "dead ReLU units measured on the data",
        "leaky_relu",
        "units that never fire get no gradient; a small negative slope revives them",
        "Maas et al. 2013; measured by the dead-units diagnostic",
    ),
    "deep": Rule(
        f"plain stack (no normalization, no residual adds) of >= {DEEP_STACK_DEPTH} hidden layers",
        "selu",
        "self-normalizing: with lecun_normal weights and standardized inputs, activations keep "
        "zero mean and unit variance through the stack, so deep plain nets train without "
        "dead or saturated units",
        "Klambauer et al. 2017 (deep feed-forward nets on 121 UCI tabular tasks); measured in "
        "benchmarks/advisor_quality.py: within noise of the grid's best on 5 of 6 deep tasks, "
        "ELU + He (the earlier rule, Clevert et al. 2016) on 2",
    ),
    "default": Rule(
        "shallow plain feed-forward or conv net",
        "relu",
        "cheap, non-saturating for positive inputs; the usual default",
        "Nair & Hinton 2010; Glorot et al. 2011",
    ),
}

# Kernel initializer per activation family.
INITIALIZER_RULES = {
    "he_normal": Rule(
        "ReLU family", "he_normal", "variance 2/fan_in keeps the signal's variance through rectifiers", "He et al. 2015"
    ),
    "glorot_uniform": Rule(
        "sigmoid, tanh, softmax, linear",
        "glorot_uniform",
        "variance 2/(fan_in + fan_out) keeps saturating units in their linear range",
        "Glorot & Bengio 2010",
    ),
    "lecun_normal": Rule(
        "SELU", "lecun_normal", "self-normalization assumes weights of variance 1/fan_in", "Klambauer et al. 2017"
    ),
    "keep": Rule(
        "a kept activation",
        "(the model's own)",
        "kept with the activation it was chosen for; after a normalization layer the "
        "kernel's scale does not reach the next layer",
        "Ioffe & Szegedy 2015",
    ),
}

# Input scaling per hidden activation.
INPUT_RANGE_RULES = {
    "zero-one": Rule(
        "sigmoid and ReLU-family nets",
        "[0, 1]",
        "min-max scaled inputs keep first-layer pre-activations moderate",
        "LeCun et al. 1998, Efficient BackProp",
    ),
    "minus-one-one": Rule(
        "tanh nets", "[-1, 1]", "zero-centred inputs match tanh's symmetric range", "LeCun et al. 1998"
    ),
    "standardized": Rule(
        "SELU nets",
        "standardized",
        "self-normalization assumes inputs of zero mean and unit variance",
        "Klambauer et al. 2017",
    ),
    "in-model": Rule(
        "models that scale their own inputs",
        "as the model expects",
        "a Rescaling/Normalization layer before the first weight layer scales the "
        "inputs inside the model: feed them as its preprocessing expects",
        "Keras preprocessing layers guide",
    ),
    "encoded": Rule(
        "models that read text, categories or token ids",
        "as the model expects",
        "the inputs are encoded inside the model (TextVectorization, a lookup, an "
        "Embedding) before any weight layer: there is no numeric scale to set",
        "Keras preprocessing layers guide",
    ),
}


def initializer_for(activation: str, start: str | None = None) -> str:
    """The kernel initializer that fits an activation; for a learnable one, the activation it
    starts as (`start`, see `advisor.inspection.start_of`) when known.

    Examples:
        >>> initializer_for("swish"), initializer_for("tanh"), initializer_for("selu")
        ('he_normal', 'glorot_uniform', 'lecun_normal')
        >>> initializer_for("hard_swish"), initializer_for("relu6")
        ('he_normal', 'he_normal')
        >>> initializer_for("rational"), initializer_for("rational", start="tanh")
        ('he_normal', 'glorot_uniform')
    """
    if start is not None:
        return initializer_for(start)
    if activation == "selu":
        return "lecun_normal"
    return "he_normal" if activation in RELU_FAMILY else "glorot_uniform"


def input_range_for(activation: str) -> tuple[float, float] | None:
    """The input range an activation wants; None means standardize (zero mean, unit variance).

    Examples:
        >>> input_range_for("relu"), input_range_for("tanh"), input_range_for("selu")
        ((0.0, 1.0), (-1.0, 1.0), None)
    """
    if activation == "selu":
        return None
    return (-1.0, 1.0) if activation == "tanh" else (0.0, 1.0)


def output_rule(task: str, y: Any = None, logits: bool = False) -> Rule:
    """The output activation rule for a task (softplus for strictly positive regression targets;
    `logits`: a linear classification output trained with a from_logits=True loss stays linear).

    Examples:
        >>> output_rule("multiclass").choice, output_rule("regression", [1.0, 3.0]).choice
        ('softmax', 'softplus')
        >>> output_rule("multiclass", logits=True).choice
        'linear'
    """
    if logits and task != "regression":
        return OUTPUT_RULES["logits"]
    if task == "regression" and y is not None and np.all(np.asarray(y, dtype="float64") > 0):
        return OUTPUT_RULES["regression-positive"]
    return OUTPUT_RULES[task]


def family_of(model_view: ModelView) -> str:
    """The architecture family the hidden rules are chosen by (one of `FAMILIES`).

    Attention and recurrent layers decide first; then normalization layers or residual adds
    (a ResNet, EfficientNet, a BatchNormalization MLP); else a plain conv or dense stack.

    Examples:
        >>> import keras
        >>> from keras_act.advisor.inspection import view
        >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
        ...                           keras.layers.Flatten(), keras.layers.Dense(2)])
        >>> family_of(view(model))
        'plain-cnn'
    """
    if model_view.has_attention:
        return "attention"
    if model_view.has_recurrent:
        return "recurrent"
    if model_view.has_normalization or model_view.residual_adds:
        return "normalized-residual"
    return "plain-cnn" if model_view.has_conv else "plain-dense"


def hidden_rule(
    depth: int, family: str = "plain-dense", own: str | None = None, dead_units: bool = False, glu: bool = False
) -> Rule:
    """The hidden activation rule for an architecture family.

    `own`: the model's current hidden activation; in a normalized/residual, attention or
    recurrent design it is kept when it fits the family (`FITS_FAMILY`). `dead_units`: the
    diagnostics measured dead ReLU units (evidence for a change). `glu`: the model's feed-forwards
    are GLUs; one of `GLU_VARIANTS` is kept, any other activation gets SwiGLU's swish.

    Examples:
        >>> hidden_rule(2).choice, hidden_rule(12).choice
        ('relu', 'selu')
        >>> rule = hidden_rule(50, "normalized-residual", own="swish")
        >>> rule.applies_to, rule.choice
        ("a published design's own activation", 'swish')
        >>> hidden_rule(50, "normalized-residual", own="sigmoid").choice
        'relu'
        >>> hidden_rule(4, "attention", own="gelu", glu=True).choice, hidden_rule(4, own="sigmoid", glu=True).choice
        ('gelu', 'swish')
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}, received {family!r}.")
    if dead_units and own in ("relu", "relu6"):
        return HIDDEN_RULES["dead-units"]
    if glu:
        return dataclasses.replace(HIDDEN_RULES["keep"], choice=own) if own in GLU_VARIANTS else HIDDEN_RULES["glu"]
    if family in FITS_FAMILY:
        if own in FITS_FAMILY[family]:
            return dataclasses.replace(HIDDEN_RULES["keep"], choice=own)
        return HIDDEN_RULES[family]
    return HIDDEN_RULES["deep" if depth >= DEEP_STACK_DEPTH else "default"]


def candidates_for(
    recommended: str, depth: int, family: str = "plain-dense", own: str | None = None, glu: bool = False
) -> list[str]:
    """The recommended hidden activation first, then alternatives from different families.

    Plain stacks: another ReLU variant, a smooth one, SELU, and tanh below
    `TANH_CANDIDATE_MAX_DEPTH`, so that a search can find what the rules of thumb miss.
    Normalized/residual, attention and recurrent designs: the ReLU family (relu, a smooth
    rectifier, ELU, swish and GELU), never SELU; tanh too for recurrent models. GLU feed-forwards
    (`glu`: ``act(x W) * (x V)``) get the GLU variants that beat the others in Shazeer 2020
    (`GLU_VARIANTS`). The model's own hidden activation (`own`) is always among them.

    Examples:
        >>> candidates_for("relu", 2)
        ['relu', 'elu', 'swish', 'selu', 'tanh']
        >>> candidates_for("selu", 12)
        ['selu', 'elu', 'swish', 'leaky_relu', 'tanh']
        >>> candidates_for("elu", 24)
        ['elu', 'leaky_relu', 'swish', 'selu']
        >>> candidates_for("relu", 50, "normalized-residual", own="relu")
        ['relu', 'elu', 'swish', 'gelu']
        >>> candidates_for("gelu", 4, "attention", own="gelu")
        ['gelu', 'relu', 'elu', 'swish']
        >>> candidates_for("swish", 4, "attention", own="swish", glu=True)  # SwiGLU, GeGLU, ReGLU
        ['swish', 'gelu', 'relu']
        >>> candidates_for("selu", 12, own="sigmoid")
        ['selu', 'elu', 'swish', 'leaky_relu', 'tanh', 'sigmoid']
    """
    if glu:
        alternatives = list(GLU_VARIANTS)
    elif family in FITS_FAMILY:
        # ELU rather than Leaky ReLU: on the benchmark's 4 residual BatchNormalization nets ELU +
        # He was within noise of the grid's best on 3 (the best on one), Leaky ReLU on 1.
        alternatives = ["relu", "elu", "swish", "gelu"]
        if family == "recurrent":
            alternatives = ["tanh", "relu", "swish", "gelu"]
    else:
        if recommended in ("relu", "selu"):
            other_variant = "elu"
        else:
            other_variant = "leaky_relu" if recommended in RELU_FAMILY else "relu"
        smooth = "gelu" if "swish" in (recommended, other_variant) else "swish"
        # The self-normalizing slot; when SELU is the pick itself, another rectifier takes it.
        alternatives = [other_variant, smooth, "selu" if recommended != "selu" else "leaky_relu"]
        if depth < TANH_CANDIDATE_MAX_DEPTH:
            alternatives.append("tanh")
    chosen = list(dict.fromkeys([recommended, *alternatives]))
    if own and own not in chosen:
        chosen.append(own)
    return chosen
