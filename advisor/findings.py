"""The `Finding` a rule reports: a stable code, a severity, where, what and how to fix it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One thing the advisor noticed about a model.

    Attributes:
        code: a stable identifier, e.g. ``"output-loss-mismatch"``; safe to match on.
        severity: ``"error"`` (the model computes something wrong), ``"warning"`` (evidence says
            it hurts training) or ``"info"`` (worth knowing; no action needed).
        layer: the layer's name, or None for the model as a whole.
        message: what is wrong, in a sentence.
        fix: what to do about it.

    Example:
        >>> Finding("softmax-hidden", "warning", "dense_1", "softmax in a hidden layer", "use relu").severity
        'warning'
    """

    code: str
    severity: str
    layer: str | None
    message: str
    fix: str

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"Finding severity must be one of {SEVERITIES}, received {self.severity!r}.")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict.

        Example:
            >>> sorted(Finding("c", "info", None, "m", "f").to_dict())
            ['code', 'fix', 'layer', 'message', 'severity']
        """
        return asdict(self)

    def __str__(self) -> str:
        where = f" [{self.layer}]" if self.layer else ""
        return f"{self.severity.upper():7} {self.code}{where}: {self.message} Fix: {self.fix}"
