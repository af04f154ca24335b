"""CRR business errors raised by sandbox handlers and rendered as ``CRRServiceException``.

Handlers raise ``CRRError("POR0100", portfolio)``; the server turns it into the JSON body the
contract defines, taking the message template for the code from the loaded contract's
``x-crr-errors`` (falling back to a generic sentence for contracts that lack one, such as
CAISO's own files).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CRRError(Exception):
    code: str
    args_: tuple[object, ...] = field(default_factory=tuple)
    status: int = 400
    detail: str | None = None  # explicit description; overrides the contract template
    severity: str = "ERROR"
    # further errors reported in the same response (e.g. one per invalid record)
    more: list[CRRError] = field(default_factory=list)

    def __init__(
        self,
        code: str,
        *args: object,
        status: int | None = None,
        detail: str | None = None,
        severity: str = "ERROR",
        more: list[CRRError] | None = None,
    ) -> None:
        super().__init__(code, *args)
        self.code = code
        self.args_ = args
        self.status = status if status is not None else default_status(code)
        self.detail = detail
        self.severity = severity
        self.more = list(more or [])


def default_status(code: str) -> int:
    """HTTP status CAISO uses for a code family when a handler does not say otherwise."""
    if code.startswith("SEC"):
        return 403
    if code == "SER0029":
        return 404
    if code in ("SER0028", "SER0001"):
        return 500
    if code == "GEN0003":
        return 503
    return 400


MAX_REPORTED_ERRORS = 100  # one answer lists at most this many problems


def raise_all(errors: list[CRRError]) -> None:
    """Refuse with every problem at once (the first is the error, the rest ride along), so a
    client fixes a whole batch in one go; nothing when there are none."""
    if errors:
        first, *rest = errors[:MAX_REPORTED_ERRORS]
        first.more = rest
        raise first
