"""`Advice`: what the advisor recommends for a model, why, and what it found wrong."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .atlas import Evidence
from .diagnostics import InputSummary, SiteDiagnostic
from .findings import Finding


@dataclass(frozen=True)
class HeadAdvice:
    """The advice for one model output: its task and output activation.

    Attributes:
        name: the output's name (`model.output_names`).
        task: its task, and `task_source` what decided it.
        current_activation: what the head applies now (None where the advisor cannot read it).
        output_activation: the advised output activation (a linear head trained on logits,
            `from_logits=True`, is kept as logits by `apply()`).
        output_initializer: the advised kernel initializer of its weight layer.
        reason: why, with the source.

    Examples:
        >>> HeadAdvice("department", "multiclass", "loss", "softmax", "softmax", "glorot_uniform", "").task
        'multiclass'
    """

    name: str
    task: str
    task_source: str
    current_activation: str | None
    output_activation: str
    output_initializer: str
    reason: str


@dataclass(frozen=True)
class Advice:
    """The advisor's recommendation for one model.

    Attributes:
        task: ``"binary"``, ``"multiclass"``, ``"multilabel"`` or ``"regression"``.
        task_source: what decided the task: ``"argument"``, ``"loss"``, ``"output"``,
            ``"labels"`` or ``"default"``.
        depth: hidden weight layers (Dense, Conv, recurrent, attention), not counting the output.
        hidden_activation: keras_act id for the hidden layers.
        output_activation: keras_act id for the output layer.
        hidden_initializer: Keras initializer name for the hidden kernels.
        output_initializer: Keras initializer name for the output kernel.
        input_range: the range to scale inputs to, e.g. ``(0.0, 1.0)``; None means standardize
            (zero mean, unit variance).
        candidates: hidden activation ids, best first, for a tuner to confirm.
        reasons: why, per recommendation (``"hidden_activation"``, ...), each citing its source.
        findings: what is wrong or worth knowing, errors first.
        diagnostics: with sample data, one row per hidden activation site (dead and saturated
            fractions, gradient norm); empty without data.
        input_summary: with sample data, the inputs' range and per-feature mean and std.
        heads: one `HeadAdvice` per model output, each with its own task and loss; `task`,
            `output_activation` and `output_initializer` are the first head's.
        family: the architecture family the hidden rule was chosen by (see
            `advisor.recommend.FAMILIES`).
        kept: whether the hidden activation is the model's own, kept because it fits the family.
        input_preprocessing: when the model scales or encodes every input itself, the layers
            that do it (Rescaling, Normalization, TextVectorization, a lookup, an Embedding):
            feed the inputs as they expect, and `input_range` does not apply.
        evidence: where the activation atlas measured this kind of task, its figures
            (`advisor.atlas.Evidence`: the cell, how many tasks, how often each configuration was
            within noise of the best, the ranking model's estimates for this task, the
            candidates); None where the rules of thumb answer.
        fixed: the hidden activations inside custom layers that no constructor argument sets
            (fixed in a library's code, e.g. GELU in keras-hub's `FalconTransformerDecoder`), one
            line each (`advisor.layer_arguments.FixedActivation`): `apply()` and `confirm()`
            cannot change them.

    Examples:
        >>> advice = Advice("binary", "loss", 2, "relu", "sigmoid", "he_normal", "glorot_uniform",
        ...                 (0.0, 1.0), ["relu", "tanh"], {}, [])
        >>> advice.to_dict()["output_activation"]
        'sigmoid'
    """

    task: str
    task_source: str
    depth: int
    hidden_activation: str
    output_activation: str
    hidden_initializer: str
    output_initializer: str
    input_range: tuple[float, float] | None
    candidates: list[str]
    reasons: dict[str, str]
    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[SiteDiagnostic] = field(default_factory=list)
    input_summary: InputSummary | None = None
    heads: list[HeadAdvice] = field(default_factory=list)
    family: str = "plain-dense"
    kept: bool = False
    input_preprocessing: list[str] = field(default_factory=list)
    evidence: Evidence | None = None
    fixed: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """The findings of severity ``"error"``."""
        return [f for f in self.findings if f.severity == "error"]

    def plot(self, path: str) -> Any:
        """Draw the diagnostics per layer into a PNG (see `advisor.plot_diagnostics`)."""
        from .plots import plot_diagnostics

        return plot_diagnostics(self.diagnostics, path)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict of every field.

        Examples:
            >>> import json
            >>> advice = Advice("regression", "default", 0, "relu", "linear", "he_normal",
            ...                 "glorot_uniform", None, ["relu"], {}, [])
            >>> json.loads(json.dumps(advice.to_dict()))["input_range"] is None
            True
        """
        data = asdict(self)
        data["input_range"] = list(self.input_range) if self.input_range else None
        return data

    def __str__(self) -> str:
        if self.input_preprocessing:
            scale = f"inside the model ({', '.join(self.input_preprocessing)})"
        elif self.input_range:
            scale = f"[{self.input_range[0]:g}, {self.input_range[1]:g}]"
        else:
            scale = "standardized (zero mean, unit variance)"
        layers = "layer" if self.depth == 1 else "layers"
        keep = " (kept: the model's own)" if self.kept else ""
        lines = [
            f"Task: {self.task} (from the {self.task_source}); depth: {self.depth} hidden weight {layers}; "
            f"family: {self.family}",
            "Recommendations:",
            f"  hidden activation : {self.hidden_activation} with {self.hidden_initializer}{keep}",
            f"      why: {self.reasons.get('hidden_activation', '')}",
        ]
        if len(self.heads) > 1:
            for head in self.heads:
                change = (
                    "keep" if head.current_activation == head.output_activation else f"now {head.current_activation}"
                )
                lines += [
                    f"  output {head.name!r:<12}: {head.output_activation} with {head.output_initializer} "
                    f"({head.task} from the {head.task_source}; {change})",
                    f"      why: {head.reason}",
                ]
        else:
            lines += [
                f"  output activation : {self.output_activation} with {self.output_initializer}",
                f"      why: {self.reasons.get('output_activation', '')}",
            ]
        lines += [
            f"  inputs scaled to  : {scale}",
            f"      why: {self.reasons.get('input_range', '')}",
            f"  initializers      : {self.reasons.get('hidden_initializer', '')}",
            f"  candidates        : {', '.join(self.candidates)} (for confirm() to test on your data)",
            *[f"  cannot change     : {line}" for line in self.fixed],
            "Findings:" if self.findings else "Findings: none",
        ]
        lines += [f"  {finding}" for finding in self.findings]
        if self.diagnostics:
            lines += [
                "Diagnostics on the sample:",
                f"  {'layer':<24}{'activation':<12}{'units':>6}{'dead':>8}{'saturated':>11}{'grad norm':>12}",
            ]
            for row in self.diagnostics:
                dead = "-" if row.dead_fraction is None else f"{row.dead_fraction:.0%}"
                saturated = "-" if row.saturated_fraction is None else f"{row.saturated_fraction:.0%}"
                norm = "-" if row.grad_norm is None else f"{row.grad_norm:.2e}"
                lines.append(f"  {row.layer:<24}{row.activation:<12}{row.units:>6}{dead:>8}{saturated:>11}{norm:>12}")
        if self.input_summary is not None:
            lines.append(
                f"Inputs: range [{self.input_summary.min:.3g}, {self.input_summary.max:.3g}]; "
                f"feature means up to {max(map(abs, self.input_summary.mean)):.3g}, "
                f"stds up to {max(self.input_summary.std):.3g}"
            )
        return "\n".join(lines)
