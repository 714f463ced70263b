"""What happens inside a model on real data: dead and saturated units, gradient flow, input scale.

One row (`SiteDiagnostic`) per hidden activation site: each hidden weight layer with the
activation it feeds (its own `activation=`, or the activation layer that follows it), plus
activation layers that follow no weight layer (e.g. a ReLU after a residual `Add`). All sites
come from one forward and one backward pass (`advisor.probe`); the model is not changed.

Thresholds, and why these:

- A unit is *dead* when it is never active on any sample: output exactly 0 for ReLU, the
  negative regime for Leaky ReLU/PReLU with a slope of at most `DEAD_SLOPE_MAX` (their gradient
  there is too small to revive it). DeepDiagnosis (Wardat et al. 2022) calls a layer dead when
  >= 70% of its activations are <= 0; that counts activations, and a healthy ReLU layer sits
  near 50% of them. Counting units that never fire is what "dying ReLU" means and is exact, so a
  lower layer threshold, `DEAD_UNITS_FRACTION` = 40% of units, already means a badly hurt layer.
- A unit is *saturated* when |f'(x)| < 1% of f's largest derivative (`SATURATION_DERIVATIVE`) on
  most (> `SATURATED_SAMPLE_FRACTION`) samples: |x| > 6.0 for sigmoid, > 3.0 for tanh.
  DeepDiagnosis uses |x| > 5 for every activation; a derivative criterion means the same thing
  (no gradient gets through) for sigmoid and tanh alike. `SATURATED_UNITS_FRACTION` = 40%.
- Gradients *vanish* when the first hidden layer's kernel-gradient norm is < 1e-3 x the last
  one's (AUTOTRAINER, Zhang et al. 2021), and *explode* when one is > 1e3 x the median layer's,
  or not finite. When they vanish, the last layers also tower over the median; that spread is
  reported once, as vanishing (a 12-layer sigmoid MLP would otherwise get both).
- Inputs are *off scale* when some feature has std > 10, or |mean| > 5 and |mean| > 5 x its std
  (raw 0-255 pixels fire; standardized data and data in [-10, 10] do not; a feature of counts
  with mean 15 and std 4 does not). A model that normalizes its inputs itself (a
  normalization or `Rescaling` layer before its first weight layer) is exempt.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import keras
import numpy as np

from keras_act._messages import quoted

from .findings import Finding, FindingRule, RuleSet, Threshold, register, reported_keras_warnings_silenced
from .inspection import RECTIFIERS, WEIGHT_LAYERS, ModelView, view
from .probe import Probe, build_probe, run_probe
from .sample import ordered_inputs

MAX_SAMPLES = 2048
DEAD_UNITS_FRACTION = 0.4
SATURATED_UNITS_FRACTION = 0.4
SATURATION_DERIVATIVE = 0.01
SATURATED_SAMPLE_FRACTION = 0.5
DEAD_SLOPE_MAX = 0.1
VANISHING_RATIO = 1e-3
EXPLODING_RATIO = 1e3
INPUT_STD_MAX = 10.0
INPUT_MEAN_MAX = 5.0
INPUT_MEAN_TO_STD = 5.0

_WARDAT = "DeepDiagnosis (Wardat et al. 2022) uses 70% of activations, which fires near 50% on a healthy layer"

# |f'(x)| / max |f'| of the saturating activations that have one in terms of their output
# y = f(x), so no pre-activation is needed.
RELATIVE_DERIVATIVE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": lambda y: 4.0 * y * (1.0 - y),
    "tanh": lambda y: 1.0 - y * y,
    "softsign": lambda y: (1.0 - np.abs(y)) ** 2,
}


@dataclass(frozen=True)
class SiteDiagnostic:
    """What one hidden activation site does on the sample.

    Attributes:
        layer: the weight layer's name (the activation layer's, for a site with no weight layer).
        activation: its activation's keras_act id.
        units: units (channels, for conv maps) at the site.
        dead_fraction: units never active on any sample (ReLU family; None for others).
        saturated_fraction: units in the flat region on most samples (sigmoid/tanh/softsign; None
            for others).
        grad_norm: L2 norm of the loss gradient for the layer's kernel (None without labels).
        tapped: the layer whose output was measured (the activation layer, when separate).

    Examples:
        >>> SiteDiagnostic("dense", "relu", 16, 0.25, None, 0.03).dead_fraction
        0.25
    """

    layer: str
    activation: str
    units: int
    dead_fraction: float | None
    saturated_fraction: float | None
    grad_norm: float | None
    tapped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict."""
        return asdict(self)


@dataclass(frozen=True)
class InputSummary:
    """The inputs' observed range and the per-feature mean and standard deviation.

    Examples:
        >>> import numpy as np
        >>> summary = summarize_inputs(np.array([[0.0, 100.0], [2.0, 300.0]]))
        >>> summary.max, summary.mean, summary.std
        (300.0, [1.0, 200.0], [1.0, 100.0])
    """

    min: float
    max: float
    mean: list[float]
    std: list[float]

    def off_scale_feature(self) -> int | None:
        """The feature that is furthest off scale, or None when every one is in range."""
        worst, worst_score = None, 0.0
        for index, (mean, std) in enumerate(zip(self.mean, self.std)):
            off = std > INPUT_STD_MAX or (abs(mean) > INPUT_MEAN_MAX and abs(mean) > INPUT_MEAN_TO_STD * std)
            score = max(std, abs(mean))
            if off and score > worst_score:
                worst, worst_score = index, score
        return worst

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict."""
        return asdict(self)


def summarize_inputs(x: np.ndarray) -> InputSummary:
    """Range and per-feature (every non-batch position) mean and std of a sample."""
    flat = np.asarray(x, dtype="float64").reshape(len(x), -1)
    return InputSummary(
        float(flat.min()),
        float(flat.max()),
        [float(v) for v in flat.mean(axis=0)],
        [float(v) for v in flat.std(axis=0)],
    )


@dataclass(frozen=True)
class _Site:
    layer: str
    tapped: str
    activation: str
    activation_object: Any
    kernel_layer: keras.layers.Layer | None


# Roles that get a row: what the advice's hidden activation replaces, and the linear weight
# layers between (for the gradient flow). Gates saturate by design and are not measured.
MEASURED_ROLES = ("hidden", "feed_forward", "glu_feed_forward", "linear", "bottleneck")


def find_sites(model_view: ModelView) -> list[_Site]:
    """The hidden activation sites to tap, in layer order: the model's own, and those inside nested
    models and custom layers (the probe leaves out any it cannot reach)."""
    sites = []
    for site in model_view.sites:
        if site.role not in MEASURED_ROLES or not site.readable:
            continue
        layer = model_view.keras_layers[site.name]
        weight = model_view.keras_layers[site.weight] if site.weight else None
        own = site.weight == site.name
        sites.append(
            _Site(
                site.weight or site.name,
                site.name,
                site.activation,
                getattr(layer, "activation", None) if own else layer,
                weight,
            )
        )
    return sites


def _negative_slope(activation: str, activation_object: Any) -> float:
    """The slope of a rectifier's negative side (0 for ReLU)."""
    if activation in ("relu", "relu6"):
        return float(getattr(activation_object, "negative_slope", 0.0) or 0.0)
    for name in ("alpha", "negative_slope"):
        value = getattr(activation_object, name, None)
        if value is not None:
            return float(np.max(keras.ops.convert_to_numpy(value)))
    return 0.2  # keras.activations.leaky_relu's default


def _per_unit(values: np.ndarray) -> np.ndarray:
    """(samples x positions, units): conv maps count each channel as one unit."""
    return values.reshape(-1, values.shape[-1]) if values.ndim > 1 else values.reshape(-1, 1)


def dead_fraction(activation: str, activation_object: Any, values: np.ndarray) -> float | None:
    """Fraction of units never active on any sample (None for non-rectifiers).

    Examples:
        >>> import numpy as np
        >>> dead_fraction("relu", None, np.array([[0.0, 1.0], [0.0, 0.0]]))
        0.5
    """
    if activation not in RECTIFIERS or _negative_slope(activation, activation_object) > DEAD_SLOPE_MAX:
        return None
    units = _per_unit(values)
    return float(np.mean(np.all(units <= 0, axis=0)))


def saturated_fraction(activation: str, values: np.ndarray) -> float | None:
    """Fraction of units saturated on most samples (None for non-saturating activations).

    Examples:
        >>> import numpy as np
        >>> saturated_fraction("tanh", np.array([[0.999, 0.1], [-0.9999, 0.2], [1.0, 0.0]]))
        0.5
    """
    derivative = RELATIVE_DERIVATIVE.get(activation)
    if derivative is None:
        return None
    units = _per_unit(values).astype("float64")
    flat = derivative(units) < SATURATION_DERIVATIVE
    return float(np.mean(np.mean(flat, axis=0) > SATURATED_SAMPLE_FRACTION))


def _kernels(layer: keras.layers.Layer | None) -> list[keras.Variable]:
    if layer is None or not isinstance(layer, WEIGHT_LAYERS):
        return []
    return [w for w in layer.trainable_weights if "kernel" in w.name]


@dataclass
class Diagnosis:
    """Everything measured on the sample."""

    sites: list[SiteDiagnostic]
    inputs: InputSummary | None  # of the raw number inputs; None where the model scales or encodes all
    output: np.ndarray
    notes: list[Finding] = field(default_factory=list)  # about the measurement (gradients-skipped)

    def findings(self, advised: tuple[str, str] | None = None) -> list[Finding]:
        """The data findings; `advised`: the advice's hidden (activation, initializer), which
        the fixes then name."""
        return data_findings(self.sites, self.inputs, self.output, advised) + self.notes

    @property
    def dead_units(self) -> bool:
        """Whether some ReLU-family layer has `DEAD_UNITS_FRACTION` of its units dead."""
        return any(row.dead_fraction is not None and row.dead_fraction >= DEAD_UNITS_FRACTION for row in self.sites)


class Diagnoser:
    """Measures a model's activation sites on samples; reusable across calls (the probe is cached).

    Examples:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
        ...                           keras.layers.Dense(1)])
        >>> rows = Diagnoser(model).measure(np.ones((8, 3)), None)
        >>> [(r.activation, r.units) for r in rows.sites]
        [('relu', 4)]
    """

    def __init__(self, model: keras.Model, loss: Any = None, model_view: ModelView | None = None) -> None:
        model_view = model_view or view(model)
        self.model = model
        self.loss = loss
        self.candidate_sites = find_sites(model_view)
        self.raw_inputs = model_view.raw_inputs  # the inputs the user scales (not text, ids or scaled)
        self._probes: dict[tuple[tuple[int, ...], ...], tuple[Probe, list[_Site]]] = {}

    def _probe_for(self, x: Any) -> tuple[Probe, list[_Site]]:
        """The probe for inputs shaped like `x` (built once per shape: the layers read inside it
        may compute positions from the sequence's length), and the sites it reaches."""
        key = tuple(tuple(np.shape(array)) for array in keras.tree.flatten(x))
        if key not in self._probes:
            with reported_keras_warnings_silenced():
                probe = build_probe(self.model, [site.tapped for site in self.candidate_sites], example=x)
            reached = set(probe.taps)
            self._probes[key] = (probe, [site for site in self.candidate_sites if site.tapped in reached])
        return self._probes[key]

    def measure(self, x: Any, y: Any) -> Diagnosis:
        """Run the probe once on (`x`, `y`) and compute every site's figures (`Diagnosis.findings`
        applies the data rules to them)."""
        probe, sites = self._probe_for(x)
        with_gradients = [site for site in sites if _kernels(site.kernel_layer)]
        kernels = [_kernels(site.kernel_layer) for site in with_gradients]
        skipped = None
        try:
            with reported_keras_warnings_silenced():
                outputs, norms = run_probe(probe, x, y, self.loss, kernels)
        except Exception as error:  # the loss rejected the labels; the label rules say why
            with reported_keras_warnings_silenced():
                outputs, norms = run_probe(probe, x, None, None, kernels)
            skipped = GRADIENTS_SKIPPED.finding(
                None,
                f"Gradient norms were not computed: the loss rejected the labels "
                f"({type(error).__name__}: {quoted(error)}).",
            )
        grad_norms = dict(zip((site.layer for site in with_gradients), norms)) if norms else {}
        rows = [
            SiteDiagnostic(
                layer=site.layer,
                activation=site.activation,
                units=int(values.shape[-1]),
                dead_fraction=dead_fraction(site.activation, site.activation_object, values),
                saturated_fraction=saturated_fraction(site.activation, values),
                grad_norm=grad_norms.get(site.layer),
                tapped=site.tapped,
            )
            for site, values in zip(sites, outputs[1:])
            if values is not None
        ]
        arrays = ordered_inputs(self.model, x, "advise")
        raw = [np.asarray(arrays[i]).reshape(len(arrays[i]), -1) for i in self.raw_inputs]
        inputs = summarize_inputs(np.concatenate(raw, axis=1)) if raw else None
        return Diagnosis(rows, inputs, outputs[0], [skipped] if skipped else [])


@dataclass(frozen=True)
class DataContext:
    """One measurement as the data rules read it: the sites' figures, the summary of the inputs
    the user scales (None where the model scales or encodes every input), the output on the
    sample, and the advice's hidden (activation, initializer), which the fixes then name."""

    rows: list[SiteDiagnostic]
    inputs: InputSummary | None
    output: np.ndarray
    advised: tuple[str, str] | None = None

    @property
    def gradient_norms(self) -> list[tuple[str, float]]:
        """(layer, gradient norm) of the sites that have one, first to last."""
        return [(row.layer, row.grad_norm) for row in self.rows if row.grad_norm is not None]

    def gradients_vanish(self) -> bool:
        """The first kernel's gradient norm is below `VANISHING_RATIO` x the last one's."""
        norms = self.gradient_norms
        if len(norms) < 2:
            return False
        first, last = norms[0][1], norms[-1][1]
        return math.isfinite(first) and math.isfinite(last) and first < VANISHING_RATIO * last


# The data rules, in the order they run (and are listed in docs/findings.md).
DATA_RULES: RuleSet[DataContext] = RuleSet()


@DATA_RULES.rule(
    FindingRule(
        code="nan-output",
        severity="error",
        scope="data",
        fires_when="the output on the sample has NaN/inf",
        why="the loss and every gradient are NaN: training cannot start",
        example="raw inputs with inf, or weights that overflow",
        fix="Check the inputs for NaN/inf and extreme values; lower the learning rate.",
    )
)
def nan_output(context: DataContext) -> Iterator[Finding]:
    if not np.all(np.isfinite(context.output)):
        yield nan_output.spec.finding(None, "The model's output on the sample contains NaN or inf.")


@DATA_RULES.rule(
    FindingRule(
        code="dead-units",
        severity="warning",
        scope="data",
        fires_when=f">= {DEAD_UNITS_FRACTION:.0%} of a ReLU-family layer's units never activate on any sample",
        why="a unit that never fires gets no gradient and cannot recover (dying ReLU)",
        example="a ReLU layer after a large negative bias",
        fix="Use LeakyReLU(0.01) there; he_normal and zero biases.",
        thresholds=(
            Threshold("DEAD_UNITS_FRACTION", DEAD_UNITS_FRACTION, f"counts units, not activations: {_WARDAT}"),
            Threshold("DEAD_SLOPE_MAX", DEAD_SLOPE_MAX, "a negative slope above this revives a unit"),
        ),
    )
)
def dead_units(context: DataContext) -> Iterator[Finding]:
    advised = context.advised
    for row in context.rows:
        if row.dead_fraction is not None and row.dead_fraction >= DEAD_UNITS_FRACTION:
            revive = (
                f"Use {advised[0]} with {advised[1]} (the advice)"
                if advised and advised[0] not in ("relu", "relu6")
                else f"Replace {row.activation} by LeakyReLU(0.01) or ELU"
            )
            yield dead_units.spec.finding(
                row.layer,
                f"{row.dead_fraction:.0%} of {row.layer}'s {row.units} {row.activation} units never "
                "activate on the sample (dying ReLU): they get no gradient and cannot recover.",
                f"{revive} in layer {row.layer}; use zero biases; lower the learning rate if this "
                "appeared during training.",
            )


@DATA_RULES.rule(
    FindingRule(
        code="saturated-units",
        severity="warning",
        scope="data",
        fires_when=f">= {SATURATED_UNITS_FRACTION:.0%} of a sigmoid/tanh/softsign hidden layer's units have "
        f"|f'| < {SATURATION_DERIVATIVE:.0%} of its peak on most samples (gates do not count)",
        why="little gradient gets through a saturated unit",
        example="tanh units fed raw 0-255 pixels",
        fix="Scale the inputs; use glorot_uniform; or a non-saturating activation.",
        thresholds=(
            Threshold("SATURATED_UNITS_FRACTION", SATURATED_UNITS_FRACTION, "as dead-units"),
            Threshold(
                "SATURATION_DERIVATIVE",
                SATURATION_DERIVATIVE,
                "|x| > 6 for sigmoid, > 3 for tanh; DeepDiagnosis uses |x| > 5 for all",
            ),
            Threshold("SATURATED_SAMPLE_FRACTION", SATURATED_SAMPLE_FRACTION, "most samples"),
        ),
    )
)
def saturated_units(context: DataContext) -> Iterator[Finding]:
    advised = context.advised
    for row in context.rows:
        if row.saturated_fraction is not None and row.saturated_fraction >= SATURATED_UNITS_FRACTION:
            other = (
                f"or use {advised[0]} with {advised[1]} (the advice) there"
                if advised and advised[0] != row.activation
                else "or a non-saturating activation there"
            )
            yield saturated_units.spec.finding(
                row.layer,
                f"{row.saturated_fraction:.0%} of {row.layer}'s {row.units} {row.activation} units are "
                "saturated (derivative < 1% of its peak) on most samples: little gradient gets through.",
                f"Scale the inputs (standardize, or to [-1, 1]); use glorot_uniform in layer {row.layer}; {other}.",
            )


@DATA_RULES.rule(
    FindingRule(
        code="vanishing-gradient",
        severity="warning",
        scope="data",
        fires_when=f"the first hidden kernel's gradient norm is < {VANISHING_RATIO:g} x the last one's",
        why="the early layers barely learn",
        example="a 12-layer sigmoid MLP on digits: 1.1e-7 (with ReLU + He: 1.7)",
        fix="Use the advised hidden activation and initializer.",
        thresholds=(Threshold("VANISHING_RATIO", VANISHING_RATIO, "AUTOTRAINER (Zhang et al. 2021)"),),
    )
)
def vanishing_gradient(context: DataContext) -> Iterator[Finding]:
    if context.gradients_vanish():
        (first, first_norm), (last, last_norm) = context.gradient_norms[0], context.gradient_norms[-1]
        advised = context.advised
        fix = (
            f"Use {advised[0]} with {advised[1]} (the advice), or add BatchNormalization / residual connections."
            if advised
            else "Use the advised hidden activation and initializer, or add BatchNormalization / residual connections."
        )
        yield vanishing_gradient.spec.finding(
            first,
            f"The gradient reaching {first} is {first_norm / max(last_norm, 1e-300):.1e} x the "
            f"one at {last} (< {VANISHING_RATIO:g}): the early layers barely learn.",
            fix,
        )


@DATA_RULES.rule(
    FindingRule(
        code="exploding-gradient",
        severity="warning",
        scope="data",
        fires_when=f"a layer's gradient norm is > {EXPLODING_RATIO:g} x the median layer's, or not finite",
        why="one step can throw the weights far off; the spread of vanishing gradients is reported once, as vanishing",
        example="a kernel initialized with stddev 10",
        fix="Lower the learning rate, clip gradients (clipnorm=1.0), scale the inputs, or use glorot/he "
        "initializers instead of large ones.",
        thresholds=(Threshold("EXPLODING_RATIO", EXPLODING_RATIO, "AUTOTRAINER (Zhang et al. 2021)"),),
    )
)
def exploding_gradient(context: DataContext) -> Iterator[Finding]:
    norms = context.gradient_norms
    median = float(np.median([n for _, n in norms if math.isfinite(n)] or [0.0]))
    # When gradients vanish, the last layers tower over the median too: that is the vanishing
    # pattern, not an explosion, and is reported once, as vanishing.
    vanishing = context.gradients_vanish()
    for layer, norm in norms:
        if not math.isfinite(norm) or (not vanishing and median > 0 and norm > EXPLODING_RATIO * median):
            yield exploding_gradient.spec.finding(
                layer,
                f"The gradient at {layer} is {norm:.3g}, > {EXPLODING_RATIO:g} x the median layer's "
                f"({median:.3g}), or not finite.",
            )


@DATA_RULES.rule(
    FindingRule(
        code="input-scale",
        severity="warning",
        scope="data",
        fires_when=f"some feature has std > {INPUT_STD_MAX:g}, or |mean| > {INPUT_MEAN_MAX:g} and > "
        f"{INPUT_MEAN_TO_STD:g} x its std; not when the model scales its own inputs (a Rescaling, "
        "Normalization or BatchNormalization layer before its first weight layer)",
        why="activations want inputs near unit scale; raw 0-255 pixels saturate or blow up the first layer",
        example="raw 0-255 pixels into a Dense layer",
        fix="Standardize the features (e.g. a keras.layers.Normalization layer adapted on the training "
        "data) or scale them to [0, 1].",
        thresholds=(
            Threshold("INPUT_STD_MAX", INPUT_STD_MAX, "raw pixels fire; data in [-10, 10] does not"),
            Threshold("INPUT_MEAN_MAX", INPUT_MEAN_MAX, "counts with mean 15 and std 4 do not fire"),
            Threshold("INPUT_MEAN_TO_STD", INPUT_MEAN_TO_STD, "as above"),
        ),
    )
)
def input_scale(context: DataContext) -> Iterator[Finding]:
    inputs = context.inputs
    feature = inputs.off_scale_feature() if inputs is not None else None
    if feature is not None:
        yield input_scale.spec.finding(
            None,
            f"The inputs are far off the scale activations want: feature {feature} has mean "
            f"{inputs.mean[feature]:.3g} and std {inputs.std[feature]:.3g} (range of all features "
            f"[{inputs.min:.3g}, {inputs.max:.3g}]).",
        )


# Not a check of the data: a note about the measurement itself, made by `Diagnoser.measure`.
GRADIENTS_SKIPPED = register(
    FindingRule(
        code="gradients-skipped",
        severity="info",
        scope="data",
        fires_when="the loss rejected the labels, so no gradient norms were computed",
        why="the gradient findings need the loss on the labels",
        example="labels with more classes than output units",
        fix="Fix the labels or the loss (see the error findings).",
    )
)


def data_findings(
    rows: list[SiteDiagnostic], inputs: InputSummary | None, output: np.ndarray, advised: tuple[str, str] | None = None
) -> list[Finding]:
    """The data rules over one measurement (`DataContext`), rule by rule."""
    return DATA_RULES.run(DataContext(rows, inputs, output, advised))
